/**
 * The dataset transform engine: applies an ordered list of steps to a dataset's rows and returns
 * the new rows (split into train/validation/test when the spec ends with a split), the statistics
 * inference needs, and a report of what each step did.
 *
 * Deterministic: no clock, no Math.random (each seeded step has its own PRNG), stable sorts and
 * code-unit string order, so the same rows and spec give byte-identical output.
 *
 * Streaming: each step reads the previous step's spool and writes its own (files on local disk in
 * the transform worker, arrays in `applyTransforms`), so memory holds a few bytes of bookkeeping
 * per row, plus what a step needs globally (dedupe's digests, the split's class index); every
 * step's output is bounded by `limits`, checked on each row written.
 */
import { assertUnreachable } from '../../platform/errors/error-codes.js';
import type { DatasetRecord } from '../dataset-types.js';
import { augmentTextStep } from './augment-text.js';
import { dedupeStep } from './dedupe.js';
import { augmentNumericStep, normalizeStep } from './numeric-steps.js';
import { createRandom, type Random } from './random.js';
import { memorySpool, MemorySpoolFactory, type RowSink, type RowSpool, type SpoolFactory } from './row-spool.js';
import { dropInvalidStep, dropRowsStep, mapLabelsStep, oversampleStep } from './row-steps.js';
import { splitStep } from './split.js';
import { cleanStep, redactStep } from './text-steps.js';
import {
  crossFieldProblems,
  DEDUPE_MODES,
  EDA_OPERATIONS,
  MAX_COPIES,
  MAX_EDA_ALPHA,
  MAX_SEED,
  NORMALIZATION_METHODS,
  OVERSAMPLE_STRATEGIES,
  PERSONAL_DATA_TYPES,
  TRANSFORM_OPS,
  TransformError,
  TransformLimitError,
  type NormalizationStatistics,
  type TransformContext,
  type TransformOutputName,
  type TransformResult,
  type TransformStep,
  type TransformStepReport,
} from './transform-types.js';
import type { StepContext, StepOutcome } from './transform-rows.js';

/**
 * Checks a spec against the dataset's task and schema without touching rows: known ops, value
 * ranges, split last, steps that need labels on datasets that have them, a redactor for redact.
 * applyTransforms calls it first; call it alone to reject a request before loading the rows.
 */
export function validateTransformSpec(spec: readonly TransformStep[], context: TransformContext): void {
  const normalized = new Map<string, number>();
  spec.forEach((step, index) => {
    const op: unknown = typeof step === 'object' && step !== null ? (step as { op?: unknown }).op : undefined;
    const check = (condition: boolean, reason: string): void => {
      if (!condition) {
        throw new TransformError(index, String(op), reason);
      }
    };
    check(
      typeof op === 'string' && (TRANSFORM_OPS as readonly string[]).includes(op),
      `unknown op ${JSON.stringify(op)}; expected one of ${TRANSFORM_OPS.join(', ')}`,
    );
    const problems = crossFieldProblems(step);
    check(problems.length === 0, problems.join('; '));
    const labelField = context.schema.labelField;
    const isClassification = context.task === 'classification' && labelField !== undefined;
    const seedIsValid = (seed: unknown): boolean =>
      Number.isInteger(seed) && (seed as number) >= 0 && (seed as number) <= MAX_SEED;
    const copiesAreValid = (copies: unknown): boolean =>
      Number.isInteger(copies) && (copies as number) >= 1 && (copies as number) <= MAX_COPIES;
    const isFieldList = (fields: unknown): boolean =>
      Array.isArray(fields) && fields.length > 0 && fields.every((field) => typeof field === 'string' && field !== '');
    const isCount = (value: unknown): boolean =>
      value === undefined || (Number.isInteger(value) && (value as number) >= 0);

    switch (step.op) {
      case 'clean':
        check(step.fields === undefined || isFieldList(step.fields), 'fields must be a non-empty list of field names');
        break;
      case 'dedupe':
        check(DEDUPE_MODES.includes(step.mode), `mode must be one of ${DEDUPE_MODES.join(', ')}`);
        check(
          step.threshold === undefined || (step.threshold > 0 && step.threshold <= 1),
          'threshold must be greater than 0 and at most 1',
        );
        break;
      case 'redact':
        check(context.redact !== undefined, 'no personal-data redactor is configured');
        check(
          step.types === undefined || step.types.every((type) => PERSONAL_DATA_TYPES.includes(type)),
          `types must be among ${PERSONAL_DATA_TYPES.join(', ')}`,
        );
        check(step.fields === undefined || isFieldList(step.fields), 'fields must be a non-empty list of field names');
        break;
      case 'map_labels':
        check(
          isClassification,
          `map_labels needs a classification dataset with a label field (this one is ${context.task})`,
        );
        check(
          typeof step.mapping === 'object' &&
            step.mapping !== null &&
            Object.values(step.mapping).every((label) => typeof label === 'string'),
          'mapping must map labels to labels (strings)',
        );
        break;
      case 'drop_rows':
        check(
          [step.minTokens, step.maxTokens, step.minChars, step.maxChars].every(isCount),
          'minTokens, maxTokens, minChars and maxChars must be non-negative integers',
        );
        check(
          step.labels === undefined || labelField !== undefined,
          `labels needs a dataset with a label field (this ${context.task} dataset has none)`,
        );
        break;
      case 'drop_invalid':
        check(index === 0, 'drop_invalid must be the first step');
        break;
      case 'normalize':
        check(isFieldList(step.fields), 'fields must be a non-empty list of field names');
        check(NORMALIZATION_METHODS.includes(step.method), `method must be one of ${NORMALIZATION_METHODS.join(', ')}`);
        for (const field of step.fields) {
          const earlier = normalized.get(field);
          check(earlier === undefined, `field ${field} is already normalised by step ${earlier}`);
          normalized.set(field, index);
        }
        break;
      case 'augment_text':
        check(step.technique === 'eda', "technique must be 'eda'");
        check(copiesAreValid(step.copies), `copies must be an integer from 1 to ${MAX_COPIES}`);
        check(step.alpha >= 0 && step.alpha <= MAX_EDA_ALPHA, `alpha must be from 0 to ${MAX_EDA_ALPHA}`);
        check(
          step.operations === undefined ||
            (step.operations.length > 0 && step.operations.every((operation) => EDA_OPERATIONS.includes(operation))),
          `operations must be a non-empty list of ${EDA_OPERATIONS.join(', ')}`,
        );
        check(seedIsValid(step.seed), `seed must be an integer from 0 to ${MAX_SEED}`);
        check(context.task !== 'chat', 'augment_text works on string input fields; chat messages are not augmented');
        check(
          step.labels === undefined || labelField !== undefined,
          `labels needs a dataset with a label field (this ${context.task} dataset has none)`,
        );
        break;
      case 'augment_numeric':
        check(isFieldList(step.fields), 'fields must be a non-empty list of field names');
        check(Number.isFinite(step.noiseStd) && step.noiseStd >= 0, 'noiseStd must be a non-negative number');
        check(copiesAreValid(step.copies), `copies must be an integer from 1 to ${MAX_COPIES}`);
        check(seedIsValid(step.seed), `seed must be an integer from 0 to ${MAX_SEED}`);
        break;
      case 'oversample':
        check(
          isClassification,
          `oversample needs a classification dataset with a label field (this one is ${context.task})`,
        );
        check(
          OVERSAMPLE_STRATEGIES.includes(step.strategy),
          `strategy must be one of ${OVERSAMPLE_STRATEGIES.join(', ')}`,
        );
        check(
          step.ratio === undefined || (step.ratio > 0 && step.ratio <= 1),
          'ratio must be greater than 0 and at most 1',
        );
        check(seedIsValid(step.seed), `seed must be an integer from 0 to ${MAX_SEED}`);
        break;
      case 'split':
        check(index === spec.length - 1, 'split must be the last step');
        check(
          [step.train, step.validation, step.test].every(
            (fraction) => Number.isFinite(fraction) && fraction >= 0 && fraction <= 1,
          ),
          'train, validation and test must be fractions from 0 to 1',
        );
        check(seedIsValid(step.seed), `seed must be an integer from 0 to ${MAX_SEED}`);
        break;
      default:
        assertUnreachable(step);
    }
  });
}

function runStep(input: RowSpool, step: TransformStep, context: StepContext, random: Random): StepOutcome {
  switch (step.op) {
    case 'clean':
      return cleanStep(input, step, context, random);
    case 'dedupe':
      return dedupeStep(input, step, context, random);
    case 'redact':
      return redactStep(input, step, context, random);
    case 'map_labels':
      return mapLabelsStep(input, step, context, random);
    case 'drop_rows':
      return dropRowsStep(input, step, context, random);
    case 'drop_invalid':
      return dropInvalidStep(input, step, context, random);
    case 'normalize':
      return normalizeStep(input, step, context, random);
    case 'augment_text':
      return augmentTextStep(input, step, context, random);
    case 'augment_numeric':
      return augmentNumericStep(input, step, context, random);
    case 'oversample':
      return oversampleStep(input, step, context, random);
    case 'split':
      return splitStep(input, step, context, random);
    default:
      return assertUnreachable(step);
  }
}

/** Steps without a seed get a fixed one (none of them draws random numbers today). */
function seedOf(step: TransformStep, index: number): number {
  return 'seed' in step ? step.seed : index;
}

/** The most rows and bytes (as JSON Lines) any one step may write; unset means no limit. */
export interface OutputLimits {
  rows?: number;
  bytes?: number;
}

export interface RunOptions {
  spools: SpoolFactory;
  limits?: OutputLimits;
  /** Called before each step starts (progress, and a hook that can hold the run). */
  beforeStep?: (index: number, step: TransformStep) => void;
}

export interface SpooledOutput {
  name: TransformOutputName;
  spool: RowSpool;
}

export interface SpooledResult {
  /** `[all]`, or `[train, validation, test]` when the spec ends with a split. */
  outputs: SpooledOutput[];
  statistics: TransformResult['statistics'];
  report: TransformResult['report'];
}

/**
 * Applies `spec` to the rows of `input` in order, each step reading the previous one's spool.
 * Throws TransformError (step index, op, reason) when the spec does not fit the dataset, and
 * TransformLimitError as soon as a step would write past `limits`; spools written so far are
 * released before it throws. The input spool is the caller's and is left as it is.
 */
export function runTransforms(
  input: RowSpool,
  spec: readonly TransformStep[],
  context: TransformContext,
  options: RunOptions,
): SpooledResult {
  validateTransformSpec(spec, context);
  const normalization: Record<string, NormalizationStatistics> = {};
  const report: TransformStepReport[] = [];
  let current = input;
  let outputs: SpooledOutput[] | undefined;
  // Sinks of the running step, so that a step that stops leaves nothing behind.
  let stepSinks: { sink: RowSink; spool?: RowSpool }[] = [];
  const release = (spool: RowSpool) => {
    if (spool !== input) {
      spool.release();
    }
  };
  try {
    spec.forEach((step, index) => {
      options.beforeStep?.(index, step);
      // One budget per step, shared by its sinks (the split's three partitions count together).
      let rows = 0;
      let bytes = 0;
      const limits = options.limits ?? {};
      stepSinks = [];
      const newSink = (): RowSink => {
        let sinkRows = 0;
        let sinkBytes = 0;
        const sink = options.spools.create((nextRows, nextBytes) => {
          const addedRows = nextRows - sinkRows;
          const addedBytes = nextBytes - sinkBytes;
          if (limits.rows !== undefined && rows + addedRows > limits.rows) {
            throw new TransformLimitError(index, step.op, 'rows', limits.rows);
          }
          if (limits.bytes !== undefined && bytes + addedBytes > limits.bytes) {
            throw new TransformLimitError(index, step.op, 'bytes', limits.bytes);
          }
          rows += addedRows;
          bytes += addedBytes;
          sinkRows = nextRows;
          sinkBytes = nextBytes;
        });
        const tracked: { sink: RowSink; spool?: RowSpool } = { sink };
        stepSinks.push(tracked);
        return {
          write: (row) => sink.write(row),
          finish: () => {
            tracked.spool = sink.finish();
            return tracked.spool;
          },
          abort: () => sink.abort(),
        };
      };
      const stepContext: StepContext = { ...context, step: index, op: step.op, normalization, newSink };
      const outcome = runStep(current, step, stepContext, createRandom(seedOf(step, index)));
      const partitions = outcome.partitions;
      report.push({
        step: index,
        op: step.op,
        rowsIn: current.count,
        rowsOut: partitions
          ? partitions.train.count + partitions.validation.count + partitions.test.count
          : outcome.output.count,
        details: outcome.details,
      });
      Object.assign(normalization, outcome.normalization ?? {});
      release(current);
      current = outcome.output;
      if (partitions) {
        outputs = [
          { name: 'train', spool: partitions.train },
          { name: 'validation', spool: partitions.validation },
          { name: 'test', spool: partitions.test },
        ];
      }
    });
  } catch (error) {
    release(current);
    for (const tracked of stepSinks) {
      if (tracked.spool) {
        tracked.spool.release();
      } else {
        tracked.sink.abort();
      }
    }
    throw error;
  }
  if (outputs) {
    release(current);
  }
  return {
    outputs: outputs ?? [{ name: 'all', spool: current }],
    statistics: Object.keys(normalization).length > 0 ? { normalization } : {},
    report,
  };
}

/**
 * Applies `spec` to `rows` in memory (tests and small callers; the service streams through
 * runTransforms in a worker). Throws TransformError (step index, op, reason) when the spec does
 * not fit the dataset. The input records are not modified.
 */
export function applyTransforms(
  rows: readonly DatasetRecord[],
  spec: readonly TransformStep[],
  context: TransformContext,
  limits?: OutputLimits,
): TransformResult {
  const input = memorySpool(rows.map((record, source) => ({ record, source, synthetic: false })));
  const result = runTransforms(input, spec, context, { spools: new MemorySpoolFactory(), limits });
  return {
    outputs: result.outputs.map((output) => ({
      name: output.name,
      rows: [...output.spool.rows()].map((row) => row.record),
    })),
    statistics: result.statistics,
    report: result.report,
  };
}
