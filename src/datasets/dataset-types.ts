/** Shared vocabulary of the datasets module: plain types, no Nest, usable from worker threads. */

export const DATASET_TASKS = ['classification', 'regression', 'causal-lm', 'chat', 'prompt-completion'] as const;
export type DatasetTask = (typeof DATASET_TASKS)[number];

export const DATASET_FORMATS = ['jsonl', 'csv'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/**
 * Which fields hold what. Defaults by task:
 * - classification / regression: inputFields ['text'], labelField 'label'
 * - causal-lm: inputFields ['text'], no label
 * - chat: inputFields ['messages'] (OpenAI chat format: [{role, content}]), no label
 * - prompt-completion: inputFields ['prompt'], labelField 'completion'
 * Tabular classification/regression list several (numeric or text) input fields.
 */
export interface DatasetSchema {
  inputFields: string[];
  labelField?: string;
}

/** One parsed row: a JSON object (JSONL) or a header-keyed object of strings (CSV). */
export type DatasetRecord = Record<string, unknown>;

/** A row as the readers yield it; `line` is 1-based (for CSV, the line where the record starts). */
export interface ParsedRow {
  line: number;
  record: DatasetRecord;
  /** Bytes of the row in the (decompressed) source, for throughput and length statistics. */
  bytes: number;
}

/** A row that could not be used, and why; `field` when one field is at fault. */
export interface RowError {
  line: number;
  field?: string;
  reason: string;
}

export function defaultSchema(task: DatasetTask): DatasetSchema {
  switch (task) {
    case 'classification':
    case 'regression':
      return { inputFields: ['text'], labelField: 'label' };
    case 'causal-lm':
      return { inputFields: ['text'] };
    case 'chat':
      return { inputFields: ['messages'] };
    case 'prompt-completion':
      return { inputFields: ['prompt'], labelField: 'completion' };
    default: {
      const unreachable: never = task;
      throw new Error(`unknown task ${String(unreachable)}`);
    }
  }
}
