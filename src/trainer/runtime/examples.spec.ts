import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildExamples, ExampleError, fitPreprocessing, permutation, splitRows, type Tokenizer } from './examples.js';

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

describe('vector features for the mlp family', () => {
  const schema = { inputFields: ['pixels', 'x'], labelField: 'label' };
  const build = (
    rows: Record<string, unknown>[],
    preprocessing = fitPreprocessing(rows, schema, 'classification', true, null),
  ) =>
    buildExamples(rows, {
      task: 'classification',
      schema,
      head: 'classification',
      sequenceLength: 8,
      tokenizer: null,
      preprocessing,
    });

  it('makes each element one input, standardised with its own statistics', () => {
    const rows = [
      { pixels: [0, 10, 5], x: 1, label: 'a' },
      { pixels: [2, 30, 5], x: 3, label: 'b' },
    ];
    const preprocessing = fitPreprocessing(rows, schema, 'classification', true, null);
    assert.deepEqual(preprocessing.features?.fields[0], {
      field: 'pixels',
      kind: 'vector',
      length: 3,
      mean: [1, 20, 5],
      // A constant element keeps std 1, so it encodes to 0 rather than dividing by 0.
      std: [1, 10, 1],
    });
    const set = build(rows, preprocessing);
    assert.equal(set.featureCount, 3 + 1);
    assert.deepEqual([...set.features!], [-1, -1, 0, -1, 1, 1, 0, 1]);
  });

  it('encodes a missing vector as its means (zeros after standardising)', () => {
    const rows = [
      { pixels: [0, 10], x: 1, label: 'a' },
      { pixels: [2, 30], x: 3, label: 'b' },
    ];
    const preprocessing = fitPreprocessing(rows, schema, 'classification', true, null);
    const set = build([{ x: 1, label: 'a' }], preprocessing);
    assert.deepEqual([...set.features!.subarray(0, 2)], [0, 0]);
  });

  it('refuses a field that mixes vectors of different lengths or single values', () => {
    assert.throws(
      () =>
        fitPreprocessing(
          [
            { pixels: [1, 2], label: 'a' },
            { pixels: [1], label: 'b' },
          ],
          schema,
          'classification',
          true,
          null,
        ),
      (error: unknown) => error instanceof ExampleError && /arrays of 2 numbers/.test(error.message),
    );
    assert.throws(
      () =>
        fitPreprocessing(
          [
            { pixels: [1, 2], label: 'a' },
            { pixels: 4, label: 'b' },
          ],
          schema,
          'classification',
          true,
          null,
        ),
      ExampleError,
    );
  });

  it('property: every element of the encoded training vectors has mean 0', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }).chain((length) =>
          fc.array(fc.array(fc.integer({ min: -500, max: 500 }), { minLength: length, maxLength: length }), {
            minLength: 2,
            maxLength: 40,
          }),
        ),
        (vectors) => {
          const rows = vectors.map((pixels, index) => ({ pixels, x: index, label: index % 2 === 0 ? 'a' : 'b' }));
          const set = build(rows);
          const length = vectors[0].length;
          assert.equal(set.featureCount, length + 1);
          for (let element = 0; element < length; element += 1) {
            let sum = 0;
            for (let row = 0; row < set.count; row += 1) {
              sum += set.features![row * set.featureCount + element];
            }
            assert.ok(Math.abs(sum / set.count) < 1e-4, `element ${element} mean ${sum / set.count}`);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
