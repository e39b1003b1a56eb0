import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  averagePrecision,
  expectedCalibrationError,
  probabilisticClassificationMetrics,
  rocAuc,
} from './classification-metrics.js';
import { exactBinomialTwoSided, mcnemarExact, pairedBootstrap, percentile } from './significance.js';

const close = (actual: number | null, expected: number, tolerance = 1e-9) =>
  assert.ok(actual !== null && Math.abs(actual - expected) <= tolerance, `${actual} is not ${expected}`);

/** One-hot probability rows for hard predictions. */
const oneHot = (predicted: number[], classes: number) =>
  predicted.map((p) => Array.from({ length: classes }, (_, c) => (c === p ? 1 : 0)));

describe('classification metrics', () => {
  it('matches sklearn on ROC-AUC and average precision (its documented examples)', () => {
    const scores = [0.1, 0.4, 0.35, 0.8];
    const positive = [false, false, true, true];
    close(rocAuc(scores, positive), 0.75);
    close(averagePrecision(scores, positive), 0.8333333333333333);
  });

  it('counts tied scores half in ROC-AUC and as one threshold in average precision', () => {
    close(rocAuc([0.5, 0.5], [false, true]), 0.5);
    // One threshold holding both examples: precision 1/2 at recall 1.
    close(averagePrecision([0.5, 0.5], [false, true]), 0.5);
    assert.equal(rocAuc([0.2, 0.3], [true, true]), null);
    assert.equal(averagePrecision([0.2, 0.3], [false, false]), null);
  });

  it('computes log loss with sklearn clipping (its documented example)', () => {
    // log_loss(["spam", "ham", "ham", "spam"], [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]) = 0.21616...
    const metrics = probabilisticClassificationMetrics(
      [
        [0.1, 0.9],
        [0.9, 0.1],
        [0.8, 0.2],
        [0.35, 0.65],
      ],
      [1, 0, 0, 1],
      ['ham', 'spam'],
    );
    close(metrics.logLoss, -(Math.log(0.9) * 2 + Math.log(0.8) + Math.log(0.65)) / 4);
    close(metrics.logLoss, 0.21616187468057912, 1e-12);
    const sure = probabilisticClassificationMetrics([[1, 0]], [1], ['a', 'b']);
    close(sure.logLoss, -Math.log(1e-15), 1e-9);
  });

  it('gives weighted and micro averages and the confusion matrix as sklearn does', () => {
    // sklearn precision_recall_fscore_support docs: y_true = [0,1,2,0,1,2], y_pred = [0,2,1,0,0,1].
    const metrics = probabilisticClassificationMetrics(
      oneHot([0, 2, 1, 0, 0, 1], 3),
      [0, 1, 2, 0, 1, 2],
      ['cat', 'dog', 'pig'],
    );
    close(metrics.precisionWeighted, 0.2222222222222222);
    close(metrics.recallWeighted, 0.3333333333333333);
    close(metrics.f1Weighted, 0.26666666666666666);
    close(metrics.precisionMacro, 0.2222222222222222);
    close(metrics.f1Micro, 1 / 3);
    assert.deepEqual(metrics.confusionMatrix, [
      [2, 0, 0],
      [1, 0, 1],
      [0, 2, 0],
    ]);
    assert.equal(metrics.rocAuc, null, 'ROC-AUC is for binary tasks');
  });

  it('computes the expected calibration error by hand', () => {
    // Tops .9 (right), .8 (wrong), .7 (right), .55 (wrong) fall in four different bins of 1/15:
    // (|1 - .9| + |0 - .8| + |1 - .7| + |0 - .55|) / 4 = 0.4375.
    const probabilities = [
      [0.9, 0.1],
      [0.8, 0.2],
      [0.3, 0.7],
      [0.45, 0.55],
    ];
    close(expectedCalibrationError(probabilities, [0, 1, 1, 0]), 0.4375);
    // One bin holding everything: |accuracy - mean confidence| = |0.5 - 0.95| with 1 bin.
    close(
      expectedCalibrationError(
        [
          [0.9, 0.1],
          [0.0, 1.0],
        ],
        [0, 0],
        1,
      ),
      0.45,
    );
  });
});

describe('significance', () => {
  it('interpolates percentiles as numpy does', () => {
    close(percentile([1, 2, 3, 4], 0.25), 1.75);
    close(percentile([1, 2, 3, 4], 0.975), 3.925);
    close(percentile([5], 0.5), 5);
  });

  it('gives the exact two-sided McNemar p-value', () => {
    // b = 1, c = 4: 2 * (C(5,0) + C(5,1)) / 2^5 = 12/32.
    close(exactBinomialTwoSided(1, 4), 0.375);
    close(exactBinomialTwoSided(0, 10), 2 / 1024);
    assert.equal(exactBinomialTwoSided(3, 3), 1);
    assert.equal(exactBinomialTwoSided(0, 0), 1);
    // Large counts stay finite (log space): 2 * P(X <= 4000) for n = 10000 is tiny but not NaN.
    const p = exactBinomialTwoSided(4000, 6000);
    assert.ok(p > 0 && p < 1e-80, String(p));
    const result = mcnemarExact([true, true, false, true, false], [false, true, true, false, false]);
    assert.deepEqual({ b: result.candidateOnly, c: result.baselineOnly }, { b: 2, c: 1 });
    close(result.pValue, 1);
  });

  it('bootstraps the paired difference: degenerate cases are exact, seeds reproduce, the interval holds the estimate', () => {
    const candidate = [1, 1, 1, 1];
    const baseline = [0, 0, 0, 0];
    const meanDifference = (indices: Uint32Array) => {
      let sum = 0;
      for (const index of indices) {
        sum += candidate[index] - baseline[index];
      }
      return sum / indices.length;
    };
    const sure = pairedBootstrap({ examples: 4, difference: meanDifference, resamples: 200, seed: 3 });
    assert.deepEqual([sure.estimate, sure.lower, sure.upper, sure.shareAboveZero], [1, 1, 1, 1]);

    const outcomes = Array.from({ length: 300 }, (_, index) => ({ a: index % 3 !== 0, b: index % 4 !== 0 }));
    const accuracyDifference = (indices: Uint32Array) => {
      let sum = 0;
      for (const index of indices) {
        sum += Number(outcomes[index].a) - Number(outcomes[index].b);
      }
      return sum / indices.length;
    };
    const first = pairedBootstrap({ examples: 300, difference: accuracyDifference, seed: 11 });
    const again = pairedBootstrap({ examples: 300, difference: accuracyDifference, seed: 11 });
    assert.deepEqual(first, again);
    assert.equal(first.resamples, 1000);
    close(first.estimate, 200 / 300 - 225 / 300);
    assert.ok(first.lower <= first.estimate && first.estimate <= first.upper);
    // The standard error of a paired difference of 300 examples is about 0.03: the interval is near +-0.06.
    assert.ok(first.upper - first.lower > 0.05 && first.upper - first.lower < 0.2, JSON.stringify(first));
  });
});
