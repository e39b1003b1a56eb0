/**
 * The data-quality report of a dataset version, its thresholds and the reference profile used for
 * representativeness. Plain JSON-serialisable objects (stored as jsonb, returned by the API): no
 * `undefined` values, no NaN or Infinity, no class instances. No Nest here, so a worker can use it.
 */
import type { DatasetSchema, DatasetTask } from '../dataset-types.js';

export type QualityVerdict = 'pass' | 'warn' | 'fail';

export const QUALITY_VERDICT_ORDER: readonly QualityVerdict[] = ['pass', 'warn', 'fail'];

/** The worse of two verdicts. */
export function worstVerdict(left: QualityVerdict, right: QualityVerdict): QualityVerdict {
  return QUALITY_VERDICT_ORDER.indexOf(left) >= QUALITY_VERDICT_ORDER.indexOf(right) ? left : right;
}

/**
 * Where a metric starts to warn and to fail. For a `max…` threshold the metric warns/fails when it is
 * strictly above the bound; for a `min…` threshold when it is strictly below. `null` disables a bound.
 */
export interface QualityBound {
  warn: number | null;
  fail: number | null;
}

/** Every threshold a project can set. Ratios are fractions of rows (0.01 = 1%). */
export interface QualityThresholds {
  /** Valid rows. */
  minRows: QualityBound;
  /** Rows the readers or the validator rejected, over all rows. */
  maxErrorRowRatio: QualityBound;
  /** Valid rows with a missing or empty schema field, or an empty input, over valid rows. */
  maxMissingRatio: QualityBound;
  /** Rows whose normalised input was seen before, over valid rows. */
  maxExactDuplicateRatio: QualityBound;
  /** Near-duplicate rows over the rows checked for near-duplicates (the sample). */
  maxNearDuplicateRatio: QualityBound;
  /** Rows whose label contradicts the first label of the same normalised input, over valid rows. */
  maxLabelConflictRatio: QualityBound;
  /** Largest class count over smallest class count (classification). */
  maxImbalanceRatio: QualityBound;
  /** Rows of the smallest class; classes below `warn` are listed as rare. */
  minClassCount: QualityBound;
  /** Distinct labels (classification). */
  minClasses: QualityBound;
  /** Distinct bigrams over bigrams. */
  minDistinct2: QualityBound;
  /** Length outliers (see the rule in the report) over rows with a non-empty text. */
  maxLengthOutlierRatio: QualityBound;
  /** Rows with personal data of any type, over valid rows. */
  maxPersonalDataRowRatio: QualityBound;
  /** Rows with personal data of a `secretTypes` type (credentials): by default one fails the version. */
  maxSecretRows: QualityBound;
  /** Personal-data types that count as secrets. */
  secretTypes: string[];
  /** Jensen-Shannon divergence (bits, 0..1) of the label distribution from the reference's. */
  maxLabelJsDivergence: QualityBound;
  /**
   * Jensen-Shannon divergence (bits, 0..1) of the token distribution from the reference's. Looser than
   * for labels: two samples of one source already differ in their long tail of rare tokens.
   */
  maxTokenJsDivergence: QualityBound;
  /** Token occurrences absent from the reference's vocabulary, over token occurrences. */
  maxOovRate: QualityBound;
  /** Rows with a non-finite (NaN, ±Infinity) or non-numeric value in a numeric or vector field, over valid rows. */
  maxNonFiniteRatio: QualityBound;
  /** Numeric input fields with one value in every row. */
  maxConstantFeatures: QualityBound;
  /** Numeric input fields whose most frequent value fills 99% or more of their values (not constant). */
  maxNearConstantFeatures: QualityBound;
  /** The largest share of values beyond Tukey's far-out fences in a numeric input field. */
  maxFeatureOutlierRatio: QualityBound;
  /** Input fields that give the label away (equal to it, a rescaled copy, or one to one with its classes). */
  maxLeakingFeatures: QualityBound;
}

export type QualityBoundName = {
  [K in keyof QualityThresholds]: QualityThresholds[K] extends QualityBound ? K : never;
}[keyof QualityThresholds];

/** What a project stores: any subset, any bound of a threshold. */
export type QualityThresholdsInput = {
  [K in keyof QualityThresholds]?: QualityThresholds[K] extends QualityBound
    ? Partial<QualityBound>
    : QualityThresholds[K];
};

export const DEFAULT_QUALITY_THRESHOLDS: Readonly<QualityThresholds> = deepFreeze({
  minRows: { warn: 100, fail: 10 },
  maxErrorRowRatio: { warn: 0, fail: 0.01 },
  maxMissingRatio: { warn: 0.01, fail: 0.05 },
  maxExactDuplicateRatio: { warn: 0.01, fail: 0.1 },
  maxNearDuplicateRatio: { warn: 0.05, fail: 0.2 },
  maxLabelConflictRatio: { warn: 0, fail: 0.01 },
  maxImbalanceRatio: { warn: 10, fail: 100 },
  minClassCount: { warn: 10, fail: null },
  minClasses: { warn: null, fail: 2 },
  minDistinct2: { warn: 0.05, fail: null },
  maxLengthOutlierRatio: { warn: 0.01, fail: null },
  maxPersonalDataRowRatio: { warn: 0, fail: null },
  maxSecretRows: { warn: null, fail: 0 },
  secretTypes: ['secret'],
  maxLabelJsDivergence: { warn: 0.1, fail: 0.3 },
  maxTokenJsDivergence: { warn: 0.2, fail: 0.5 },
  maxOovRate: { warn: 0.1, fail: 0.3 },
  maxNonFiniteRatio: { warn: 0, fail: 0.01 },
  maxConstantFeatures: { warn: 0, fail: null },
  maxNearConstantFeatures: { warn: 0, fail: null },
  maxFeatureOutlierRatio: { warn: 0.01, fail: null },
  maxLeakingFeatures: { warn: 0, fail: null },
});

function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const inner of Object.values(value)) {
    if (typeof inner === 'object' && inner !== null) {
      deepFreeze(inner as object);
    }
  }
  return Object.freeze(value);
}

const BOUND_NAMES = Object.keys(DEFAULT_QUALITY_THRESHOLDS).filter(
  (name): name is QualityBoundName => name !== 'secretTypes',
);

/** Thresholds a project stored that cannot be used; thrown by `resolveThresholds`. */
export class InvalidQualityThresholdsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid quality thresholds: ${problems.join('; ')}`);
    this.name = InvalidQualityThresholdsError.name;
  }
}

/** What is wrong with a thresholds object (empty when it can be used), for request validation. */
export function thresholdProblems(input: unknown): string[] {
  if (input === undefined || input === null) {
    return [];
  }
  if (typeof input !== 'object' || Array.isArray(input)) {
    return ['thresholds must be an object'];
  }
  const problems: string[] = [];
  for (const [name, value] of Object.entries(input as Record<string, unknown>)) {
    if (name === 'secretTypes') {
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
        problems.push('secretTypes must be an array of strings');
      }
      continue;
    }
    if (!(BOUND_NAMES as string[]).includes(name)) {
      problems.push(`unknown threshold "${name}"`);
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${name} must be an object with "warn" and/or "fail"`);
      continue;
    }
    for (const [key, bound] of Object.entries(value)) {
      if (key !== 'warn' && key !== 'fail') {
        problems.push(`${name}.${key} is not a bound (use "warn" or "fail")`);
      } else if (bound !== null && (typeof bound !== 'number' || !Number.isFinite(bound) || bound < 0)) {
        problems.push(`${name}.${key} must be a non-negative number or null`);
      }
    }
  }
  return problems;
}

/** Defaults overridden by a project's (possibly partial) thresholds; throws on unusable input. */
export function resolveThresholds(input?: QualityThresholdsInput | Record<string, unknown> | null): QualityThresholds {
  const problems = thresholdProblems(input);
  if (problems.length > 0) {
    throw new InvalidQualityThresholdsError(problems);
  }
  const given = (input ?? {}) as QualityThresholdsInput;
  const resolved = {
    secretTypes: [...(given.secretTypes ?? DEFAULT_QUALITY_THRESHOLDS.secretTypes)],
  } as QualityThresholds;
  for (const name of BOUND_NAMES) {
    const defaults = DEFAULT_QUALITY_THRESHOLDS[name];
    const override = given[name];
    resolved[name] = {
      warn: override?.warn !== undefined ? override.warn : defaults.warn,
      fail: override?.fail !== undefined ? override.fail : defaults.fail,
    };
  }
  return resolved;
}

/** One metric held against one threshold. */
export interface QualityCheck {
  /** The threshold's name in QualityThresholds. */
  threshold: QualityBoundName;
  value: number;
  bound: QualityBound;
  verdict: QualityVerdict;
  /** 0–100: pass 80–100, warn 50–79, fail 0–49. */
  score: number;
}

/** What every dimension has: the worst of its checks, and the checks. */
export interface QualityDimension {
  /** The lowest score of the checks (100 without checks). */
  score: number;
  /** The worst verdict of the checks. */
  verdict: QualityVerdict;
  checks: QualityCheck[];
}

export interface CompletenessReport extends QualityDimension {
  /** Per schema field (input fields and label field), over valid rows; `invalid`: error rows blamed on the field. */
  perField: Record<string, { missing: number; empty: number; invalid: number }>;
  /** Valid rows with a missing or empty field, or an empty input. */
  incompleteRows: number;
  /** Valid rows whose input text is empty after normalisation. */
  emptyInputRows: number;
  /** Rows the readers or the validator rejected (they are not profiled otherwise). */
  errorRows: number;
  /** Line numbers of the first incomplete rows. */
  examples: number[];
  /** Line numbers and reasons of the first error rows. */
  errorExamples: { line: number; field?: string; reason: string }[];
}

export interface DuplicatesReport extends QualityDimension {
  /**
   * Both kinds compare the rows' input text (inputText of the input fields; chat: the messages'
   * contents), never the label, with the dedupe transform's definitions (src/datasets/text). One
   * difference: rows with an empty input are not compared (completeness counts them), where dedupe
   * keeps only the first of them.
   */
  exact: {
    /** Rows whose normalised input (normaliseText) equals an earlier row's. */
    duplicateRows: number;
    /** Distinct inputs that occur more than once. */
    groups: number;
    examples: { line: number; duplicateOf: number }[];
  };
  near: {
    /**
     * Checked rows (not exact duplicates) whose MinHash-estimated Jaccard similarity of word 3-shingles
     * with an earlier kept row is at least `threshold`: what the near dedupe transform would drop on
     * top of the exact duplicates. `similarTo` is the earliest such kept row, as dedupe reports it.
     */
    duplicateRows: number;
    threshold: number;
    examples: { line: number; similarTo: number; similarity: number }[];
    /** True when rows beyond the sample were not checked; the ratio is then over the sample. */
    sampled: boolean;
    /** Rows checked: the first `nearDuplicateSampleCap` rows with a non-empty, not exactly duplicated input. */
    sampleSize: number;
    permutations: number;
    bands: number;
  };
}

export interface LabelConflicts {
  /** Distinct normalised inputs that carry more than one label. */
  groups: number;
  /** Rows whose label differs from the first label of their input. */
  rows: number;
  /** Per conflicting input: its lines (first occurrence first) and their labels. */
  examples: { lines: number[]; labels: string[] }[];
}

export interface CategoricalLabelsReport extends QualityDimension {
  kind: 'categorical';
  /** Distinct labels (a lower bound when `classesExact` is false: more than `labelCap` labels). */
  classes: number;
  classesExact: boolean;
  /** Rows per label, the `distributionCap` largest classes (ties by name). */
  distribution: Record<string, number>;
  /** The classes (and their rows) not listed in `distribution`. */
  otherClasses: { classes: number; rows: number };
  /** Largest over smallest class count (0 without labels). */
  imbalanceRatio: number;
  /** Classes with fewer rows than minClassCount.warn, smallest first (at most `distributionCap`). */
  rareClasses: string[];
  rareClassCount: number;
  conflicts: LabelConflicts;
}

export interface NumericLabelsReport extends QualityDimension {
  kind: 'numeric';
  numeric: { min: number; max: number; mean: number; std: number };
  conflicts: LabelConflicts;
}

export type LabelsReport = CategoricalLabelsReport | NumericLabelsReport;

export interface DiversityReport extends QualityDimension {
  /**
   * The fields whose tokens (tokenize of the normalised text) are counted: the input fields, and for
   * prompt-completion also the completion, since the model trains on both.
   */
  textFields: string[];
  tokens: number;
  /** Distinct tokens over tokens. */
  distinct1: number;
  /** Distinct bigrams (adjacent tokens within one field) over bigrams. */
  distinct2: number;
  vocabularySize: number;
  /** False when the vocabulary outgrew `vocabularyCap`: size from HyperLogLog, entropy with an estimated tail. */
  vocabularyExact: boolean;
  /** False when bigrams outgrew `exactBigramCap`: distinct bigrams from HyperLogLog. */
  bigramsExact: boolean;
  /** Shannon entropy of the token distribution, bits. */
  tokenEntropy: number;
  /** Tokens per row, over rows with at least one token (exact: integer histogram). */
  length: {
    unit: 'tokens';
    rows: number;
    min: number;
    p25: number;
    p50: number;
    p75: number;
    p90: number;
    p99: number;
    max: number;
    mean: number;
  };
  lengthOutliers: {
    count: number;
    /** Lines of the most extreme outliers (at most exampleCap per side), in line order. */
    examples: number[];
    rule: string;
    low: number;
    high: number;
  };
}

export interface RepresentativenessReport extends QualityDimension {
  /** What the reference is (filled in by the caller, e.g. "version 3"). */
  reference: string;
  referenceRows: number;
  /** Classification with a reference that has labels. */
  labelJsDivergence?: number;
  tokenJsDivergence: number;
  /** Token occurrences whose token is not in the reference's token table. */
  oovRate: number;
  /**
   * True when a side's token table was capped: tokens outside the reference's table count as
   * out-of-vocabulary, and pruned tokens of this version are missing from its distribution.
   */
  approximate: boolean;
}

/** A text input field of tabular data: profiled as text (diversity, duplicates); here only its leak check. */
export interface TextFeatureProfile {
  kind: 'text';
  /** Rows without a value. */
  missing: number;
  /** Why the field gives the label away, when it does. */
  leak?: string;
}

export interface NumericFeatureProfile {
  kind: 'numeric';
  /** Finite values. */
  count: number;
  missing: number;
  /** NaN, Infinity, -Infinity (CSV `NaN`, `inf`; JSON numbers too large for a double). */
  nonFinite: number;
  /** Present values that are not numbers (`n/a` in a numeric CSV column). */
  nonNumeric: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  /** Distinct finite values, counted exactly up to 1,024 (`distinctExact` false beyond). */
  distinct: number;
  distinctExact: boolean;
  /** The most frequent value's share of the finite values. */
  modeShare: number;
  constant: boolean;
  /** Not constant, but the most frequent value fills 99% or more. */
  nearConstant: boolean;
  /** Beyond Tukey's far-out fences, from a sample of 2,048 values (exact below that). */
  outliers: { count: number; ratio: number; low: number; high: number; estimated: boolean; rule: string };
  /** Why the field gives the label away, when it does. */
  leak?: string;
}

export interface VectorFeatureProfile {
  kind: 'vector';
  /** Elements per vector (the first row's; the validator holds every row to it). */
  length: number;
  /** Rows with a vector. */
  count: number;
  missing: number;
  nonFinite: number;
  lengthMismatches: number;
  /** Over every element of every vector. */
  min: number;
  max: number;
  mean: number;
  std: number;
  /** Dimensions with one value in every row (the border pixels of digit images, say). */
  constantDimensions: number;
  /** Per dimension, for vectors of at most 1,024 elements. */
  dimensions?: { min: number[]; max: number[]; mean: number[]; std: number[] };
}

export type FeatureProfile = TextFeatureProfile | NumericFeatureProfile | VectorFeatureProfile;

export interface FeaturesReport extends QualityDimension {
  /** Every input field of a classification or regression dataset, by the kind its first value set. */
  fields: Record<string, FeatureProfile>;
  /** Valid rows with a non-finite or non-numeric value in a numeric or vector field. */
  nonFiniteRows: number;
  constantFields: string[];
  nearConstantFields: string[];
  leakingFields: string[];
}

export interface PersonalDataTypeReport {
  /** Occurrences. */
  count: number;
  /** Rows with at least one occurrence. */
  rows: number;
  /** Lines of the first rows. */
  lines: number[];
  /** The first occurrences, masked: never a full value. */
  examples: string[];
}

export interface PrivacyReport extends QualityDimension {
  /** The fields scanned: the input fields, and the completion of prompt-completion datasets. */
  scannedFields: string[];
  rowsWithPersonalData: number;
  /** Rows with a type listed in thresholds.secretTypes. */
  secretRows: number;
  byType: Record<string, PersonalDataTypeReport>;
}

export interface QualityReport {
  version: 1;
  task: DatasetTask;
  schema: DatasetSchema;
  /** Valid rows (profiled). */
  rows: number;
  /** Rows rejected by the readers or the validator. */
  errorRows: number;
  completeness: CompletenessReport;
  duplicates: DuplicatesReport;
  /** Classification (categorical) and regression (numeric); absent for other tasks. */
  labels?: LabelsReport;
  diversity: DiversityReport;
  /** Only when profiled against a reference. */
  representativeness?: RepresentativenessReport;
  /** Classification and regression with a numeric or vector input field: the fields' values. */
  features?: FeaturesReport;
  privacy: PrivacyReport;
  overall: {
    /** The worst verdict of the dimensions. */
    verdict: QualityVerdict;
    /** Mean of the dimensions' scores. */
    score: number;
    /** One human-readable line per check that warns or fails, failures first. */
    reasons: string[];
  };
  thresholds: QualityThresholds;
  /** The bounds on the sketches and example lists that this report was computed with. */
  limits: QualityLimits;
  /** Memory held by the profile at the end; the exact-duplicate index is the only part that grows with rows. */
  memory: {
    exactIndexBytes: number;
    exactIndexBytesPerRow: number;
    sketchBytes: number;
  };
}

export interface QualityLimits {
  exampleCap: number;
  nearDuplicateSampleCap: number;
  vocabularyCap: number;
  exactBigramCap: number;
  labelCap: number;
  distributionCap: number;
  referenceTokenCap: number;
  /** Token lengths at or above this share one histogram bucket (percentiles there report the max). */
  lengthHistogramMax: number;
}

/**
 * A finished profile's label and token distributions, bounded: what another version is compared
 * with for representativeness. Lists of pairs rather than objects, so that any token is a safe key.
 */
export interface ReferenceProfile {
  version: 1;
  task: DatasetTask;
  rows: number;
  /** Classification only: rows per label (at most labelCap labels; `otherLabelRows` for the rest). */
  labels?: [string, number][];
  otherLabelRows?: number;
  tokens: {
    /** Token occurrences in all. */
    total: number;
    /** The most frequent tokens, most frequent first (ties by token). */
    top: [string, number][];
    /** Occurrences of tokens not in `top`. */
    other: number;
    /** True when `top` is the whole vocabulary with exact counts. */
    complete: boolean;
  };
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text from the data as the report may hold it: Postgres jsonb refuses NUL characters and lone
 * surrogates (which JSON escapes such as "\ud800" can put into a row), so they become U+FFFD.
 */
export function storableText(text: string): string {
  const withoutNul = text.includes('\u0000') ? text.replaceAll('\u0000', '\ufffd') : text;
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(withoutNul) ? withoutNul.replace(LONE_SURROGATE, '\ufffd') : withoutNul;
}

/** Whether a reference profile read back from storage has the expected shape. */
export function isReferenceProfile(value: unknown): value is ReferenceProfile {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const profile = value as Partial<ReferenceProfile>;
  const tokens = profile.tokens;
  return (
    profile.version === 1 &&
    typeof profile.rows === 'number' &&
    typeof tokens === 'object' &&
    tokens !== null &&
    typeof tokens.total === 'number' &&
    typeof tokens.other === 'number' &&
    Array.isArray(tokens.top) &&
    tokens.top.every(isCountPair) &&
    (profile.labels === undefined || (Array.isArray(profile.labels) && profile.labels.every(isCountPair)))
  );
}

function isCountPair(pair: unknown): pair is [string, number] {
  return Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'number';
}

/** Whether a job may use a version with this report (jobs refuse failing versions unless allowed). */
export function qualityAllowsUse(report: Pick<QualityReport, 'overall'>, allowQualityFailures = false): boolean {
  return report.overall.verdict !== 'fail' || allowQualityFailures;
}
