/** Steps on numeric feature columns: normalize and augment_numeric. */
import { assertUnreachable } from '../../platform/errors/error-codes.js';
import type { AugmentNumericStep, NormalizationStatistics, NormalizeStep } from './transform-types.js';
import { fail, KnownFields, NumericCheck, numericValue, syntheticCopy, type StepFunction } from './transform-rows.js';

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
 * Reads its input three times (z-score: sums, then squared deviations, then output) and keeps
 * only the running sums in memory.
 */
export const normalizeStep: StepFunction<NormalizeStep> = (input, step, context) => {
  if (input.count === 0) {
    return fail(context, 'no rows are left to compute normalisation statistics from');
  }
  const again = step.fields.filter((field) => Object.hasOwn(context.normalization, field));
  if (again.length > 0) {
    return fail(context, `already normalised by an earlier step: ${again.join(', ')}`);
  }
  const known = new KnownFields(step.fields);
  const checks = step.fields.map((field) => new NumericCheck(field));
  const sums = step.fields.map(() => 0);
  const mins = step.fields.map(() => Infinity);
  const maxs = step.fields.map(() => -Infinity);
  let index = 0;
  for (const row of input.rows()) {
    known.see(row.record);
    checks.forEach((check, column) => {
      const value = check.see(row, index);
      if (value !== undefined) {
        sums[column] += value;
        mins[column] = Math.min(mins[column], value);
        maxs[column] = Math.max(maxs[column], value);
      }
    });
    index += 1;
  }
  known.check(context);
  checks.forEach((check) => check.check(context));
  const statistics: Record<string, NormalizationStatistics> = {};
  switch (step.method) {
    case 'zscore': {
      const means = sums.map((sum) => sum / input.count);
      const squares = step.fields.map(() => 0);
      for (const row of input.rows()) {
        step.fields.forEach((field, column) => {
          squares[column] += ((numericValue(row.record[field]) as number) - means[column]) ** 2;
        });
      }
      step.fields.forEach((field, column) => {
        statistics[field] = { method: 'zscore', mean: means[column], std: Math.sqrt(squares[column] / input.count) };
      });
      break;
    }
    case 'minmax':
      step.fields.forEach((field, column) => {
        statistics[field] = { method: 'minmax', min: mins[column], max: maxs[column] };
      });
      break;
    default:
      return assertUnreachable(step.method);
  }
  const notes: string[] = [];
  for (const field of step.fields) {
    const fieldStatistics = statistics[field];
    if (step.method === 'zscore' && fieldStatistics.std === 0) {
      notes.push(`${field}: standard deviation is 0, every value became 0`);
    }
    if (step.method === 'minmax' && fieldStatistics.min === fieldStatistics.max) {
      notes.push(`${field}: every value is ${fieldStatistics.min}, every value became 0`);
    }
  }
  const output = context.newSink();
  for (const row of input.rows()) {
    const record = { ...row.record };
    for (const field of step.fields) {
      record[field] = normalizeValue(numericValue(row.record[field]) as number, statistics[field]);
    }
    output.write({ ...row, record });
  }
  return { output: output.finish(), details: { method: step.method, statistics, notes }, normalization: statistics };
};

/**
 * augment_numeric: appends `copies` copies of every row, each field plus Gaussian noise with
 * standard deviation `noiseStd` in the field's own units (normalise first for scale-free noise).
 * Copies hold numbers even where the original held numeric strings.
 */
export const augmentNumericStep: StepFunction<AugmentNumericStep> = (input, step, context, random) => {
  const known = new KnownFields(step.fields);
  const checks = step.fields.map((field) => new NumericCheck(field));
  const output = context.newSink();
  let index = 0;
  for (const row of input.rows()) {
    known.see(row.record);
    for (const check of checks) {
      check.see(row, index);
    }
    output.write(row);
    index += 1;
  }
  known.check(context);
  checks.forEach((check) => check.check(context));
  let added = 0;
  for (const row of input.rows()) {
    for (let copy = 0; copy < step.copies; copy += 1) {
      const record = structuredClone(row.record);
      for (const field of step.fields) {
        record[field] = (numericValue(row.record[field]) as number) + step.noiseStd * random.normal();
      }
      output.write(syntheticCopy(row, record));
      added += 1;
    }
  }
  return {
    output: output.finish(),
    details: { fields: step.fields, noiseStd: step.noiseStd, copiesPerRow: step.copies, added },
  };
};
