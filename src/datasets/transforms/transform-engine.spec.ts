import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { DatasetRecord } from '../dataset-types.js';
import { edaVariant } from './augment-text.js';
import { createRandom } from './random.js';
import { allocate } from './split.js';
import { applyTransforms, validateTransformSpec } from './transform-engine.js';
import { TransformError, type TransformContext, type TransformResult, type TransformStep } from './transform-types.js';

const classification: TransformContext = {
  task: 'classification',
  schema: { inputFields: ['text'], labelField: 'label' },
};
const tabular: TransformContext = {
  task: 'regression',
  schema: { inputFields: ['age', 'income'], labelField: 'price' },
};

function rowsOf(result: TransformResult): DatasetRecord[] {
  return result.outputs[0].rows;
}

function throwsTransformError(run: () => unknown, step: number, reason: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof TransformError, `expected a TransformError, got ${String(error)}`);
    assert.equal(error.step, step);
    assert.match(error.reason, reason);
    return true;
  });
}

function labelled(texts: [string, string][]): DatasetRecord[] {
  return texts.map(([text, label]) => ({ text, label }));
}

describe('applyTransforms', () => {
  it("returns the rows unchanged as output 'all' for an empty spec", () => {
    const input = labelled([['a', 'x']]);
    assert.deepEqual(applyTransforms(input, [], classification), {
      outputs: [{ name: 'all', rows: input }],
      statistics: {},
      report: [],
    });
  });
});

describe('dedupe step', () => {
  it('exact: equal normalised input text is a duplicate whatever the label; the first occurrence stays', () => {
    const input = labelled([
      ['Hello  World', 'a'],
      ['other', 'a'],
      ['hello world', 'b'],
      ['ＨＥＬＬＯ world ', 'a'],
      ['other', 'a'],
    ]);
    const result = applyTransforms(input, [{ op: 'dedupe', mode: 'exact' }], classification);
    assert.deepEqual(rowsOf(result), [input[0], input[1]]);
    assert.deepEqual(result.report[0].details, {
      mode: 'exact',
      removedCount: 3,
      removed: [
        { index: 2, source: 2, duplicateOf: 0, duplicateOfSource: 0 },
        { index: 3, source: 3, duplicateOf: 0, duplicateOfSource: 0 },
        { index: 4, source: 4, duplicateOf: 1, duplicateOfSource: 1 },
      ],
      removedTruncated: false,
    });
  });

  it('near: rows whose shingles mostly agree are duplicates of the first; unrelated rows stay', () => {
    const base = 'the committee approved the annual budget after a long debate about public transport funding';
    const input = labelled([
      [base, 'a'],
      ['a completely different sentence about cooking pasta with garlic and olive oil at home', 'a'],
      [`${base} today`, 'b'],
      ['yet another unrelated line about mountain hiking trails in the alps during summer', 'a'],
    ]);
    const result = applyTransforms(input, [{ op: 'dedupe', mode: 'near' }], classification);
    assert.deepEqual(rowsOf(result), [input[0], input[1], input[3]]);
    const removed = result.report[0].details.removed as { index: number; duplicateOf: number; similarity: number }[];
    assert.equal(removed.length, 1);
    assert.equal(removed[0].index, 2);
    assert.equal(removed[0].duplicateOf, 0);
    assert.ok(removed[0].similarity >= 0.8);
    assert.equal(result.report[0].details.threshold, 0.8);
  });

  it('near: a threshold of 1 keeps rows that differ in a word', () => {
    const input = labelled([
      ['one two three four five six seven eight nine ten', 'a'],
      ['one two three four five six seven eight nine eleven', 'a'],
    ]);
    const result = applyTransforms(input, [{ op: 'dedupe', mode: 'near', threshold: 1 }], classification);
    assert.equal(rowsOf(result).length, 2);
  });
});

describe('map_labels step', () => {
  it('renames and merges classes, keeps unmapped rows and reports counts', () => {
    const input = labelled([
      ['a', 'very_positive'],
      ['b', 'positive'],
      ['c', 'negative'],
      ['d', 'neutral'],
    ]);
    const result = applyTransforms(
      input,
      [{ op: 'map_labels', mapping: { very_positive: 'positive', positive: 'positive', negative: 'neg', ghost: 'x' } }],
      classification,
    );
    assert.deepEqual(
      rowsOf(result).map((row) => row.label),
      ['positive', 'positive', 'neg', 'neutral'],
    );
    assert.deepEqual(result.report[0].details, {
      labelsBefore: { negative: 1, neutral: 1, positive: 1, very_positive: 1 },
      labelsAfter: { neg: 1, neutral: 1, positive: 2 },
      mappedRows: 3,
      droppedRows: 0,
      merged: { positive: ['positive', 'very_positive'] },
      unmappedLabels: ['neutral'],
      unusedMappings: ['ghost'],
    });
  });

  it('drops unmapped rows when asked and matches numeric labels by their text', () => {
    const input: DatasetRecord[] = [
      { text: 'a', label: 0 },
      { text: 'b', label: 1 },
      { text: 'c', label: 2 },
    ];
    const result = applyTransforms(
      input,
      [{ op: 'map_labels', mapping: { '0': 'neg', '1': 'pos' }, dropUnmapped: true }],
      classification,
    );
    assert.deepEqual(rowsOf(result), [
      { text: 'a', label: 'neg' },
      { text: 'b', label: 'pos' },
    ]);
  });

  it('fails on a task without class labels', () => {
    throwsTransformError(
      () =>
        applyTransforms([{ text: 'a' }], [{ op: 'map_labels', mapping: { a: 'b' } }], {
          task: 'causal-lm',
          schema: { inputFields: ['text'] },
        }),
      0,
      /map_labels needs a classification dataset with a label field \(this one is causal-lm\)/,
    );
  });
});

describe('drop_rows step', () => {
  it('drops by emptiness, label, characters and tokens and counts each row under its first rule', () => {
    const input = labelled([
      ['   ', 'a'],
      ['fine text here', ''],
      ['spam spam spam', 'spam'],
      ['tiny', 'a'],
      ['this one has far too many words for the limit', 'a'],
      ['just right', 'a'],
      ['ok, fine.', 'b'],
    ]);
    const result = applyTransforms(
      input,
      [{ op: 'drop_rows', dropEmpty: true, labels: ['spam'], minChars: 5, maxTokens: 5 }],
      classification,
    );
    assert.deepEqual(rowsOf(result), [input[5], input[6]]);
    assert.deepEqual(result.report[0].details, {
      removedCount: 5,
      byReason: { empty: 2, label: 1, minChars: 1, maxChars: 0, minTokens: 0, maxTokens: 1 },
      removed: [
        { index: 0, source: 0, reason: 'empty' },
        { index: 1, source: 1, reason: 'empty' },
        { index: 2, source: 2, reason: 'label' },
        { index: 3, source: 3, reason: 'minChars' },
        { index: 4, source: 4, reason: 'maxTokens' },
      ],
      removedTruncated: false,
    });
  });

  it('counts characters as code points and tokens as words and punctuation', () => {
    const input = labelled([
      ['😀😀😀', 'a'],
      ['hi!', 'a'],
      ['hello', 'a'],
    ]);
    const byChars = applyTransforms(input, [{ op: 'drop_rows', maxChars: 3 }], classification);
    assert.deepEqual(rowsOf(byChars), [input[0], input[1]]);
    const byTokens = applyTransforms(input, [{ op: 'drop_rows', minTokens: 2 }], classification);
    assert.deepEqual(rowsOf(byTokens), [input[0], input[1]]);
  });
});

describe('normalize step', () => {
  const input: DatasetRecord[] = [
    { age: 20, income: '1000', price: 1 },
    { age: 30, income: '3000', price: 2 },
    { age: 40, income: '2000', price: 3 },
  ];

  it('z-score: population mean and std, stored as statistics', () => {
    const result = applyTransforms(input, [{ op: 'normalize', fields: ['age'], method: 'zscore' }], tabular);
    const std = Math.sqrt(200 / 3);
    assert.deepEqual(
      rowsOf(result).map((row) => row.age),
      [-10 / std, 0, 10 / std],
    );
    assert.deepEqual(result.statistics, { normalization: { age: { method: 'zscore', mean: 30, std } } });
    assert.equal(rowsOf(result)[0].income, '1000', 'other fields are untouched');
  });

  it('min-max: numeric strings are parsed and scaled to [0, 1]', () => {
    const result = applyTransforms(input, [{ op: 'normalize', fields: ['income'], method: 'minmax' }], tabular);
    assert.deepEqual(
      rowsOf(result).map((row) => row.income),
      [0, 1, 0.5],
    );
    assert.deepEqual(result.statistics.normalization, { income: { method: 'minmax', min: 1000, max: 3000 } });
  });

  it('a constant column becomes 0 and the report says why', () => {
    const constant = [{ age: 5 }, { age: 5 }];
    for (const method of ['zscore', 'minmax'] as const) {
      const result = applyTransforms(constant, [{ op: 'normalize', fields: ['age'], method }], tabular);
      assert.deepEqual(
        rowsOf(result).map((row) => row.age),
        [0, 0],
      );
      assert.equal((result.report[0].details.notes as string[]).length, 1);
    }
  });

  it('fails listing the rows whose value is not numeric', () => {
    const bad: DatasetRecord[] = [{ age: 1 }, { age: 'old' }, { age: null }, { age: 3 }, {}];
    throwsTransformError(
      () => applyTransforms(bad, [{ op: 'normalize', fields: ['age'], method: 'zscore' }], tabular),
      0,
      /field age has 3 non-numeric values: row 1 \(input row 1\): "old"; row 2 \(input row 2\): null; row 4 \(input row 4\): missing/,
    );
  });

  it('refuses to normalise a field twice, so the stored statistics are enough for inference', () => {
    const spec: TransformStep[] = [
      { op: 'normalize', fields: ['age'], method: 'zscore' },
      { op: 'normalize', fields: ['income', 'age'], method: 'minmax' },
    ];
    throwsTransformError(() => applyTransforms(input, spec, tabular), 1, /field age is already normalised by step 0/);
  });
});

describe('augment_text step', () => {
  it('EDA swap keeps the words, delete keeps at least one, insert repeats words of the same text', () => {
    const text = 'one two three four five six seven eight nine ten';
    const words = text.split(' ');
    for (let seed = 0; seed < 50; seed += 1) {
      const swapped = edaVariant(text, 'swap', 0.1, createRandom(seed)).split(' ');
      assert.deepEqual([...swapped].sort(), [...words].sort());
      assert.notDeepEqual(swapped, words);
      const deleted = edaVariant('alpha beta', 'delete', 0.5, createRandom(seed)).split(' ');
      assert.ok(deleted.length >= 1 && deleted.every((word) => ['alpha', 'beta'].includes(word)));
      const inserted = edaVariant(text, 'insert', 0.2, createRandom(seed)).split(' ');
      assert.equal(inserted.length, words.length + 2);
      assert.ok(inserted.every((word) => words.includes(word)));
    }
    assert.equal(edaVariant('   ', 'swap', 0.5, createRandom(1)), '   ');
  });

  it('appends copies after the rows, keeping labels and other fields; only the chosen classes', () => {
    const input: DatasetRecord[] = [
      { text: 'the cat sat on the mat', label: 'animal', id: 1 },
      { text: 'stocks fell sharply on monday morning', label: 'finance', id: 2 },
    ];
    const result = applyTransforms(
      input,
      [{ op: 'augment_text', technique: 'eda', copies: 3, alpha: 0.3, seed: 11, labels: ['animal'] }],
      classification,
    );
    const rows = rowsOf(result);
    assert.equal(rows.length, 5);
    assert.deepEqual(rows.slice(0, 2), input);
    for (const copy of rows.slice(2)) {
      assert.equal(copy.label, 'animal');
      assert.equal(copy.id, 1);
    }
    assert.equal(result.report[0].details.added, 3);
    assert.equal(result.report[0].details.eligibleRows, 1);
  });

  it('is reproducible with a seed and varies with it', () => {
    const input = labelled([
      ['a quick brown fox jumps over the lazy dog near the river bank', 'x'],
      ['she sells sea shells by the sea shore every single summer', 'y'],
    ]);
    const run = (seed: number): string =>
      JSON.stringify(
        applyTransforms(input, [{ op: 'augment_text', technique: 'eda', copies: 4, alpha: 0.2, seed }], classification),
      );
    assert.equal(run(1), run(1));
    assert.notEqual(run(1), run(2));
  });

  it('fails on chat datasets and on labels without a label field', () => {
    throwsTransformError(
      () =>
        applyTransforms([], [{ op: 'augment_text', technique: 'eda', copies: 1, alpha: 0.1, seed: 1 }], {
          task: 'chat',
          schema: { inputFields: ['messages'] },
        }),
      0,
      /chat messages are not augmented/,
    );
    throwsTransformError(
      () =>
        applyTransforms([], [{ op: 'augment_text', technique: 'eda', copies: 1, alpha: 0.1, seed: 1, labels: ['a'] }], {
          task: 'causal-lm',
          schema: { inputFields: ['text'] },
        }),
      0,
      /labels needs a dataset with a label field/,
    );
  });
});

describe('augment_numeric step', () => {
  it('appends noisy copies of every row; noise 0 gives exact numeric copies', () => {
    const input: DatasetRecord[] = [
      { age: '20', income: 1000, price: 1 },
      { age: 30, income: 3000, price: 2 },
    ];
    const exact = applyTransforms(
      input,
      [{ op: 'augment_numeric', fields: ['age'], noiseStd: 0, copies: 2, seed: 1 }],
      tabular,
    );
    assert.deepEqual(rowsOf(exact), [
      ...input,
      { age: 20, income: 1000, price: 1 },
      { age: 20, income: 1000, price: 1 },
      { age: 30, income: 3000, price: 2 },
      { age: 30, income: 3000, price: 2 },
    ]);
    const noisy = rowsOf(
      applyTransforms(
        input,
        [{ op: 'augment_numeric', fields: ['age', 'income'], noiseStd: 0.5, copies: 1, seed: 1 }],
        tabular,
      ),
    );
    assert.equal(noisy.length, 4);
    assert.notEqual(noisy[2].age, 20);
    assert.ok(Math.abs((noisy[2].age as number) - 20) < 5);
    assert.equal(noisy[2].price, 1);
  });

  it('draws Gaussian noise with the requested spread', () => {
    const input = Array.from({ length: 4000 }, () => ({ age: 0 }));
    const rows = rowsOf(
      applyTransforms(input, [{ op: 'augment_numeric', fields: ['age'], noiseStd: 2, copies: 1, seed: 9 }], tabular),
    ).slice(4000);
    const values = rows.map((row) => row.age as number);
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    const std = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length);
    assert.ok(Math.abs(mean) < 0.15, `mean ${mean}`);
    assert.ok(Math.abs(std - 2) < 0.15, `std ${std}`);
  });
});

describe('oversample step', () => {
  const input = labelled([
    ['a1', 'a'],
    ['a2', 'a'],
    ['a3', 'a'],
    ['a4', 'a'],
    ['a5', 'a'],
    ['a6', 'a'],
    ['b1', 'b'],
    ['b2', 'b'],
    ['c1', 'c'],
  ]);

  it('match_majority raises every class to the majority count, copying rows evenly', () => {
    const result = applyTransforms(input, [{ op: 'oversample', strategy: 'match_majority', seed: 5 }], classification);
    const rows = rowsOf(result);
    assert.deepEqual(rows.slice(0, input.length), input);
    const texts = rows.map((row) => row.text as string);
    const count = (text: string): number => texts.filter((value) => value === text).length;
    assert.deepEqual([count('b1'), count('b2'), count('c1')], [3, 3, 6]);
    assert.deepEqual(result.report[0].details.labelsAfter, { a: 6, b: 6, c: 6 });
    assert.deepEqual(result.report[0].details.added, { b: 4, c: 5 });
  });

  it('ratio raises classes to ceil(ratio × majority) and leaves larger ones alone', () => {
    const result = applyTransforms(
      input,
      [{ op: 'oversample', strategy: 'ratio', ratio: 0.5, seed: 5 }],
      classification,
    );
    assert.deepEqual(result.report[0].details.labelsAfter, { a: 6, b: 3, c: 3 });
  });

  it('fails on regression', () => {
    throwsTransformError(
      () => applyTransforms([], [{ op: 'oversample', strategy: 'match_majority', seed: 1 }], tabular),
      0,
      /oversample needs a classification dataset/,
    );
  });
});

describe('split step', () => {
  const input = Array.from({ length: 30 }, (_, index) => ({
    text: `row ${index}`,
    label: index < 20 ? 'major' : 'minor',
  }));

  it('stratifies by label: each class is split in proportion', () => {
    const result = applyTransforms(
      input,
      [{ op: 'split', train: 0.6, validation: 0.2, test: 0.2, seed: 3 }],
      classification,
    );
    assert.deepEqual(
      result.outputs.map((output) => output.name),
      ['train', 'validation', 'test'],
    );
    const counts = result.outputs.map((output) => ({
      major: output.rows.filter((row) => row.label === 'major').length,
      minor: output.rows.filter((row) => row.label === 'minor').length,
    }));
    assert.deepEqual(counts, [
      { major: 12, minor: 6 },
      { major: 4, minor: 2 },
      { major: 4, minor: 2 },
    ]);
    const all = result.outputs.flatMap((output) => output.rows.map((row) => row.text as string));
    assert.deepEqual([...all].sort(), input.map((row) => row.text).sort());
  });

  it('keeps each split in input order and depends on the seed', () => {
    const run = (seed: number): TransformResult =>
      applyTransforms(input, [{ op: 'split', train: 0.5, validation: 0.5, test: 0, seed }], classification);
    const train = run(1).outputs[0].rows.map((row) => Number((row.text as string).slice(4)));
    assert.deepEqual(
      train,
      [...train].sort((left, right) => left - right),
    );
    assert.notDeepEqual(run(1).outputs[0].rows, run(2).outputs[0].rows);
    assert.equal(run(1).outputs[2].rows.length, 0);
  });

  it('splits without stratification for other tasks', () => {
    const result = applyTransforms(
      Array.from({ length: 10 }, (_, index) => ({ text: `t${index}` })),
      [{ op: 'split', train: 0.7, validation: 0.2, test: 0.1, seed: 1, stratify: true }],
      { task: 'causal-lm', schema: { inputFields: ['text'] } },
    );
    assert.deepEqual(
      result.outputs.map((output) => output.rows.length),
      [7, 2, 1],
    );
    assert.equal(result.report[0].details.stratified, false);
  });

  it('keeps augmented and oversampled copies out of validation and test', () => {
    const spec: TransformStep[] = [
      { op: 'augment_text', technique: 'eda', copies: 2, alpha: 0.2, seed: 1 },
      { op: 'oversample', strategy: 'match_majority', seed: 2 },
      { op: 'split', train: 0.6, validation: 0.2, test: 0.2, seed: 3 },
    ];
    const originals = input.map((row) => ({ ...row, text: `${row.text} with a few more words` }));
    const result = applyTransforms(originals, spec, classification);
    const originalTexts = new Set(originals.map((row) => row.text));
    for (const output of result.outputs.slice(1)) {
      assert.ok(output.rows.every((row) => originalTexts.has(row.text as string)));
    }
    const heldOut = new Set(result.outputs.slice(1).flatMap((output) => output.rows.map((row) => row.text as string)));
    // Copies of held-out rows were dropped, so no train row is an exact copy of a held-out row.
    assert.ok(result.outputs[0].rows.every((row) => !heldOut.has(row.text as string)));
    const details = result.report[2].details;
    assert.ok((details.syntheticToTrain as number) > 0);
    assert.ok((details.syntheticDropped as number) > 0);
  });

  it('spreads the rounding of many small classes over the splits', () => {
    const deficits = [0, 0, 0];
    const totals = [0, 0, 0];
    for (let stratum = 0; stratum < 10; stratum += 1) {
      const counts = allocate(3, [0.8, 0.1, 0.1], deficits);
      counts.forEach((count, split) => {
        totals[split] += count;
      });
    }
    assert.deepEqual(totals, [24, 3, 3]);
    assert.deepEqual(allocate(5, [1, 0, 0], [0, 0, 0]), [5, 0, 0]);
  });

  it('must be the last step and its fractions must sum to 1', () => {
    const split: TransformStep = { op: 'split', train: 0.8, validation: 0.1, test: 0.1, seed: 1 };
    throwsTransformError(
      () => applyTransforms(input, [split, { op: 'dedupe', mode: 'exact' }], classification),
      0,
      /split must be the last step/,
    );
    throwsTransformError(
      () => applyTransforms(input, [{ ...split, test: 0.2 }], classification),
      0,
      /must sum to 1 \(they sum to 1\.1/,
    );
  });
});

describe('validateTransformSpec', () => {
  it('rejects unknown ops and out-of-range values from specs that skipped the DTO', () => {
    const cases: [unknown, RegExp][] = [
      [{ op: 'shuffle' }, /unknown op "shuffle"; expected one of clean, dedupe/],
      [null, /unknown op undefined/],
      [{ op: 'dedupe', mode: 'near', threshold: 0 }, /threshold must be greater than 0/],
      [
        { op: 'augment_text', technique: 'eda', copies: 9, alpha: 0.1, seed: 1 },
        /copies must be an integer from 1 to 8/,
      ],
      [{ op: 'augment_numeric', fields: ['age'], noiseStd: 1, copies: 1, seed: 1.5 }, /seed must be an integer/],
      [{ op: 'drop_rows', minTokens: -1 }, /must be non-negative integers/],
      [{ op: 'normalize', fields: [], method: 'zscore' }, /fields must be a non-empty list/],
    ];
    for (const [step, reason] of cases) {
      throwsTransformError(() => validateTransformSpec([step as TransformStep], classification), 0, reason);
    }
  });
});

describe('determinism', () => {
  const input: DatasetRecord[] = Array.from({ length: 60 }, (_, index) => ({
    text: `  Sample <b>number</b> ${index % 25} talks about topic ${index % 7} with a few extra words  `,
    label: ['alpha', 'beta', 'gamma'][index % 3],
    score: (index * 37) % 11,
  }));
  const spec = (seed: number): TransformStep[] => [
    { op: 'clean', stripHtml: true, lowercase: true },
    { op: 'dedupe', mode: 'exact' },
    { op: 'dedupe', mode: 'near', threshold: 0.9 },
    { op: 'map_labels', mapping: { gamma: 'beta' } },
    { op: 'drop_rows', minTokens: 3 },
    { op: 'normalize', fields: ['score'], method: 'zscore' },
    { op: 'augment_text', technique: 'eda', copies: 2, alpha: 0.2, seed },
    { op: 'augment_numeric', fields: ['score'], noiseStd: 0.1, copies: 1, seed },
    { op: 'oversample', strategy: 'match_majority', seed },
    { op: 'split', train: 0.8, validation: 0.1, test: 0.1, seed },
  ];
  const digest = (result: TransformResult): string =>
    createHash('sha256').update(JSON.stringify(result.outputs)).digest('hex');

  it('gives byte-identical outputs, statistics and reports for the same input and spec', () => {
    const first = applyTransforms(input, spec(42), classification);
    const second = applyTransforms(structuredClone(input), spec(42), classification);
    assert.equal(JSON.stringify(first), JSON.stringify(second));
    assert.equal(digest(first), digest(second));
  });

  it('gives different augmentations and splits for different seeds', () => {
    assert.notEqual(
      digest(applyTransforms(input, spec(1), classification)),
      digest(applyTransforms(input, spec(2), classification)),
    );
  });

  it('does not modify the input rows', () => {
    const copy = structuredClone(input);
    applyTransforms(input, spec(7), classification);
    assert.deepEqual(input, copy);
  });
});

describe('drop_invalid step', () => {
  it('drops the rows that fail validation for the task, listing them with line and reason', () => {
    const input: DatasetRecord[] = [
      { text: 'fine', label: 'a' },
      { text: 'no label' },
      { label: 'b' },
      { text: 'fine too', label: 'b' },
      { text: 'object label', label: { nested: true } },
    ];
    const lines = [1, 2, 4, 5, 7];
    const result = applyTransforms(input, [{ op: 'drop_invalid' }], {
      ...classification,
      lineOf: (source) => lines[source],
      unreadable: { count: 1, errors: [{ line: 3, reason: 'not valid JSON' }] },
    });
    assert.deepEqual(rowsOf(result), [input[0], input[3]]);
    const details = result.report[0].details;
    assert.equal(details.removedCount, 3);
    assert.deepEqual(
      (details.removed as { source: number; line: number; field: string }[]).map((row) => [
        row.source,
        row.line,
        row.field,
      ]),
      [
        [1, 2, 'label'],
        [2, 4, 'text'],
        [4, 7, 'label'],
      ],
    );
    assert.equal(details.unreadableLines, 1);
    assert.deepEqual(details.unreadable, [{ line: 3, reason: 'not valid JSON' }]);
  });

  it('must be the first step', () => {
    throwsTransformError(
      () => applyTransforms([{ text: 'a', label: 'x' }], [{ op: 'clean' }, { op: 'drop_invalid' }], classification),
      1,
      /first step/,
    );
  });
});
