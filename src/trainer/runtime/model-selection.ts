/**
 * Which weights a run keeps: the best evaluation so far (by the early-stopping monitor, else by
 * validation loss, so the best checkpoint is known either way), early stopping's decision, and the
 * best weights early stopping restores at the end. Plain data in and out; no tensors.
 */
import { EarlyStopping } from '../training/metrics.js';
import type { HyperParameters } from './training-spec.js';
import { TrainingError } from './training-error.js';

export type Weights = Map<string, Float32Array>;

/** The best evaluation so far; `metrics` is null when the checkpoint it came back from did not hold them. */
export interface BestEvaluation {
  step: number;
  value: number;
  metrics: Record<string, number> | null;
}

/** What a checkpoint's state.json keeps of the selection. */
export interface SelectionState {
  earlyStopping: unknown;
  best?: BestEvaluation | null;
}

export class ModelSelection {
  private earlyStopping: EarlyStopping | null;
  private bestSeen: BestEvaluation | null = null;
  private bestWeights: Weights | null = null;

  constructor(private readonly options: HyperParameters['earlyStopping']) {
    this.earlyStopping = options ? new EarlyStopping(options) : null;
  }

  get best(): BestEvaluation | null {
    return this.bestSeen;
  }

  /**
   * Takes one evaluation at `step`. `snapshot` copies the current weights; it is called only when
   * early stopping will need them back. `stop` is early stopping's decision.
   */
  update(step: number, metrics: Record<string, number>, snapshot: () => Weights): { improved: boolean; stop: boolean } {
    if (this.earlyStopping) {
      const monitor = this.earlyStopping.options.monitor;
      const value = metrics[monitor];
      if (typeof value !== 'number') {
        throw new TrainingError(
          'invalid_monitor',
          `earlyStopping.monitor ${monitor} is not a validation metric of this task (${Object.keys(metrics).join(', ')})`,
        );
      }
      const decision = this.earlyStopping.update(value, step);
      if (decision.improved) {
        this.bestSeen = { step, value, metrics };
        this.bestWeights = snapshot();
      }
      return decision;
    }
    const improved = Number.isFinite(metrics.loss) && (this.bestSeen === null || metrics.loss < this.bestSeen.value);
    if (improved) {
      this.bestSeen = { step, value: metrics.loss, metrics };
    }
    return { improved, stop: false };
  }

  /** The step whose weights the model keeps: the best one when early stopping restores it, else `currentStep`. */
  keptStep(currentStep: number): number {
    return this.earlyStopping && this.bestWeights && this.bestSeen ? this.bestSeen.step : currentStep;
  }

  /** The weights to load at the end when they are not the current ones. */
  keptWeights(currentStep: number): Weights | null {
    return this.keptStep(currentStep) !== currentStep ? this.bestWeights : null;
  }

  toState(): SelectionState {
    return { earlyStopping: this.earlyStopping?.toJSON() ?? null, best: this.bestSeen };
  }

  /**
   * Continues from a checkpoint's state, and the best checkpoint's weights when there is one. A
   * best found under other rules (early stopping switched on or off on resume) is not carried over.
   */
  restore(state: SelectionState, bestWeights: Weights | null): void {
    if (state.earlyStopping && this.options) {
      this.earlyStopping = EarlyStopping.fromJSON(state.earlyStopping);
      const tracked = this.earlyStopping.best;
      this.bestSeen = state.best ?? (tracked ? { ...tracked, metrics: null } : null);
    } else if (!state.earlyStopping && !this.options) {
      this.bestSeen = state.best ?? null;
    }
    // Only early stopping restores the best weights; without it they need not be held.
    this.bestWeights = this.earlyStopping && this.bestSeen ? bestWeights : null;
  }
}
