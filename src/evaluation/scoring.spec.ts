import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compareScores,
  languageModelMetrics,
  metricsOf,
  regressionMetrics,
  sliceIndices,
  type TaskScores,
} from './scoring.js';

const close = (actual: number | null | undefined, expected: number, tolerance = 1e-9) =>
  assert.ok(
    typeof actual === 'number' && Math.abs(actual - expected) <= tolerance,
    `${String(actual)} is not ${expected}`,
  );

const classifier = (predicted: number[], actual: number[]): TaskScores => ({
  task: 'classification',
  labels: ['neg', 'pos'],
  probabilities: predicted.map((p) => Float32Array.from(p === 1 ? [0.25, 0.75] : [0.75, 0.25])),
  actual,
});

describe('evaluation scoring', () => {
  it('computes regression metrics by hand', () => {
    // Errors 1, 0, -2: MAE 1, MSE 5/3; targets' mean 13/3, SST 222/9, R^2 = 1 - 5 / (222/9) = 1 - 45/222.
    const metrics = regressionMetrics([2, 4, 6], [1, 4, 8]);
    close(metrics.mae, 1);
    close(metrics.mse, 5 / 3);
    close(metrics.rmse, Math.sqrt(5 / 3));
    close(metrics.rSquared, 1 - 45 / 222);
    assert.equal(regressionMetrics([1, 2], [3, 3]).rSquared, null, 'constant targets have no R^2');
  });

  it('weights language-model loss by target tokens', () => {
    // 6 nats over 4 tokens; 2 of 4 tokens right.
    const metrics = languageModelMetrics([2, 4], [1, 3], [1, 1]);
    close(metrics.loss, 1.5);
    close(metrics.perplexity, Math.exp(1.5));
    close(metrics.tokenAccuracy, 0.5);
    assert.equal(metrics.tokens, 4);
  });

  it('gives every classification metric from probabilities', () => {
    const metrics = metricsOf(classifier([1, 1, 0, 0], [1, 0, 0, 0]));
    close(metrics.accuracy as number, 0.75);
    assert.deepEqual(metrics.confusionMatrix, [
      [2, 1],
      [0, 1],
    ]);
    // Positive scores 0.75, 0.75, 0.25, 0.25 for actual 1, 0, 0, 0: the positive outranks 2 negatives, ties 1.
    close(metrics.rocAuc as number, 2.5 / 3);
    close(metrics.logLoss as number, -(3 * Math.log(0.75) + Math.log(0.25)) / 4);
  });

  it('gives an exact interval when every example moves the metric the same way', () => {
    // The candidate is exact; the baseline is off by 1 everywhere: MAE differs by -1 in every resample.
    const candidate: TaskScores = { task: 'regression', predictions: [1, 2, 3, 4], targets: [1, 2, 3, 4] };
    const baseline: TaskScores = { task: 'regression', predictions: [2, 3, 4, 5], targets: [1, 2, 3, 4] };
    const comparison = compareScores(candidate, baseline, { resamples: 200, seed: 3, confidence: 0.95 });
    close(comparison.differences.mae.estimate, -1);
    close(comparison.differences.mae.lower, -1);
    close(comparison.differences.mae.upper, -1);
    assert.equal(comparison.differences.mae.shareAboveZero, 0);
    assert.equal(comparison.mcnemar, null);
    close(comparison.baselineMetrics.mae as number, 1);
  });

  it("runs McNemar's exact test on the examples each classifier got right", () => {
    // The candidate is right on all 10, the baseline on the first 2: 8 discordant pairs, all the
    // candidate's; p = 2 * (1/2)^8.
    const actual = new Array<number>(10).fill(1);
    const candidate = classifier(new Array<number>(10).fill(1), actual);
    const baseline = classifier([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], actual);
    const comparison = compareScores(candidate, baseline, { resamples: 100, seed: 0, confidence: 0.9 });
    assert.equal(comparison.mcnemar?.candidateOnly, 8);
    assert.equal(comparison.mcnemar?.baselineOnly, 0);
    close(comparison.mcnemar?.pValue, 2 / 256);
    close(comparison.differences.accuracy.estimate, 0.8);
    assert.ok(comparison.differences.accuracy.lower > 0, 'the whole interval favours the candidate');
  });

  it('is reproducible for a seed and differs for another', () => {
    const actual = [0, 1, 0, 1, 1, 0, 1, 0, 1, 1];
    const candidate = classifier([0, 1, 0, 1, 1, 1, 1, 0, 0, 1], actual);
    const baseline = classifier([0, 0, 1, 1, 0, 0, 1, 1, 0, 1], actual);
    const once = compareScores(candidate, baseline, { resamples: 300, seed: 11, confidence: 0.95 });
    const again = compareScores(candidate, baseline, { resamples: 300, seed: 11, confidence: 0.95 });
    const other = compareScores(candidate, baseline, { resamples: 300, seed: 12, confidence: 0.95 });
    assert.deepEqual(once, again);
    assert.notDeepEqual(once.differences.f1Macro.shareAboveZero, other.differences.f1Macro.shareAboveZero);
    close(once.differences.accuracy.estimate, 0.8 - 0.5);
  });

  it('slices by value, largest first, folding the tail into (other)', () => {
    const slices = sliceIndices(['a', 'b', 'a', 'c', 'a', 'b', 'd']);
    assert.deepEqual(
      slices.map((slice) => [slice.value, slice.indices]),
      [
        ['a', [0, 2, 4]],
        ['b', [1, 5]],
        ['c', [3]],
        ['d', [6]],
      ],
    );
    const folded = sliceIndices(['a', 'b', 'a', 'c', 'a', 'b', 'd'], 2);
    assert.deepEqual(
      folded.map((slice) => [slice.value, slice.indices]),
      [
        ['a', [0, 2, 4]],
        ['(other)', [1, 3, 5, 6]],
      ],
    );
  });
});
