export const SCHEDULE_NAMES = ['constant', 'step', 'cosine', 'linear'] as const;
export type ScheduleName = (typeof SCHEDULE_NAMES)[number];

export interface ScheduleConfig {
  name: ScheduleName;
  /** Linear warmup from 0 to the base rate; default 0. */
  warmupSteps?: number;
  /** 'step': decay every stepSize steps after warmup (required for 'step'). */
  stepSize?: number;
  /** 'step': multiplier per stepSize steps; default 0.1 (torch StepLR). */
  gamma?: number;
  /** cosine/linear: final rate as a fraction of the base; default 0. */
  minLearningRateRatio?: number;
}

function assertInteger(value: number, min: number, what: string): void {
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${what} must be an integer >= ${min}, got ${value}`);
  }
}

/**
 * Learning rate for 0-based optimizer step `step` of `totalSteps`. Warmup: base·(s+1)/warmup for s < warmup, so no
 * step runs at 0. After warmup, progress = (s - warmup) / (totalSteps - warmup): the first post-warmup step runs at
 * the base rate and cosine/linear reach the minimum at s = totalSteps, i.e. just after the last step (as in
 * Hugging Face's schedules), so the last step is not wasted at lr 0. Steps past the end stay at the minimum.
 */
export function learningRateAt(
  step: number,
  totalSteps: number,
  baseLearningRate: number,
  schedule: ScheduleConfig,
): number {
  assertInteger(step, 0, 'step');
  assertInteger(totalSteps, 1, 'totalSteps');
  if (!Number.isFinite(baseLearningRate) || baseLearningRate < 0) {
    throw new Error(`baseLearningRate must be finite and >= 0, got ${baseLearningRate}`);
  }
  const warmup = schedule.warmupSteps ?? 0;
  assertInteger(warmup, 0, 'warmupSteps');
  const minRatio = schedule.minLearningRateRatio ?? 0;
  if (!(minRatio >= 0 && minRatio <= 1)) {
    throw new Error(`minLearningRateRatio must be in [0, 1], got ${minRatio}`);
  }
  if (step < warmup) {
    return (baseLearningRate * (step + 1)) / warmup;
  }
  const sinceWarmup = step - warmup;
  const progress = Math.min(1, sinceWarmup / Math.max(1, totalSteps - warmup));
  const minimum = baseLearningRate * minRatio;
  switch (schedule.name) {
    case 'constant':
      return baseLearningRate;
    case 'step': {
      const stepSize = schedule.stepSize;
      if (stepSize === undefined) {
        throw new Error("The 'step' schedule needs stepSize");
      }
      assertInteger(stepSize, 1, 'stepSize');
      const gamma = schedule.gamma ?? 0.1;
      if (!Number.isFinite(gamma) || gamma <= 0) {
        throw new Error(`gamma must be finite and > 0, got ${gamma}`);
      }
      return baseLearningRate * gamma ** Math.floor(sinceWarmup / stepSize);
    }
    case 'cosine':
      return minimum + (baseLearningRate - minimum) * 0.5 * (1 + Math.cos(Math.PI * progress));
    case 'linear':
      return minimum + (baseLearningRate - minimum) * (1 - progress);
    default:
      throw new Error(`Unknown schedule "${String((schedule as { name: unknown }).name)}"`);
  }
}

/** `steps` learning rates growing geometrically from minLr to maxLr (both included), for an LR range test. */
export function rangeTestLearningRates(minLr: number, maxLr: number, steps: number): number[] {
  if (!(Number.isFinite(minLr) && minLr > 0 && Number.isFinite(maxLr) && maxLr > minLr)) {
    throw new Error(`Range test needs 0 < minLr < maxLr, got ${minLr} and ${maxLr}`);
  }
  assertInteger(steps, 2, 'steps');
  const ratio = maxLr / minLr;
  return Array.from({ length: steps }, (_, i) => (i === steps - 1 ? maxLr : minLr * ratio ** (i / (steps - 1))));
}

export interface LearningRateSuggestion {
  learningRate: number;
  /** 'steepest-slope', 'min-loss/10', or 'fallback: <reason>'. */
  method: string;
}

/** Fewer usable points than this and the slope is noise. */
const MIN_POINTS = 5;
/** fastai stops the range test once the smoothed loss exceeds 4× the best seen. */
const DIVERGENCE_FACTOR = 4;

/**
 * fastai-style pick from an LR range test (`losses` already smoothed): the rate at the steepest descent of loss
 * versus log(lr), capped at (rate of minimum loss)/10 because the steepest point of a noisy curve can sit right
 * before the blow-up. Points after divergence (loss > 4× best, or non-finite) are ignored. When the curve never
 * descends or is too short it throws, or returns `options.fallback` if given (method starts with 'fallback').
 */
export function suggestLearningRate(
  learningRates: number[],
  losses: number[],
  options: { fallback?: number } = {},
): LearningRateSuggestion {
  if (learningRates.length !== losses.length) {
    throw new Error(`Got ${learningRates.length} learning rates but ${losses.length} losses`);
  }
  for (let i = 0; i < learningRates.length; i++) {
    const lr = learningRates[i];
    if (!(Number.isFinite(lr) && lr > 0) || (i > 0 && lr <= learningRates[i - 1])) {
      throw new Error('Range test learning rates must be positive and strictly increasing');
    }
  }
  const unusable = (reason: string): LearningRateSuggestion => {
    if (options.fallback === undefined) {
      throw new Error(`Learning rate range test is unusable: ${reason}`);
    }
    return { learningRate: options.fallback, method: `fallback: ${reason}` };
  };

  let end = 0;
  let best = Infinity;
  while (end < losses.length && Number.isFinite(losses[end]) && losses[end] <= DIVERGENCE_FACTOR * best) {
    best = Math.min(best, losses[end]);
    end++;
  }
  if (end < MIN_POINTS) {
    return unusable(`only ${end} points before the loss diverged (need ${MIN_POINTS})`);
  }
  const x = learningRates.slice(0, end).map(Math.log);
  const y = losses.slice(0, end);

  // Slope like numpy.gradient: central differences inside, one-sided at the ends.
  const slope = y.map((_, i) => {
    const lo = Math.max(0, i - 1);
    const hi = Math.min(end - 1, i + 1);
    return (y[hi] - y[lo]) / (x[hi] - x[lo]);
  });
  let steepest = 0;
  for (let i = 1; i < end; i++) {
    if (slope[i] < slope[steepest]) {
      steepest = i;
    }
  }
  let minIndex = 0;
  for (let i = 1; i < end; i++) {
    if (y[i] < y[minIndex]) {
      minIndex = i;
    }
  }
  if (!(slope[steepest] < 0) || minIndex === 0) {
    return unusable('the loss never decreased');
  }
  const steepLr = learningRates[steepest];
  const cap = learningRates[minIndex] / 10;
  return steepLr <= cap
    ? { learningRate: steepLr, method: 'steepest-slope' }
    : { learningRate: cap, method: 'min-loss/10' };
}
