/**
 * The resolved specification of a training job: what the API validated and stored in `jobs.spec`,
 * and exactly what a trainer worker runs. Plain data (structured-clone safe), no Nest.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../platform/canonical-json.js';
import type { DatasetSchema, DatasetTask } from '../../datasets/dataset-types.js';
import type { Gpt2Config } from '../models/gpt2.js';
import type { MlpConfig } from '../models/mlp.js';
import type { OptimizerConfig } from '../training/optimizers.js';

export const MODEL_FAMILIES = ['gpt2', 'mlp'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

export const HEAD_TYPES = ['causal-lm', 'classification', 'regression'] as const;
export type HeadType = (typeof HEAD_TYPES)[number];

export const METHOD_TYPES = ['full', 'freeze', 'lora'] as const;
export type MethodType = (typeof METHOD_TYPES)[number];

export type TrainingMethod =
  { type: 'full' } | { type: 'freeze'; trainableTopBlocks?: number; trainableLayers?: string[] };

/** Type-only imports: the API process reads specs without loading tfjs. */
export type Gpt2ModelConfig = Gpt2Config;

/** The mlp's input and output widths come from the data. */
export type MlpModelConfig = Omit<MlpConfig, 'inputSize' | 'outputSize'>;

export interface HyperParameters {
  /** Passes over the training data; the run ends at `maxSteps` when that comes first. */
  epochs: number;
  maxSteps: number | null;
  batchSize: number;
  gradientAccumulationSteps: number;
  learningRate: number | 'auto';
  optimizer: OptimizerConfig;
  loss: {
    name: 'cross_entropy' | 'binary_cross_entropy' | 'mse' | 'mae' | 'huber';
    labelSmoothing?: number;
    classWeights?: number[] | 'balanced';
    huberDelta?: number;
  };
  schedule: {
    name: 'constant' | 'step' | 'cosine' | 'linear';
    warmupSteps: number;
    stepSize?: number;
    gamma?: number;
    minLearningRateRatio?: number;
  };
  gradientClipNorm: number | null;
  dropout: number | null;
  l1: number;
  l2: number;
  earlyStopping: { monitor: string; mode: 'min' | 'max'; patience: number; minDelta: number } | null;
  sequenceLength: number;
  seed: number;
  evalEverySteps: number;
  checkpointEverySteps: number;
  keepLastCheckpoints: number;
  keepBestCheckpoint: boolean;
  validationFraction: number;
  logEverySteps: number;
}

export interface DatasetRef {
  datasetVersionId: string;
  datasetId: string;
  version: number;
  artifactKey: string;
  format: 'jsonl' | 'csv';
  compression: 'gzip' | 'none';
  sha256: string;
}

export interface TrainingSpec {
  family: ModelFamily;
  /** The head being trained. Chat and prompt-completion data train a causal-LM head on masked targets. */
  head: HeadType;
  /** The task of the training data, which decides how rows become examples. */
  dataTask: DatasetTask;
  schema: DatasetSchema;
  /** Family config for a model made from scratch; for a base model, its own config (from its manifest). */
  modelConfig: Gpt2ModelConfig | MlpModelConfig;
  /** Vocabulary size of the tokenizer trained on the data (gpt2 from scratch). */
  tokenizerVocabSize: number | null;
  baseModel: { modelVersionId: string; name: string; version: number; artifactPrefix: string } | null;
  method: TrainingMethod;
  hyperparameters: HyperParameters;
  training: DatasetRef;
  validation: DatasetRef | null;
  outputModelName: string;
}

export function specHash(spec: TrainingSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}
