import { classificationMetrics, type ClassMetrics } from '../../trainer/training/metrics.js';

/** Metrics of a classifier that gives a probability per class, on a held-out set. */
export interface ProbabilisticClassificationMetrics {
  examples: number;
  accuracy: number;
  precisionMacro: number;
  recallMacro: number;
  f1Macro: number;
  /** Single-label: micro precision, recall and F1 all equal accuracy (sklearn's convention). */
  precisionMicro: number;
  recallMicro: number;
  f1Micro: number;
  precisionWeighted: number;
  recallWeighted: number;
  f1Weighted: number;
  perClass: ClassMetrics[];
  /** confusionMatrix[actual][predicted]: counts, in label order. */
  confusionMatrix: number[][];
  logLoss: number;
  /** Expected calibration error over equal-width confidence bins. */
  expectedCalibrationError: number;
  /** Binary tasks only (two labels; the second is the positive class). */
  rocAuc: number | null;
  prAuc: number | null;
}

/** Probabilities are clipped before the logarithm, as sklearn's log_loss does, so one sure mistake stays finite. */
const LOG_LOSS_EPSILON = 1e-15;
export const CALIBRATION_BINS = 15;

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) {
    if (values[i] > values[best]) {
      best = i;
    }
  }
  return best;
}

/**
 * Every classification metric from per-example class probabilities (rows sum to 1) and actual class
 * indices. Ties in the argmax go to the lowest index.
 */
export function probabilisticClassificationMetrics(
  probabilities: ArrayLike<number>[],
  actual: ArrayLike<number>,
  labels: string[],
): ProbabilisticClassificationMetrics {
  if (probabilities.length !== actual.length) {
    throw new Error(`Got ${probabilities.length} probability rows for ${actual.length} actual values`);
  }
  const predicted = probabilities.map((row) => {
    if (row.length !== labels.length) {
      throw new Error(`A probability row has ${row.length} values for ${labels.length} labels`);
    }
    return argmax(row);
  });
  const base = classificationMetrics(predicted, actual, labels);
  const total = actual.length;
  const weighted = (pick: (metrics: ClassMetrics) => number): number =>
    total === 0 ? 0 : base.perClass.reduce((sum, metrics) => sum + pick(metrics) * metrics.support, 0) / total;

  const confusionMatrix = labels.map(() => new Array<number>(labels.length).fill(0));
  let logLossSum = 0;
  for (let i = 0; i < total; i++) {
    confusionMatrix[actual[i]][predicted[i]]++;
    const probability = Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, probabilities[i][actual[i]]));
    logLossSum -= Math.log(probability);
  }
  const binary = labels.length === 2;
  const positiveScores = binary ? probabilities.map((row) => row[1]) : [];
  const positives = binary ? Array.from(actual, (value) => value === 1) : [];
  return {
    examples: total,
    accuracy: base.accuracy,
    precisionMacro: base.precisionMacro,
    recallMacro: base.recallMacro,
    f1Macro: base.f1Macro,
    precisionMicro: base.accuracy,
    recallMicro: base.accuracy,
    f1Micro: base.accuracy,
    precisionWeighted: weighted((metrics) => metrics.precision),
    recallWeighted: weighted((metrics) => metrics.recall),
    f1Weighted: weighted((metrics) => metrics.f1),
    perClass: base.perClass,
    confusionMatrix,
    logLoss: total === 0 ? 0 : logLossSum / total,
    expectedCalibrationError: expectedCalibrationError(probabilities, actual),
    rocAuc: binary ? rocAuc(positiveScores, positives) : null,
    prAuc: binary ? averagePrecision(positiveScores, positives) : null,
  };
}

/**
 * Area under the ROC curve as the Mann-Whitney statistic with tied scores counted half, which is
 * what the trapezoidal area of sklearn's roc_auc_score equals. Null when one class is absent.
 */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number | null {
  const order = Array.from({ length: scores.length }, (_, index) => index).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]] === scores[order[start]]) {
      end++;
    }
    // Ranks are 1-based; a tie group shares the mean of its ranks.
    const meanRank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      if (positive[order[k]]) {
        positives++;
        rankSum += meanRank;
      }
    }
    start = end + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) {
    return null;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * Area under the precision-recall curve as average precision (sklearn's average_precision_score):
 * the sum over score thresholds, highest first, of precision times the recall it adds. Null with no
 * positive example.
 */
export function averagePrecision(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number | null {
  const order = Array.from({ length: scores.length }, (_, index) => index).sort((a, b) => scores[b] - scores[a]);
  const positives = Array.from(positive).filter(Boolean).length;
  if (positives === 0) {
    return null;
  }
  let truePositives = 0;
  let seen = 0;
  let previousRecall = 0;
  let area = 0;
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]] === scores[order[start]]) {
      end++;
    }
    for (let k = start; k <= end; k++) {
      seen++;
      if (positive[order[k]]) {
        truePositives++;
      }
    }
    const recall = truePositives / positives;
    area += (recall - previousRecall) * (truePositives / seen);
    previousRecall = recall;
    start = end + 1;
  }
  return area;
}

/**
 * Expected calibration error (Guo et al., 2017): examples binned by their top probability into
 * equal-width bins ((0, 1/M], (1/M, 2/M], ...), and the gap between each bin's accuracy and mean
 * confidence, weighted by the bin's share of examples.
 */
export function expectedCalibrationError(
  probabilities: ArrayLike<number>[],
  actual: ArrayLike<number>,
  bins = CALIBRATION_BINS,
): number {
  const count = new Array<number>(bins).fill(0);
  const confidence = new Array<number>(bins).fill(0);
  const correct = new Array<number>(bins).fill(0);
  for (let i = 0; i < probabilities.length; i++) {
    const predicted = argmax(probabilities[i]);
    const top = probabilities[i][predicted];
    const bin = Math.min(bins - 1, Math.max(0, Math.ceil(top * bins) - 1));
    count[bin]++;
    confidence[bin] += top;
    if (predicted === actual[i]) {
      correct[bin]++;
    }
  }
  if (probabilities.length === 0) {
    return 0;
  }
  let error = 0;
  for (let bin = 0; bin < bins; bin++) {
    if (count[bin] > 0) {
      error += Math.abs(correct[bin] - confidence[bin]) / probabilities.length;
    }
  }
  return error;
}
