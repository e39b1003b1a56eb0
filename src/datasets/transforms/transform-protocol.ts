/** Messages between the transform runner (main thread) and its worker. Plain data only. */
import type { DatasetFormat, DatasetSchema, DatasetTask } from '../dataset-types.js';
import type { OutputLimits } from './transform-engine.js';
import type { TransformOp, TransformOutputName, TransformResult, TransformStep } from './transform-types.js';

export interface TransformJob {
  steps: TransformStep[];
  task: DatasetTask;
  schema: DatasetSchema;
  format: DatasetFormat;
  compression: 'gzip' | 'none';
  /** A folder of the worker's own for its spools; the outputs are left there for the main thread. */
  directory: string;
  limits: OutputLimits;
  /**
   * When set, the worker waits on it before each step until the main thread stores 1 (and then
   * resets it): lets a caller hold a transform at a step.
   */
  hold?: Int32Array;
  /** The worker thread's niceness (see lowerThreadPriority). */
  niceness: number;
}

/** Main -> worker: the parent version's bytes, as stored. */
export type ToTransformWorker = { type: 'chunk'; chunk: Uint8Array } | { type: 'end' };

export interface TransformOutputFile {
  name: TransformOutputName;
  path: string;
  rows: number;
  bytes: number;
}

export type TransformFailure =
  | { kind: 'spec'; step: number; op: string; reason: string; rows: number[] }
  | { kind: 'limit'; step: number; op: TransformOp; limit: 'rows' | 'bytes'; maximum: number }
  | { kind: 'read'; code: string; message: string }
  | { kind: 'internal'; message: string };

/** Worker -> main. `consumed` acknowledges bytes the reader has taken, for flow control. */
export type FromTransformWorker =
  | { type: 'consumed'; bytes: number }
  | { type: 'step'; step: number; op: TransformOp; threadId: number }
  | {
      type: 'done';
      outputs: TransformOutputFile[];
      report: TransformResult['report'];
      statistics: TransformResult['statistics'];
    }
  | { type: 'failed'; failure: TransformFailure };
