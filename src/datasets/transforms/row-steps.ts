/** Steps that work on whole rows by label, length or validity: map_labels, drop_rows, drop_invalid and oversample. */
import { inputText, tokenize } from '../text/text.js';
import { validateRow } from '../quality/row-validator.js';
import type { DropInvalidStep, DropRowsStep, MapLabelsStep, OversampleStep } from './transform-types.js';
import {
  compareStrings,
  fail,
  LabelCounter,
  labelKey,
  NO_LABEL,
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
export const mapLabelsStep: StepFunction<MapLabelsStep> = (input, step, context) => {
  const labelField = classificationLabelField(context);
  const seen = new Set<string>();
  const unmapped = new Set<string>();
  let mappedRows = 0;
  let droppedRows = 0;
  const before = new LabelCounter(labelField);
  const after = new LabelCounter(labelField);
  const output = context.newSink();
  const keep = (row: TrackedRow): void => {
    after.add(row.record);
    output.write(row);
  };
  for (const row of input.rows()) {
    before.add(row.record);
    const key = labelKey(row.record[labelField]);
    if (key !== undefined && Object.hasOwn(step.mapping, key)) {
      seen.add(key);
      const target = step.mapping[key];
      mappedRows += 1;
      keep(row.record[labelField] === target ? row : { ...row, record: { ...row.record, [labelField]: target } });
      continue;
    }
    if (key !== undefined) {
      unmapped.add(key);
    }
    if (step.dropUnmapped) {
      droppedRows += 1;
    } else {
      keep(row);
    }
  }
  const sources = new Map<string, string[]>();
  for (const key of Object.keys(step.mapping).sort(compareStrings)) {
    const target = step.mapping[key];
    sources.set(target, [...(sources.get(target) ?? []), key]);
  }
  const merged = new Map([...sources].filter(([, from]) => from.length > 1));
  return {
    output: output.finish(),
    details: {
      labelsBefore: before.result(),
      labelsAfter: after.result(),
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
export const dropRowsStep: StepFunction<DropRowsStep> = (input, step, context) => {
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

  const output = context.newSink();
  let index = 0;
  for (const row of input.rows()) {
    const reason = reasonToDrop(row);
    if (reason === undefined) {
      output.write(row);
    } else {
      byReason[reason] += 1;
      const at = index;
      removed.add(() => ({ ...rowReference(row, at), reason }));
    }
    index += 1;
  }
  return {
    output: output.finish(),
    details: { removedCount: removed.count, byReason, removed: removed.items, removedTruncated: removed.truncated },
  };
};

/**
 * drop_invalid: drops the rows that fail the upload's validation for the dataset's task and schema
 * (a missing label, a missing input, a label of the wrong type, malformed chat messages), and
 * reports them with the reason; lines of the parent that could not be read as rows at all (invalid
 * JSON, a ragged CSV row) are reported as well. What is left is a version that can be `ready`.
 */
export const dropInvalidStep: StepFunction<DropInvalidStep> = (input, _step, context) => {
  const removed = new RowList<{ index: number; source: number; line?: number; field?: string; reason: string }>();
  const byReason = new Map<string, number>();
  const output = context.newSink();
  let index = 0;
  for (const row of input.rows()) {
    const line = context.lineOf?.(row.source);
    const problem = validateRow(row.record, context.task, context.schema, line ?? 0);
    if (problem) {
      byReason.set(problem.reason, (byReason.get(problem.reason) ?? 0) + 1);
      const at = index;
      removed.add(() => ({
        ...rowReference(row, at),
        ...(line === undefined ? {} : { line }),
        ...(problem.field === undefined ? {} : { field: problem.field }),
        reason: problem.reason,
      }));
    } else {
      output.write(row);
    }
    index += 1;
  }
  return {
    output: output.finish(),
    details: {
      removedCount: removed.count,
      byReason: sortedObject(byReason),
      removed: removed.items,
      removedTruncated: removed.truncated,
      unreadableLines: context.unreadable?.count ?? 0,
      unreadable: context.unreadable?.errors ?? [],
    },
  };
};

/**
 * oversample: copies rows of each smaller class until it reaches the majority count (or
 * ceil(ratio × majority)). Copies go round the class's rows in shuffled passes, so every row is
 * copied as evenly as possible; they are appended after the existing rows, classes in label order.
 * Rows without a label are neither counted nor copied.
 */
export const oversampleStep: StepFunction<OversampleStep> = (input, step, context, random) => {
  const labelField = classificationLabelField(context);
  // Per class, the indices of its rows: four bytes a row. The rows themselves stay in the spool.
  const byClass = new Map<string, number[]>();
  const before = new LabelCounter(labelField);
  const output = context.newSink();
  let index = 0;
  for (const row of input.rows()) {
    before.add(row.record);
    output.write(row);
    const key = labelKey(row.record[labelField]);
    if (key !== undefined) {
      const members = byClass.get(key);
      if (members) {
        members.push(index);
      } else {
        byClass.set(key, [index]);
      }
    }
    index += 1;
  }
  let majority = 0;
  for (const members of byClass.values()) {
    majority = Math.max(majority, members.length);
  }
  // The epsilon keeps 0.3 × 10 = 3.0000000000000004 from rounding up to 4.
  const target = step.strategy === 'ratio' ? Math.ceil((step.ratio ?? 1) * majority - 1e-9) : majority;
  const added = new Map<string, number>();
  const after = new LabelCounter(labelField);
  for (const [key, count] of Object.entries(before.result())) {
    after.add({ [labelField]: key === NO_LABEL ? undefined : key }, count);
  }
  for (const key of [...byClass.keys()].sort(compareStrings)) {
    const members = byClass.get(key) ?? [];
    const missing = target - members.length;
    if (missing <= 0) {
      continue;
    }
    added.set(key, missing);
    let order: number[] = [];
    for (let copy = 0; copy < missing; copy += 1) {
      if (order.length === 0) {
        order = random.shuffle([...members]);
      }
      const copied = syntheticCopy(input.rowAt(order.pop() as number));
      after.add(copied.record);
      output.write(copied);
    }
  }
  return {
    output: output.finish(),
    details: {
      strategy: step.strategy,
      ...(step.strategy === 'ratio' ? { ratio: step.ratio } : {}),
      targetCount: target,
      labelsBefore: before.result(),
      labelsAfter: after.result(),
      added: sortedObject(added),
    },
  };
};
