import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { certainOverflow, estimateTransformRows } from './transform-estimate.js';
import type { TransformStep } from './transform-types.js';

const augment: TransformStep = { op: 'augment_text', technique: 'eda', alpha: 0.1, copies: 8, seed: 1 };

describe('estimateTransformRows', () => {
  it('multiplies by 1 + copies per augmentation: five chained steps on 400 rows ask for 23.6 million', () => {
    const estimates = estimateTransformRows([augment, augment, augment, augment, augment], 400);
    assert.deepEqual(
      estimates.map((estimate) => estimate.rows),
      [3600, 32_400, 291_600, 2_624_400, 23_619_600],
    );
    assert.ok(estimates.every((estimate) => estimate.exact));
    assert.equal(certainOverflow(estimates, 10_000_000)?.step, 4);
    assert.equal(certainOverflow(estimates, 30_000_000), undefined);
  });

  it('turns exact counts into upper bounds after a filter, and into unknown after oversampling', () => {
    const estimates = estimateTransformRows(
      [
        { op: 'clean' },
        { op: 'dedupe', mode: 'exact' },
        augment,
        { op: 'oversample', strategy: 'match_majority', seed: 1 },
        { op: 'split', train: 1, validation: 0, test: 0, seed: 1 },
      ],
      100,
    );
    assert.deepEqual(
      estimates.map((estimate) => [estimate.rows, estimate.exact]),
      [
        [100, true],
        [100, false],
        [900, false],
        [null, false],
        [null, false],
      ],
    );
    assert.equal(certainOverflow(estimates, 500), undefined, 'upper bounds are checked while running, not refused');
  });

  it('treats augmentation restricted to labels, and an inexact parent count, as upper bounds', () => {
    assert.equal(estimateTransformRows([{ ...augment, labels: ['a'] }], 10)[0].exact, false);
    assert.equal(estimateTransformRows([{ op: 'clean' }], 10, false)[0].exact, false);
    assert.equal(
      estimateTransformRows([{ op: 'augment_numeric', fields: ['x'], noiseStd: 1, copies: 2, seed: 1 }], 10)[0].rows,
      30,
    );
  });
});
