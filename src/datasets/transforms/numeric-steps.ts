/** Steps on numeric feature columns: normalize and augment_numeric. */
import { assertUnreachable } from '../../platform/errors/error-codes.js';
import type { AugmentNumericStep, NormalizationStatistics, NormalizeStep } from './transform-types.js';
import {
  fail,
  numericColumn,
  requireKnownFields,
  syntheticCopy,
  type StepFunction,
  type TrackedRow,
} from './transform-rows.js';

/** Statistics of one column; `std` is the population standard deviation. */
export function columnStatistics(values: number[], method: NormalizeStep['method']): NormalizationStatistics {
  switch (method) {
    case 'zscore': {
      let sum = 0;
      for (const value of values) {
        sum += value;
      }
      const mean = sum / values.length;
      let squares = 0;
      for (const value of values) {
        squares += (value - mean) ** 2;
      }
      return { method, mean, std: Math.sqrt(squares / values.length) };
    }
    case 'minmax': {
      let min = Infinity;
      let max = -Infinity;
      for (const value of values) {
        min = Math.min(min, value);
        max = Math.max(max, value);
      }
      return { method, min, max };
    }
    default:
      return assertUnreachable(method);
  }
}

/**
 * Applies stored statistics to one value, as inference must: z-score (x − mean) / std, min-max
 * (x − min) / (max − min); a zero spread maps every value to 0.
 */
export function normalizeValue(value: number, statistics: NormalizationStatistics): number {
  if (statistics.method === 'zscore') {
    const std = statistics.std ?? 0;
    return std === 0 ? 0 : (value - (statistics.mean ?? 0)) / std;
  }
  const min = statistics.min ?? 0;
  const range = (statistics.max ?? 0) - min;
  return range === 0 ? 0 : (value - min) / range;
}

/**
 * normalize: replaces each field's values with their z-scores or min-max scaled values (numbers;
 * numeric strings from CSV are parsed). Every row must have a finite numeric value. Statistics are
 * over all rows present at this step, so a later split's validation/test rows contribute to them.
 */
export const normalizeStep: StepFunction<NormalizeStep> = (rows, step, context) => {
  if (rows.length === 0) {
    return fail(context, 'no rows are left to compute normalisation statistics from');
  }
  const again = step.fields.filter((field) => Object.hasOwn(context.normalization, field));
  if (again.length > 0) {
    return fail(context, `already normalised by an earlier step: ${again.join(', ')}`);
  }
  requireKnownFields(rows, step.fields, context);
  const statistics: Record<string, NormalizationStatistics> = {};
  const columns = new Map<string, number[]>();
  const notes: string[] = [];
  for (const field of step.fields) {
    const values = numericColumn(rows, field, context);
    columns.set(field, values);
    const fieldStatistics = columnStatistics(values, step.method);
    statistics[field] = fieldStatistics;
    if (step.method === 'zscore' && fieldStatistics.std === 0) {
      notes.push(`${field}: standard deviation is 0, every value became 0`);
    }
    if (step.method === 'minmax' && fieldStatistics.min === fieldStatistics.max) {
      notes.push(`${field}: every value is ${fieldStatistics.min}, every value became 0`);
    }
  }
  const output = rows.map((row, index): TrackedRow => {
    const record = { ...row.record };
    for (const field of step.fields) {
      record[field] = normalizeValue((columns.get(field) as number[])[index], statistics[field]);
    }
    return { ...row, record };
  });
  return { rows: output, details: { method: step.method, statistics, notes }, normalization: statistics };
};

/**
 * augment_numeric: appends `copies` copies of every row, each field plus Gaussian noise with
 * standard deviation `noiseStd` in the field's own units (normalise first for scale-free noise).
 * Copies hold numbers even where the original held numeric strings.
 */
export const augmentNumericStep: StepFunction<AugmentNumericStep> = (rows, step, context, random) => {
  requireKnownFields(rows, step.fields, context);
  const columns = step.fields.map((field) => numericColumn(rows, field, context));
  const copies: TrackedRow[] = [];
  rows.forEach((row, index) => {
    for (let copy = 0; copy < step.copies; copy += 1) {
      const record = structuredClone(row.record);
      step.fields.forEach((field, column) => {
        record[field] = columns[column][index] + step.noiseStd * random.normal();
      });
      copies.push(syntheticCopy(row, record));
    }
  });
  return {
    rows: [...rows, ...copies],
    details: { fields: step.fields, noiseStd: step.noiseStd, copiesPerRow: step.copies, added: copies.length },
  };
};
