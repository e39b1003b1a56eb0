import { createRandom } from '../../datasets/transforms/random.js';

export interface BootstrapInterval {
  /** The metric difference (candidate minus baseline) on the full set. */
  estimate: number;
  lower: number;
  upper: number;
  confidence: number;
  resamples: number;
  seed: number;
  /** Share of resamples in which the difference is above zero. */
  shareAboveZero: number;
}

export interface PairedBootstrapOptions {
  /** Examples both models were scored on, paired by index. */
  examples: number;
  /** The metric difference on a multiset of example indices (candidate minus baseline). */
  difference: (indices: Uint32Array) => number;
  resamples?: number;
  seed?: number;
  confidence?: number;
}

export const DEFAULT_RESAMPLES = 1000;
export const DEFAULT_CONFIDENCE = 0.95;

/**
 * Paired bootstrap (Efron and Tibshirani; Koehn 2004 for model comparison): the same resampled
 * examples score both models, so the interval is of the difference itself and per-example
 * difficulty cancels out. Percentile interval, interpolated as numpy's default percentile does.
 */
export function pairedBootstrap(options: PairedBootstrapOptions): BootstrapInterval {
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const seed = options.seed ?? 0;
  const confidence = options.confidence ?? DEFAULT_CONFIDENCE;
  if (options.examples <= 0) {
    throw new Error('pairedBootstrap needs at least one example');
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new Error(`confidence must be in (0, 1), got ${confidence}`);
  }
  const all = Uint32Array.from({ length: options.examples }, (_, index) => index);
  const estimate = options.difference(all);
  const random = createRandom(seed);
  const differences = new Float64Array(resamples);
  const indices = new Uint32Array(options.examples);
  let above = 0;
  for (let resample = 0; resample < resamples; resample++) {
    for (let i = 0; i < indices.length; i++) {
      indices[i] = random.int(options.examples);
    }
    differences[resample] = options.difference(indices);
    if (differences[resample] > 0) {
      above++;
    }
  }
  differences.sort();
  const alpha = 1 - confidence;
  return {
    estimate,
    lower: percentile(differences, alpha / 2),
    upper: percentile(differences, 1 - alpha / 2),
    confidence,
    resamples,
    seed,
    shareAboveZero: resamples === 0 ? 0 : above / resamples,
  };
}

/** Linear interpolation between the closest ranks of sorted values (numpy's default). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

export interface McNemarResult {
  /** Examples the candidate got right and the baseline wrong. */
  candidateOnly: number;
  /** Examples the baseline got right and the candidate wrong. */
  baselineOnly: number;
  /** Two-sided exact p-value (binomial test of the discordant pairs at 1/2). */
  pValue: number;
}

/**
 * McNemar's exact test for two classifiers on the same examples: only the discordant pairs
 * carry information, and under "equally good" each is the candidate's with probability 1/2.
 */
export function mcnemarExact(candidateCorrect: ArrayLike<boolean>, baselineCorrect: ArrayLike<boolean>): McNemarResult {
  if (candidateCorrect.length !== baselineCorrect.length) {
    throw new Error(`Got ${candidateCorrect.length} candidate and ${baselineCorrect.length} baseline outcomes`);
  }
  let candidateOnly = 0;
  let baselineOnly = 0;
  for (let i = 0; i < candidateCorrect.length; i++) {
    if (candidateCorrect[i] && !baselineCorrect[i]) {
      candidateOnly++;
    } else if (!candidateCorrect[i] && baselineCorrect[i]) {
      baselineOnly++;
    }
  }
  return { candidateOnly, baselineOnly, pValue: exactBinomialTwoSided(candidateOnly, baselineOnly) };
}

/** 2 * P(X <= min(b, c)) for X ~ Binomial(b + c, 1/2), capped at 1; 1 when there are no discordant pairs. */
export function exactBinomialTwoSided(b: number, c: number): number {
  const n = b + c;
  if (n === 0) {
    return 1;
  }
  const smaller = Math.min(b, c);
  // Log space: C(n, k) / 2^n underflows doubles for n in the thousands.
  let logTerm = -n * Math.LN2;
  let tail = Math.exp(logTerm);
  for (let k = 0; k < smaller; k++) {
    logTerm += Math.log(n - k) - Math.log(k + 1);
    tail += Math.exp(logTerm);
  }
  return Math.min(1, 2 * tail);
}
