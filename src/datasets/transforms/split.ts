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

export const splitStep: StepFunction<SplitStep> = (rows, step, context, random) => {
  const fractions = [step.train, step.validation, step.test];
  const labelField = context.schema.labelField;
  const stratified = (step.stratify ?? true) && context.task === 'classification' && labelField !== undefined;

  const strata = new Map<string, number[]>();
  rows.forEach((row, index) => {
    if (row.synthetic) {
      return;
    }
    const key = stratified && labelField !== undefined ? (labelKey(row.record[labelField]) ?? NO_LABEL) : '';
    const members = strata.get(key);
    if (members) {
      members.push(index);
    } else {
      strata.set(key, [index]);
    }
  });

  const assignment = new Map<number, SplitName>();
  const partitionOfSource = new Map<number, SplitName>();
  const byClass = new Map<string, Record<SplitName, number>>();
  const deficits = [0, 0, 0];
  for (const key of [...strata.keys()].sort(compareStrings)) {
    const members = random.shuffle([...(strata.get(key) ?? [])]);
    const counts = allocate(members.length, fractions, deficits);
    let offset = 0;
    SPLIT_NAMES.forEach((name, split) => {
      for (const index of members.slice(offset, offset + counts[split])) {
        assignment.set(index, name);
        partitionOfSource.set(rows[index].source, name);
      }
      offset += counts[split];
    });
    byClass.set(key, { train: counts[0], validation: counts[1], test: counts[2] });
  }

  const partitions: Record<SplitName, TrackedRow[]> = { train: [], validation: [], test: [] };
  let syntheticToTrain = 0;
  let syntheticDropped = 0;
  rows.forEach((row, index) => {
    if (!row.synthetic) {
      partitions[assignment.get(index) ?? 'train'].push(row);
      return;
    }
    const sourcePartition = partitionOfSource.get(row.source);
    if (sourcePartition === 'validation' || sourcePartition === 'test') {
      syntheticDropped += 1;
    } else {
      syntheticToTrain += 1;
      partitions.train.push(row);
    }
  });

  return {
    rows: [...partitions.train, ...partitions.validation, ...partitions.test],
    partitions,
    details: {
      fractions: { train: step.train, validation: step.validation, test: step.test },
      stratified,
      sizes: {
        train: partitions.train.length,
        validation: partitions.validation.length,
        test: partitions.test.length,
      },
      ...(stratified ? { byClass: sortedObject(byClass) } : {}),
      syntheticToTrain,
      syntheticDropped,
    },
  };
};
