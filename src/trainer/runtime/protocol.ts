/** Messages between the trainer pool (main thread) and a trainer worker thread. */
import type { EvaluationOutcome, StartEvaluation } from '../../evaluation/worker/evaluation-protocol.js';
import type { TrainingSpec } from './training-spec.js';

export type BackendSetting = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/** Index 0 of the shared control array: what the main thread asks of the running job. */
export const CONTROL_NONE = 0;
export const CONTROL_CANCEL = 1;
export const CONTROL_PAUSE = 2;

export interface FileBytes {
  name: string;
  bytes: Uint8Array;
}

export interface CheckpointPayload {
  step: number;
  weights: Uint8Array;
  optimizer: Uint8Array;
  state: Uint8Array;
  /** tokenizer.json of a model trained from scratch. */
  tokenizer: string | null;
}

export interface StartTraining {
  type: 'start';
  jobId: string;
  attempt: number;
  spec: TrainingSpec;
  specHash: string;
  training: Uint8Array;
  validation: Uint8Array | null;
  baseModel: { manifest: Record<string, unknown>; weights: Uint8Array; tokenizer: string | null } | null;
  /** The checkpoint to continue from, and the best one so far (for early stopping), when resuming. */
  resume: { latest: CheckpointPayload; best: CheckpointPayload | null } | null;
  /** Int32Array over it: [control]. Read between steps without waiting for the event loop. */
  control: SharedArrayBuffer;
  /**
   * Steps (optimiser steps done) at which the worker stops and waits for a `release` before it reads
   * the control flag again: tests use it to land a pause, cancel or crash at a known step. Null in
   * production, where nothing is checked.
   */
  holdAtSteps: number[] | null;
}

export type ToWorker =
  | { type: 'init'; backend: BackendSetting; niceness: number }
  | StartTraining
  | StartEvaluation
  | { type: 'ack'; requestId: number; error?: string }
  /** The next chunk of an evaluation input stream the worker pulled; null at its end. */
  | { type: 'chunk'; requestId: number; bytes: Uint8Array | null; error?: string }
  | { type: 'release'; requestId: number };

export interface WorkerEvent {
  type: 'event';
  level: 'info' | 'warn' | 'error';
  kind: string;
  message: string;
  data?: Record<string, unknown>;
}

export interface WorkerMetrics {
  type: 'metrics';
  step: number;
  epoch: number;
  split: 'train' | 'validation';
  values: Record<string, unknown>;
}

export interface WorkerCheckpoint {
  type: 'checkpoint';
  requestId: number;
  step: number;
  epoch: number;
  reason: 'interval' | 'epoch_end' | 'pause' | 'best' | 'final';
  isBest: boolean;
  metrics: Record<string, number> | null;
  files: FileBytes[];
}

export interface TrainingResult {
  manifest: Record<string, unknown>;
  files: FileBytes[];
  /** Validation metrics of the weights registered. */
  metrics: Record<string, unknown>;
  /** The step those weights come from (the best step when early stopping restored it). */
  metricsStep: number;
  /** Validation metrics of the starting model (step 0), for what training gained. */
  startMetrics: Record<string, number> | null;
  parameterCount: number;
}

export type TrainingOutcome =
  | { status: 'succeeded'; result: TrainingResult }
  | { status: 'cancelled'; step: number }
  | { status: 'paused'; step: number }
  | { status: 'failed'; code: string; message: string; step?: number };

export type FromWorker =
  | { type: 'ready'; backend: BackendName; devices: string[]; tried: Array<{ backend: BackendName; error: string }> }
  | { type: 'init-failed'; tried: Array<{ backend: BackendName; error: string }> }
  | WorkerEvent
  | WorkerMetrics
  | { type: 'progress'; step: number; totalSteps: number; epoch: number }
  | WorkerCheckpoint
  | { type: 'held'; requestId: number; step: number }
  | { type: 'done'; outcome: TrainingOutcome }
  /** An evaluation asks for the next chunk of one of its input streams (the main thread answers `chunk`). */
  | { type: 'pull'; requestId: number; stream: 'training' | 'evaluation' }
  /** Prediction lines (JSON Lines) to append to the artifact; the main thread acks once they are written. */
  | { type: 'predictions'; requestId: number; text: string }
  | { type: 'evaluation-progress'; rows: number }
  | { type: 'evaluated'; outcome: EvaluationOutcome };
