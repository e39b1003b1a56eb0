import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { learningRateAt, rangeTestLearningRates, type ScheduleConfig, suggestLearningRate } from './schedules.js';

function close(actual: number, expected: number, tolerance = 1e-12): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)),
    `got ${actual}, expected ${expected}`,
  );
}

/** Learning rates at the given steps for base 0.1. */
function at(schedule: ScheduleConfig, totalSteps: number, steps: number[]): number[] {
  return steps.map((s) => learningRateAt(s, totalSteps, 0.1, schedule));
}

function closeAll(actual: number[], expected: number[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => close(a, expected[i]));
}

describe('learningRateAt', () => {
  it('constant, with linear warmup base*(s+1)/warmup', () => {
    closeAll(at({ name: 'constant', warmupSteps: 4 }, 10, [0, 1, 3, 4, 9]), [0.025, 0.05, 0.1, 0.1, 0.1]);
    closeAll(at({ name: 'constant' }, 10, [0, 9, 50]), [0.1, 0.1, 0.1]);
  });

  it('step: base*gamma^floor((s - warmup)/stepSize)', () => {
    const schedule: ScheduleConfig = { name: 'step', warmupSteps: 2, stepSize: 3, gamma: 0.5 };
    // s=0,1 warmup; s=2..4 → 0.1; s=5..7 → 0.05; s=8 → 0.025
    closeAll(at(schedule, 10, [0, 1, 2, 4, 5, 7, 8]), [0.05, 0.1, 0.1, 0.1, 0.05, 0.05, 0.025]);
    // torch StepLR's default gamma
    closeAll(at({ name: 'step', stepSize: 2 }, 10, [2]), [0.1 * 0.1]);
    assert.throws(() => learningRateAt(0, 10, 0.1, { name: 'step' }), /needs stepSize/);
  });

  it('cosine: min + (base-min)*0.5*(1+cos(pi*progress)) after warmup', () => {
    const schedule: ScheduleConfig = { name: 'cosine', warmupSteps: 2, minLearningRateRatio: 0.1 };
    // 8 post-warmup steps; min = 0.01; progress = (s - 2)/8
    closeAll(at(schedule, 10, [0, 2, 4, 6, 9, 10, 20]), [
      0.05,
      0.1,
      0.01 + 0.09 * 0.5 * (1 + Math.SQRT1_2), // progress 0.25, cos(pi/4)
      0.01 + 0.09 * 0.5, // progress 0.5
      0.01 + 0.09 * 0.5 * (1 + Math.cos(Math.PI * 0.875)),
      0.01, // reached just after the last step
      0.01, // and stays there
    ]);
  });

  it('linear: decays to min at the end', () => {
    closeAll(at({ name: 'linear' }, 4, [0, 1, 2, 3, 4]), [0.1, 0.075, 0.05, 0.025, 0]);
    // warmup 1, 4 remaining steps, min 0.02: 0.02 + 0.08*(1 - (s-1)/4)
    closeAll(at({ name: 'linear', warmupSteps: 1, minLearningRateRatio: 0.2 }, 5, [0, 1, 3, 5]), [
      0.1,
      0.1,
      0.02 + 0.08 * 0.5,
      0.02,
    ]);
  });

  it('validates its inputs', () => {
    assert.throws(() => learningRateAt(-1, 10, 0.1, { name: 'constant' }), /step must be an integer/);
    assert.throws(() => learningRateAt(0, 0, 0.1, { name: 'constant' }), /totalSteps/);
    assert.throws(() => learningRateAt(0, 10, 0.1, { name: 'cosine', minLearningRateRatio: 2 }), /minLearningRate/);
    assert.throws(() => learningRateAt(0, 10, 0.1, { name: 'warm' as 'constant' }), /Unknown schedule/);
  });
});

describe('rangeTestLearningRates', () => {
  it('grows geometrically from min to max', () => {
    const lrs = rangeTestLearningRates(1e-4, 1e-1, 4);
    closeAll(lrs, [1e-4, 1e-3, 1e-2, 1e-1]);
    assert.throws(() => rangeTestLearningRates(1, 0.1, 5), /minLr < maxLr/);
  });
});

describe('suggestLearningRate', () => {
  // 10 lrs from 1e-5 to 1e-0.5, a factor sqrt(10) apart: lr_i = 10^(-5 + i/2)
  const lrs = rangeTestLearningRates(1e-5, 10 ** -0.5, 10);

  it('picks the steepest descent of loss vs log(lr)', () => {
    // central differences (× 2h): i4: 1.0 - 1.9 = -0.9, i5: 0.6 - 1.6 = -1.0 (steepest), i6: 0.5 - 1.0 = -0.5
    const losses = [2.0, 2.0, 1.98, 1.9, 1.6, 1.0, 0.6, 0.5, 0.45, 1.5];
    // min loss at i8 (lr 10^-1), cap 10^-2, steepest lr 10^-2.5 is below the cap
    const suggestion = suggestLearningRate(lrs, losses);
    assert.equal(suggestion.method, 'steepest-slope');
    close(suggestion.learningRate, 10 ** -2.5, 1e-9);
  });

  it('caps at (lr of minimum loss)/10', () => {
    // steepest at i6 (0.9 - 1.95 = -1.05), minimum at i7 (lr 10^-1.5): cap 10^-2.5 < 10^-2
    const losses = [2, 2, 2, 2, 2, 1.95, 1.0, 0.9, 1.2, 1.5];
    const suggestion = suggestLearningRate(lrs, losses);
    assert.equal(suggestion.method, 'min-loss/10');
    close(suggestion.learningRate, 10 ** -2.5, 1e-9);
  });

  it('ignores points after the loss diverges', () => {
    // 9.0 > 4 × best (1.0) and NaN end the usable curve; otherwise the last slope would dominate
    const losses = [2.0, 1.99, 1.98, 1.9, 1.6, 1.0, 9.0, NaN, 0.1, 0.05];
    const suggestion = suggestLearningRate(lrs, losses);
    // slopes (central): i4: 1.0 - 1.9 = -0.9, i5 one-sided: (1.0 - 1.6) * 2 = -1.2 → i5, min at i5 → cap lr5/10
    assert.equal(suggestion.method, 'min-loss/10');
    close(suggestion.learningRate, 10 ** -2.5 / 10, 1e-9);
  });

  it('throws on unusable curves, or returns the fallback when given', () => {
    const rising = [1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9];
    assert.throws(() => suggestLearningRate(lrs, rising), /never decreased/);
    const fallback = suggestLearningRate(lrs, rising, { fallback: 3e-4 });
    assert.deepEqual(fallback, { learningRate: 3e-4, method: 'fallback: the loss never decreased' });
    const exploding = [1, 10, 100, 1, 1, 1, 1, 1, 1, 1];
    assert.throws(() => suggestLearningRate(lrs, exploding), /only 1 points/);
    assert.throws(() => suggestLearningRate([1, 2], [1]), /2 learning rates but 1 losses/);
    assert.throws(() => suggestLearningRate([2, 1], [1, 1]), /strictly increasing/);
  });
});
