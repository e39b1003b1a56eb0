import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NgramLanguageModel } from './ngram-language-model.js';
import { choleskySolve, RidgeRegression } from './ridge-regression.js';
import { TfidfLogisticRegression, textTerms } from './text-classifier.js';

describe('ridge regression', () => {
  it('solves a 2 x 2 system by Cholesky', () => {
    // [[4, 2], [2, 3]] x = [2, 1] -> x = [0.5, 0].
    const solution = choleskySolve(Float64Array.from([4, 0, 2, 3]), Float64Array.from([2, 1]), 2);
    assert.deepEqual(
      Array.from(solution, (value) => Math.round(value * 1e12) / 1e12),
      [0.5, 0],
    );
  });

  it('shrinks as scikit-learn Ridge does on standardised data (hand-computed)', () => {
    // x = 0, 1, 2 standardises to z = -1.2247, 0, 1.2247 (sum z^2 = 3); y centred is -1, 0, 1.
    // w = sum(z y) / (sum z^2 + alpha) = 2.4495 / 4; at x = 2: 1 + w * 1.2247 = 1.75.
    const model = new RidgeRegression(1).fit([[0], [1], [2]], [0, 1, 2]);
    assert.ok(Math.abs(model.predict([2]) - 1.75) < 1e-12);
  });

  it('recovers an exact linear relation with a tiny penalty, ignoring a constant column', () => {
    const rows = Array.from({ length: 40 }, (_, i) => [i % 7, (i * 3) % 11, 4]);
    const targets = rows.map(([a, b]) => 2 * a - 3 * b + 5);
    const model = new RidgeRegression(1e-9).fit(rows, targets);
    for (const row of [
      [10, 1, 4],
      [0.5, 20, 4],
    ]) {
      assert.ok(Math.abs(model.predict(row) - (2 * row[0] - 3 * row[1] + 5)) < 1e-6);
    }
  });
});

describe('interpolated trigram language model', () => {
  it('gives a distribution over the whole vocabulary that sums to 1 after any history', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 30 }), { maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 0, maxLength: 2 }),
        (documents, history) => {
          const model = new NgramLanguageModel(8);
          documents.forEach((document) => model.add(document));
          let total = 0;
          for (let token = 0; token < 8; token++) {
            total += model.probability([...history, token], history.length);
          }
          return Math.abs(total - 1) < 1e-9;
        },
      ),
    );
  });

  it('predicts repeated text well and unseen text at add-one odds', () => {
    const model = new NgramLanguageModel(100);
    const pattern = Array.from({ length: 300 }, (_, i) => [1, 2, 3, 4][i % 4]);
    model.add(pattern);
    const seen = model.score([1, 2, 3, 4, 1, 2, 3, 4], 2);
    assert.ok(Math.exp(seen.lossSum / seen.tokens) < 1.1, 'near-certain continuation');
    const empty = new NgramLanguageModel(100);
    const unseen = empty.score([5, 6, 7]);
    assert.ok(Math.abs(Math.exp(unseen.lossSum / unseen.tokens) - 100) < 1e-9, 'uniform over 100 tokens');
  });
});

describe('TF-IDF logistic regression', () => {
  it('uses unigrams and bigrams of lower-cased words', () => {
    assert.deepEqual(textTerms('Great phone, GREAT'), ['great', 'phone', 'great', 'great phone', 'phone great']);
  });

  it('learns a separable sentiment task and is reproducible for a seed', () => {
    const good = ['great', 'lovely', 'superb', 'solid'];
    const bad = ['awful', 'broken', 'poor', 'slow'];
    const things = ['phone', 'screen', 'battery', 'case', 'charger'];
    const texts: string[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 120; i++) {
      const positive = i % 2 === 0;
      texts.push(`the ${things[i % 5]} is ${(positive ? good : bad)[(i * 7) % 4]}`);
      labels.push(positive ? 1 : 0);
    }
    const model = new TfidfLogisticRegression({ seed: 4 }).fit(texts, labels, 2);
    assert.ok(model.predictProbabilities('my charger was superb')[1] > 0.8);
    assert.ok(model.predictProbabilities('a broken screen')[0] > 0.8);
    const again = new TfidfLogisticRegression({ seed: 4 }).fit(texts, labels, 2);
    assert.deepEqual(again.predictProbabilities('lovely case'), model.predictProbabilities('lovely case'));
  });
});
