/**
 * split: a seeded train/validation/test split, stratified by label for classification. Only
 * original rows are split; synthetic rows (augmentation, oversampling) follow their source row
 * into train, and are dropped when their source went to validation or test, so evaluation never
 * sees copies of training rows or altered copies of its own rows.
 */
import type { SplitStep } from './transform-types.js';
import {
  compareStrings,
  labelKey,
  NO_LABEL,
  sortedObject,
  type StepFunction,
  type TrackedRow,
} from './transform-rows.js';

export const SPLIT_NAMES = ['train', 'validation', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

/**
 * Row counts of one stratum: each split gets floor(size × fraction) or one more, so every count is
 * within 1 of its exact share. The leftover rows go to the splits with the largest fractional part
 * plus their running deficit over earlier strata (`deficits`, updated in place), so many small
 * classes do not all round the same way; ties go in split order. Splits with fraction 0 get nothing.
 */
export function allocate(size: number, fractions: readonly number[], deficits: number[]): number[] {
  const total = fractions.reduce((sum, fraction) => sum + fraction, 0);
  const exact = fractions.map((fraction) => (size * fraction) / total);
  const counts = exact.map((share) => Math.floor(share));
  let leftover = size - counts.reduce((sum, count) => sum + count, 0);
  const order = fractions
    .map((fraction, split) => ({ split, fraction, score: exact[split] - counts[split] + deficits[split] }))
    .filter((candidate) => candidate.fraction > 0)
    .sort((left, right) => right.score - left.score || left.split - right.split);
  for (const candidate of order) {
    if (leftover <= 0) {
      break;
    }
    counts[candidate.split] += 1;
    leftover -= 1;
  }
  exact.forEach((share, split) => {
    deficits[split] += share - counts[split];
  });
  return counts;
}

/**
 * Reads the rows once (twice when stratified: first for the classes) and keeps an index per original
 * row (a few bytes) and one byte per row for its partition; where each source row went comes from
 * the spool's index, without reading the rows.
 */
export const splitStep: StepFunction<SplitStep> = (input, step, context, random) => {
  const fractions = [step.train, step.validation, step.test];
  const labelField = context.schema.labelField;
  const stratified = (step.stratify ?? true) && context.task === 'classification' && labelField !== undefined;

  const strata = new Map<string, number[]>();
  let maxSource = -1;
  let index = 0;
  // Unstratified, the rows' origins are enough: the records are not read.
  const firstPass: Iterable<{ source: number; synthetic: boolean; record?: TrackedRow['record'] }> = stratified
    ? input.rows()
    : input.origins();
  for (const row of firstPass) {
    maxSource = Math.max(maxSource, row.source);
    if (!row.synthetic) {
      const key =
        stratified && labelField !== undefined && row.record ? (labelKey(row.record[labelField]) ?? NO_LABEL) : '';
      const members = strata.get(key);
      if (members) {
        members.push(index);
      } else {
        strata.set(key, [index]);
      }
    }
    index += 1;
  }

  // Partition codes: 0 none yet, 1 train, 2 validation, 3 test.
  const assignment = new Uint8Array(input.count);
  const byClass = new Map<string, Record<SplitName, number>>();
  const deficits = [0, 0, 0];
  for (const key of [...strata.keys()].sort(compareStrings)) {
    const members = random.shuffle([...(strata.get(key) ?? [])]);
    const counts = allocate(members.length, fractions, deficits);
    let offset = 0;
    SPLIT_NAMES.forEach((_name, split) => {
      for (const member of members.slice(offset, offset + counts[split])) {
        assignment[member] = split + 1;
      }
      offset += counts[split];
    });
    byClass.set(key, { train: counts[0], validation: counts[1], test: counts[2] });
  }
  strata.clear();

  // Where each original row went, by source; synthetic rows follow their source.
  const partitionOfSource = new Uint8Array(maxSource + 1);
  index = 0;
  for (const row of input.origins()) {
    if (!row.synthetic) {
      partitionOfSource[row.source] = assignment[index] || 1;
    }
    index += 1;
  }

  const sinks = { train: context.newSink(), validation: context.newSink(), test: context.newSink() };
  let syntheticToTrain = 0;
  let syntheticDropped = 0;
  index = 0;
  for (const row of input.rows()) {
    if (!row.synthetic) {
      sinks[SPLIT_NAMES[(assignment[index] || 1) - 1]].write(row);
    } else if (partitionOfSource[row.source] === 2 || partitionOfSource[row.source] === 3) {
      syntheticDropped += 1;
    } else {
      syntheticToTrain += 1;
      sinks.train.write(row);
    }
    index += 1;
  }
  const partitions = { train: sinks.train.finish(), validation: sinks.validation.finish(), test: sinks.test.finish() };

  return {
    output: context.newSink().finish(),
    partitions,
    details: {
      fractions: { train: step.train, validation: step.validation, test: step.test },
      stratified,
      sizes: {
        train: partitions.train.count,
        validation: partitions.validation.count,
        test: partitions.test.count,
      },
      ...(stratified ? { byClass: sortedObject(byClass) } : {}),
      syntheticToTrain,
      syntheticDropped,
    },
  };
};
