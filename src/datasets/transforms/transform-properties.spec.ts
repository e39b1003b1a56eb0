import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inputText, normaliseText } from '../text/text.js';
import { applyTransforms } from './transform-engine.js';
import { MAX_SEED, type TransformContext, type TransformStep } from './transform-types.js';

const RUNS = { numRuns: 300 };
const classification: TransformContext = {
  task: 'classification',
  schema: { inputFields: ['text'], labelField: 'label' },
};

/** Three non-negative weights, not all zero, as fractions summing to 1 (up to rounding). */
const fractions = fc
  .tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 }))
  .filter(([train, validation, test]) => train + validation + test > 0)
  .map(([train, validation, test]) => {
    const total = train + validation + test;
    return { train: train / total, validation: validation / total, test: test / total };
  });

const seed = fc.integer({ min: 0, max: MAX_SEED });

describe('split (property)', () => {
  it('partitions the rows exactly, each class within 1 row of its share in every split', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 150 }),
        fractions,
        seed,
        fc.boolean(),
        (labels, shares, splitSeed, stratify) => {
          const rows = labels.map((label, id) => ({ id, text: `row ${id}`, label }));
          const result = applyTransforms(rows, [{ op: 'split', ...shares, seed: splitSeed, stratify }], classification);
          const ids = result.outputs.flatMap((output) => output.rows.map((row) => row.id as number));
          assert.deepEqual(
            [...ids].sort((left, right) => left - right),
            rows.map((row) => row.id),
          );
          const fractionOf = [shares.train, shares.validation, shares.test];
          const groups = stratify ? ['a', 'b', 'c', 'd'] : [undefined];
          for (const group of groups) {
            const inGroup = (label: unknown): boolean => group === undefined || label === group;
            const size = rows.filter((row) => inGroup(row.label)).length;
            result.outputs.forEach((output, split) => {
              const count = output.rows.filter((row) => inGroup(row.label)).length;
              assert.ok(
                Math.abs(count - size * fractionOf[split]) < 1 + 1e-9,
                `${output.name} has ${count} of ${size} rows of ${group ?? 'all'} at fraction ${fractionOf[split]}`,
              );
            });
          }
        },
      ),
      RUNS,
    );
  });
});

describe('dedupe exact (property)', () => {
  const text = fc.string({ unit: fc.constantFrom('a', 'A', 'b', 'ａ', ' ', '\u00a0', '\t'), maxLength: 6 });

  it('leaves no two rows with equal normalised input, keeping each first occurrence', () => {
    fc.assert(
      fc.property(fc.array(text, { maxLength: 60 }), (texts) => {
        const rows = texts.map((value, id) => ({ id, text: value, label: id % 2 ? 'x' : 'y' }));
        const result = applyTransforms(rows, [{ op: 'dedupe', mode: 'exact' }], classification);
        const output = result.outputs[0].rows;
        const keys = output.map((row) => normaliseText(inputText(row, ['text'])));
        assert.equal(new Set(keys).size, keys.length);
        const firstIndex = new Map<string, number>();
        rows.forEach((row, index) => {
          const key = normaliseText(row.text);
          if (!firstIndex.has(key)) {
            firstIndex.set(key, index);
          }
        });
        assert.deepEqual(
          output.map((row) => row.id),
          [...firstIndex.values()],
        );
        assert.equal(result.report[0].details.removedCount, rows.length - output.length);
      }),
      RUNS,
    );
  });
});

describe('normalize (property)', () => {
  const column = fc
    .array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 80 })
    .filter((values) => {
      const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
      const std = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length);
      const scale = Math.max(...values.map((value) => Math.abs(value)));
      // Spreads far below the values' magnitude are lost to rounding whatever the algorithm.
      return std > 1e-6 * scale && std > 1e-9;
    });

  it('z-score gives mean 0 and standard deviation 1', () => {
    fc.assert(
      fc.property(column, (values) => {
        const rows = values.map((value) => ({ x: value }));
        const result = applyTransforms(rows, [{ op: 'normalize', fields: ['x'], method: 'zscore' }], {
          task: 'regression',
          schema: { inputFields: ['x'], labelField: 'y' },
        });
        const scaled = result.outputs[0].rows.map((row) => row.x as number);
        const mean = scaled.reduce((sum, value) => sum + value, 0) / scaled.length;
        const std = Math.sqrt(scaled.reduce((sum, value) => sum + (value - mean) ** 2, 0) / scaled.length);
        assert.ok(Math.abs(mean) < 1e-6, `mean ${mean}`);
        assert.ok(Math.abs(std - 1) < 1e-6, `std ${std}`);
      }),
      RUNS,
    );
  });

  it('min-max maps into [0, 1] with the extremes at 0 and 1', () => {
    fc.assert(
      fc.property(column, (values) => {
        const rows = values.map((value) => ({ x: value }));
        const result = applyTransforms(rows, [{ op: 'normalize', fields: ['x'], method: 'minmax' }], {
          task: 'regression',
          schema: { inputFields: ['x'], labelField: 'y' },
        });
        const scaled = result.outputs[0].rows.map((row) => row.x as number);
        assert.ok(scaled.every((value) => value >= 0 && value <= 1));
        assert.equal(Math.min(...scaled), 0);
        assert.equal(Math.max(...scaled), 1);
      }),
      RUNS,
    );
  });
});

describe('determinism (property)', () => {
  it('the same rows and seeded spec give byte-identical results', () => {
    const rows = fc.array(
      fc.record({
        text: fc.string({ unit: fc.constantFrom('lorem', 'ipsum', 'dolor', ' ', 'sit', 'Amet'), maxLength: 12 }),
        label: fc.constantFrom('a', 'b', 'c'),
      }),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(rows, seed, fractions, (records, stepSeed, shares) => {
        const spec: TransformStep[] = [
          { op: 'augment_text', technique: 'eda', copies: 2, alpha: 0.3, seed: stepSeed },
          { op: 'oversample', strategy: 'match_majority', seed: stepSeed },
          { op: 'split', ...shares, seed: stepSeed },
        ];
        assert.equal(
          JSON.stringify(applyTransforms(records, spec, classification)),
          JSON.stringify(applyTransforms(structuredClone(records), spec, classification)),
        );
      }),
      { numRuns: 100 },
    );
  });
});
