/**
 * Checks a metric against its threshold, and rolls checks up into a dimension's score and verdict.
 * Scores: pass 80–100, warn 50–79, fail 0–49, each band's position set by how far the metric is
 * past the band's start, so that a score never contradicts its verdict.
 */
import type {
  QualityBound,
  QualityBoundName,
  QualityCheck,
  QualityDimension,
  QualityThresholds,
  QualityVerdict,
} from './quality-report.js';
import { worstVerdict } from './quality-report.js';

function clamp01(value: number): number {
  return value < 0 ? 0 : value > 1 ? 1 : value;
}

/** Lower-bound thresholds are named min…; the rest are upper bounds. */
export function isLowerBound(threshold: QualityBoundName): boolean {
  return threshold.startsWith('min');
}

export function check(thresholds: QualityThresholds, threshold: QualityBoundName, value: number): QualityCheck {
  const bound: QualityBound = { ...thresholds[threshold] };
  const lower = isLowerBound(threshold);
  // Mirror lower bounds so that "above the bound is bad" holds for both.
  const metric = lower ? -value : value;
  const warn = bound.warn === null ? null : lower ? -bound.warn : bound.warn;
  const fail = bound.fail === null ? null : lower ? -bound.fail : bound.fail;
  let verdict: QualityVerdict;
  let score: number;
  if (fail !== null && metric > fail) {
    verdict = 'fail';
    score = 49 * (1 - clamp01((metric - fail) / scale(fail)));
  } else if (warn !== null && metric > warn) {
    verdict = 'warn';
    const span = fail !== null ? fail - warn : scale(warn);
    score = 79 - 29 * clamp01((metric - warn) / (span > 0 ? span : 1));
  } else {
    verdict = 'pass';
    const edge = warn ?? fail;
    score = edge === null || lower ? 100 : edge > 0 ? 100 - 20 * clamp01(metric / edge) : 100;
  }
  return { threshold, value: roundMetric(value), bound, verdict, score: Math.round(score) };
}

/** A span to measure "how far past the bound" by: the bound itself, or 1 for a zero bound. */
function scale(bound: number): number {
  return Math.abs(bound) > 0 ? Math.abs(bound) : 1;
}

/** The worst of the checks (score 100 and pass without any). */
export function dimension(checks: QualityCheck[]): QualityDimension {
  let score = 100;
  let verdict: QualityVerdict = 'pass';
  for (const item of checks) {
    score = Math.min(score, item.score);
    verdict = worstVerdict(verdict, item.verdict);
  }
  return { score, verdict, checks };
}

/** "fail: duplicates: maxExactDuplicateRatio is 0.2 (warn above 0.01, fail above 0.1)". */
export function describeCheck(dimensionName: string, item: QualityCheck): string {
  const relation = isLowerBound(item.threshold) ? 'below' : 'above';
  const bounds = [
    item.bound.warn === null ? undefined : `warn ${relation} ${item.bound.warn}`,
    item.bound.fail === null ? undefined : `fail ${relation} ${item.bound.fail}`,
  ].filter((part) => part !== undefined);
  return `${item.verdict}: ${dimensionName}: ${item.threshold} is ${item.value} (${bounds.join(', ')})`;
}

/** Ratios and divergences to 6 significant digits, so reports are stable and readable. */
export function roundMetric(value: number): number {
  if (!Number.isFinite(value)) {
    return 0;
  }
  return value === 0 ? 0 : Number(value.toPrecision(6));
}
