/**
 * What the evaluation runner (main thread) hands a trainer worker, and what comes back. Plain data,
 * structured-clone safe, no Nest: the worker thread imports it.
 */
import type { DatasetSchema, DatasetTask } from '../../datasets/dataset-types.js';
import type { EvaluationResult, EvaluationTask } from '../scoring.js';

/** A stored model version as the worker loads it. */
export interface ModelFiles {
  manifest: Record<string, unknown>;
  weights: Uint8Array;
  tokenizer: string | null;
}

/** A dataset version the worker pulls from the main thread chunk by chunk. */
export interface StreamedDataset {
  format: 'jsonl' | 'csv';
  compression: 'gzip' | 'none';
  schema: DatasetSchema;
  task: DatasetTask;
}

export interface BootstrapSettings {
  resamples: number;
  seed: number;
  confidence: number;
}

export interface StartEvaluation {
  type: 'evaluate';
  evaluationId: string;
  attempt: number;
  task: EvaluationTask;
  model: ModelFiles;
  /** The other version of the same model to compare with, scored on the same rows. */
  baselineModel: ModelFiles | null;
  /** The data evaluated on (stream `evaluation`). */
  evaluation: StreamedDataset;
  /** The data the reference models are fitted on (stream `training`): the model's own training data. */
  training: StreamedDataset | null;
  /** Why there is no training data for reference models, when there is none. */
  trainingUnavailable: string | null;
  sliceBy: string | null;
  bootstrap: BootstrapSettings;
  /** Rows per forward pass. */
  batchSize: number;
  /** Int32Array over it: [control] (CONTROL_CANCEL stops between batches). */
  control: SharedArrayBuffer;
  /** Batches done at which the worker waits for a `release`: tests land a crash at a known point. */
  holdAtBatches: number[] | null;
}

export type EvaluationOutcome =
  | { status: 'succeeded'; result: EvaluationResult }
  | { status: 'cancelled'; rows: number }
  | { status: 'failed'; code: string; message: string };
