/**
 * Plain types of the dataset transform engine: the step specs, the result, the context and the
 * error. No Nest or class-validator here, so a worker thread can import it; the request DTOs in
 * transform-spec.ts implement these interfaces.
 */
import type { DatasetRecord, DatasetSchema, DatasetTask, RowError } from '../dataset-types.js';
import type { PersonalDataType, RedactionResult } from '../privacy/personal-data.js';

export { PERSONAL_DATA_TYPES, type PersonalDataType, type RedactionResult } from '../privacy/personal-data.js';

export const TRANSFORM_OPS = [
  'clean',
  'dedupe',
  'redact',
  'map_labels',
  'drop_rows',
  'drop_invalid',
  'normalize',
  'augment_text',
  'augment_numeric',
  'oversample',
  'split',
] as const;
export type TransformOp = (typeof TRANSFORM_OPS)[number];

export const DEDUPE_MODES = ['exact', 'near'] as const;
export type DedupeMode = (typeof DEDUPE_MODES)[number];
export const NORMALIZATION_METHODS = ['zscore', 'minmax'] as const;
export type NormalizationMethod = (typeof NORMALIZATION_METHODS)[number];
export const EDA_OPERATIONS = ['swap', 'delete', 'insert'] as const;
export type EdaOperation = (typeof EDA_OPERATIONS)[number];
export const OVERSAMPLE_STRATEGIES = ['match_majority', 'ratio'] as const;
export type OversampleStrategy = (typeof OVERSAMPLE_STRATEGIES)[number];

/** Largest seed (seeds are unsigned 32-bit integers). */
export const MAX_SEED = 0xffffffff;
export const MAX_STEPS = 20;
export const MAX_COPIES = 8;
export const MAX_EDA_ALPHA = 0.5;
export const DEFAULT_NEAR_DUPLICATE_THRESHOLD = 0.8;
/** Tolerance of the split fractions' sum. */
export const SPLIT_SUM_TOLERANCE = 1e-9;

export interface CleanStep {
  op: 'clean';
  /** Default: the schema's input fields (chat: each message's content). */
  fields?: string[];
  /** Default true. */
  trim?: boolean;
  /** Default true. */
  nfkc?: boolean;
  /** Default true. */
  stripControl?: boolean;
  /** Default false. */
  stripHtml?: boolean;
  /** Default false. */
  lowercase?: boolean;
}

export interface DedupeStep {
  op: 'dedupe';
  mode: DedupeMode;
  /** Near mode: estimated Jaccard similarity at or above which rows are duplicates. Default 0.8. */
  threshold?: number;
}

export interface RedactStep {
  op: 'redact';
  /** Default: every type the redactor knows. */
  types?: PersonalDataType[];
  /** Default: the input fields, plus the completion of prompt-completion datasets. */
  fields?: string[];
}

export interface MapLabelsStep {
  op: 'map_labels';
  /** Old label to new label; several old labels to one new label merges classes. */
  mapping: Record<string, string>;
  /** Drop rows whose label the mapping does not mention (default: keep them unchanged). */
  dropUnmapped?: boolean;
}

export interface DropRowsStep {
  op: 'drop_rows';
  minTokens?: number;
  maxTokens?: number;
  minChars?: number;
  maxChars?: number;
  dropEmpty?: boolean;
  /** Drop rows with these labels. */
  labels?: string[];
}

/** Drops the rows that fail validation (the repair of an `invalid` version); must be the first step. */
export interface DropInvalidStep {
  op: 'drop_invalid';
}

export interface NormalizeStep {
  op: 'normalize';
  fields: string[];
  method: NormalizationMethod;
}

export interface AugmentTextStep {
  op: 'augment_text';
  technique: 'eda';
  copies: number;
  alpha: number;
  /** Default: all three. */
  operations?: EdaOperation[];
  seed: number;
  /** Only rows of these classes (default: every row). */
  labels?: string[];
}

export interface AugmentNumericStep {
  op: 'augment_numeric';
  fields: string[];
  /** Standard deviation of the Gaussian noise, in the fields' own units. */
  noiseStd: number;
  copies: number;
  seed: number;
}

export interface OversampleStep {
  op: 'oversample';
  strategy: OversampleStrategy;
  /** Strategy `ratio`: each class is raised to ceil(ratio × majority count). */
  ratio?: number;
  seed: number;
}

export interface SplitStep {
  op: 'split';
  train: number;
  validation: number;
  test: number;
  seed: number;
  /** Default true; only classification datasets are stratified. */
  stratify?: boolean;
}

export type TransformStep =
  | CleanStep
  | DedupeStep
  | RedactStep
  | MapLabelsStep
  | DropRowsStep
  | DropInvalidStep
  | NormalizeStep
  | AugmentTextStep
  | AugmentNumericStep
  | OversampleStep
  | SplitStep;

/** Signature of redactPersonalData (src/datasets/privacy/personal-data.ts); injected so tests can fake it. */
export type RedactFunction = (text: string, types?: ReadonlySet<PersonalDataType>) => RedactionResult;

export interface TransformContext {
  task: DatasetTask;
  schema: DatasetSchema;
  /** Required when the spec has a `redact` step. */
  redact?: RedactFunction;
  /** The parent file's line of an input row, for drop_invalid's report. */
  lineOf?: (source: number) => number | undefined;
  /** Lines of the parent that were not rows at all, for drop_invalid's report. */
  unreadable?: { count: number; errors: RowError[] };
}

export interface NormalizationStatistics {
  method: NormalizationMethod;
  mean?: number;
  std?: number;
  min?: number;
  max?: number;
}

export type TransformOutputName = 'all' | 'train' | 'validation' | 'test';

export interface TransformOutput {
  name: TransformOutputName;
  rows: DatasetRecord[];
}

/** The step's output would pass a configured limit: the step stops and nothing is kept. */
export class TransformLimitError extends Error {
  constructor(
    readonly step: number,
    readonly op: TransformOp,
    readonly limit: 'rows' | 'bytes',
    readonly maximum: number,
  ) {
    super(`step ${step} (${op}) would write more than ${maximum} ${limit === 'rows' ? 'rows' : 'bytes'}`);
    this.name = 'TransformLimitError';
  }
}

export interface TransformStepReport {
  /** 0-based index of the step in the spec (the `steps.N` of validation errors). */
  step: number;
  op: TransformOp;
  rowsIn: number;
  rowsOut: number;
  details: Record<string, unknown>;
}

export interface TransformResult {
  /** `[all]`, or `[train, validation, test]` when the spec ends with a split. */
  outputs: TransformOutput[];
  /** Stored on the version, so inference can apply the same normalisation. */
  statistics: { normalization?: Record<string, NormalizationStatistics> };
  report: TransformStepReport[];
}

/** A spec that cannot be applied to these rows; `step` is 0-based. */
export class TransformError extends Error {
  constructor(
    readonly step: number,
    readonly op: string,
    readonly reason: string,
    /** Rows at fault, as indices into the original input (at most a few). */
    readonly rows: number[] = [],
  ) {
    super(`step ${step} (${op}): ${reason}`);
    this.name = 'TransformError';
  }

  /** Dotted path into the request body, as validation errors use. */
  get field(): string {
    return `steps.${this.step}`;
  }
}

/** Cross-field rules shared by the DTO validation and the engine; tolerant of wrongly typed input. */
export function crossFieldProblems(step: TransformStep): string[] {
  const problems: string[] = [];
  switch (step.op) {
    case 'drop_rows': {
      const rules = [step.minTokens, step.maxTokens, step.minChars, step.maxChars, step.labels];
      if (!step.dropEmpty && rules.every((rule) => rule === undefined)) {
        problems.push(
          'drop_rows needs at least one rule: minTokens, maxTokens, minChars, maxChars, dropEmpty or labels',
        );
      }
      if (typeof step.minTokens === 'number' && typeof step.maxTokens === 'number' && step.minTokens > step.maxTokens) {
        problems.push('minTokens must not be greater than maxTokens');
      }
      if (typeof step.minChars === 'number' && typeof step.maxChars === 'number' && step.minChars > step.maxChars) {
        problems.push('minChars must not be greater than maxChars');
      }
      break;
    }
    case 'oversample':
      if (step.strategy === 'ratio' && step.ratio === undefined) {
        problems.push("ratio is required with strategy 'ratio'");
      }
      if (step.strategy === 'match_majority' && step.ratio !== undefined) {
        problems.push("ratio is only allowed with strategy 'ratio'");
      }
      break;
    case 'split': {
      const fractions = [step.train, step.validation, step.test];
      if (fractions.every((fraction) => typeof fraction === 'number' && Number.isFinite(fraction))) {
        const sum = step.train + step.validation + step.test;
        if (Math.abs(sum - 1) > SPLIT_SUM_TOLERANCE) {
          problems.push(`train + validation + test must sum to 1 (they sum to ${sum})`);
        }
      }
      break;
    }
    case 'clean':
    case 'dedupe':
    case 'drop_invalid':
    case 'redact':
    case 'map_labels':
    case 'normalize':
    case 'augment_text':
    case 'augment_numeric':
      break;
    default:
      // Unknown ops are reported by the op check itself.
      break;
  }
  return problems;
}
