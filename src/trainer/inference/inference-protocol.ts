/** Messages between the inference pool (main thread) and an inference worker thread. */
import type { DatasetRecord } from '../../datasets/dataset-types.js';
import type { BackendName, BackendSetting } from '../runtime/protocol.js';
import type { GenerationOptions, GenerationResult } from './generation.js';

export type PredictionTask = 'classify' | 'regress' | 'generate';

export interface PredictRequest {
  type: 'predict';
  requestId: number;
  /** The model version's id: the cache key. */
  versionId: string;
  task: PredictionTask;
  inputs: DatasetRecord[];
  generation: GenerationOptions | null;
  /** Send generated text as it comes (`text` messages) as well as in the result. */
  stream: boolean;
}

export type ToInferenceWorker =
  | {
      type: 'init';
      backend: BackendSetting;
      cacheBytes: number;
      /** Tests: generations wait after this many tokens until released. Empty in production. */
      holdAtTokens: number[];
    }
  | PredictRequest
  | { type: 'cancel'; requestId: number }
  /** A model's files begin: its manifest, and the files that follow in chunks with their sizes. */
  | {
      type: 'files-start';
      versionId: string;
      manifest: Record<string, unknown>;
      files: Array<{ name: 'weights' | 'tokenizer'; size: number }>;
    }
  | { type: 'file-chunk'; versionId: string; name: 'weights' | 'tokenizer'; chunk: Uint8Array }
  | { type: 'files-end'; versionId: string }
  | { type: 'files-failed'; versionId: string; message: string }
  | { type: 'release'; requestId: number };

export type ClassificationPrediction = { label: string; probabilities: number[] };

export type PredictionResult =
  | { task: 'classify'; labels: string[]; predictions: ClassificationPrediction[] }
  | { task: 'regress'; values: number[] }
  | { task: 'generate'; generations: GenerationResult[] };

/** Why a prediction failed: the model's files cannot be run, or something else broke. */
export type PredictionErrorCode = 'model_unloadable' | 'cancelled' | 'internal';

export type FromInferenceWorker =
  | { type: 'ready'; backend: BackendName; devices: string[]; tried: Array<{ backend: BackendName; error: string }> }
  | { type: 'init-failed'; tried: Array<{ backend: BackendName; error: string }> }
  | { type: 'need-files'; versionId: string }
  | { type: 'loaded'; versionId: string; sizeBytes: number; evicted: string[] }
  | { type: 'text'; requestId: number; index: number; text: string }
  | { type: 'held'; requestId: number; tokens: number }
  | { type: 'result'; requestId: number; result: PredictionResult }
  | { type: 'error'; requestId: number; code: PredictionErrorCode; message: string };
