/** Steps that work on whole rows by label or length: map_labels, drop_rows and oversample. */
import { inputText, tokenize } from '../text/text.js';
import type { DropRowsStep, MapLabelsStep, OversampleStep } from './transform-types.js';
import {
  compareStrings,
  fail,
  labelCounts,
  labelKey,
  rowReference,
  RowList,
  sortedObject,
  syntheticCopy,
  type StepContext,
  type StepFunction,
  type TrackedRow,
} from './transform-rows.js';

/** The label field of a classification dataset; fails for other tasks. */
export function classificationLabelField(context: StepContext): string {
  const labelField = context.schema.labelField;
  if (context.task !== 'classification' || labelField === undefined) {
    return fail(
      context,
      `${context.op} needs a classification dataset with a label field (this one is ${context.task})`,
    );
  }
  return labelField;
}

/** map_labels: renames classes; several old labels mapped to one new label merges them. */
export const mapLabelsStep: StepFunction<MapLabelsStep> = (rows, step, context) => {
  const labelField = classificationLabelField(context);
  const seen = new Set<string>();
  const unmapped = new Set<string>();
  let mappedRows = 0;
  let droppedRows = 0;
  const output: TrackedRow[] = [];
  for (const row of rows) {
    const key = labelKey(row.record[labelField]);
    if (key !== undefined && Object.hasOwn(step.mapping, key)) {
      seen.add(key);
      const target = step.mapping[key];
      mappedRows += 1;
      output.push(
        row.record[labelField] === target ? row : { ...row, record: { ...row.record, [labelField]: target } },
      );
      continue;
    }
    if (key !== undefined) {
      unmapped.add(key);
    }
    if (step.dropUnmapped) {
      droppedRows += 1;
    } else {
      output.push(row);
    }
  }
  const sources = new Map<string, string[]>();
  for (const key of Object.keys(step.mapping).sort(compareStrings)) {
    const target = step.mapping[key];
    sources.set(target, [...(sources.get(target) ?? []), key]);
  }
  const merged = new Map([...sources].filter(([, from]) => from.length > 1));
  return {
    rows: output,
    details: {
      labelsBefore: labelCounts(rows, labelField),
      labelsAfter: labelCounts(output, labelField),
      mappedRows,
      droppedRows,
      merged: sortedObject(merged),
      unmappedLabels: [...unmapped].sort(compareStrings),
      unusedMappings: Object.keys(step.mapping)
        .filter((key) => !seen.has(key))
        .sort(compareStrings),
    },
  };
};

type DropReason = 'empty' | 'label' | 'minChars' | 'maxChars' | 'minTokens' | 'maxTokens';

function codePointLength(text: string): number {
  let length = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    // Count a surrogate pair once.
    if (code < 0xdc00 || code > 0xdfff) {
      length += 1;
    }
  }
  return length;
}

/**
 * drop_rows: a row goes when any rule matches; the report counts it under the first matching
 * rule, in the order empty, label, minChars, maxChars, minTokens, maxTokens. Lengths are of the
 * joined input text (characters are Unicode code points; tokens as tokenize counts them).
 * `dropEmpty` also drops rows whose label (or completion) is missing or blank.
 */
export const dropRowsStep: StepFunction<DropRowsStep> = (rows, step, context) => {
  const labelField = context.schema.labelField;
  if (step.labels !== undefined && labelField === undefined) {
    return fail(context, `labels needs a dataset with a label field (this ${context.task} dataset has none)`);
  }
  const droppedLabels = new Set(step.labels ?? []);
  const byReason: Record<DropReason, number> = {
    empty: 0,
    label: 0,
    minChars: 0,
    maxChars: 0,
    minTokens: 0,
    maxTokens: 0,
  };
  const removed = new RowList<{ index: number; source: number; synthetic?: true; reason: DropReason }>();
  const needsTokens = step.minTokens !== undefined || step.maxTokens !== undefined;

  const reasonToDrop = (row: TrackedRow): DropReason | undefined => {
    const text = inputText(row.record, context.schema.inputFields);
    const label = labelField === undefined ? undefined : row.record[labelField];
    if (step.dropEmpty) {
      const blankLabel = labelField !== undefined && (labelKey(label) === undefined || labelKey(label)?.trim() === '');
      if (text.trim() === '' || blankLabel) {
        return 'empty';
      }
    }
    const key = labelKey(label);
    if (key !== undefined && droppedLabels.has(key)) {
      return 'label';
    }
    const characters = step.minChars !== undefined || step.maxChars !== undefined ? codePointLength(text) : 0;
    if (step.minChars !== undefined && characters < step.minChars) {
      return 'minChars';
    }
    if (step.maxChars !== undefined && characters > step.maxChars) {
      return 'maxChars';
    }
    const tokens = needsTokens ? tokenize(text).length : 0;
    if (step.minTokens !== undefined && tokens < step.minTokens) {
      return 'minTokens';
    }
    if (step.maxTokens !== undefined && tokens > step.maxTokens) {
      return 'maxTokens';
    }
    return undefined;
  };

  const output: TrackedRow[] = [];
  rows.forEach((row, index) => {
    const reason = reasonToDrop(row);
    if (reason === undefined) {
      output.push(row);
    } else {
      byReason[reason] += 1;
      removed.add(() => ({ ...rowReference(rows, index), reason }));
    }
  });
  return {
    rows: output,
    details: { removedCount: removed.count, byReason, removed: removed.items, removedTruncated: removed.truncated },
  };
};

/**
 * oversample: copies rows of each smaller class until it reaches the majority count (or
 * ceil(ratio × majority)). Copies go round the class's rows in shuffled passes, so every row is
 * copied as evenly as possible; they are appended after the existing rows, classes in label order.
 * Rows without a label are neither counted nor copied.
 */
export const oversampleStep: StepFunction<OversampleStep> = (rows, step, context, random) => {
  const labelField = classificationLabelField(context);
  const byClass = new Map<string, TrackedRow[]>();
  for (const row of rows) {
    const key = labelKey(row.record[labelField]);
    if (key !== undefined) {
      const members = byClass.get(key);
      if (members) {
        members.push(row);
      } else {
        byClass.set(key, [row]);
      }
    }
  }
  let majority = 0;
  for (const members of byClass.values()) {
    majority = Math.max(majority, members.length);
  }
  // The epsilon keeps 0.3 × 10 = 3.0000000000000004 from rounding up to 4.
  const target = step.strategy === 'ratio' ? Math.ceil((step.ratio ?? 1) * majority - 1e-9) : majority;
  const added = new Map<string, number>();
  const copies: TrackedRow[] = [];
  for (const key of [...byClass.keys()].sort(compareStrings)) {
    const members = byClass.get(key) ?? [];
    const missing = target - members.length;
    if (missing <= 0) {
      continue;
    }
    added.set(key, missing);
    let order: TrackedRow[] = [];
    for (let copy = 0; copy < missing; copy += 1) {
      if (order.length === 0) {
        order = random.shuffle([...members]);
      }
      copies.push(syntheticCopy(order.pop() as TrackedRow));
    }
  }
  const output = [...rows, ...copies];
  return {
    rows: output,
    details: {
      strategy: step.strategy,
      ...(step.strategy === 'ratio' ? { ratio: step.ratio } : {}),
      targetCount: target,
      labelsBefore: labelCounts(rows, labelField),
      labelsAfter: labelCounts(output, labelField),
      added: sortedObject(added),
    },
  };
};
