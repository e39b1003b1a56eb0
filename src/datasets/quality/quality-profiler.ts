/**
 * The data-quality profile of a dataset version, computed in one streaming pass over its valid rows
 * (and the count of its error rows) with bounded sketches.
 *
 * Memory: only the exact-duplicate index grows with the rows, by 21–43 bytes per distinct input
 * (32–64 for regression, which keeps each input's first label as a float; the report states the
 * figure as `memory.exactIndexBytesPerRow`). Everything else is capped (QualityLimits): vocabulary
 * counts (pruned to the frequent tokens beyond `vocabularyCap`, distinct tokens then from
 * HyperLogLog), distinct bigrams (HyperLogLog beyond `exactBigramCap`), an exact integer histogram of
 * lengths, example lists. Near-duplicates are checked on the first `nearDuplicateSampleCap` rows
 * (about 20 µs and 0.6 KB per checked row: MinHash with 64 permutations is the costliest step).
 *
 * Speed: each row's text is scanned once (TextScanner): the same pass yields its exact-duplicate key
 * and its tokens as hashes; only rows in the near-duplicate sample build their shingles.
 *
 * Per task:
 * - classification: categorical labels (distribution, imbalance, rare classes, conflicts);
 * - regression: numeric labels (min, max, mean, std, conflicts between different values);
 * - prompt-completion: the completion is text, not a label: no label section; its tokens count in
 *   diversity (the model trains on them) and it is scanned for personal data; duplicates and
 *   near-duplicates compare the prompt (the input fields) only;
 * - chat: the input text is the messages' contents (inputText); no labels;
 * - causal-lm: the text; no labels.
 * Label conflicts need the same normalised input with different labels, so only the first two tasks
 * have them.
 *
 * Plain TypeScript, no Nest: usable in a worker thread.
 */
import type { DatasetSchema, DatasetTask, ParsedRow, RowError } from '../dataset-types.js';
import { inputText, MinHasher, shingles } from '../text/text.js';
import { FastMinHasher, NearDuplicateIndex } from './near-duplicates.js';
import {
  isReferenceProfile,
  resolveThresholds,
  storableText,
  worstVerdict,
  type CompletenessReport,
  type DiversityReport,
  type DuplicatesReport,
  type FeatureProfile,
  type FeaturesReport,
  type LabelConflicts,
  type LabelsReport,
  type PersonalDataTypeReport,
  type PrivacyReport,
  type QualityCheck,
  type QualityDimension,
  type QualityLimits,
  type QualityReport,
  type QualityThresholds,
  type QualityThresholdsInput,
  type QualityVerdict,
  type ReferenceProfile,
  type RepresentativenessReport,
} from './quality-report.js';
import {
  fieldReport,
  kindOfValue,
  NumericFieldProfile,
  profileFor,
  TextFieldProfile,
  VectorFieldProfile,
  type FieldProfiler,
  type LabelValue,
} from './feature-profiles.js';
import { check, describeCheck, dimension, roundMetric } from './quality-scoring.js';
import { numericLabel } from './row-validator.js';
import {
  DistinctCounter,
  ExactDuplicateIndex,
  ExtremeRows,
  HyperLogLog,
  IN_REFERENCE,
  LaneSet,
  LengthHistogram,
  mix32,
  TokenCounter,
} from './sketches.js';
import { hashLanes, TextScanner } from './text-scanner.js';

/** A span of personal data in a text (what src/datasets/privacy's findPersonalData returns). */
export interface PersonalDataMatch<TType extends string = string> {
  type: TType;
  start: number;
  end: number;
}

/** `TType`: the personal-data types the detector reports (and the masker takes). */
export interface QualityProfilerOptions<TType extends string = string> {
  task: DatasetTask;
  schema: DatasetSchema;
  /** A project's overrides of DEFAULT_QUALITY_THRESHOLDS (validated: invalid input throws). */
  thresholds?: QualityThresholdsInput | Record<string, unknown>;
  /** Another version's exported profile: enables the representativeness dimension. */
  reference?: ReferenceProfile;
  /** How the report names the reference (the caller may also overwrite it later). */
  referenceName?: string;
  /** Finds personal data in a text; without it the privacy dimension is not scanned. */
  detectPersonalData?: (text: string) => readonly PersonalDataMatch<TType>[];
  /** Masks a found value for the report's examples; a result that reveals the value is replaced. */
  maskValue?: (type: TType, value: string) => string;
  /** Examples (line numbers, pairs, masked values) kept per list. Default 20. */
  exampleCap?: number;
  /** Rows checked for near-duplicates (MinHash is the costliest step). Default 50,000. */
  nearDuplicateSampleCap?: number;
  /** Estimated Jaccard similarity from which rows are near-duplicates. Default 0.8 (as dedupe). */
  nearDuplicateThreshold?: number;
  /** Distinct tokens counted exactly before the least frequent are pruned. Default 262,144. */
  vocabularyCap?: number;
  /** Distinct bigrams counted exactly before switching to HyperLogLog. Default 16,384. */
  exactBigramCap?: number;
  /** Distinct labels counted before further labels are only estimated. Default 10,000. */
  labelCap?: number;
  /** Classes listed in the label distribution (and rare classes). Default 100. */
  distributionCap?: number;
  /** Tokens exported in a reference profile. Default 50,000. */
  referenceTokenCap?: number;
  /** Token lengths counted exactly below this. Default 65,536. */
  lengthHistogramMax?: number;
}

export const DEFAULT_QUALITY_LIMITS: Readonly<QualityLimits> = Object.freeze({
  exampleCap: 20,
  nearDuplicateSampleCap: 50_000,
  vocabularyCap: 1 << 18,
  exactBigramCap: 1 << 14,
  labelCap: 10_000,
  distributionCap: 100,
  referenceTokenCap: 50_000,
  lengthHistogramMax: 1 << 16,
});

export const DEFAULT_NEAR_DUPLICATE_THRESHOLD = 0.8;
const SHINGLE_SIZE = 3;
/** Tukey's "far out" fences. */
const OUTLIER_FENCE = 3;
const UNTRACKED_LABEL = '(a label beyond labelCap)';
const BIGRAM_REGISTER_SHIFT = 32 - HyperLogLog.PRECISION;
/** Class ids are below this (labelCap is at most this); labels beyond labelCap get keys above it. */
const UNTRACKED_LABEL_KEYS = 2 ** 16;

interface PersonalDataTally {
  /** The type as the report may hold it. */
  type: string;
  count: number;
  rows: number;
  lines: number[];
  examples: string[];
}

function isBlankString(value: string): boolean {
  return value.length === 0 || (value.charCodeAt(0) <= 0x20 && value.trim() === '');
}

/** The default mask: first and last characters at most, never the whole value. */
export function defaultMask(value: string): string {
  if (value.length <= 4) {
    return '*'.repeat(Math.max(value.length, 3));
  }
  return `${value[0]}${'*'.repeat(Math.min(value.length - 2, 10))}${value[value.length - 1]}`;
}

/** Jensen-Shannon divergence in bits (0..1) of two count vectors over the same buckets. */
export function jsDivergence(left: ArrayLike<number>, right: ArrayLike<number>): number {
  let leftTotal = 0;
  let rightTotal = 0;
  for (let index = 0; index < left.length; index += 1) {
    leftTotal += left[index];
    rightTotal += right[index];
  }
  if (leftTotal <= 0 || rightTotal <= 0) {
    return 0;
  }
  let divergence = 0;
  for (let index = 0; index < left.length; index += 1) {
    const p = left[index] / leftTotal;
    const q = right[index] / rightTotal;
    const mean = (p + q) / 2;
    if (p > 0) {
      divergence += (p / 2) * Math.log2(p / mean);
    }
    if (q > 0) {
      divergence += (q / 2) * Math.log2(q / mean);
    }
  }
  return Math.min(1, Math.max(0, divergence));
}

export class QualityProfiler<TType extends string = string> {
  private readonly task: DatasetTask;
  private readonly schema: DatasetSchema;
  private readonly thresholds: QualityThresholds;
  private readonly limits: QualityLimits;
  private readonly reference: ReferenceProfile | undefined;
  private readonly referenceName: string;
  private readonly detect: ((text: string) => readonly PersonalDataMatch<TType>[]) | undefined;
  private readonly mask: ((type: TType, value: string) => string) | undefined;
  private readonly nearThreshold: number;

  private readonly inputFields: string[];
  /** prompt-completion: the completion, profiled as text too. */
  private readonly completionField: string | undefined;
  /** The input fields, then the label field (when it is not also an input field). */
  private readonly checkedFields: string[];
  private readonly labelIndex: number;
  /** The checked fields' values of the current row (reused: no allocation per row). */
  private readonly fieldValues: unknown[];
  private readonly labelKind: 'categorical' | 'numeric' | undefined;
  /** Classification and regression: input fields are profiled by kind (text, numeric, vector). */
  private readonly tabular: boolean;
  /** Per input field, once its first value set its kind. */
  private readonly fieldProfiles: (FieldProfiler | undefined)[];
  /** The input fields whose values are text (all of them unless tabular), in schema order. */
  private textFields: string[];
  private nonFiniteRows = 0;
  private readonly numberBits = new Float64Array(1);
  private readonly numberWords = new Int32Array(this.numberBits.buffer);
  private readonly numericTexts: string[] = [];

  private rows = 0;
  private errorRows = 0;
  // Completeness.
  private readonly missing: Float64Array;
  private readonly empty: Float64Array;
  private readonly invalid = new Map<string, number>();
  private incompleteRows = 0;
  private emptyInputRows = 0;
  private readonly incompleteExamples: number[] = [];
  private readonly errorExamples: RowError[] = [];
  // Duplicates and conflicts.
  private readonly scanner = new TextScanner();
  private readonly exact: ExactDuplicateIndex;
  private exactDuplicateRows = 0;
  private exactGroups = 0;
  private readonly exactExamples: { line: number; duplicateOf: number }[] = [];
  private conflictGroups = 0;
  private conflictRows = 0;
  private readonly conflictExamples: { lines: number[]; labels: string[] }[] = [];
  private readonly conflictExampleByKey = new Map<number, { lines: number[]; labels: string[] }>();
  // Near-duplicates.
  private readonly minHasher = new MinHasher();
  private readonly fastMinHasher = new FastMinHasher(this.minHasher);
  private readonly nearIndex: NearDuplicateIndex;
  private readonly signature: Uint32Array;
  private readonly shingleBuffer = { values: new Float64Array(256) };
  private nearChecked = 0;
  private nearSkipped = false;
  private nearDuplicateRows = 0;
  private readonly nearExamples: { line: number; similarTo: number; similarity: number }[] = [];
  // Labels.
  private readonly classIds = new Map<string, number>();
  private readonly classNames: string[] = [];
  private readonly classCounts: number[] = [];
  private untrackedLabelRows = 0;
  private readonly untrackedLabels = new HyperLogLog();
  private readonly labelLanes = new Int32Array(2);
  private numericCount = 0;
  private numericMean = 0;
  private numericSquares = 0;
  private numericMin = Infinity;
  private numericMax = -Infinity;
  // Diversity and representativeness.
  private readonly vocabulary: TokenCounter;
  private readonly prunedVocabulary = new HyperLogLog();
  private readonly bigrams: DistinctCounter;
  private tokens = 0;
  private bigramCount = 0;
  private oovTokens = 0;
  private readonly referenceTokens: LaneSet | undefined;
  private readonly lengths: LengthHistogram;
  private readonly longest: ExtremeRows;
  private readonly shortest: ExtremeRows;
  // Privacy.
  private readonly personalData = new Map<TType, PersonalDataTally>();
  private readonly rowTypes: TType[] = [];
  private rowsWithPersonalData = 0;
  private secretRows = 0;

  constructor(options: QualityProfilerOptions<TType>) {
    this.task = options.task;
    this.schema = {
      inputFields: [...options.schema.inputFields],
      ...(options.schema.labelField === undefined ? {} : { labelField: options.schema.labelField }),
    };
    this.thresholds = resolveThresholds(options.thresholds);
    this.limits = {
      exampleCap: options.exampleCap ?? DEFAULT_QUALITY_LIMITS.exampleCap,
      nearDuplicateSampleCap: options.nearDuplicateSampleCap ?? DEFAULT_QUALITY_LIMITS.nearDuplicateSampleCap,
      vocabularyCap: options.vocabularyCap ?? DEFAULT_QUALITY_LIMITS.vocabularyCap,
      exactBigramCap: options.exactBigramCap ?? DEFAULT_QUALITY_LIMITS.exactBigramCap,
      labelCap: options.labelCap ?? DEFAULT_QUALITY_LIMITS.labelCap,
      distributionCap: options.distributionCap ?? DEFAULT_QUALITY_LIMITS.distributionCap,
      referenceTokenCap: options.referenceTokenCap ?? DEFAULT_QUALITY_LIMITS.referenceTokenCap,
      lengthHistogramMax: options.lengthHistogramMax ?? DEFAULT_QUALITY_LIMITS.lengthHistogramMax,
    };
    for (const [name, value] of Object.entries(this.limits)) {
      if (!Number.isInteger(value) || value < 0) {
        throw new Error(`quality profiler: ${name} must be a non-negative integer`);
      }
    }
    if (this.limits.labelCap > UNTRACKED_LABEL_KEYS) {
      throw new Error(`quality profiler: labelCap must be at most ${UNTRACKED_LABEL_KEYS}`);
    }
    if (options.reference !== undefined && !isReferenceProfile(options.reference)) {
      throw new Error('quality profiler: the reference profile is malformed');
    }
    this.reference = options.reference;
    this.referenceName = options.referenceName ?? 'reference';
    this.detect = options.detectPersonalData;
    this.mask = options.maskValue;
    this.nearThreshold = options.nearDuplicateThreshold ?? DEFAULT_NEAR_DUPLICATE_THRESHOLD;
    if (!(this.nearThreshold > 0 && this.nearThreshold <= 1)) {
      throw new Error('quality profiler: nearDuplicateThreshold must be in (0, 1]');
    }

    this.inputFields = this.schema.inputFields;
    this.completionField = this.task === 'prompt-completion' ? this.schema.labelField : undefined;
    const labelField = this.schema.labelField;
    this.checkedFields = [...new Set(labelField === undefined ? this.inputFields : [...this.inputFields, labelField])];
    this.labelIndex = labelField === undefined ? -1 : this.checkedFields.indexOf(labelField);
    this.fieldValues = new Array<unknown>(this.checkedFields.length).fill(undefined);
    this.missing = new Float64Array(this.checkedFields.length);
    this.empty = new Float64Array(this.checkedFields.length);
    this.labelKind =
      this.task === 'classification' ? 'categorical' : this.task === 'regression' ? 'numeric' : undefined;
    this.tabular = this.labelKind !== undefined;
    this.fieldProfiles = new Array<FieldProfiler | undefined>(this.inputFields.length).fill(undefined);
    this.textFields = this.tabular ? [] : [...this.inputFields];

    this.exact = new ExactDuplicateIndex(
      this.labelKind === 'categorical' ? 'class' : this.labelKind === 'numeric' ? 'number' : 'none',
    );
    this.nearIndex = new NearDuplicateIndex(this.minHasher.permutations);
    this.signature = new Uint32Array(this.minHasher.permutations);
    this.vocabulary = new TokenCounter(Math.max(16, this.limits.vocabularyCap));
    this.vocabulary.onFirstPrune = (high, low) => this.prunedVocabulary.add(high, low);
    this.bigrams = new DistinctCounter(this.limits.exactBigramCap);
    this.lengths = new LengthHistogram(Math.max(1, this.limits.lengthHistogramMax));
    this.longest = new ExtremeRows(this.limits.exampleCap);
    this.shortest = new ExtremeRows(this.limits.exampleCap);
    if (this.reference) {
      const lanes = new Int32Array(2);
      this.referenceTokens = new LaneSet(this.reference.tokens.top.length * 2);
      for (const [token] of this.reference.tokens.top) {
        hashLanes(token, lanes, 0);
        this.referenceTokens.add(lanes[0], lanes[1]);
      }
    }
  }

  addRows(rows: readonly ParsedRow[]): void {
    for (let index = 0; index < rows.length; index += 1) {
      this.addRow(rows[index]);
    }
  }

  /** A valid row (validateRow found nothing wrong). */
  addRow(row: ParsedRow): void {
    const record = row.record;
    const line = row.line;
    this.rows += 1;

    let incomplete = false;
    const fields = this.checkedFields;
    const values = this.fieldValues;
    for (let index = 0; index < fields.length; index += 1) {
      const value = record[fields[index]];
      values[index] = value;
      if (value === undefined || value === null) {
        this.missing[index] += 1;
        incomplete = true;
      } else if (typeof value === 'string' ? isBlankString(value) : Array.isArray(value) && value.length === 0) {
        this.empty[index] += 1;
        incomplete = true;
      }
    }

    const labelKey = this.labelKind === undefined ? 0 : this.countLabel(values[this.labelIndex]);
    let valueKeyHigh = 0;
    let valueKeyLow = 0;
    let numericValues = 0;
    if (this.tabular) {
      const profiled = this.profileFields(values, labelKey);
      numericValues = profiled.count;
      valueKeyHigh = profiled.high;
      valueKeyLow = profiled.low;
    }

    // The checked fields start with the input fields, so a single input's value is values[0].
    const single = this.inputFields.length === 1 && this.textFields.length === 1 ? values[0] : undefined;
    const text = typeof single === 'string' ? single : inputText(record, this.textFields);
    const scanner = this.scanner;
    scanner.scan(text);
    const emptyInput = scanner.count === 0 && numericValues === 0;
    if (emptyInput) {
      this.emptyInputRows += 1;
      incomplete = true;
    }
    if (incomplete) {
      this.incompleteRows += 1;
      if (this.incompleteExamples.length < this.limits.exampleCap) {
        this.incompleteExamples.push(line);
      }
    }

    let exactDuplicate = false;
    if (!emptyInput) {
      const keyHigh = numericValues === 0 ? scanner.keyHigh : mix32(scanner.keyHigh ^ valueKeyHigh);
      const keyLow = numericValues === 0 ? scanner.keyLow : mix32(scanner.keyLow ^ valueKeyLow) & 0xfffff;
      const slot = this.exact.findOrInsert(keyHigh, keyLow, line, labelKey);
      if (slot >= 0) {
        exactDuplicate = true;
        this.exactDuplicateRows += 1;
        if (this.exact.markDuplicated(slot)) {
          this.exactGroups += 1;
        }
        if (this.exactExamples.length < this.limits.exampleCap) {
          this.exactExamples.push({ line, duplicateOf: this.exact.firstLine(slot) });
        }
        if (this.labelKind !== undefined && this.exact.firstLabel(slot) !== labelKey) {
          this.recordConflict(slot, line, labelKey);
        }
      }
    }

    const hasText = scanner.count > 0;
    let length = this.countTokens();
    if (hasText && !exactDuplicate) {
      this.checkNearDuplicate(line);
    }
    let completion: string | undefined;
    if (this.completionField !== undefined) {
      const value = values[this.labelIndex];
      if (typeof value === 'string' && value.length > 0) {
        completion = value;
        scanner.scan(value);
        length += this.countTokens();
      }
    }
    if (length > 0) {
      this.lengths.add(length);
      this.longest.offer(length, line);
      this.shortest.offer(-length, line);
    }

    if (this.detect) {
      this.rowTypes.length = 0;
      this.collectPersonalData(text);
      // Numbers are scanned too (a card or phone number stored as a number); vectors are not.
      if (this.numericTexts.length > 0) {
        this.collectPersonalData(this.numericTexts.join('\n'));
      }
      if (completion !== undefined) {
        this.collectPersonalData(completion);
      }
      if (this.rowTypes.length > 0) {
        this.countPersonalDataRow(line);
      }
    }
  }

  /**
   * Profiles the input fields of a tabular row by kind. Returns how many numeric or vector values
   * the row has, and their hash (which the exact-duplicate key combines with the text's); collects
   * the numbers' texts for the personal-data scan.
   */
  private profileFields(values: unknown[], labelKey: number): { count: number; high: number; low: number } {
    const label = this.labelFor(values[this.labelIndex], labelKey);
    const labelText = label === undefined ? undefined : String(values[this.labelIndex]);
    const bits = this.numberBits;
    const words = this.numberWords;
    let high = 0x811c9dc5;
    let low = 0x01000193;
    let count = 0;
    let badNumber = false;
    this.numericTexts.length = 0;
    for (let index = 0; index < this.inputFields.length; index += 1) {
      const value = values[index];
      if (value === undefined || value === null || (typeof value === 'string' && isBlankString(value))) {
        continue;
      }
      let profile = this.fieldProfiles[index];
      if (profile === undefined) {
        const kind = kindOfValue(value);
        if (kind === undefined) {
          continue;
        }
        profile = profileFor(kind);
        this.fieldProfiles[index] = profile;
        if (kind === 'text') {
          this.textFields = this.inputFields.filter(
            (_, position) => this.fieldProfiles[position] instanceof TextFieldProfile,
          );
        }
      }
      if (profile instanceof TextFieldProfile) {
        profile.add(value, label, labelText);
        continue;
      }
      count += 1;
      high = mixWord(high, index, 0x01000193);
      low = mixWord(low, index, 0x5bd1e995);
      if (profile instanceof NumericFieldProfile) {
        if (!profile.add(value, label)) {
          badNumber = true;
        }
        bits[0] = typeof value === 'string' ? Number(value.trim()) : Number(value);
        high = mixWord(mixWord(high, words[0], 0x01000193), words[1], 0x01000193);
        low = mixWord(mixWord(low, words[1], 0x5bd1e995), words[0], 0x5bd1e995);
        if (typeof value === 'string') {
          this.numericTexts.push(value);
        } else if (typeof value === 'number') {
          this.numericTexts.push(String(value));
        }
        continue;
      }
      if (!profile.add(value)) {
        badNumber = true;
      }
      if (Array.isArray(value)) {
        for (let element = 0; element < value.length; element += 1) {
          bits[0] = Number(value[element]);
          high = mixWord(mixWord(high, words[0], 0x01000193), words[1], 0x01000193);
          low = mixWord(mixWord(low, words[1], 0x5bd1e995), words[0], 0x5bd1e995);
        }
      }
    }
    if (badNumber) {
      this.nonFiniteRows += 1;
    }
    return { count, high, low };
  }

  /** The label as the leak checks compare it. */
  private labelFor(value: unknown, labelKey: number): LabelValue | undefined {
    if (value === undefined || value === null) {
      return undefined;
    }
    if (this.labelKind === 'numeric') {
      return { classKey: Number.NaN, number: labelKey };
    }
    return { classKey: labelKey, number: numericLabel(value) ?? Number.NaN };
  }

  /** A row the readers or the validator rejected. */
  addError(error: RowError): void {
    this.errorRows += 1;
    if (error.field !== undefined) {
      const field = storableText(error.field);
      this.invalid.set(field, (this.invalid.get(field) ?? 0) + 1);
    }
    if (this.errorExamples.length < this.limits.exampleCap) {
      this.errorExamples.push(
        error.field === undefined
          ? { line: error.line, reason: storableText(error.reason) }
          : { line: error.line, field: storableText(error.field), reason: storableText(error.reason) },
      );
    }
  }

  /** The report. Does not change the profile: it can be called again, and rows added after it. */
  finish(): QualityReport {
    const completeness = this.completenessReport();
    const duplicates = this.duplicatesReport();
    const labels = this.labelsReport();
    const diversity = this.diversityReport();
    const representativeness = this.representativenessReport();
    const features = this.featuresReport();
    const privacy = this.privacyReport();

    const dimensions: [string, QualityDimension][] = [
      ['completeness', completeness],
      ['duplicates', duplicates],
      ...(labels ? [['labels', labels] as [string, QualityDimension]] : []),
      ['diversity', diversity],
      ...(representativeness ? [['representativeness', representativeness] as [string, QualityDimension]] : []),
      ...(features ? [['features', features] as [string, QualityDimension]] : []),
      ['privacy', privacy],
    ];
    let verdict: QualityVerdict = 'pass';
    let scoreSum = 0;
    const failures: string[] = [];
    const warnings: string[] = [];
    for (const [name, part] of dimensions) {
      verdict = worstVerdict(verdict, part.verdict);
      scoreSum += part.score;
      for (const item of part.checks) {
        if (item.verdict === 'fail') {
          failures.push(describeCheck(name, item));
        } else if (item.verdict === 'warn') {
          warnings.push(describeCheck(name, item));
        }
      }
    }

    const sketchBytes =
      this.vocabulary.bytes +
      this.prunedVocabulary.bytes +
      this.bigrams.bytes +
      this.lengths.bytes +
      this.longest.bytes +
      this.shortest.bytes +
      this.nearIndex.bytes +
      this.untrackedLabels.bytes +
      (this.referenceTokens?.bytes ?? 0);
    return {
      version: 1,
      task: this.task,
      schema: {
        inputFields: [...this.schema.inputFields],
        ...(this.schema.labelField === undefined ? {} : { labelField: this.schema.labelField }),
      },
      rows: this.rows,
      errorRows: this.errorRows,
      completeness,
      duplicates,
      ...(labels ? { labels } : {}),
      diversity,
      ...(representativeness ? { representativeness } : {}),
      ...(features ? { features } : {}),
      privacy,
      overall: {
        verdict,
        score: Math.round(scoreSum / dimensions.length),
        reasons: [...failures, ...warnings],
      },
      thresholds: structuredClone(this.thresholds),
      limits: { ...this.limits },
      memory: {
        exactIndexBytes: this.exact.bytes,
        exactIndexBytesPerRow: this.rows > 0 ? Math.round((this.exact.bytes / this.rows) * 10) / 10 : 0,
        sketchBytes,
      },
    };
  }

  /** The label and token distributions, for profiling another version against this one. */
  exportReference(): ReferenceProfile {
    const entries: [string, number][] = [];
    let unstorable = false;
    this.vocabulary.forEach((token, count) => {
      // A token jsonb cannot store (a NUL, a lone surrogate) is left to `other`.
      if (storableText(token) !== token) {
        unstorable = true;
      } else if (count > 0) {
        entries.push([token, count]);
      }
    });
    entries.sort(byCountThenName);
    const top = entries.slice(0, this.limits.referenceTokenCap);
    let listed = 0;
    for (const [, count] of top) {
      listed += count;
    }
    const profile: ReferenceProfile = {
      version: 1,
      task: this.task,
      rows: this.rows,
      tokens: {
        total: this.tokens,
        top,
        other: Math.max(0, this.tokens - listed),
        complete: !this.vocabulary.pruned && !unstorable && top.length === entries.length,
      },
    };
    if (this.labelKind === 'categorical') {
      profile.labels = this.classNames
        .map((name, id): [string, number] => [storableText(name), this.classCounts[id]])
        .sort(byCountThenName);
      profile.otherLabelRows = this.untrackedLabelRows;
    }
    return profile;
  }

  /** Counts the label; returns its key for conflict detection (class id, or the number). */
  private countLabel(value: unknown): number {
    if (this.labelKind === 'numeric') {
      const number = numericLabel(value) ?? 0;
      this.numericCount += 1;
      const delta = number - this.numericMean;
      this.numericMean += delta / this.numericCount;
      this.numericSquares += delta * (number - this.numericMean);
      if (number < this.numericMin) {
        this.numericMin = number;
      }
      if (number > this.numericMax) {
        this.numericMax = number;
      }
      return number;
    }
    const name = typeof value === 'string' ? value : String(value);
    let id = this.classIds.get(name);
    if (id === undefined) {
      if (this.classNames.length >= this.limits.labelCap) {
        this.untrackedLabelRows += 1;
        hashLanes(name, this.labelLanes, 0);
        this.untrackedLabels.add(this.labelLanes[0], this.labelLanes[1]);
        // Above every class id: 16 bits of the label's hash (conflicts between such labels are found
        // unless their hashes collide).
        return UNTRACKED_LABEL_KEYS + (this.labelLanes[0] >>> 16);
      }
      id = this.classNames.length;
      this.classIds.set(name, id);
      this.classNames.push(name);
      this.classCounts.push(0);
    }
    this.classCounts[id] += 1;
    return id;
  }

  private labelName(key: number): string {
    if (this.labelKind === 'numeric') {
      return String(key);
    }
    return key < UNTRACKED_LABEL_KEYS ? storableText(this.classNames[key]) : UNTRACKED_LABEL;
  }

  private recordConflict(slot: number, line: number, labelKey: number): void {
    this.conflictRows += 1;
    const key = this.exact.keyAt(slot);
    if (this.exact.markConflicted(slot)) {
      this.conflictGroups += 1;
      if (this.conflictExamples.length < this.limits.exampleCap) {
        const example = {
          lines: [this.exact.firstLine(slot), line],
          labels: [this.labelName(this.exact.firstLabel(slot)), this.labelName(labelKey)],
        };
        this.conflictExamples.push(example);
        this.conflictExampleByKey.set(key, example);
      }
      return;
    }
    const example = this.conflictExampleByKey.get(key);
    if (example && example.lines.length < this.limits.exampleCap) {
      example.lines.push(line);
      example.labels.push(this.labelName(labelKey));
    }
  }

  /** Counts the scanner's tokens and bigrams; returns how many tokens. */
  private countTokens(): number {
    const scanner = this.scanner;
    const count = scanner.count;
    const high = scanner.high;
    const low = scanner.low;
    const vocabulary = this.vocabulary;
    const bigrams = this.bigrams;
    const bigramRegisters = bigrams.sketch.registers;
    const referenceTokens = this.referenceTokens;
    let previousHigh = 0;
    let previousLow = 0;
    for (let index = 0; index < count; index += 1) {
      const tokenHigh = high[index];
      const tokenLow = low[index];
      let slot = vocabulary.find(tokenHigh, tokenLow);
      if (slot < 0) {
        const flags = referenceTokens?.has(tokenHigh, tokenLow) ? IN_REFERENCE : 0;
        slot = vocabulary.insert(tokenHigh, tokenLow, scanner.token(index), flags);
      }
      const table = vocabulary.table;
      const base = slot << 2;
      table[base + 2] += 1;
      if (referenceTokens !== undefined && (table[base + 3] & IN_REFERENCE) === 0) {
        this.oovTokens += 1;
      }
      if (vocabulary.pruned) {
        this.prunedVocabulary.add(tokenHigh, tokenLow);
      }
      if (index > 0) {
        // The bigram's hash: two int32 halves, mixed enough for HyperLogLog (which reads the first's
        // top bits and the second's leading zeros).
        const joined = Math.imul(previousHigh, 0x9e3779b1) ^ tokenHigh;
        const first = Math.imul(joined ^ (joined >>> 16), 0x85ebca6b);
        const second = Math.imul(first ^ (first >>> 15) ^ tokenLow ^ Math.imul(previousLow, 0x27d4eb2f), 0xc2b2ae35);
        if (bigrams.set === undefined) {
          // HyperLogLog.addMixed, inlined: this runs for every token of a large dataset.
          const register = first >>> BIGRAM_REGISTER_SHIFT;
          const rank = Math.clz32(second) + 1;
          if (rank > bigramRegisters[register]) {
            bigramRegisters[register] = rank;
          }
        } else {
          bigrams.add(first, second);
        }
      }
      previousHigh = tokenHigh;
      previousLow = tokenLow;
    }
    this.tokens += count;
    if (count > 1) {
      this.bigramCount += count - 1;
    }
    return count;
  }

  private checkNearDuplicate(line: number): void {
    if (this.nearChecked >= this.limits.nearDuplicateSampleCap) {
      this.nearSkipped = true;
      return;
    }
    this.nearChecked += 1;
    if (this.fastMinHasher.exact) {
      const count = this.scanner.shingleValues(SHINGLE_SIZE, this.shingleBuffer);
      this.fastMinHasher.signature(this.shingleBuffer.values, count, this.signature);
    } else {
      this.signature.set(this.minHasher.signature(shingles(this.scanner.tokenStrings(), SHINGLE_SIZE)));
    }
    const similarTo = this.nearIndex.findOrAdd(this.signature, this.nearThreshold, line);
    if (similarTo < 0) {
      return;
    }
    this.nearDuplicateRows += 1;
    if (this.nearExamples.length < this.limits.exampleCap) {
      this.nearExamples.push({ line, similarTo, similarity: roundMetric(this.nearIndex.similarity) });
    }
  }

  private collectPersonalData(text: string): void {
    const detect = this.detect;
    if (!detect) {
      return;
    }
    const matches = detect(text);
    for (let index = 0; index < matches.length; index += 1) {
      const match = matches[index];
      let tally = this.personalData.get(match.type);
      if (!tally) {
        tally = { type: storableText(match.type), count: 0, rows: 0, lines: [], examples: [] };
        this.personalData.set(match.type, tally);
      }
      tally.count += 1;
      if (tally.examples.length < this.limits.exampleCap) {
        tally.examples.push(storableText(this.masked(match.type, text.slice(match.start, match.end))));
      }
      if (!this.rowTypes.includes(match.type)) {
        this.rowTypes.push(match.type);
      }
    }
  }

  private countPersonalDataRow(line: number): void {
    this.rowsWithPersonalData += 1;
    let secret = false;
    for (const type of this.rowTypes) {
      const tally = this.personalData.get(type);
      if (tally) {
        tally.rows += 1;
        if (tally.lines.length < this.limits.exampleCap) {
          tally.lines.push(line);
        }
      }
      secret ||= this.thresholds.secretTypes.includes(type);
    }
    if (secret) {
      this.secretRows += 1;
    }
  }

  private masked(type: TType, value: string): string {
    const masked = this.mask ? this.mask(type, value) : defaultMask(value);
    return masked === value || (value.length >= 4 && masked.includes(value)) ? defaultMask(value) : masked;
  }

  private completenessReport(): CompletenessReport {
    const perField: [string, { missing: number; empty: number; invalid: number }][] = this.checkedFields.map(
      (field, index) => [
        field,
        { missing: this.missing[index], empty: this.empty[index], invalid: this.invalid.get(field) ?? 0 },
      ],
    );
    for (const [field, invalid] of [...this.invalid].sort(([left], [right]) => compareText(left, right))) {
      if (!this.checkedFields.includes(field)) {
        perField.push([field, { missing: 0, empty: 0, invalid }]);
      }
    }
    const allRows = this.rows + this.errorRows;
    const checks = [
      check(this.thresholds, 'minRows', this.rows),
      check(this.thresholds, 'maxErrorRowRatio', ratio(this.errorRows, allRows)),
      check(this.thresholds, 'maxMissingRatio', ratio(this.incompleteRows, this.rows)),
    ];
    return {
      ...dimension(checks),
      perField: Object.fromEntries(perField),
      incompleteRows: this.incompleteRows,
      emptyInputRows: this.emptyInputRows,
      errorRows: this.errorRows,
      examples: [...this.incompleteExamples],
      errorExamples: this.errorExamples.map((error) => ({ ...error })),
    };
  }

  private duplicatesReport(): DuplicatesReport {
    const checks = [check(this.thresholds, 'maxExactDuplicateRatio', ratio(this.exactDuplicateRows, this.rows))];
    if (this.nearChecked > 0) {
      checks.push(check(this.thresholds, 'maxNearDuplicateRatio', ratio(this.nearDuplicateRows, this.nearChecked)));
    }
    return {
      ...dimension(checks),
      exact: {
        duplicateRows: this.exactDuplicateRows,
        groups: this.exactGroups,
        examples: this.exactExamples.map((example) => ({ ...example })),
      },
      near: {
        duplicateRows: this.nearDuplicateRows,
        threshold: this.nearThreshold,
        examples: this.nearExamples.map((example) => ({ ...example })),
        sampled: this.nearSkipped,
        sampleSize: this.nearChecked,
        permutations: this.minHasher.permutations,
        bands: this.nearIndex.bands,
      },
    };
  }

  private conflicts(): LabelConflicts {
    return {
      groups: this.conflictGroups,
      rows: this.conflictRows,
      examples: this.conflictExamples.map((example) => ({ lines: [...example.lines], labels: [...example.labels] })),
    };
  }

  private labelsReport(): LabelsReport | undefined {
    const conflictCheck = check(this.thresholds, 'maxLabelConflictRatio', ratio(this.conflictRows, this.rows));
    if (this.labelKind === 'numeric') {
      const count = this.numericCount;
      return {
        kind: 'numeric',
        ...dimension([conflictCheck]),
        numeric: {
          min: count > 0 ? this.numericMin : 0,
          max: count > 0 ? this.numericMax : 0,
          mean: roundMetric(this.numericMean),
          std: count > 0 ? roundMetric(Math.sqrt(this.numericSquares / count)) : 0,
        },
        conflicts: this.conflicts(),
      };
    }
    if (this.labelKind !== 'categorical') {
      return undefined;
    }
    const classes = this.classNames
      .map((name, id): [string, number] => [storableText(name), this.classCounts[id]])
      .sort(byCountThenName);
    const cap = this.limits.distributionCap;
    const listed = classes.slice(0, cap);
    let otherRows = this.untrackedLabelRows;
    for (const [, count] of classes.slice(cap)) {
      otherRows += count;
    }
    const untrackedClasses = this.untrackedLabelRows > 0 ? Math.max(1, Math.round(this.untrackedLabels.estimate())) : 0;
    const classCount = classes.length + untrackedClasses;
    const largest = classes.length > 0 ? classes[0][1] : 0;
    const smallest = classes.length > 0 ? classes[classes.length - 1][1] : 0;
    const rareBound = this.thresholds.minClassCount.warn;
    const rare = rareBound === null ? [] : classes.filter(([, count]) => count < rareBound).reverse();
    const checks: QualityCheck[] = [check(this.thresholds, 'minClasses', classCount)];
    if (classes.length > 0) {
      checks.push(check(this.thresholds, 'maxImbalanceRatio', largest / smallest));
      checks.push(check(this.thresholds, 'minClassCount', smallest));
    }
    checks.push(conflictCheck);
    return {
      kind: 'categorical',
      ...dimension(checks),
      classes: classCount,
      classesExact: this.untrackedLabelRows === 0,
      distribution: Object.fromEntries(listed),
      otherClasses: { classes: classCount - listed.length, rows: otherRows },
      imbalanceRatio: smallest > 0 ? roundMetric(largest / smallest) : 0,
      rareClasses: rare.slice(0, cap).map(([name]) => name),
      rareClassCount: rare.length,
      conflicts: this.conflicts(),
    };
  }

  private diversityReport(): DiversityReport {
    const tokens = this.tokens;
    const vocabulary = this.vocabulary;
    const vocabularySize = vocabulary.pruned
      ? Math.max(vocabulary.size, Math.round(this.prunedVocabulary.estimate()))
      : vocabulary.size;
    let entropy = 0;
    let counted = 0;
    if (tokens > 0) {
      vocabulary.forEach((_token, count) => {
        if (count > 0) {
          const p = count / tokens;
          entropy -= p * Math.log2(p);
          counted += count;
        }
      });
      const tail = tokens - counted;
      if (tail > 0) {
        // Pruned tokens: spread evenly over the estimated number of tokens no longer counted.
        const tailTokens = Math.max(1, vocabularySize - vocabulary.size);
        const p = tail / tokens;
        entropy -= p * Math.log2(p / tailTokens);
      }
    }
    const lengths = this.lengths;
    const p25 = lengths.quantile(0.25);
    const p75 = lengths.quantile(0.75);
    const spread = Math.max(1, p75 - p25);
    const low = p25 - OUTLIER_FENCE * spread;
    const high = p75 + OUTLIER_FENCE * spread;
    const outliers = lengths.countOutside(low, high);
    const outlierLines = [
      ...this.longest.entries().filter(([length]) => length > high),
      ...this.shortest.entries().filter(([negated]) => -negated < low),
    ]
      .map(([, line]) => line)
      .sort((left, right) => left - right);
    const distinct2 = this.bigramCount > 0 ? Math.min(1, this.bigrams.estimate() / this.bigramCount) : 0;
    const checks: QualityCheck[] = [];
    if (this.bigramCount > 0) {
      checks.push(check(this.thresholds, 'minDistinct2', distinct2));
    }
    if (lengths.rows > 0) {
      checks.push(check(this.thresholds, 'maxLengthOutlierRatio', ratio(outliers, lengths.rows)));
    }
    return {
      ...dimension(checks),
      textFields:
        this.completionField === undefined ? [...this.textFields] : [...this.textFields, this.completionField],
      tokens,
      distinct1: tokens > 0 ? roundMetric(Math.min(1, vocabularySize / tokens)) : 0,
      distinct2: roundMetric(distinct2),
      vocabularySize,
      vocabularyExact: !vocabulary.pruned,
      bigramsExact: this.bigrams.exact,
      tokenEntropy: roundMetric(entropy),
      length: {
        unit: 'tokens',
        rows: lengths.rows,
        min: lengths.rows > 0 ? lengths.min : 0,
        p25,
        p50: lengths.quantile(0.5),
        p75,
        p90: lengths.quantile(0.9),
        p99: lengths.quantile(0.99),
        max: lengths.max,
        mean: lengths.rows > 0 ? roundMetric(lengths.sum / lengths.rows) : 0,
      },
      lengthOutliers: {
        count: outliers,
        examples: outlierLines,
        rule: `tokens > p75 + ${OUTLIER_FENCE}·IQR or < p25 − ${OUTLIER_FENCE}·IQR (IQR = p75 − p25, at least 1)`,
        low: roundMetric(low),
        high: roundMetric(high),
      },
    };
  }

  private representativenessReport(): RepresentativenessReport | undefined {
    const reference = this.reference;
    if (!reference) {
      return undefined;
    }
    const checks: QualityCheck[] = [];
    let labelJsDivergence: number | undefined;
    if (this.labelKind === 'categorical' && reference.labels !== undefined) {
      const names = new Map<string, number>();
      const current: number[] = [];
      const expected: number[] = [];
      this.classNames.forEach((name, id) => {
        names.set(name, current.length);
        current.push(this.classCounts[id]);
        expected.push(0);
      });
      for (const [name, count] of reference.labels) {
        const index = names.get(name);
        if (index === undefined) {
          names.set(name, current.length);
          current.push(0);
          expected.push(count);
        } else {
          expected[index] += count;
        }
      }
      // Labels beyond either side's cap, as one bucket.
      current.push(this.untrackedLabelRows);
      expected.push(reference.otherLabelRows ?? 0);
      labelJsDivergence = roundMetric(jsDivergence(current, expected));
      checks.push(check(this.thresholds, 'maxLabelJsDivergence', labelJsDivergence));
    }
    // Over the reference's tokens plus one bucket for all others: exact when the reference's table is
    // complete (every token it lacks has probability 0 there, and such terms add up linearly).
    const current: number[] = [];
    const expected: number[] = [];
    const lanes = new Int32Array(2);
    let listed = 0;
    for (const [token, count] of reference.tokens.top) {
      hashLanes(token, lanes, 0);
      const here = this.vocabulary.countOf(lanes[0], lanes[1]);
      current.push(here);
      expected.push(count);
      listed += here;
    }
    current.push(Math.max(0, this.tokens - listed));
    expected.push(reference.tokens.other);
    const tokenJsDivergence = roundMetric(jsDivergence(current, expected));
    const oovRate = ratio(this.oovTokens, this.tokens);
    // Numeric tables have no tokens on either side: nothing to compare.
    if (this.tokens > 0 || reference.tokens.total > 0) {
      checks.push(check(this.thresholds, 'maxTokenJsDivergence', tokenJsDivergence));
      checks.push(check(this.thresholds, 'maxOovRate', oovRate));
    }
    return {
      ...dimension(checks),
      reference: this.referenceName,
      referenceRows: reference.rows,
      ...(labelJsDivergence === undefined ? {} : { labelJsDivergence }),
      tokenJsDivergence,
      oovRate: roundMetric(oovRate),
      approximate: this.vocabulary.pruned || !reference.tokens.complete,
    };
  }

  /** Classification and regression with a numeric or vector input field; undefined otherwise. */
  private featuresReport(): FeaturesReport | undefined {
    if (!this.fieldProfiles.some((profile) => profile !== undefined && !(profile instanceof TextFieldProfile))) {
      return undefined;
    }
    const classCount = this.labelKind === 'categorical' ? this.classNames.length : 0;
    const fields: [string, FeatureProfile][] = [];
    const constantFields: string[] = [];
    const nearConstantFields: string[] = [];
    const leakingFields: string[] = [];
    let numericFields = 0;
    let outlierRatio = 0;
    this.fieldProfiles.forEach((profile, index) => {
      if (profile === undefined) {
        return;
      }
      const field = this.inputFields[index];
      const report = fieldReport(profile, this.missing[index] + this.empty[index], classCount);
      fields.push([storableText(field), report]);
      if (report.kind !== 'vector' && report.leak !== undefined) {
        leakingFields.push(storableText(field));
      }
      if (report.kind === 'numeric') {
        numericFields += 1;
        outlierRatio = Math.max(outlierRatio, report.outliers.ratio);
        if (report.constant) {
          constantFields.push(storableText(field));
        } else if (report.nearConstant) {
          nearConstantFields.push(storableText(field));
        }
      }
    });
    const checks: QualityCheck[] = [check(this.thresholds, 'maxNonFiniteRatio', ratio(this.nonFiniteRows, this.rows))];
    if (numericFields > 0) {
      checks.push(check(this.thresholds, 'maxConstantFeatures', constantFields.length));
      checks.push(check(this.thresholds, 'maxNearConstantFeatures', nearConstantFields.length));
      checks.push(check(this.thresholds, 'maxFeatureOutlierRatio', outlierRatio));
    }
    checks.push(check(this.thresholds, 'maxLeakingFeatures', leakingFields.length));
    return {
      ...dimension(checks),
      fields: Object.fromEntries(fields),
      nonFiniteRows: this.nonFiniteRows,
      constantFields,
      nearConstantFields,
      leakingFields,
    };
  }

  /** Text fields, the completion, and numeric fields; vectors are not scanned. */
  private scannedFields(): string[] {
    const fields = this.tabular
      ? this.inputFields.filter((_, index) => !(this.fieldProfiles[index] instanceof VectorFieldProfile))
      : [...this.inputFields];
    return this.completionField === undefined ? fields : [...fields, this.completionField];
  }

  private privacyReport(): PrivacyReport {
    const byType: [string, PersonalDataTypeReport][] = [...this.personalData]
      .sort(([left], [right]) => compareText(left, right))
      .map(([, tally]) => [
        tally.type,
        { count: tally.count, rows: tally.rows, lines: [...tally.lines], examples: [...tally.examples] },
      ]);
    const checks: QualityCheck[] = [];
    if (this.detect) {
      checks.push(check(this.thresholds, 'maxPersonalDataRowRatio', ratio(this.rowsWithPersonalData, this.rows)));
      checks.push(check(this.thresholds, 'maxSecretRows', this.secretRows));
    }
    return {
      ...dimension(checks),
      scannedFields: this.detect ? this.scannedFields() : [],
      rowsWithPersonalData: this.rowsWithPersonalData,
      secretRows: this.secretRows,
      byType: Object.fromEntries(byType),
    };
  }
}

/** One 32-bit word into a running hash; the shift carries high bits (a sign) down to the rest. */
function mixWord(hash: number, word: number, prime: number): number {
  const mixed = Math.imul(hash ^ word, prime);
  return mixed ^ (mixed >>> 15);
}

function ratio(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}

/** Code-unit order: the same in every locale. */
function compareText(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

function byCountThenName(left: [string, number], right: [string, number]): number {
  return right[1] - left[1] || compareText(left[0], right[0]);
}
