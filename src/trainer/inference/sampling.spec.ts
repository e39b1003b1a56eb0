import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { seededRandom } from '../runtime/examples.js';
import { argMax, candidateDistribution, findStop, safePrefixLength, sampleToken } from './sampling.js';

const logitsArbitrary = fc.array(fc.float({ min: -20, max: 20, noNaN: true }), { minLength: 1, maxLength: 40 });

describe('sampling', () => {
  it('is greedy at temperature 0 whatever top-k and top-p say', () => {
    fc.assert(
      fc.property(logitsArbitrary, fc.nat(10), fc.double({ min: 0.01, max: 1, noNaN: true }), (logits, topK, topP) => {
        const token = sampleToken(logits, { temperature: 0, topK, topP }, () => 0.99);
        assert.equal(token, argMax(logits));
        assert.ok(logits.every((value) => value <= logits[token]));
      }),
    );
  });

  it('keeps at most k tokens, the most likely ones, with probabilities summing to 1', () => {
    fc.assert(
      fc.property(logitsArbitrary, fc.integer({ min: 1, max: 10 }), (logits, topK) => {
        const { tokens, probabilities } = candidateDistribution(logits, { temperature: 1, topK, topP: 1 });
        assert.equal(tokens.length, Math.min(topK, logits.length));
        const threshold = Math.min(...tokens.map((token) => logits[token]));
        const outside = logits.filter((_, index) => !tokens.includes(index));
        assert.ok(outside.every((value) => value <= threshold));
        assert.ok(Math.abs(probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-9);
      }),
    );
  });

  it('keeps the smallest most-likely set reaching top-p, never an empty one', () => {
    const logits = [Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)];
    assert.deepEqual(candidateDistribution(logits, { temperature: 1, topK: 0, topP: 0.75 }).tokens, [0, 1]);
    assert.deepEqual(candidateDistribution(logits, { temperature: 1, topK: 0, topP: 0.81 }).tokens, [0, 1, 2]);
    assert.deepEqual(candidateDistribution(logits, { temperature: 1, topK: 0, topP: 0.01 }).tokens, [0]);
    fc.assert(
      fc.property(logitsArbitrary, fc.double({ min: 0.001, max: 1, noNaN: true }), (logits, topP) => {
        const { tokens, probabilities } = candidateDistribution(logits, { temperature: 0.7, topK: 0, topP });
        assert.ok(tokens.length >= 1);
        assert.ok(Math.abs(probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-9);
      }),
    );
  });

  it('draws the same tokens from the same seed, and only candidates', () => {
    fc.assert(
      fc.property(logitsArbitrary, fc.integer(), (logits, seed) => {
        const options = { temperature: 0.9, topK: 5, topP: 0.9 };
        const draw = () => {
          const random = seededRandom(seed);
          return Array.from({ length: 5 }, () => sampleToken(logits, options, random));
        };
        const first = draw();
        assert.deepEqual(draw(), first);
        const allowed = new Set(candidateDistribution(logits, options).tokens);
        assert.ok(first.every((token) => allowed.has(token)));
      }),
    );
  });

  it('follows the distribution: a token of probability 0.75 is drawn about 3 times in 4', () => {
    const random = seededRandom(1);
    const logits = [Math.log(0.75), Math.log(0.25)];
    let first = 0;
    for (let i = 0; i < 4000; i += 1) {
      first += sampleToken(logits, { temperature: 1, topK: 0, topP: 1 }, random) === 0 ? 1 : 0;
    }
    assert.ok(Math.abs(first / 4000 - 0.75) < 0.03, String(first / 4000));
  });

  it('finds the earliest stop sequence, also one split across tokens', () => {
    assert.equal(findStop('hello world. Next', ['.', 'Next']), 11);
    assert.equal(findStop('abc', ['x']), -1);
    assert.equal(findStop('ab\n\ncd', ['\n\n'], 3), 2);
    assert.equal(findStop('anything', ['']), -1);
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1, maxLength: 4 }), fc.string(), (before, stop, after) => {
        const text = before + stop + after;
        const at = findStop(text, [stop]);
        assert.ok(at >= 0 && at <= before.length);
        assert.equal(text.slice(at, at + stop.length), stop);
      }),
    );
  });

  it('holds back a tail that may become a stop sequence', () => {
    assert.equal(safePrefixLength('hello wor', ['world']), 6);
    assert.equal(safePrefixLength('hello', ['xyz']), 5);
    assert.equal(safePrefixLength('abc\n', ['\n\n']), 3);
  });
});
