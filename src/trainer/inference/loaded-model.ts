/**
 * A stored model version, rebuilt from its files and ready to answer: the architecture, head,
 * labels, preprocessing and tokenizer exactly as its manifest states them, the weights imported
 * strictly, and batched predictions through the forward pass training uses. Plain TypeScript and
 * tfjs on whatever backend is active; no Nest, so it runs inside worker threads.
 */
import * as tf from '@tensorflow/tfjs';
import {
  DATASET_TASKS,
  defaultSchema,
  type DatasetRecord,
  type DatasetSchema,
  type DatasetTask,
} from '../../datasets/dataset-types.js';
import { normalizeGpt2Tensors, type Gpt2Config, type Gpt2Head } from '../models/gpt2.js';
import type { MlpConfig } from '../models/mlp.js';
import { disposeParameters, importParameters, parameterCount, type ParameterMap } from '../models/parameters.js';
import { BpeTokenizer } from '../tokenizer/bpe-tokenizer.js';
import { causalLmStats } from '../training/losses.js';
import { buildExamples, featureCount, type ExampleSet, type Preprocessing } from '../runtime/examples.js';
import { HEAD_TYPES, type HeadType } from '../runtime/training-spec.js';
import {
  architectureParameterSpecs,
  batchTensors,
  disposeBatch,
  modelForward,
  readFloatTensors,
  type ModelArchitecture,
} from './forward.js';

/** What a model version stores: `manifest.json` parsed, `model.safetensors`, and `tokenizer.json` as text. */
export interface ModelFiles {
  manifest: Record<string, unknown>;
  weights: Uint8Array;
  tokenizer: string | null;
}

export interface LoadOptions {
  /** Examples per forward pass; causal-LM passes hold [B,T,V] logits, so they default smaller. */
  batchSize?: number;
}

export interface Classification {
  label: string;
  /** Index of `label` in the model's labels. */
  labelIndex: number;
  /** Softmax probabilities in the order of the model's labels. */
  probabilities: number[];
}

/** Causal-LM sums over one row's target tokens, as training's validation counts them. */
export interface LanguageModelRowStats {
  /** Summed -log p of the target tokens. */
  lossSum: number;
  /** Target tokens counted (prompt, user turns and padding are not targets). */
  tokens: number;
  /** Target tokens the model ranks first. */
  correct: number;
}

/** A manifest that cannot be run as it stands. */
export class ModelLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelLoadError';
  }
}

const DEFAULT_BATCH = 64;
const DEFAULT_LM_BATCH = 8;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function headOf(manifest: Record<string, unknown>): HeadType {
  const task = manifest.task;
  if (typeof task !== 'string' || !(HEAD_TYPES as readonly string[]).includes(task)) {
    throw new ModelLoadError(`manifest task ${JSON.stringify(task)} is not one of ${HEAD_TYPES.join(', ')}`);
  }
  return task as HeadType;
}

/** The data task rows are read as: the manifest's, or (imported models state none) the head's own. */
function dataTaskOf(manifest: Record<string, unknown>, head: HeadType): DatasetTask {
  const task = manifest.dataTask;
  if (typeof task === 'string' && (DATASET_TASKS as readonly string[]).includes(task)) {
    return task as DatasetTask;
  }
  return head;
}

function schemaOf(manifest: Record<string, unknown>, dataTask: DatasetTask): DatasetSchema {
  const schema = manifest.schema;
  if (
    isRecord(schema) &&
    Array.isArray(schema.inputFields) &&
    schema.inputFields.length > 0 &&
    schema.inputFields.every((field) => typeof field === 'string')
  ) {
    return {
      inputFields: schema.inputFields,
      ...(typeof schema.labelField === 'string' ? { labelField: schema.labelField } : {}),
    };
  }
  return defaultSchema(dataTask);
}

function labelsOf(manifest: Record<string, unknown>): string[] | null {
  const labels = manifest.labels;
  if (labels === null || labels === undefined) {
    return null;
  }
  if (!Array.isArray(labels) || !labels.every((label) => typeof label === 'string')) {
    throw new ModelLoadError('manifest labels must be a list of strings');
  }
  return labels;
}

function targetScalingOf(manifest: Record<string, unknown>): Preprocessing['targetScaling'] {
  const scaling = manifest.targetScaling;
  if (scaling === null || scaling === undefined) {
    return null;
  }
  if (!isRecord(scaling) || typeof scaling.mean !== 'number' || typeof scaling.std !== 'number') {
    throw new ModelLoadError('manifest targetScaling must be { mean, std }');
  }
  return { mean: scaling.mean, std: scaling.std };
}

function gpt2HeadOf(manifest: Record<string, unknown>, head: HeadType, labels: string[] | null): Gpt2Head {
  if (isRecord(manifest.head)) {
    return manifest.head as unknown as Gpt2Head;
  }
  return head === 'classification' ? { type: head, numLabels: labels?.length ?? 0 } : { type: head };
}

export class LoadedModel {
  private disposed = false;

  private constructor(
    readonly architecture: ModelArchitecture,
    readonly head: HeadType,
    readonly dataTask: DatasetTask,
    readonly schema: DatasetSchema,
    readonly sequenceLength: number,
    readonly preprocessing: Preprocessing,
    readonly tokenizer: BpeTokenizer | null,
    private readonly params: ParameterMap,
    /** Memory the model holds: float32 weights plus the tokenizer's JSON. */
    readonly sizeBytes: number,
    private readonly batchSize: number,
  ) {}

  /** Rebuilds a model version from its files; throws ModelLoadError when the files do not fit together. */
  static fromFiles(files: ModelFiles, options: LoadOptions = {}): LoadedModel {
    const { manifest } = files;
    const head = headOf(manifest);
    const dataTask = dataTaskOf(manifest, head);
    const schema = schemaOf(manifest, dataTask);
    const labels = labelsOf(manifest);
    const targetScaling = targetScalingOf(manifest);
    if (head === 'regression' && targetScaling === null) {
      throw new ModelLoadError('a regression model needs targetScaling in its manifest');
    }
    if (!isRecord(manifest.config)) {
      throw new ModelLoadError('manifest config is missing');
    }
    let architecture: ModelArchitecture;
    let tokenizer: BpeTokenizer | null = null;
    let features: Preprocessing['features'] = null;
    let sequenceLength = 0;
    let outputLabels = labels;
    switch (manifest.family) {
      case 'gpt2': {
        const config = { ...(manifest.config as unknown as Gpt2Config) };
        const gpt2Head = gpt2HeadOf(manifest, head, labels);
        if (gpt2Head.type !== head) {
          throw new ModelLoadError(`manifest head ${gpt2Head.type} differs from its task ${head}`);
        }
        if (gpt2Head.type === 'classification') {
          // Hugging Face's names for a classifier that states none.
          outputLabels = labels ?? Array.from({ length: gpt2Head.numLabels }, (_, index) => `LABEL_${index}`);
        }
        architecture = { family: 'gpt2', config, head: gpt2Head };
        if (files.tokenizer === null) {
          throw new ModelLoadError('a gpt2 model needs tokenizer.json');
        }
        try {
          tokenizer = BpeTokenizer.fromJSON(JSON.parse(files.tokenizer));
        } catch (error) {
          throw new ModelLoadError(`tokenizer.json: ${error instanceof Error ? error.message : String(error)}`);
        }
        if (tokenizer.vocabSize > config.vocabSize) {
          throw new ModelLoadError(
            `the tokenizer has ${tokenizer.vocabSize} tokens but the model only ${config.vocabSize} embeddings`,
          );
        }
        const stated = manifest.sequenceLength;
        sequenceLength = Math.min(
          config.nPositions,
          typeof stated === 'number' && Number.isInteger(stated) && stated > 0 ? stated : config.nPositions,
        );
        break;
      }
      case 'mlp': {
        const config = manifest.config as unknown as MlpConfig;
        const stated = manifest.features;
        if (!isRecord(stated) || !Array.isArray(stated.fields)) {
          throw new ModelLoadError('an mlp model needs its feature preprocessing (features) in its manifest');
        }
        features = stated as unknown as NonNullable<Preprocessing['features']>;
        const width = featureCount(features);
        if (width !== config.inputSize) {
          throw new ModelLoadError(`the features encode ${width} inputs but the model takes ${config.inputSize}`);
        }
        architecture = { family: 'mlp', config };
        break;
      }
      default:
        throw new ModelLoadError(`manifest family ${JSON.stringify(manifest.family)} is not gpt2 or mlp`);
    }
    if (head === 'classification') {
      const outputs = architecture.family === 'mlp' ? architecture.config.outputSize : outputLabels?.length;
      if (outputLabels === null || outputLabels.length < 2 || outputs !== outputLabels.length) {
        throw new ModelLoadError(
          `a classification model needs one label per output: ${outputLabels?.length ?? 0} labels for ${outputs} outputs`,
        );
      }
      if (architecture.family === 'gpt2' && architecture.head.type === 'classification') {
        if (architecture.head.numLabels !== outputLabels.length) {
          throw new ModelLoadError(
            `the head has ${architecture.head.numLabels} outputs but the manifest ${outputLabels.length} labels`,
          );
        }
      }
    }

    let specs;
    try {
      specs = architectureParameterSpecs(architecture);
    } catch (error) {
      throw new ModelLoadError(error instanceof Error ? error.message : String(error));
    }
    let tensors = readFloatTensors(files.weights);
    if (architecture.family === 'gpt2') {
      tensors = normalizeGpt2Tensors(tensors);
    }
    let params: ParameterMap;
    try {
      params = importParameters(specs, tensors, { strict: true }).params;
    } catch (error) {
      throw new ModelLoadError(error instanceof Error ? error.message : String(error));
    }
    const sizeBytes = parameterCount(specs) * 4 + (files.tokenizer?.length ?? 0);
    return new LoadedModel(
      architecture,
      head,
      dataTask,
      schema,
      sequenceLength,
      { labels: outputLabels, targetScaling, features },
      tokenizer,
      params,
      sizeBytes,
      options.batchSize ?? (head === 'causal-lm' ? DEFAULT_LM_BATCH : DEFAULT_BATCH),
    );
  }

  get labels(): string[] | null {
    return this.preprocessing.labels;
  }

  /** The label of each row with its probabilities; rows need no label field. */
  classify(rows: DatasetRecord[]): Classification[] {
    this.expectHead('classification');
    const labels = this.preprocessing.labels!;
    const results: Classification[] = [];
    this.forEachBatch(this.examples(rows), (logits, count) => {
      const probabilities = tf.tidy(() => tf.softmax(logits)).dataSync() as Float32Array;
      const classes = labels.length;
      for (let i = 0; i < count; i += 1) {
        const row = Array.from(probabilities.subarray(i * classes, (i + 1) * classes));
        let best = 0;
        for (let c = 1; c < classes; c += 1) {
          if (row[c] > row[best]) {
            best = c;
          }
        }
        results.push({ label: labels[best], labelIndex: best, probabilities: row });
      }
    });
    return results;
  }

  /** Each row's value in the target's original units; rows need no target field. */
  regress(rows: DatasetRecord[]): number[] {
    this.expectHead('regression');
    const { mean, std } = this.preprocessing.targetScaling!;
    const values: number[] = [];
    this.forEachBatch(this.examples(rows), (output, count) => {
      const data = output.dataSync();
      for (let i = 0; i < count; i += 1) {
        values.push(data[i] * std + mean);
      }
    });
    return values;
  }

  /**
   * Per row: summed loss, target tokens and correct tokens over the row's target tokens, as the
   * training validation counts them. Each row is read on its own (a long causal-LM document over
   * several windows of the sequence length), so rows of two models pair up one to one.
   */
  languageModelStats(rows: DatasetRecord[]): LanguageModelRowStats[] {
    this.expectHead('causal-lm');
    const perRow = rows.map((row) => this.examples([row], false));
    const stats = rows.map((): LanguageModelRowStats => ({ lossSum: 0, tokens: 0, correct: 0 }));
    const set = concatenate(perRow, this.sequenceLength);
    const rowOf = Int32Array.from(perRow.flatMap((examples, row) => Array.from({ length: examples.count }, () => row)));
    let offset = 0;
    this.forEachBatch(set, (logits, count, batch) => {
      const lengths = batch.lengths!.dataSync();
      for (let i = 0; i < count; i += 1) {
        const length = lengths[i];
        const example = tf.tidy(() => {
          const rowLogits = tf.slice(logits, [i, 0, 0], [1, length, logits.shape[2]!]) as tf.Tensor3D;
          const ids = tf.slice(batch.inputIds!, [i, 0], [1, length]);
          const mask = tf.slice(batch.lossMask!, [i, 0], [1, length]);
          return { rowLogits, ids, mask };
        });
        try {
          const result = causalLmStats(example.rowLogits, example.ids, example.mask);
          const target = stats[rowOf[offset + i]];
          target.lossSum += result.lossSum;
          target.tokens += result.tokens;
          target.correct += result.correct;
        } finally {
          tf.dispose([example.rowLogits, example.ids, example.mask]);
        }
      }
      offset += count;
    });
    return stats;
  }

  /**
   * Logits of the token after `ids` (the last nPositions of them are read), one per token the
   * tokenizer knows: a larger embedding table's unused rows are never sampled.
   */
  nextTokenLogits(ids: readonly number[]): Float32Array {
    this.expectHead('causal-lm');
    if (this.architecture.family !== 'gpt2' || this.tokenizer === null) {
      throw new ModelLoadError('only a gpt2 causal-LM generates tokens');
    }
    if (ids.length === 0) {
      throw new ModelLoadError('generation needs at least one token of context');
    }
    const context = ids.slice(Math.max(0, ids.length - this.architecture.config.nPositions));
    const vocabulary = this.tokenizer.vocabSize;
    const architecture = this.architecture;
    const logits = tf.tidy(() => {
      const inputIds = tf.tensor2d(Int32Array.from(context), [1, context.length], 'int32');
      const lengths = tf.tensor1d([context.length], 'int32');
      const output = modelForward(this.params, architecture, { inputIds, lengths }, { training: false }) as tf.Tensor3D;
      return tf.slice(output, [0, context.length - 1, 0], [1, 1, vocabulary]);
    });
    try {
      return logits.dataSync() as Float32Array;
    } finally {
      logits.dispose();
    }
  }

  dispose(): void {
    if (!this.disposed) {
      this.disposed = true;
      disposeParameters(this.params);
    }
  }

  private expectHead(head: HeadType): void {
    if (this.disposed) {
      throw new ModelLoadError('the model was disposed');
    }
    if (this.head !== head) {
      throw new ModelLoadError(`this model has a ${this.head} head, not ${head}`);
    }
  }

  private examples(rows: DatasetRecord[], unlabelled = true): ExampleSet {
    return buildExamples(rows, {
      task: this.dataTask,
      schema: this.schema,
      head: this.head,
      sequenceLength: this.sequenceLength,
      tokenizer: this.tokenizer,
      preprocessing: this.preprocessing,
      unlabelled,
    });
  }

  /** The forward pass over `set` in batches; `use` reads each batch's output before it is freed. */
  private forEachBatch(
    set: ExampleSet,
    use: (output: tf.Tensor, count: number, batch: ReturnType<typeof batchTensors>) => void,
  ): void {
    const all = Int32Array.from({ length: set.count }, (_, index) => index);
    for (let start = 0; start < set.count; start += this.batchSize) {
      const indices = all.subarray(start, Math.min(set.count, start + this.batchSize));
      const batch = batchTensors(set, indices);
      let output: tf.Tensor | null = null;
      try {
        output = modelForward(this.params, this.architecture, batch, { training: false });
        use(output, indices.length, batch);
      } finally {
        output?.dispose();
        disposeBatch(batch);
      }
    }
  }
}

/** Token example sets end to end (same sequence length), for batching rows read one by one. */
function concatenate(sets: ExampleSet[], sequenceLength: number): ExampleSet {
  const count = sets.reduce((sum, set) => sum + set.count, 0);
  const T = sequenceLength;
  const result: ExampleSet = {
    count,
    sequenceLength: T,
    inputIds: new Int32Array(count * T),
    lengths: new Int32Array(count),
    lossMask: new Float32Array(count * T),
    features: null,
    featureCount: 0,
    labels: null,
    targets: null,
    tokenCount: 0,
  };
  let offset = 0;
  for (const set of sets) {
    if (set.count === 0) {
      continue;
    }
    result.inputIds!.set(set.inputIds!, offset * T);
    result.lengths!.set(set.lengths!, offset);
    result.lossMask!.set(set.lossMask!, offset * T);
    result.tokenCount += set.tokenCount;
    offset += set.count;
  }
  return result;
}
