/**
 * augment_text with EDA (Wei & Zou, 2019) minus synonym replacement, which needs a thesaurus:
 * random swap, random deletion and random insertion of a word from the same text.
 */
import { assertUnreachable } from '../../platform/errors/error-codes.js';
import type { Random } from './random.js';
import { EDA_OPERATIONS, type AugmentTextStep, type EdaOperation } from './transform-types.js';
import { fail, labelKey, syntheticCopy, type StepFunction } from './transform-rows.js';

/**
 * One EDA variant of `text`. Words are whitespace-separated and re-joined with single spaces.
 * swap and insert change max(1, floor(alpha × words)) words; delete drops each word with
 * probability alpha but keeps at least one.
 */
export function edaVariant(text: string, operation: EdaOperation, alpha: number, random: Random): string {
  const words = text.split(/\s+/u).filter((word) => word.length > 0);
  if (words.length === 0) {
    return text;
  }
  const changes = Math.max(1, Math.floor(alpha * words.length));
  switch (operation) {
    case 'swap': {
      if (words.length < 2) {
        return words.join(' ');
      }
      for (let change = 0; change < changes; change += 1) {
        const first = random.int(words.length);
        // A second position that differs from the first.
        const second = (first + 1 + random.int(words.length - 1)) % words.length;
        const held = words[first];
        words[first] = words[second];
        words[second] = held;
      }
      return words.join(' ');
    }
    case 'delete': {
      if (words.length === 1) {
        return words[0];
      }
      const kept = words.filter(() => random.next() >= alpha);
      return (kept.length > 0 ? kept : [words[random.int(words.length)]]).join(' ');
    }
    case 'insert': {
      const result = [...words];
      for (let change = 0; change < changes; change += 1) {
        const word = words[random.int(words.length)];
        result.splice(random.int(result.length + 1), 0, word);
      }
      return result.join(' ');
    }
    default:
      return assertUnreachable(operation);
  }
}

/**
 * Appends `copies` EDA variants of each eligible row (every row, or the rows of `labels`), right
 * after all existing rows and in row order; each copy uses one operation drawn from `operations`
 * on every string input field, and keeps the row's label and other fields.
 */
export const augmentTextStep: StepFunction<AugmentTextStep> = (input, step, context, random) => {
  const labelField = context.schema.labelField;
  if (step.labels !== undefined && labelField === undefined) {
    return fail(context, `labels needs a dataset with a label field (this ${context.task} dataset has none)`);
  }
  const onlyLabels = step.labels === undefined ? undefined : new Set(step.labels);
  const operations = step.operations ?? [...EDA_OPERATIONS];
  const textFields = context.schema.inputFields;
  const byOperation: Record<EdaOperation, number> = { swap: 0, delete: 0, insert: 0 };
  let skippedNoText = 0;
  let unchanged = 0;
  let eligible = 0;
  let added = 0;
  const output = context.newSink();
  // The rows first, then a second read of the input for the copies, which follow all rows.
  for (const row of input.rows()) {
    output.write(row);
  }
  for (const row of input.rows()) {
    if (onlyLabels && labelField !== undefined) {
      const key = labelKey(row.record[labelField]);
      if (key === undefined || !onlyLabels.has(key)) {
        continue;
      }
    }
    if (!textFields.some((field) => typeof row.record[field] === 'string')) {
      skippedNoText += 1;
      continue;
    }
    eligible += 1;
    for (let copy = 0; copy < step.copies; copy += 1) {
      const operation = operations[random.int(operations.length)];
      byOperation[operation] += 1;
      const record = structuredClone(row.record);
      for (const field of textFields) {
        const value = record[field];
        if (typeof value === 'string') {
          record[field] = edaVariant(value, operation, step.alpha, random);
        }
      }
      if (textFields.every((field) => typeof row.record[field] !== 'string' || record[field] === row.record[field])) {
        unchanged += 1;
      }
      output.write(syntheticCopy(row, record));
      added += 1;
    }
  }
  return {
    output: output.finish(),
    details: {
      technique: step.technique,
      alpha: step.alpha,
      operations,
      eligibleRows: eligible,
      skippedWithoutText: skippedNoText,
      added,
      byOperation,
      unchangedCopies: unchanged,
    },
  };
};
