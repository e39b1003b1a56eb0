import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DatasetRecord, DatasetSchema, DatasetTask } from '../dataset-types.js';
import { findPersonalData, maskValue } from '../privacy/personal-data.js';
import { kindOfValue, RESERVOIR_SIZE } from './feature-profiles.js';
import { QualityProfiler } from './quality-profiler.js';
import type { NumericFeatureProfile, QualityReport, VectorFeatureProfile } from './quality-report.js';
import { asRows, seededRandom } from './quality-test-helpers.js';

function profile(task: DatasetTask, schema: DatasetSchema, records: DatasetRecord[]): QualityReport {
  const profiler = new QualityProfiler({ task, schema, detectPersonalData: findPersonalData, maskValue });
  profiler.addRows(asRows(records));
  return profiler.finish();
}

const thresholdNames = (report: QualityReport, dimension: 'diversity' | 'duplicates' | 'features') =>
  (report[dimension]?.checks ?? []).map((item) => item.threshold);

/** Digit-like images: a stroke whose position depends on the class, on a blank border. */
function digitRows(count: number, side: number, seed: number): { pixels: number[]; label: number }[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, index) => {
    const label = index % 4;
    const pixels = new Array<number>(side * side).fill(0);
    for (let row = 1; row < side - 1; row += 1) {
      const column = 1 + ((label + row) % (side - 2));
      pixels[row * side + column] = 128 + Math.floor(random() * 128);
    }
    return { pixels, label };
  });
}

describe('kindOfValue', () => {
  it('reads numbers, numeric CSV cells, vectors and text', () => {
    assert.equal(kindOfValue(3), 'numeric');
    assert.equal(kindOfValue(true), 'numeric');
    assert.equal(kindOfValue(' 12.5 '), 'numeric');
    assert.equal(kindOfValue('NaN'), 'numeric');
    assert.equal(kindOfValue('-inf'), 'numeric');
    assert.equal(kindOfValue([1, 2, 3]), 'vector');
    assert.equal(kindOfValue('twelve'), 'text');
    assert.equal(kindOfValue([{ role: 'user', content: 'hi' }]), 'text');
    assert.equal(kindOfValue('  '), undefined);
    assert.equal(kindOfValue(null), undefined);
  });
});

describe('quality report of numeric and vector data', () => {
  it('profiles a vector field as a vector and applies no text checks', () => {
    const rows = digitRows(200, 8, 1);
    const report = profile(
      'classification',
      { inputFields: ['pixels'], labelField: 'label' },
      rows.map((row) => ({ ...row })),
    );
    const field = report.features?.fields.pixels as VectorFeatureProfile;
    assert.equal(field.kind, 'vector');
    assert.equal(field.length, 64);
    assert.equal(field.count, 200);
    assert.equal(field.nonFinite, 0);
    assert.equal(field.min, 0);
    assert.ok(field.max >= 128 && field.max <= 255);
    // The border (first and last row, first and last column) is always 0.
    assert.ok(field.constantDimensions >= 28, `${field.constantDimensions} constant dimensions`);
    assert.equal(field.dimensions?.min.length, 64);
    assert.equal(field.dimensions?.max[0], 0);
    const expectedMean = rows.reduce((sum, row) => sum + row.pixels[9], 0) / rows.length;
    assert.ok(Math.abs((field.dimensions?.mean[9] ?? 0) - expectedMean) < 1e-3);
    // No tokens: the text checks do not run, and nothing reads the pixels as text.
    assert.equal(report.diversity.tokens, 0);
    assert.deepEqual(report.diversity.textFields, []);
    assert.deepEqual(thresholdNames(report, 'diversity'), []);
    assert.deepEqual(thresholdNames(report, 'duplicates'), ['maxExactDuplicateRatio']);
    assert.equal(report.duplicates.near.sampleSize, 0);
    assert.deepEqual(report.privacy.scannedFields, []);
    assert.equal(report.completeness.emptyInputRows, 0);
    assert.ok(!report.overall.reasons.some((reason) => /distinct2|NearDuplicate|LengthOutlier/.test(reason)));
  });

  it('finds exact duplicate rows by their values', () => {
    const records = [
      { pixels: [1, 2, 3], label: 0 },
      { pixels: [1, 2, 3], label: 0 },
      { pixels: [1, 2, 4], label: 0 },
      { pixels: [1, 2, 3], label: 1 },
      { pixels: [3, 2, 1], label: 1 },
    ];
    const report = profile('classification', { inputFields: ['pixels'], labelField: 'label' }, records);
    assert.equal(report.duplicates.exact.duplicateRows, 2);
    assert.deepEqual(report.duplicates.exact.examples, [
      { line: 2, duplicateOf: 1 },
      { line: 4, duplicateOf: 1 },
    ]);
    assert.equal(report.labels?.conflicts.rows, 1);
  });

  it('reports ranges, constant and near-constant columns, outliers and non-finite values of numeric columns', () => {
    const records: DatasetRecord[] = Array.from({ length: 400 }, (_, index) => ({
      area: String(50 + (index % 100)),
      // One huge value: an outlier by the far-out fences.
      price: String(index === 7 ? 10_000_000 : 100_000 + (index % 50) * 1000),
      utilities: '1',
      pool: index === 3 ? '512' : '0',
      rooms: index === 11 ? 'NaN' : index === 12 ? 'n/a' : String(3 + (index % 4)),
      label: String(150_000 + index * 100),
    }));
    const report = profile(
      'regression',
      { inputFields: ['area', 'price', 'utilities', 'pool', 'rooms'], labelField: 'label' },
      records,
    );
    const features = report.features!;
    const area = features.fields.area as NumericFeatureProfile;
    assert.deepEqual([area.kind, area.min, area.max, area.count, area.distinct], ['numeric', 50, 149, 400, 100]);
    assert.deepEqual(features.constantFields, ['utilities']);
    assert.deepEqual(features.nearConstantFields, ['pool']);
    const price = features.fields.price as NumericFeatureProfile;
    assert.equal(price.outliers.count, 1);
    assert.equal(price.outliers.estimated, false);
    const rooms = features.fields.rooms as NumericFeatureProfile;
    assert.deepEqual([rooms.nonFinite, rooms.nonNumeric, rooms.count], [1, 1, 398]);
    assert.equal(features.nonFiniteRows, 2);
    const verdicts = Object.fromEntries(features.checks.map((item) => [item.threshold, item.verdict]));
    assert.deepEqual(verdicts, {
      maxNonFiniteRatio: 'warn',
      maxConstantFeatures: 'warn',
      maxNearConstantFeatures: 'warn',
      maxFeatureOutlierRatio: 'pass',
      maxLeakingFeatures: 'pass',
    });
    // Numbers are not tokens: no text checks on a numeric table.
    assert.equal(report.diversity.tokens, 0);
    assert.deepEqual(thresholdNames(report, 'diversity'), []);
  });

  it('warns of a feature that gives the label away: equal, rescaled, or one to one with the classes', () => {
    const regression = profile(
      'regression',
      { inputFields: ['size', 'copy', 'inThousands'], labelField: 'price' },
      Array.from({ length: 50 }, (_, index) => ({
        size: (index * 37) % 11,
        copy: 1000 + index * 13,
        inThousands: (1000 + index * 13) / 1000,
        price: 1000 + index * 13,
      })),
    );
    assert.deepEqual(regression.features?.leakingFields, ['copy', 'inThousands']);
    assert.equal(regression.features?.verdict, 'warn');
    assert.match((regression.features?.fields.copy as NumericFeatureProfile).leak ?? '', /equals the label/);
    assert.match(regression.overall.reasons.join('\n'), /warn: features: maxLeakingFeatures is 2/);

    const classification = profile(
      'classification',
      { inputFields: ['x', 'code', 'name'], labelField: 'label' },
      Array.from({ length: 60 }, (_, index) => ({
        x: index % 7,
        code: index % 3,
        name: ['cat', 'dog', 'cow'][index % 3],
        label: ['c', 'd', 'w'][index % 3],
      })),
    );
    assert.deepEqual(classification.features?.leakingFields, ['code', 'name']);
  });

  it('keeps text fields as text in a mixed table, and scans numbers for personal data', () => {
    const report = profile(
      'classification',
      { inputFields: ['review', 'stars', 'card'], labelField: 'label' },
      Array.from({ length: 30 }, (_, index) => ({
        review: `the product number ${index} was ${index % 2 === 0 ? 'good' : 'bad'} value`,
        stars: 1 + (index % 5),
        card: index === 4 ? '4111111111111111' : String(1000 + index),
        label: index % 2 === 0 ? 'pos' : 'neg',
      })),
    );
    assert.deepEqual(report.diversity.textFields, ['review']);
    assert.equal(report.features?.fields.review.kind, 'text');
    assert.equal(report.features?.fields.stars.kind, 'numeric');
    assert.ok(report.diversity.tokens > 0);
    assert.ok(thresholdNames(report, 'diversity').includes('minDistinct2'));
    assert.deepEqual(report.privacy.byType.payment_card?.lines, [5]);
    assert.deepEqual(report.privacy.scannedFields, ['review', 'stars', 'card']);
  });

  it('leaves text datasets as they were: no features dimension', () => {
    const report = profile(
      'classification',
      { inputFields: ['text'], labelField: 'label' },
      Array.from({ length: 20 }, (_, index) => ({ text: `row number ${index} says hello`, label: index % 2 })),
    );
    assert.equal(report.features, undefined);
    assert.ok(report.diversity.tokens > 0);
  });

  it('property: numeric column statistics match a direct computation, and duplicates are counted exactly', () => {
    const cell = fc.integer({ min: -50, max: 50 });
    fc.assert(
      fc.property(fc.array(fc.tuple(cell, cell), { minLength: 1, maxLength: 120 }), (pairs) => {
        const records = pairs.map(([a, b], index) => ({ a, b, label: index % 2 }));
        const report = profile('classification', { inputFields: ['a', 'b'], labelField: 'label' }, records);
        const a = report.features!.fields.a as NumericFeatureProfile;
        const column = pairs.map(([value]) => value);
        assert.equal(a.min, Math.min(...column));
        assert.equal(a.max, Math.max(...column));
        const mean = column.reduce((sum, value) => sum + value, 0) / column.length;
        assert.ok(Math.abs(a.mean - mean) <= 1e-5 * Math.max(1, Math.abs(mean)));
        assert.equal(a.distinct, new Set(column).size);
        assert.equal(a.constant, new Set(column).size === 1);
        const seen = new Set<string>();
        let duplicates = 0;
        for (const [left, right] of pairs) {
          const key = `${left},${right}`;
          duplicates += seen.has(key) ? 1 : 0;
          seen.add(key);
        }
        assert.equal(report.duplicates.exact.duplicateRows, duplicates);
        assert.equal(report.diversity.tokens, 0);
      }),
      {
        numRuns: 150,
        // Values that differ only in their signs once hashed to the same key.
        examples: [
          [
            [
              [-43, 38],
              [43, -38],
              [0, 0],
            ],
          ],
        ],
      },
    );
  });

  it('property: vector statistics per dimension match a direct computation', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((length) =>
          fc.array(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: length, maxLength: length }), {
            minLength: 1,
            maxLength: 60,
          }),
        ),
        (vectors) => {
          const report = profile(
            'regression',
            { inputFields: ['v'], labelField: 'y' },
            vectors.map((v, index) => ({ v, y: index })),
          );
          const field = report.features!.fields.v as VectorFeatureProfile;
          assert.equal(field.count, vectors.length);
          for (let dimension = 0; dimension < field.length; dimension += 1) {
            const values = vectors.map((vector) => vector[dimension]);
            assert.equal(field.dimensions?.min[dimension], Math.min(...values));
            assert.equal(field.dimensions?.max[dimension], Math.max(...values));
          }
          assert.equal(field.min, Math.min(...vectors.flat()));
          assert.equal(field.max, Math.max(...vectors.flat()));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('estimates outliers from a sample once a column outgrows it', () => {
    const count = RESERVOIR_SIZE * 3;
    const report = profile(
      'regression',
      { inputFields: ['x'], labelField: 'y' },
      Array.from({ length: count }, (_, index) => ({ x: index % 10 === 0 ? 1e9 + index : index % 100, y: index })),
    );
    const x = report.features!.fields.x as NumericFeatureProfile;
    assert.equal(x.outliers.estimated, true);
    assert.ok(x.outliers.ratio > 0.05 && x.outliers.ratio < 0.15, `ratio ${x.outliers.ratio}`);
  });
});
