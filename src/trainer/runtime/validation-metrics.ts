/**
 * One validation pass, batch by batch, turned into the head's metrics: loss and perplexity for a
 * causal LM; accuracy, macro and per-class precision, recall and F1 for classification; MAE, RMSE
 * and R² in the target's own units for regression. No tensors: the caller hands over numbers.
 */
import { classificationMetrics, languageModelMetrics, regressionMetrics } from '../training/metrics.js';
import type { HeadType } from './training-spec.js';

export class ValidationMetrics {
  private lossSum = 0;
  private tokens = 0;
  private correct = 0;
  private examples = 0;
  private readonly predicted: number[] = [];

  constructor(
    private readonly head: HeadType,
    /** Class names (classification). */
    private readonly labels: string[] | null,
    /** How regression targets were standardised for training. */
    private readonly targetScaling: { mean: number; std: number } | null,
  ) {}

  /** A causal-LM batch: summed loss, target tokens and correctly predicted tokens. */
  addLanguageModelBatch(stats: { lossSum: number; tokens: number; correct: number }): void {
    this.lossSum += stats.lossSum;
    this.tokens += stats.tokens;
    this.correct += stats.correct;
  }

  /** A classification or regression batch: its mean loss and its outputs, row by row. */
  addBatch(meanLoss: number, count: number, output: ArrayLike<number>): void {
    this.lossSum += meanLoss * count;
    this.examples += count;
    if (this.head === 'classification') {
      const classes = this.labels!.length;
      for (let i = 0; i < count; i += 1) {
        let best = 0;
        for (let c = 1; c < classes; c += 1) {
          if (output[i * classes + c] > output[i * classes + best]) {
            best = c;
          }
        }
        this.predicted.push(best);
      }
    } else {
      this.predicted.push(...Array.from(output));
    }
  }

  /** The metrics, given the pass's true labels (classification) or standardised targets (regression). */
  result(truth: { labels: ArrayLike<number> | null; targets: ArrayLike<number> | null }): Record<string, number> {
    if (this.head === 'causal-lm') {
      return languageModelMetrics(this.lossSum, this.tokens, this.correct);
    }
    const loss = this.lossSum / this.examples;
    if (this.head === 'classification') {
      const metrics = classificationMetrics(this.predicted, truth.labels!, this.labels!);
      const values: Record<string, number> = {
        loss,
        accuracy: metrics.accuracy,
        precisionMacro: metrics.precisionMacro,
        recallMacro: metrics.recallMacro,
        f1Macro: metrics.f1Macro,
      };
      for (const perClass of metrics.perClass) {
        values[`f1.${perClass.label}`] = perClass.f1;
        values[`precision.${perClass.label}`] = perClass.precision;
        values[`recall.${perClass.label}`] = perClass.recall;
      }
      return values;
    }
    const scaling = this.targetScaling!;
    const unscale = (value: number) => value * scaling.std + scaling.mean;
    const metrics = regressionMetrics(this.predicted.map(unscale), Array.from(truth.targets!, unscale));
    return { loss, mae: metrics.mae, rmse: metrics.rmse, r2: metrics.r2 };
  }
}
