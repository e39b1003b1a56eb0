/** What a family counts its throughput in: gpt2 in tokens, mlp in examples (table rows). */
export type ThroughputUnit = 'tokens' | 'examples';

export interface ThroughputValues {
  /** Mean training loss over the window's steps. */
  loss: number;
  examplesPerSecond: number;
  unit: ThroughputUnit;
  /** Per second, in `unit`. */
  unitsPerSecond: number;
  /** Only for token-counting families: the same as `unitsPerSecond`. */
  tokensPerSecond?: number;
  flopsPerSecond: number;
}

/** Loss and throughput over the steps since the last report. */
export class ThroughputWindow {
  private started: number;
  private lossSum = 0;
  private steps = 0;
  private examples = 0;
  private tokens = 0;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.started = now();
  }

  add(loss: number, examples: number, tokens: number): void {
    this.lossSum += loss;
    this.steps += 1;
    this.examples += examples;
    this.tokens += tokens;
  }

  /** The window's figures; the next window starts now. */
  take(unit: ThroughputUnit, flopsPerExample: number): ThroughputValues {
    const now = this.now();
    // A window shorter than the clock's resolution still gives finite rates.
    const seconds = Math.max((now - this.started) / 1000, 1e-6);
    const units = unit === 'tokens' ? this.tokens : this.examples;
    const values: ThroughputValues = {
      loss: this.steps > 0 ? this.lossSum / this.steps : 0,
      examplesPerSecond: this.examples / seconds,
      unit,
      unitsPerSecond: units / seconds,
      ...(unit === 'tokens' ? { tokensPerSecond: units / seconds } : {}),
      flopsPerSecond: (this.examples * flopsPerExample) / seconds,
    };
    this.started = now;
    this.lossSum = 0;
    this.steps = 0;
    this.examples = 0;
    this.tokens = 0;
    return values;
  }
}
