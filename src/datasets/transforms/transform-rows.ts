/** What every step function shares: tracked rows, the step context and small deterministic helpers. */
import type { DatasetRecord, DatasetSchema, DatasetTask, RowError } from '../dataset-types.js';
import type { Random } from './random.js';
import type { RowSink, RowSpool } from './row-spool.js';
import {
  TransformError,
  type NormalizationStatistics,
  type RedactFunction,
  type TransformOp,
  type TransformStep,
} from './transform-types.js';

/** A row on its way through the steps; `source` is its index in the engine's input. */
export interface TrackedRow {
  record: DatasetRecord;
  source: number;
  /** Made by augmentation or oversampling (a copy of row `source`); the split keeps these out of validation/test. */
  synthetic: boolean;
}

export interface StepContext {
  task: DatasetTask;
  schema: DatasetSchema;
  redact?: RedactFunction;
  /** 0-based index of the running step. */
  step: number;
  op: TransformOp;
  /** Statistics of earlier normalize steps. */
  normalization: Readonly<Record<string, NormalizationStatistics>>;
  /** A new sink for this step's output (the split opens three); the engine bounds what it takes. */
  newSink: () => RowSink;
  /** The line of an input row in the parent's file, when known. */
  lineOf?: (source: number) => number | undefined;
  /** Lines of the parent that could not be read as rows at all (invalid JSON, ragged CSV). */
  unreadable?: { count: number; errors: RowError[] };
}

export interface StepOutcome {
  output: RowSpool;
  details: Record<string, unknown>;
  normalization?: Record<string, NormalizationStatistics>;
  /** Set by the split step only; `output` is then empty. */
  partitions?: { train: RowSpool; validation: RowSpool; test: RowSpool };
}

/**
 * One step: a spool of rows in, a spool out. A step reads its input in order (as often as it
 * needs) or by index, and keeps only small per-row bookkeeping in memory. Steps never mutate the
 * records they read.
 */
export type StepFunction<S extends TransformStep> = (
  input: RowSpool,
  step: S,
  context: StepContext,
  random: Random,
) => StepOutcome;

/** At most this many rows are listed in a report's details (the counts are always complete). */
export const MAX_REPORTED_ROWS = 1000;

export function fail(context: StepContext, reason: string, rows: number[] = []): never {
  throw new TransformError(context.step, context.op, reason, rows);
}

/** Code-unit order: locale-independent, so sorting gives the same result everywhere. */
export function compareStrings(left: string, right: string): number {
  if (left < right) {
    return -1;
  }
  return left > right ? 1 : 0;
}

/** The class of a row as a string (numbers and booleans stringified); undefined when there is none. */
export function labelKey(value: unknown): string | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return JSON.stringify(value);
}

/** Counts rows per class; `result()` has keys in code-unit order, rows without a label under `(none)`. */
export class LabelCounter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly labelField: string | undefined) {}

  add(record: DatasetRecord, times = 1): void {
    const key = this.labelField === undefined ? undefined : labelKey(record[this.labelField]);
    const name = key ?? NO_LABEL;
    this.counts.set(name, (this.counts.get(name) ?? 0) + times);
  }

  result(): Record<string, number> {
    return sortedObject(this.counts);
  }
}

export const NO_LABEL = '(none)';

export function sortedObject<V>(entries: Map<string, V>): Record<string, V> {
  const result: Record<string, V> = {};
  for (const key of [...entries.keys()].sort(compareStrings)) {
    result[key] = entries.get(key) as V;
  }
  return result;
}

/** A row as reports name it: its index in the step's input and in the engine's input. */
export function rowReference(row: TrackedRow, index: number): { index: number; source: number; synthetic?: true } {
  return row.synthetic ? { index, source: row.source, synthetic: true } : { index, source: row.source };
}

/** Collects row references up to MAX_REPORTED_ROWS. */
export class RowList<T> {
  readonly items: T[] = [];
  count = 0;

  add(item: () => T): void {
    this.count += 1;
    if (this.items.length < MAX_REPORTED_ROWS) {
      this.items.push(item());
    }
  }

  get truncated(): boolean {
    return this.count > this.items.length;
  }
}

/**
 * Notes which of the step's fields the rows have; `check()` fails when one appears in none of them
 * (a typo, most likely). Fed during a step's pass, so the check costs no extra read.
 */
export class KnownFields {
  private readonly missing: Set<string>;
  private rows = 0;

  constructor(private readonly fields: string[]) {
    this.missing = new Set(fields);
  }

  see(record: DatasetRecord): void {
    this.rows += 1;
    if (this.missing.size > 0) {
      for (const field of this.missing) {
        if (Object.hasOwn(record, field)) {
          this.missing.delete(field);
        }
      }
    }
  }

  check(context: StepContext): void {
    if (this.rows === 0) {
      return;
    }
    const unknown = this.fields.filter((field) => this.missing.has(field));
    if (unknown.length > 0) {
      fail(context, `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: no row has it`);
    }
  }
}

/**
 * Applies `rewrite` to the string values of `fields` (chat fields: each message's `content`).
 * Returns the same record when nothing changed, else a copy; `changed` counts changed values.
 */
export function rewriteTextFields(
  record: DatasetRecord,
  fields: string[],
  rewrite: (text: string, field: string) => string,
): { record: DatasetRecord; changed: number } {
  let changed = 0;
  let result = record;
  for (const field of fields) {
    const value = record[field];
    let replacement: unknown = value;
    if (typeof value === 'string') {
      const rewritten = rewrite(value, field);
      if (rewritten !== value) {
        replacement = rewritten;
        changed += 1;
      }
    } else if (Array.isArray(value)) {
      let messagesChanged = false;
      const messages = value.map((message: unknown) => {
        if (message && typeof message === 'object' && typeof (message as { content?: unknown }).content === 'string') {
          const content = (message as { content: string }).content;
          const rewritten = rewrite(content, field);
          if (rewritten !== content) {
            changed += 1;
            messagesChanged = true;
            return { ...(message as Record<string, unknown>), content: rewritten };
          }
        }
        return message;
      });
      if (messagesChanged) {
        replacement = messages;
      }
    }
    if (replacement !== value) {
      if (result === record) {
        result = { ...record };
      }
      result[field] = replacement;
    }
  }
  return { record: result, changed };
}

/** A finite number from a number or a numeric string (CSV fields are strings); undefined otherwise. */
export function numericValue(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : undefined;
  }
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value.trim());
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

/**
 * Collects the rows whose `field` is not numeric (the first 10, and the count) during a pass;
 * `check()` fails listing them.
 */
export class NumericCheck {
  private readonly shown: { index: number; source: number; value: unknown }[] = [];
  private bad = 0;

  constructor(readonly field: string) {}

  see(row: TrackedRow, index: number): number | undefined {
    const value = numericValue(row.record[this.field]);
    if (value === undefined) {
      this.bad += 1;
      if (this.shown.length < 10) {
        this.shown.push({ index, source: row.source, value: row.record[this.field] });
      }
    }
    return value;
  }

  check(context: StepContext): void {
    if (this.bad === 0) {
      return;
    }
    const described = this.shown
      .map((item) => `row ${item.index} (input row ${item.source}): ${describeValue(item.value)}`)
      .join('; ');
    fail(
      context,
      `field ${this.field} has ${this.bad} non-numeric value${this.bad > 1 ? 's' : ''}: ${described}${this.bad > this.shown.length ? '; …' : ''}`,
      this.shown.map((item) => item.source),
    );
  }
}

function describeValue(value: unknown): string {
  if (value === undefined) {
    return 'missing';
  }
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** A synthetic copy of a row (deep, so later steps cannot alias the original's nested values). */
export function syntheticCopy(row: TrackedRow, record: DatasetRecord = structuredClone(row.record)): TrackedRow {
  return { record, source: row.source, synthetic: true };
}
