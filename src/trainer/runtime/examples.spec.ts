import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildExamples, fitPreprocessing, permutation, splitRows, type Tokenizer } from './examples.js';

/** One token per character (code point % 250 + 2); 0 = end of text, 1 = pad. */
const charTokenizer: Tokenizer = {
  encode: (text) => [...text].map((char) => (char.codePointAt(0)! % 250) + 2),
  endOfTextId: 0,
  padId: 1,
};

describe('rows to training examples', () => {
  it('masks the prompt of prompt-completion rows and trains on the completion and end of text', () => {
    const schema = { inputFields: ['prompt'], labelField: 'completion' };
    const rows = [{ prompt: 'ab', completion: 'cd' }];
    const preprocessing = fitPreprocessing(rows, schema, 'causal-lm', false, null);
    const set = buildExamples(rows, {
      task: 'prompt-completion',
      schema,
      head: 'causal-lm',
      sequenceLength: 8,
      tokenizer: charTokenizer,
      preprocessing,
    });
    assert.equal(set.count, 1);
    assert.deepEqual([...set.inputIds!], [99, 100, 101, 102, 0, 1, 1, 1]);
    assert.deepEqual([...set.lossMask!], [0, 0, 1, 1, 1, 0, 0, 0]);
    assert.equal(set.lengths![0], 5);
  });

  it('trains chat rows on the assistant turns only', () => {
    const schema = { inputFields: ['messages'] };
    const rows = [
      {
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'yo' },
        ],
      },
    ];
    const preprocessing = fitPreprocessing(rows, schema, 'causal-lm', false, null);
    const set = buildExamples(rows, {
      task: 'chat',
      schema,
      head: 'causal-lm',
      sequenceLength: 64,
      tokenizer: charTokenizer,
      preprocessing,
    });
    const length = set.lengths![0];
    const text = 'user: hi\nassistant: yo\n';
    assert.equal(length, text.length + 1);
    const trained = [...set.lossMask!.subarray(0, length)];
    // "yo\n" and the end-of-text token.
    assert.deepEqual(trained.slice(-4), [1, 1, 1, 1]);
    assert.equal(
      trained.reduce((sum, value) => sum + value, 0),
      4,
    );
  });

  it('packs causal-lm documents end to end with end-of-text between them', () => {
    const schema = { inputFields: ['text'] };
    const rows = [{ text: 'abc' }, { text: 'de' }];
    const preprocessing = fitPreprocessing(rows, schema, 'causal-lm', false, null);
    const set = buildExamples(rows, {
      task: 'causal-lm',
      schema,
      head: 'causal-lm',
      sequenceLength: 4,
      tokenizer: charTokenizer,
      preprocessing,
    });
    assert.equal(set.count, 2);
    assert.deepEqual([...set.inputIds!], [99, 100, 101, 0, 102, 103, 0, 1]);
  });

  it('drops rows whose label is missing, and encodes tabular features with the training statistics', () => {
    const schema = { inputFields: ['x', 'colour'], labelField: 'label' };
    const rows = [
      { x: 1, colour: 'red', label: 'a' },
      { x: 3, colour: 'blue', label: 'b' },
      { x: 2, colour: 'red' },
    ];
    const preprocessing = fitPreprocessing(rows, schema, 'classification', true, null);
    assert.deepEqual(preprocessing.labels, ['a', 'b']);
    const set = buildExamples(rows, {
      task: 'classification',
      schema,
      head: 'classification',
      sequenceLength: 8,
      tokenizer: null,
      preprocessing,
    });
    assert.equal(set.count, 2);
    assert.equal(set.featureCount, 1 + 2 + 1);
    assert.deepEqual([...set.labels!], [0, 1]);
    // x standardised over [1, 3, 2] (mean 2, std sqrt(2/3)); red is the first category.
    assert.ok(Math.abs(set.features![0] - (1 - 2) / Math.sqrt(2 / 3)) < 1e-6);
    assert.deepEqual([...set.features!.subarray(1, 4)], [1, 0, 0]);
  });

  it('splits rows deterministically into disjoint, non-empty parts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 300 }),
        fc.double({ min: 0.01, max: 0.5, noNaN: true }),
        fc.integer(),
        (count, fraction, seed) => {
          const rows = Array.from({ length: count }, (_, index) => index);
          const first = splitRows(rows, fraction, seed);
          const second = splitRows(rows, fraction, seed);
          assert.deepEqual(first, second);
          assert.ok(first.training.length >= 1 && first.validation.length >= 1);
          assert.deepEqual(
            [...first.training, ...first.validation].sort((a, b) => a - b),
            rows,
          );
        },
      ),
    );
  });

  it('shuffles into a permutation', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer(), (count, seed) => {
        const order = permutation(count, seed);
        assert.deepEqual(
          [...order].sort((a, b) => a - b),
          Array.from({ length: count }, (_, index) => index),
        );
      }),
    );
  });
});
