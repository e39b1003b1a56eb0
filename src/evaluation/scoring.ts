/**
 * Per-example scores of an evaluation and the metrics, slices and paired comparisons computed from
 * them. Plain TypeScript shared by the worker (which computes) and the API (which reads the types).
 * Memory is a few numbers per example (per class for classifiers), never the rows themselves.
 */
import { classificationMetrics as hardClassificationMetrics } from '../trainer/training/metrics.js';
import { argmax, probabilisticClassificationMetrics } from './statistics/classification-metrics.js';
import {
  mcnemarExact,
  pairedBootstrap,
  type BootstrapInterval,
  type McNemarResult,
} from './statistics/significance.js';

export const EVALUATION_TASKS = ['classification', 'regression', 'causal-lm'] as const;
export type EvaluationTask = (typeof EVALUATION_TASKS)[number];

/** What one model said about the scored examples, index-aligned across models. */
export type TaskScores =
  | { task: 'classification'; labels: string[]; probabilities: Float32Array[]; actual: number[] }
  | { task: 'regression'; predictions: number[]; targets: number[] }
  | { task: 'causal-lm'; lossSums: number[]; tokens: number[]; correct: number[] };

export interface SliceMetrics {
  /** The field's value (as text), or `(missing)`. */
  value: string;
  examples: number;
  metrics: Record<string, unknown>;
}

export interface ReferenceModelResult {
  name: 'majority_class' | 'mean' | 'tfidf_logistic_regression' | 'ridge_regression' | 'trigram_language_model';
  metrics: Record<string, unknown>;
}

export interface ComparisonResult {
  /** Candidate minus baseline, per metric, with a paired-bootstrap percentile interval. */
  differences: Record<string, BootstrapInterval>;
  /** Classification only: McNemar's exact test on the examples each model got right. */
  mcnemar: McNemarResult | null;
  /** The baseline version's own metrics on the same examples. */
  baselineMetrics: Record<string, unknown>;
}

export interface EvaluationResult {
  task: EvaluationTask;
  /** Rows read from the evaluation data. */
  rows: number;
  /** Rows scored (rows with a usable target). */
  examples: number;
  /** Rows read but not scored, by reason. */
  skipped: Record<string, number>;
  metrics: Record<string, unknown>;
  slices: SliceMetrics[] | null;
  referenceModels: {
    /** Null when the model has no training data to fit them on (an import): `note` says why. */
    fittedOn: { rows: number } | null;
    note: string | null;
    models: ReferenceModelResult[];
  };
  comparison: ComparisonResult | null;
}

export function scoredCount(scores: TaskScores): number {
  switch (scores.task) {
    case 'classification':
      return scores.actual.length;
    case 'regression':
      return scores.targets.length;
    case 'causal-lm':
      return scores.tokens.length;
    default: {
      const unreachable: never = scores;
      throw new Error(`unknown task ${JSON.stringify(unreachable)}`);
    }
  }
}

const allIndices = (count: number) => Uint32Array.from({ length: count }, (_, index) => index);

export interface RegressionMetrics {
  examples: number;
  mae: number;
  mse: number;
  rmse: number;
  /** 1 - SSE / SST around the evaluated targets' own mean; null when the targets are all equal. */
  rSquared: number | null;
}

export function regressionMetrics(
  predictions: ArrayLike<number>,
  targets: ArrayLike<number>,
  indices: ArrayLike<number> = allIndices(targets.length),
): RegressionMetrics {
  const n = indices.length;
  if (n === 0) {
    return { examples: 0, mae: 0, mse: 0, rmse: 0, rSquared: null };
  }
  let absolute = 0;
  let squared = 0;
  let targetSum = 0;
  for (let k = 0; k < n; k++) {
    const i = indices[k];
    const error = predictions[i] - targets[i];
    absolute += Math.abs(error);
    squared += error * error;
    targetSum += targets[i];
  }
  const mean = targetSum / n;
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += (targets[indices[k]] - mean) ** 2;
  }
  const mse = squared / n;
  return {
    examples: n,
    mae: absolute / n,
    mse,
    rmse: Math.sqrt(mse),
    rSquared: total > 0 ? 1 - squared / total : null,
  };
}

export interface LanguageModelMetrics {
  examples: number;
  /** Target tokens scored. */
  tokens: number;
  /** Mean cross-entropy per target token (nats). */
  loss: number;
  perplexity: number;
  /** Share of target tokens whose most likely prediction was the actual token. */
  tokenAccuracy: number;
}

export function languageModelMetrics(
  lossSums: ArrayLike<number>,
  tokens: ArrayLike<number>,
  correct: ArrayLike<number>,
  indices: ArrayLike<number> = allIndices(tokens.length),
): LanguageModelMetrics {
  let loss = 0;
  let count = 0;
  let right = 0;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    loss += lossSums[i];
    count += tokens[i];
    right += correct[i];
  }
  const mean = count === 0 ? 0 : loss / count;
  return {
    examples: indices.length,
    tokens: count,
    loss: mean,
    perplexity: Math.exp(mean),
    tokenAccuracy: count === 0 ? 0 : right / count,
  };
}

/** Every metric of the task over the examples at `indices` (all of them by default). */
export function metricsOf(scores: TaskScores, indices?: ArrayLike<number>): Record<string, unknown> {
  switch (scores.task) {
    case 'classification': {
      const pick = indices ? Array.from(indices) : null;
      const probabilities = pick ? pick.map((i) => scores.probabilities[i]) : scores.probabilities;
      const actual = pick ? pick.map((i) => scores.actual[i]) : scores.actual;
      return { ...probabilisticClassificationMetrics(probabilities, actual, scores.labels) };
    }
    case 'regression':
      return { ...regressionMetrics(scores.predictions, scores.targets, indices) };
    case 'causal-lm':
      return { ...languageModelMetrics(scores.lossSums, scores.tokens, scores.correct, indices) };
    default: {
      const unreachable: never = scores;
      throw new Error(`unknown task ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * The metrics compared between two models, each as a function of a multiset of example indices.
 * Classification keeps the ones defined per resample without sorting (accuracy, macro F1, log loss).
 */
export function comparableMetrics(scores: TaskScores): Record<string, (indices: ArrayLike<number>) => number> {
  switch (scores.task) {
    case 'classification': {
      const predicted = scores.probabilities.map((row) => argmax(row));
      return {
        accuracy: (indices) => {
          let right = 0;
          for (let k = 0; k < indices.length; k++) {
            right += predicted[indices[k]] === scores.actual[indices[k]] ? 1 : 0;
          }
          return indices.length === 0 ? 0 : right / indices.length;
        },
        f1Macro: (indices) => {
          const pick = Array.from(indices);
          return hardClassificationMetrics(
            pick.map((i) => predicted[i]),
            pick.map((i) => scores.actual[i]),
            scores.labels,
          ).f1Macro;
        },
        logLoss: (indices) => {
          let sum = 0;
          for (let k = 0; k < indices.length; k++) {
            const i = indices[k];
            sum -= Math.log(Math.min(1 - 1e-15, Math.max(1e-15, scores.probabilities[i][scores.actual[i]])));
          }
          return indices.length === 0 ? 0 : sum / indices.length;
        },
      };
    }
    case 'regression': {
      const of = (indices: ArrayLike<number>) => regressionMetrics(scores.predictions, scores.targets, indices);
      return {
        mae: (indices) => of(indices).mae,
        mse: (indices) => of(indices).mse,
        rmse: (indices) => of(indices).rmse,
        rSquared: (indices) => of(indices).rSquared ?? 0,
      };
    }
    case 'causal-lm': {
      const of = (indices: ArrayLike<number>) =>
        languageModelMetrics(scores.lossSums, scores.tokens, scores.correct, indices);
      return {
        loss: (indices) => of(indices).loss,
        perplexity: (indices) => of(indices).perplexity,
        tokenAccuracy: (indices) => of(indices).tokenAccuracy,
      };
    }
    default: {
      const unreachable: never = scores;
      throw new Error(`unknown task ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Which examples a classifier got right (its top class is the actual one). */
export function correctness(scores: Extract<TaskScores, { task: 'classification' }>): boolean[] {
  return scores.probabilities.map((row, i) => argmax(row) === scores.actual[i]);
}

/**
 * Candidate against baseline on the same examples: each metric's difference with a seeded paired
 * bootstrap interval (every metric sees the same resamples, since each restarts the same seed), and
 * McNemar's exact test for classifiers.
 */
export function compareScores(
  candidate: TaskScores,
  baseline: TaskScores,
  options: { resamples: number; seed: number; confidence: number },
): ComparisonResult {
  const examples = scoredCount(candidate);
  if (examples !== scoredCount(baseline) || candidate.task !== baseline.task) {
    throw new Error('compared models must be scored on the same examples');
  }
  const candidateMetrics = comparableMetrics(candidate);
  const baselineMetrics = comparableMetrics(baseline);
  const differences: Record<string, BootstrapInterval> = {};
  if (examples > 0) {
    for (const [name, metric] of Object.entries(candidateMetrics)) {
      differences[name] = pairedBootstrap({
        examples,
        difference: (indices) => metric(indices) - baselineMetrics[name](indices),
        resamples: options.resamples,
        seed: options.seed,
        confidence: options.confidence,
      });
    }
  }
  const mcnemar =
    candidate.task === 'classification' && baseline.task === 'classification'
      ? mcnemarExact(correctness(candidate), correctness(baseline))
      : null;
  return { differences, mcnemar, baselineMetrics: metricsOf(baseline) };
}

/** Examples grouped by a slice value, largest groups first; at most `limit` slices, the rest as `(other)`. */
export function sliceIndices(values: string[], limit = 50): Array<{ value: string; indices: number[] }> {
  const groups = new Map<string, number[]>();
  values.forEach((value, index) => {
    const group = groups.get(value);
    if (group) {
      group.push(index);
    } else {
      groups.set(value, [index]);
    }
  });
  const sorted = [...groups.entries()]
    .map(([value, indices]) => ({ value, indices }))
    .sort((a, b) => b.indices.length - a.indices.length || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  if (sorted.length <= limit) {
    return sorted;
  }
  const kept = sorted.slice(0, limit - 1);
  const other = sorted.slice(limit - 1).flatMap((group) => group.indices);
  return [...kept, { value: '(other)', indices: other.sort((a, b) => a - b) }];
}
