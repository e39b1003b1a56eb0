/**
 * Profiles of the non-text input fields of tabular data (classification and regression): numeric
 * columns and vectors (fixed-length arrays of numbers: pixel rows, embeddings). What matters there
 * is not tokens but values: missing and non-finite values, constant and near-constant columns,
 * outliers, ranges, and features that give the label away. Streaming and bounded: a numeric column
 * keeps running moments, up to DISTINCT_CAP distinct values and a reservoir sample of
 * RESERVOIR_SIZE values for its quartiles; a vector field keeps running moments per dimension.
 *
 * A field's kind is set by its first present value (CSV cells are strings: one that holds a number
 * makes a numeric column); later values are read as that kind.
 */
import type {
  FeatureProfile,
  NumericFeatureProfile,
  TextFeatureProfile,
  VectorFeatureProfile,
} from './quality-report.js';
import { roundMetric } from './quality-scoring.js';

export type FieldKind = 'text' | 'numeric' | 'vector';

/** Distinct values counted exactly per numeric column (enough to find constant columns and modes). */
export const DISTINCT_CAP = 1024;
/** Values sampled per numeric column for its quartiles and outlier estimate. */
export const RESERVOIR_SIZE = 2048;
/** A column whose most frequent value fills at least this share of its values is near-constant. */
export const NEAR_CONSTANT_SHARE = 0.99;
/** Rows a leak needs before it is reported (a few rows agree by chance). */
export const LEAK_MIN_ROWS = 10;
/** |Pearson correlation| with a numeric label from which a column is a rescaled copy of it. */
export const LEAK_CORRELATION = 0.999;
/** Vectors up to this length report every dimension's summary; longer ones only the overall one. */
export const VECTOR_DIMENSIONS_REPORTED = 1024;
/** Tukey's "far out" fences, as for text lengths. */
const OUTLIER_FENCE = 3;

const NON_FINITE_WORDS = /^[+-]?(?:nan|inf|infinity)$/i;

/** The kind a first present value gives its field; undefined for a missing or blank value. */
export function kindOfValue(value: unknown): FieldKind | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return 'numeric';
  }
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '') {
      return undefined;
    }
    return Number.isFinite(Number(trimmed)) || NON_FINITE_WORDS.test(trimmed) ? 'numeric' : 'text';
  }
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'number')) {
    return 'vector';
  }
  return 'text';
}

/** A value of a numeric column as a number: NaN when it is not one (then `nonNumeric` tells why). */
function numberOf(value: unknown): number {
  if (typeof value === 'number') {
    return value;
  }
  if (typeof value === 'boolean') {
    return value ? 1 : 0;
  }
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (NON_FINITE_WORDS.test(trimmed)) {
      return /nan/i.test(trimmed) ? Number.NaN : trimmed.startsWith('-') ? -Infinity : Infinity;
    }
    return trimmed === '' ? Number.NaN : Number(trimmed);
  }
  return Number.NaN;
}

/** The label as the leak checks compare it: a class key, or a number for regression. */
export interface LabelValue {
  /** Class id (classification) or NaN. */
  classKey: number;
  /** The numeric label (regression), or NaN. */
  number: number;
}

/** xorshift32: a fixed sequence, so the same file gives the same report. */
function nextRandom(state: Uint32Array): number {
  let x = state[0];
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  state[0] = x;
  return (x >>> 0) / 4294967296;
}

export class NumericFieldProfile {
  /** Finite values. */
  count = 0;
  nonFinite = 0;
  /** Present values that are not numbers at all (`n/a` in a numeric CSV column). */
  nonNumeric = 0;
  private min = Infinity;
  private max = -Infinity;
  private mean = 0;
  private squares = 0;
  private readonly distinct = new Map<number, number>();
  private distinctOverflow = false;
  private readonly reservoir = new Float64Array(RESERVOIR_SIZE);
  private readonly randomState = new Uint32Array([0x9e3779b9]);
  // Leak checks: the label pairs seen, which class each value led to, and correlation sums.
  private labelPairs = 0;
  private readonly classOf = new Map<number, number>();
  private classConflict = false;
  private equalToLabel = 0;
  private sumX = 0;
  private sumY = 0;
  private sumXX = 0;
  private sumYY = 0;
  private sumXY = 0;

  /** Returns false when the value is not a finite number. */
  add(value: unknown, label: LabelValue | undefined): boolean {
    const number = numberOf(value);
    if (!Number.isFinite(number)) {
      if (Number.isNaN(number) && !(typeof value === 'string' && NON_FINITE_WORDS.test(value.trim()))) {
        this.nonNumeric += 1;
      } else {
        this.nonFinite += 1;
      }
      return false;
    }
    this.count += 1;
    const delta = number - this.mean;
    this.mean += delta / this.count;
    this.squares += delta * (number - this.mean);
    if (number < this.min) {
      this.min = number;
    }
    if (number > this.max) {
      this.max = number;
    }
    const seen = this.distinct.get(number);
    if (seen !== undefined) {
      this.distinct.set(number, seen + 1);
    } else if (this.distinct.size < DISTINCT_CAP) {
      this.distinct.set(number, 1);
    } else {
      this.distinctOverflow = true;
    }
    if (this.count <= RESERVOIR_SIZE) {
      this.reservoir[this.count - 1] = number;
    } else {
      const slot = Math.floor(nextRandom(this.randomState) * this.count);
      if (slot < RESERVOIR_SIZE) {
        this.reservoir[slot] = number;
      }
    }
    if (label !== undefined) {
      this.addLabelPair(number, label);
    }
    return true;
  }

  private addLabelPair(number: number, label: LabelValue): void {
    this.labelPairs += 1;
    if (!Number.isNaN(label.classKey) && !this.classConflict) {
      const previous = this.classOf.get(number);
      if (previous === undefined) {
        if (this.classOf.size < DISTINCT_CAP) {
          this.classOf.set(number, label.classKey);
        } else {
          this.classConflict = true;
        }
      } else if (previous !== label.classKey) {
        this.classConflict = true;
      }
    }
    if (!Number.isNaN(label.number)) {
      const y = label.number;
      if (y === number) {
        this.equalToLabel += 1;
      }
      this.sumX += number;
      this.sumY += y;
      this.sumXX += number * number;
      this.sumYY += y * y;
      this.sumXY += number * y;
    }
  }

  /** |Pearson correlation| with a numeric label; 0 when either side is constant. */
  private labelCorrelation(): number {
    const n = this.labelPairs;
    if (n < 2) {
      return 0;
    }
    const covariance = this.sumXY - (this.sumX * this.sumY) / n;
    const varianceX = this.sumXX - (this.sumX * this.sumX) / n;
    const varianceY = this.sumYY - (this.sumY * this.sumY) / n;
    if (!(varianceX > 1e-12 * Math.max(1, this.sumXX)) || !(varianceY > 1e-12 * Math.max(1, this.sumYY))) {
      return 0;
    }
    return Math.min(1, Math.abs(covariance / Math.sqrt(varianceX * varianceY)));
  }

  /**
   * Why this column gives the label away, or undefined: it equals the label in every row, is a
   * rescaled copy of a numeric label, or maps one to one onto the classes.
   */
  leak(classCount: number): string | undefined {
    if (this.labelPairs < LEAK_MIN_ROWS) {
      return undefined;
    }
    if (this.equalToLabel === this.labelPairs) {
      return 'equals the label in every row';
    }
    if (this.labelCorrelation() >= LEAK_CORRELATION) {
      return `is a linear function of the label (|correlation| ${roundMetric(this.labelCorrelation())})`;
    }
    if (!this.classConflict && this.classOf.size >= 2 && this.classOf.size <= classCount) {
      return `maps one to one onto the label's classes (${this.classOf.size} values)`;
    }
    return undefined;
  }

  /** The most frequent value's share of the finite values (a lower bound past DISTINCT_CAP values). */
  private modeShare(): number {
    let largest = 0;
    for (const count of this.distinct.values()) {
      largest = Math.max(largest, count);
    }
    return this.count > 0 ? largest / this.count : 0;
  }

  constant(): boolean {
    return this.count > 0 && this.min === this.max;
  }

  nearConstant(): boolean {
    return !this.constant() && this.count > 0 && this.modeShare() >= NEAR_CONSTANT_SHARE;
  }

  /** Quartiles and the share beyond Tukey's far-out fences, from the sample (exact up to its size). */
  private outliers(): { count: number; ratio: number; low: number; high: number; estimated: boolean } {
    const size = Math.min(this.count, RESERVOIR_SIZE);
    if (size === 0) {
      return { count: 0, ratio: 0, low: 0, high: 0, estimated: false };
    }
    const sample = this.reservoir.slice(0, size).sort();
    const quantile = (q: number) => {
      const position = (size - 1) * q;
      const below = Math.floor(position);
      const above = Math.min(size - 1, below + 1);
      return sample[below] + (sample[above] - sample[below]) * (position - below);
    };
    const p25 = quantile(0.25);
    const p75 = quantile(0.75);
    const spread = p75 - p25;
    const low = p25 - OUTLIER_FENCE * spread;
    const high = p75 + OUTLIER_FENCE * spread;
    let outside = 0;
    for (let index = 0; index < size; index += 1) {
      if (sample[index] < low || sample[index] > high) {
        outside += 1;
      }
    }
    const ratio = outside / size;
    return {
      count: Math.round(ratio * this.count),
      ratio,
      low,
      high,
      estimated: this.count > RESERVOIR_SIZE,
    };
  }

  outlierRatio(): number {
    return this.outliers().ratio;
  }

  report(missing: number, classCount: number): NumericFeatureProfile {
    const outliers = this.outliers();
    const leak = this.leak(classCount);
    return {
      kind: 'numeric',
      count: this.count,
      missing,
      nonFinite: this.nonFinite,
      nonNumeric: this.nonNumeric,
      min: this.count > 0 ? this.min : 0,
      max: this.count > 0 ? this.max : 0,
      mean: roundMetric(this.mean),
      std: this.count > 0 ? roundMetric(Math.sqrt(this.squares / this.count)) : 0,
      distinct: this.distinct.size,
      distinctExact: !this.distinctOverflow,
      modeShare: roundMetric(this.modeShare()),
      constant: this.constant(),
      nearConstant: this.nearConstant(),
      outliers: {
        count: outliers.count,
        ratio: roundMetric(outliers.ratio),
        low: roundMetric(outliers.low),
        high: roundMetric(outliers.high),
        estimated: outliers.estimated,
        rule: `< p25 − ${OUTLIER_FENCE}·IQR or > p75 + ${OUTLIER_FENCE}·IQR`,
      },
      ...(leak === undefined ? {} : { leak }),
    };
  }
}

export class VectorFieldProfile {
  /** The length of the first vector; rows with another length are counted, not profiled. */
  length = 0;
  count = 0;
  lengthMismatches = 0;
  nonFinite = 0;
  private min = new Float64Array(0);
  private max = new Float64Array(0);
  private mean = new Float64Array(0);
  private squares = new Float64Array(0);
  private overallMin = Infinity;
  private overallMax = -Infinity;
  private overallSum = 0;
  private overallSquares = 0;

  /** Returns false when the vector has a non-finite element or the wrong length. */
  add(value: unknown): boolean {
    if (!Array.isArray(value) || value.length === 0) {
      this.lengthMismatches += 1;
      return false;
    }
    if (this.count === 0 && this.length === 0) {
      this.length = value.length;
      this.min = new Float64Array(this.length).fill(Infinity);
      this.max = new Float64Array(this.length).fill(-Infinity);
      this.mean = new Float64Array(this.length);
      this.squares = new Float64Array(this.length);
    }
    if (value.length !== this.length) {
      this.lengthMismatches += 1;
      return false;
    }
    for (let index = 0; index < value.length; index += 1) {
      const element: unknown = value[index];
      if (typeof element !== 'number' || !Number.isFinite(element)) {
        this.nonFinite += 1;
        return false;
      }
    }
    this.count += 1;
    const count = this.count;
    for (let index = 0; index < value.length; index += 1) {
      const number = value[index] as number;
      const delta = number - this.mean[index];
      this.mean[index] += delta / count;
      this.squares[index] += delta * (number - this.mean[index]);
      if (number < this.min[index]) {
        this.min[index] = number;
      }
      if (number > this.max[index]) {
        this.max[index] = number;
      }
      this.overallSum += number;
      this.overallSquares += number * number;
      if (number < this.overallMin) {
        this.overallMin = number;
      }
      if (number > this.overallMax) {
        this.overallMax = number;
      }
    }
    return true;
  }

  report(missing: number): VectorFeatureProfile {
    const elements = this.count * this.length;
    const mean = elements > 0 ? this.overallSum / elements : 0;
    const variance = elements > 0 ? Math.max(0, this.overallSquares / elements - mean * mean) : 0;
    let constantDimensions = 0;
    for (let index = 0; index < this.length; index += 1) {
      if (this.count > 0 && this.min[index] === this.max[index]) {
        constantDimensions += 1;
      }
    }
    const profile: VectorFeatureProfile = {
      kind: 'vector',
      length: this.length,
      count: this.count,
      missing,
      nonFinite: this.nonFinite,
      lengthMismatches: this.lengthMismatches,
      min: elements > 0 ? this.overallMin : 0,
      max: elements > 0 ? this.overallMax : 0,
      mean: roundMetric(mean),
      std: roundMetric(Math.sqrt(variance)),
      constantDimensions,
    };
    if (this.count > 0 && this.length <= VECTOR_DIMENSIONS_REPORTED) {
      profile.dimensions = {
        min: Array.from(this.min, roundMetric),
        max: Array.from(this.max, roundMetric),
        mean: Array.from(this.mean, roundMetric),
        std: Array.from(this.squares, (squares) => roundMetric(Math.sqrt(squares / this.count))),
      };
    }
    return profile;
  }
}

/** Text columns: only their leak check lives here (their tokens are profiled as text). */
export class TextFieldProfile {
  private labelPairs = 0;
  private readonly classOf = new Map<string, number>();
  private classConflict = false;
  private equalToLabel = 0;

  add(value: unknown, label: LabelValue | undefined, labelText: string | undefined): void {
    if (label === undefined || (typeof value !== 'string' && typeof value !== 'number')) {
      return;
    }
    const text = String(value);
    this.labelPairs += 1;
    if (labelText !== undefined && text === labelText) {
      this.equalToLabel += 1;
    }
    if (!Number.isNaN(label.classKey) && !this.classConflict) {
      const previous = this.classOf.get(text);
      if (previous === undefined) {
        if (this.classOf.size < DISTINCT_CAP) {
          this.classOf.set(text, label.classKey);
        } else {
          this.classConflict = true;
        }
      } else if (previous !== label.classKey) {
        this.classConflict = true;
      }
    }
  }

  leak(classCount: number): string | undefined {
    if (this.labelPairs < LEAK_MIN_ROWS) {
      return undefined;
    }
    if (this.equalToLabel === this.labelPairs) {
      return 'equals the label in every row';
    }
    if (!this.classConflict && this.classOf.size >= 2 && this.classOf.size <= classCount) {
      return `maps one to one onto the label's classes (${this.classOf.size} values)`;
    }
    return undefined;
  }

  report(missing: number, classCount: number): TextFeatureProfile {
    const leak = this.leak(classCount);
    return { kind: 'text', missing, ...(leak === undefined ? {} : { leak }) };
  }
}

export type FieldProfiler = NumericFieldProfile | VectorFieldProfile | TextFieldProfile;

export function profileFor(kind: FieldKind): FieldProfiler {
  switch (kind) {
    case 'numeric':
      return new NumericFieldProfile();
    case 'vector':
      return new VectorFieldProfile();
    case 'text':
      return new TextFieldProfile();
    default: {
      const unreachable: never = kind;
      throw new Error(`unknown field kind ${String(unreachable)}`);
    }
  }
}

export function fieldReport(profiler: FieldProfiler, missing: number, classCount: number): FeatureProfile {
  if (profiler instanceof NumericFieldProfile) {
    return profiler.report(missing, classCount);
  }
  if (profiler instanceof VectorFieldProfile) {
    return profiler.report(missing);
  }
  return profiler.report(missing, classCount);
}
