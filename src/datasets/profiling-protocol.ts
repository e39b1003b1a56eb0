/** Messages between the ingestor (main thread) and its profiling worker. Plain data only. */
import type { DatasetFormat, DatasetSchema, DatasetTask, RowError } from './dataset-types.js';
import type { ReadSummary } from './parsing/dataset-reader.js';
import type { QualityReport, ReferenceProfile } from './quality/quality-report.js';

export interface ProfilingJob {
  task: DatasetTask;
  schema: DatasetSchema;
  format?: DatasetFormat;
  thresholds?: Record<string, unknown>;
  reference?: ReferenceProfile;
  maxLineBytes: number;
  maxInflatedBytes: number;
  maxReportedErrors: number;
  /** The worker thread's niceness (see lowerThreadPriority). */
  niceness: number;
}

/** Main -> worker. */
export type ToWorker = { type: 'chunk'; chunk: Uint8Array } | { type: 'end' };

export interface ProfilingOutcome {
  summary: ReadSummary;
  report: QualityReport;
  referenceProfile: ReferenceProfile;
  errors: RowError[];
  totalErrors: number;
  validRows: number;
}

/** Worker -> main. `consumed` acknowledges bytes the reader has taken, for flow control. */
export type FromWorker =
  | { type: 'consumed'; bytes: number }
  | { type: 'done'; outcome: ProfilingOutcome }
  | { type: 'failed'; readError?: { code: string; message: string }; message: string };
