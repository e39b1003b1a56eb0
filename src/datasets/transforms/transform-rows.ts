/** What every step function shares: tracked rows, the step context and small deterministic helpers. */
import type { DatasetRecord, DatasetSchema, DatasetTask } from '../dataset-types.js';
import type { Random } from './random.js';
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
}

export interface StepOutcome {
  rows: TrackedRow[];
  details: Record<string, unknown>;
  normalization?: Record<string, NormalizationStatistics>;
  /** Set by the split step only. */
  partitions?: { train: TrackedRow[]; validation: TrackedRow[]; test: TrackedRow[] };
}

/**
 * One step: rows in, rows out. Steps never mutate the records they are given (a changed row is a
 * new object), so a later streaming engine can feed them chunks of rows where the step allows it.
 */
export type StepFunction<S extends TransformStep> = (
  rows: TrackedRow[],
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

/** Rows per class, with keys in code-unit order; rows without a label are counted under `(none)`. */
export function labelCounts(rows: TrackedRow[], labelField: string | undefined): Record<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows) {
    const key = labelField === undefined ? undefined : labelKey(row.record[labelField]);
    const name = key ?? NO_LABEL;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return sortedObject(counts);
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
export function rowReference(rows: TrackedRow[], index: number): { index: number; source: number; synthetic?: true } {
  const row = rows[index];
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

/** Fails when a field named in the step appears in none of the rows (a typo, most likely). */
export function requireKnownFields(rows: TrackedRow[], fields: string[], context: StepContext): void {
  if (rows.length === 0) {
    return;
  }
  const unknown = fields.filter((field) => !rows.some((row) => Object.hasOwn(row.record, field)));
  if (unknown.length > 0) {
    fail(context, `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: no row has it`);
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

/** The numeric values of `field` in every row; fails listing the rows whose value is not numeric. */
export function numericColumn(rows: TrackedRow[], field: string, context: StepContext): number[] {
  const values: number[] = [];
  const bad: number[] = [];
  rows.forEach((row, index) => {
    const value = numericValue(row.record[field]);
    if (value === undefined) {
      bad.push(index);
    } else {
      values.push(value);
    }
  });
  if (bad.length > 0) {
    const shown = bad.slice(0, 10);
    const described = shown
      .map((index) => `row ${index} (input row ${rows[index].source}): ${describeValue(rows[index].record[field])}`)
      .join('; ');
    fail(
      context,
      `field ${field} has ${bad.length} non-numeric value${bad.length > 1 ? 's' : ''}: ${described}${bad.length > shown.length ? '; …' : ''}`,
      shown.map((index) => rows[index].source),
    );
  }
  return values;
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
