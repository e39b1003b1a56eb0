export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  precisionMacro: number;
  recallMacro: number;
  f1Macro: number;
  perClass: ClassMetrics[];
}

function ratio(numerator: number, denominator: number): number {
  // sklearn zero_division=0.
  return denominator === 0 ? 0 : numerator / denominator;
}

function assertClassIds(values: ArrayLike<number>, classes: number, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      throw new Error(`${what}[${i}] = ${v} is not a class index in [0, ${classes})`);
    }
  }
}

/**
 * sklearn's precision_recall_fscore_support(labels=range(len(labels)), zero_division=0) plus accuracy. Macro
 * averages include every label given, even ones absent from both arrays (they count as 0). Empty input: all 0.
 */
export function classificationMetrics(
  predicted: ArrayLike<number>,
  actual: ArrayLike<number>,
  labels: string[],
): ClassificationMetrics {
  if (predicted.length !== actual.length) {
    throw new Error(`Got ${predicted.length} predictions for ${actual.length} actual values`);
  }
  if (labels.length === 0) {
    throw new Error('classificationMetrics needs at least one label');
  }
  assertClassIds(predicted, labels.length, 'predicted');
  assertClassIds(actual, labels.length, 'actual');
  const truePositives = new Array<number>(labels.length).fill(0);
  const predictedCount = new Array<number>(labels.length).fill(0);
  const support = new Array<number>(labels.length).fill(0);
  let correct = 0;
  for (let i = 0; i < actual.length; i++) {
    predictedCount[predicted[i]]++;
    support[actual[i]]++;
    if (predicted[i] === actual[i]) {
      truePositives[actual[i]]++;
      correct++;
    }
  }
  const perClass = labels.map((label, c) => {
    const tp = truePositives[c];
    // sklearn computes F1 as 2tp / (2tp + fp + fn), equal to the harmonic mean whenever that is defined.
    return {
      label,
      precision: ratio(tp, predictedCount[c]),
      recall: ratio(tp, support[c]),
      f1: ratio(2 * tp, predictedCount[c] + support[c]),
      support: support[c],
    };
  });
  const mean = (pick: (m: ClassMetrics) => number): number =>
    perClass.reduce((sum, m) => sum + pick(m), 0) / perClass.length;
  return {
    accuracy: ratio(correct, actual.length),
    precisionMacro: mean((m) => m.precision),
    recallMacro: mean((m) => m.recall),
    f1Macro: mean((m) => m.f1),
    perClass,
  };
}

/** Metrics of always predicting the most frequent actual class (ties: lowest index, like sklearn's DummyClassifier). */
export function majorityBaseline(actual: ArrayLike<number>, labels: string[]): ClassificationMetrics {
  if (labels.length === 0) {
    throw new Error('majorityBaseline needs at least one label');
  }
  assertClassIds(actual, labels.length, 'actual');
  const counts = new Array<number>(labels.length).fill(0);
  for (let i = 0; i < actual.length; i++) {
    counts[actual[i]]++;
  }
  const majority = counts.indexOf(Math.max(...counts));
  return classificationMetrics(new Array<number>(actual.length).fill(majority), actual, labels);
}

export interface RegressionMetrics {
  mae: number;
  rmse: number;
  r2: number;
}

/** sklearn conventions; r2 with constant targets is 1 for a perfect fit, else 0 (force_finite=True). */
export function regressionMetrics(predicted: ArrayLike<number>, actual: ArrayLike<number>): RegressionMetrics {
  if (predicted.length !== actual.length) {
    throw new Error(`Got ${predicted.length} predictions for ${actual.length} actual values`);
  }
  const n = actual.length;
  if (n === 0) {
    throw new Error('regressionMetrics needs at least one value');
  }
  let mean = 0;
  for (let i = 0; i < n; i++) {
    mean += actual[i];
  }
  mean /= n;
  let absolute = 0;
  let squared = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const error = predicted[i] - actual[i];
    absolute += Math.abs(error);
    squared += error * error;
    total += (actual[i] - mean) ** 2;
  }
  const r2 = total === 0 ? (squared === 0 ? 1 : 0) : 1 - squared / total;
  return { mae: absolute / n, rmse: Math.sqrt(squared / n), r2 };
}

/** From causalLmStats sums: mean token loss, exp(loss), and argmax accuracy over counted tokens. */
export function languageModelMetrics(
  lossSum: number,
  tokens: number,
  correct: number,
): { loss: number; perplexity: number; tokenAccuracy: number } {
  if (!(tokens > 0)) {
    throw new Error('languageModelMetrics needs at least one counted target token (is every token masked?)');
  }
  const loss = lossSum / tokens;
  return { loss, perplexity: Math.exp(loss), tokenAccuracy: correct / tokens };
}

export interface EarlyStoppingOptions {
  /** Metric name, carried for logs and checkpoints. */
  monitor: string;
  mode: 'min' | 'max';
  /** Evaluations without improvement before stopping; 0 stops at the first one. */
  patience: number;
  /** Smallest change that counts as an improvement. */
  minDelta: number;
}

export interface EarlyStoppingSnapshot extends EarlyStoppingOptions {
  best: { value: number; step: number } | null;
  wait: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function validateEarlyStopping(options: EarlyStoppingOptions): void {
  if (options.mode !== 'min' && options.mode !== 'max') {
    throw new Error(`Early stopping mode must be 'min' or 'max', got ${String(options.mode)}`);
  }
  if (!Number.isInteger(options.patience) || options.patience < 0) {
    throw new Error(`Early stopping patience must be an integer >= 0, got ${options.patience}`);
  }
  if (!Number.isFinite(options.minDelta) || options.minDelta < 0) {
    throw new Error(`Early stopping minDelta must be finite and >= 0, got ${options.minDelta}`);
  }
}

/**
 * Keras/Lightning semantics: an evaluation improves when it beats the best by more than minDelta; training stops
 * once `patience` evaluations in a row have not improved. A non-finite value stops at once (the run has diverged).
 */
export class EarlyStopping {
  readonly options: Readonly<EarlyStoppingOptions>;
  private bestSeen: { value: number; step: number } | undefined;
  private wait = 0;

  constructor(options: EarlyStoppingOptions) {
    validateEarlyStopping(options);
    this.options = Object.freeze({ ...options });
  }

  get best(): { value: number; step: number } | undefined {
    return this.bestSeen === undefined ? undefined : { ...this.bestSeen };
  }

  /** Evaluations since the last improvement. */
  get evaluationsWithoutImprovement(): number {
    return this.wait;
  }

  update(value: number, step: number): { improved: boolean; stop: boolean } {
    if (!Number.isFinite(value)) {
      this.wait++;
      return { improved: false, stop: true };
    }
    const { mode, minDelta, patience } = this.options;
    const improved =
      this.bestSeen === undefined ||
      (mode === 'min' ? value < this.bestSeen.value - minDelta : value > this.bestSeen.value + minDelta);
    if (improved) {
      this.bestSeen = { value, step };
      this.wait = 0;
      return { improved: true, stop: false };
    }
    this.wait++;
    return { improved: false, stop: this.wait >= patience };
  }

  toJSON(): EarlyStoppingSnapshot {
    return { ...this.options, best: this.bestSeen === undefined ? null : { ...this.bestSeen }, wait: this.wait };
  }

  static fromJSON(json: unknown): EarlyStopping {
    if (!isRecord(json)) {
      throw new Error('Early stopping snapshot must be an object');
    }
    const { monitor, mode, patience, minDelta, best, wait } = json;
    if (typeof monitor !== 'string' || typeof patience !== 'number' || typeof minDelta !== 'number') {
      throw new Error('Early stopping snapshot needs monitor, mode, patience and minDelta');
    }
    if (mode !== 'min' && mode !== 'max') {
      throw new Error(`Early stopping snapshot has mode ${String(mode)}`);
    }
    const restored = new EarlyStopping({ monitor, mode, patience, minDelta });
    if (typeof wait !== 'number' || !Number.isInteger(wait) || wait < 0) {
      throw new Error('Early stopping snapshot needs an integer wait >= 0');
    }
    if (best !== null && best !== undefined) {
      if (!isRecord(best) || typeof best.value !== 'number' || typeof best.step !== 'number') {
        throw new Error('Early stopping snapshot best must be { value, step } or null');
      }
      restored.bestSeen = { value: best.value, step: best.step };
    }
    restored.wait = wait;
    return restored;
  }
}

export interface OverfittingSnapshot {
  window: number;
  history: Array<[number, number]>;
  warned: boolean;
}

/**
 * Warns when validation loss rose at every one of the last `window` evaluations (never fell, ended higher) while
 * training loss ended lower than it was `window` evaluations ago. Warns once per episode; re-arms when the pattern
 * breaks, so a UI does not collect one warning per evaluation.
 */
export class OverfittingDetector {
  readonly window: number;
  private history: Array<[number, number]> = [];
  private warned = false;

  constructor(options: { window?: number } = {}) {
    const window = options.window ?? 3;
    if (!Number.isInteger(window) || window < 1) {
      throw new Error(`Overfitting window must be an integer >= 1, got ${window}`);
    }
    this.window = window;
  }

  update(trainLoss: number, validationLoss: number): string | undefined {
    this.history.push([trainLoss, validationLoss]);
    if (this.history.length > this.window + 1) {
      this.history.shift();
    }
    if (!this.isOverfitting()) {
      this.warned = false;
      return undefined;
    }
    if (this.warned) {
      return undefined;
    }
    this.warned = true;
    const [firstTrain, firstValidation] = this.history[0];
    const [lastTrain, lastValidation] = this.history[this.history.length - 1];
    return (
      `Validation loss rose from ${format(firstValidation)} to ${format(lastValidation)} over the last ` +
      `${this.window} evaluations while training loss fell from ${format(firstTrain)} to ${format(lastTrain)}; ` +
      'the model may be overfitting (consider early stopping, more regularisation or fewer epochs).'
    );
  }

  private isOverfitting(): boolean {
    if (this.history.length < this.window + 1) {
      return false;
    }
    for (let i = 1; i < this.history.length; i++) {
      if (!(this.history[i][1] >= this.history[i - 1][1])) {
        return false;
      }
    }
    const [firstTrain, firstValidation] = this.history[0];
    const [lastTrain, lastValidation] = this.history[this.history.length - 1];
    return lastValidation > firstValidation && lastTrain < firstTrain;
  }

  toJSON(): OverfittingSnapshot {
    return { window: this.window, history: this.history.map(([t, v]) => [t, v]), warned: this.warned };
  }

  static fromJSON(json: unknown): OverfittingDetector {
    if (!isRecord(json) || typeof json.window !== 'number' || !Array.isArray(json.history)) {
      throw new Error('Overfitting detector snapshot needs window and history');
    }
    const detector = new OverfittingDetector({ window: json.window });
    const history: unknown[] = json.history;
    for (const entry of history) {
      // JSON.stringify writes NaN (a diverged evaluation) as null.
      const values = Array.isArray(entry) ? entry.map((v: unknown) => (v === null ? NaN : v)) : [];
      const [train, validation] = values;
      if (values.length !== 2 || typeof train !== 'number' || typeof validation !== 'number') {
        throw new Error('Overfitting detector history entries must be [trainLoss, validationLoss]');
      }
      detector.history.push([train, validation]);
    }
    detector.history = detector.history.slice(-(detector.window + 1));
    detector.warned = json.warned === true;
    return detector;
  }
}

function format(value: number): string {
  return Number(value.toPrecision(4)).toString();
}
