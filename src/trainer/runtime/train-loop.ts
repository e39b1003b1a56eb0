/**
 * One training run inside a trainer worker: data to examples, model and optimiser set-up (fresh,
 * from a base model, or from a checkpoint), the step loop with gradient accumulation, clipping,
 * schedules, validation, early stopping, checkpoints, and the final model files.
 *
 * Everything here is deterministic for a given spec, seed and backend: the data order comes from
 * a seeded shuffle per epoch, and dropout takes a seed derived from the step, so a resumed run
 * continues exactly where the checkpoint left it.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import * as tf from '@tensorflow/tfjs';
import type { DatasetRecord } from '../../datasets/dataset-types.js';
import { readAllRecords, STORED_FILE_LIMITS } from '../../datasets/parsing/dataset-reader.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../formats/safetensors.js';
import {
  gpt2Hidden,
  gpt2LmLoss,
  normalizeGpt2Tensors,
  trainableParameterNames,
  type Gpt2Config,
  type Gpt2Head,
} from '../models/gpt2.js';
import type { MlpConfig } from '../models/mlp.js';
import {
  disposeParameters,
  exportParameters,
  importParameters,
  initializeParameters,
  parameterCount,
  setTrainable,
  type ParameterMap,
  type ParameterSpec,
} from '../models/parameters.js';
import { gpt2TrainingFlopsPerToken } from '../models/estimates.js';
import {
  architectureParameterSpecs,
  batchTensors,
  disposeBatch,
  modelForward,
  readFloatTensors,
  type BatchTensors,
  type ModelArchitecture,
} from '../inference/forward.js';
import { BpeTokenizer } from '../tokenizer/bpe-tokenizer.js';
import {
  binaryCrossEntropyLoss,
  causalLmLoss,
  causalLmStats,
  crossEntropyLoss,
  huberLoss,
  l1l2Penalty,
  maeLoss,
  mseLoss,
} from '../training/losses.js';
import { OverfittingDetector } from '../training/metrics.js';
import { clipGradientsByGlobalNorm, createOptimizer, type Optimizer } from '../training/optimizers.js';
import { learningRateAt, rangeTestLearningRates, suggestLearningRate } from '../training/schedules.js';
import {
  buildExamples,
  fitPreprocessing,
  permutation,
  splitRows,
  trainingTexts,
  type ExampleSet,
  type Preprocessing,
} from './examples.js';
import {
  CONTROL_CANCEL,
  CONTROL_PAUSE,
  type CheckpointPayload,
  type FileBytes,
  type StartTraining,
  type TrainingOutcome,
  type TrainingResult,
  type WorkerCheckpoint,
} from './protocol.js';
import { ModelSelection, type SelectionState } from './model-selection.js';
import { ThroughputWindow } from './throughput.js';
import { TrainingError } from './training-error.js';
import { ValidationMetrics } from './validation-metrics.js';
import type { Gpt2ModelConfig, HyperParameters, MlpModelConfig, TrainingSpec } from './training-spec.js';

export interface TrainerIo {
  event(level: 'info' | 'warn' | 'error', kind: string, message: string, data?: Record<string, unknown>): void;
  metrics(step: number, epoch: number, split: 'train' | 'validation', values: Record<string, unknown>): void;
  progress(step: number, totalSteps: number, epoch: number): void;
  /** Resolves once the checkpoint is stored and recorded: only then does it count. */
  checkpoint(checkpoint: Omit<WorkerCheckpoint, 'type' | 'requestId'>): Promise<void>;
  /** The control flag the main thread set (none, cancel, pause). */
  control(): number;
  /** Waits at a step the job asked to be held at (tests); resolves when the main thread releases it. */
  hold(step: number): Promise<void>;
}

export { TrainingError };

class Stop extends Error {
  constructor(readonly control: number) {
    super('stopped');
  }
}

interface CheckpointState extends SelectionState {
  step: number;
  epoch: number;
  cursor: { epoch: number; batchInEpoch: number };
  random: { seed: number; step: number };
  specHash: string;
  learningRate: number;
  overfitting: unknown;
  lastGoodCheckpointStep: number | null;
  trainLoss: number | null;
  /** Validation metrics of the starting model. */
  startMetrics?: Record<string, number> | null;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function readRows(bytes: Uint8Array, format: 'jsonl' | 'csv', compression: 'gzip' | 'none'): Promise<DatasetRecord[]> {
  return readAllRecords(Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]), {
    format,
    compression,
    ...STORED_FILE_LIMITS,
  });
}

function toNamedTensors(exported: Map<string, { shape: number[]; data: Float32Array }>): Map<string, NamedTensor> {
  const tensors = new Map<string, NamedTensor>();
  for (const [name, tensor] of exported) {
    tensors.set(name, { dtype: 'F32', shape: tensor.shape, data: tensor.data });
  }
  return tensors;
}

/** Mixes the run seed with a counter: the dropout seed of one micro-batch. */
function stepSeed(seed: number, counter: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(counter + 1, 0xc2b2ae35)) >>> 0;
}

export class TrainingRun {
  private readonly spec: TrainingSpec;
  private readonly hp: HyperParameters;
  private params: ParameterMap = new Map();
  private specs: ParameterSpec[] = [];
  private trainable = new Set<string>();
  private optimizer: Optimizer | undefined;
  private tokenizer: BpeTokenizer | null = null;
  private preprocessing: Preprocessing = { labels: null, targetScaling: null, features: null };
  private gpt2Config: Gpt2Config | null = null;
  private gpt2Head: Gpt2Head = { type: 'causal-lm' };
  private mlpConfig: MlpConfig | null = null;
  private train: ExampleSet | undefined;
  private validation: ExampleSet | undefined;
  private learningRate = 0;
  private readonly selection: ModelSelection;
  private overfitting = new OverfittingDetector();
  private lastGoodCheckpointStep: number | null = null;
  private lastValidation: Record<string, number> | null = null;
  private startMetrics: Record<string, number> | null = null;
  private readonly holdAt: ReadonlySet<number> | null;

  constructor(
    private readonly start: StartTraining,
    private readonly io: TrainerIo,
    private readonly backend: string,
  ) {
    this.spec = start.spec;
    this.hp = start.spec.hyperparameters;
    this.holdAt = start.holdAtSteps ? new Set(start.holdAtSteps) : null;
    this.selection = new ModelSelection(this.hp.earlyStopping);
  }

  async run(): Promise<TrainingOutcome> {
    try {
      return await this.execute();
    } catch (error) {
      if (error instanceof Stop) {
        return error.control === CONTROL_PAUSE
          ? { status: 'paused', step: this.step }
          : { status: 'cancelled', step: this.step };
      }
      if (error instanceof TrainingError) {
        return { status: 'failed', code: error.code, message: error.message, step: error.step };
      }
      const message = error instanceof Error ? error.message : String(error);
      return { status: 'failed', code: 'training_error', message, step: this.step };
    } finally {
      this.optimizer?.dispose();
      disposeParameters(this.params);
    }
  }

  private step = 0;
  private stepsPerEpoch = 1;

  private async execute(): Promise<TrainingOutcome> {
    await this.prepareData();
    this.buildModel();
    const { stepsPerEpoch, totalSteps } = this.plan();
    this.stepsPerEpoch = stepsPerEpoch;
    this.createOptimizer();
    if (this.start.resume) {
      this.restore(this.start.resume.latest, this.start.resume.best);
    } else {
      this.learningRate = this.hp.learningRate === 'auto' ? this.findLearningRate() : this.hp.learningRate;
    }

    const flopsPerExample =
      this.gpt2Config !== null
        ? gpt2TrainingFlopsPerToken(this.gpt2Config, this.hp.sequenceLength, this.gpt2Head) *
          this.meanTokens(this.train!)
        : 6 * parameterCount(this.specs);
    this.io.event('info', 'plan', `Training ${totalSteps} steps (${stepsPerEpoch} per epoch) on ${this.backend}`, {
      backend: this.backend,
      stepsPerEpoch,
      totalSteps,
      startStep: this.step,
      trainingExamples: this.train!.count,
      validationExamples: this.validation!.count,
      parameters: parameterCount(this.specs),
      trainableParameters: this.specs
        .filter((spec) => this.trainable.has(spec.name))
        .reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1), 0),
      learningRate: this.learningRate,
      flopsPerExample,
      unit: this.unit(),
    });
    if (this.step === 0 && this.startMetrics === null) {
      this.evaluateStart();
    }

    const throughput = new ThroughputWindow();
    let trainLoss: number | null = null;
    let stopEarly = false;
    let finalEvaluation: { step: number; metrics: Record<string, number> } | null = null;
    const runStart = performance.now();
    const runStartStep = this.step;

    while (this.step < totalSteps && !stopEarly) {
      if (this.holdAt?.has(this.step)) {
        this.io.progress(this.step, totalSteps, this.step / stepsPerEpoch);
        await this.io.hold(this.step);
      }
      this.checkControl();
      if (this.io.control() === CONTROL_PAUSE) {
        await this.saveCheckpoint('pause', false, null, trainLoss);
        return { status: 'paused', step: this.step };
      }
      const epoch = Math.floor(this.step / stepsPerEpoch);
      const batchInEpoch = this.step % stepsPerEpoch;
      const order = this.epochOrder(epoch);
      const learningRate = learningRateAt(this.step, totalSteps, this.learningRate, this.hp.schedule);
      const { loss, examples, tokens } = this.optimizerStep(order, batchInEpoch, learningRate);
      this.step += 1;
      throughput.add(loss, examples, tokens);
      trainLoss = trainLoss === null ? loss : 0.9 * trainLoss + 0.1 * loss;
      const epochEnd = this.step % stepsPerEpoch === 0 || this.step === totalSteps;
      const epochProgress = this.step / stepsPerEpoch;

      if (this.step % this.hp.logEverySteps === 0 || epochEnd) {
        const elapsed = (performance.now() - runStart) / 1000;
        const secondsPerStep = elapsed / Math.max(1, this.step - runStartStep);
        const values = {
          ...throughput.take(this.unit(), flopsPerExample),
          learningRate,
          etaSeconds: Math.round((totalSteps - this.step) * secondsPerStep),
        };
        this.io.metrics(this.step, epochProgress, 'train', values);
        this.io.progress(this.step, totalSteps, epochProgress);
      }

      let evaluated = false;
      let isBest = false;
      if (this.step % this.hp.evalEverySteps === 0 || epochEnd) {
        this.checkControl();
        const metrics = this.evaluate();
        evaluated = true;
        this.lastValidation = metrics;
        const decision = this.selection.update(this.step, metrics, () => this.copyWeights());
        isBest = decision.improved;
        stopEarly = decision.stop;
        // The last evaluation is the final one when the weights it saw are the ones kept.
        const final = (this.step === totalSteps || stopEarly) && this.selection.keptStep(this.step) === this.step;
        this.io.metrics(this.step, epochProgress, 'validation', final ? { ...metrics, final: true } : metrics);
        if (final) {
          finalEvaluation = { step: this.step, metrics };
        }
        const warning = trainLoss !== null ? this.overfitting.update(trainLoss, metrics.loss) : undefined;
        if (warning) {
          this.io.event('warn', 'overfitting', warning, { step: this.step, trainLoss, validationLoss: metrics.loss });
        }
      }

      const intervalCheckpoint = this.step % this.hp.checkpointEverySteps === 0;
      if (intervalCheckpoint || epochEnd || (isBest && this.hp.keepBestCheckpoint)) {
        await this.saveCheckpoint(
          intervalCheckpoint ? 'interval' : epochEnd ? 'epoch_end' : 'best',
          isBest,
          evaluated ? this.lastValidation : null,
          trainLoss,
        );
      }
      // Let messages (acks) through; the control flag is shared memory and needs no turn.
      await new Promise((resolve) => setImmediate(resolve));
    }

    const best = this.selection.best;
    if (stopEarly && best) {
      this.io.event(
        'info',
        'early_stopping',
        `Stopped early at step ${this.step}: ${this.hp.earlyStopping!.monitor} did not improve for ${this.hp.earlyStopping!.patience} evaluations; restored the best weights from step ${best.step}`,
        { step: this.step, best: { step: best.step, value: best.value } },
      );
    }
    if (finalEvaluation === null) {
      finalEvaluation = this.finalEvaluation();
    }
    return { status: 'succeeded', result: this.result(finalEvaluation, stopEarly) };
  }

  /** Tokens for gpt2; examples (rows) for mlp, which has no tokens. */
  private unit(): 'tokens' | 'examples' {
    return this.spec.family === 'gpt2' ? 'tokens' : 'examples';
  }

  /** The starting model's validation metrics (step 0): what training gains is measured against them. */
  private evaluateStart(): void {
    this.checkControl();
    const metrics = this.evaluate();
    this.startMetrics = metrics;
    this.io.metrics(0, 0, 'validation', { ...metrics, start: true });
    this.io.event(
      'info',
      'start_evaluation',
      `Evaluated the starting model before training: validation loss ${metrics.loss.toPrecision(4)}`,
      { step: 0, metrics },
    );
  }

  /**
   * When the last evaluation did not see the weights kept (early stopping restores earlier ones,
   * or a resumed run had no step left): the final metrics, labelled with the step of those weights.
   * The best step's metrics are reused as they were measured; only a run that has none evaluates.
   */
  private finalEvaluation(): { step: number; metrics: Record<string, number> } {
    const step = this.selection.keptStep(this.step);
    const kept = this.selection.keptWeights(this.step);
    let metrics: Record<string, number>;
    if (kept) {
      this.loadWeights(kept);
      metrics = this.selection.best?.metrics ?? this.evaluate();
    } else {
      metrics = this.evaluate();
    }
    this.io.metrics(step, step / this.stepsPerEpoch, 'validation', { ...metrics, final: true });
    return { step, metrics };
  }

  private meanTokens(set: ExampleSet): number {
    return set.count > 0 ? set.tokenCount / set.count : 0;
  }

  /** Cancel stops anywhere; pause waits for a step boundary, where the loop checkpoints. */
  private checkControl(): void {
    if (this.io.control() === CONTROL_CANCEL) {
      throw new Stop(CONTROL_CANCEL);
    }
  }

  // ---------------------------------------------------------------- data

  private async prepareData(): Promise<void> {
    const { spec } = this;
    let trainRows = await readRows(this.start.training, spec.training.format, spec.training.compression);
    let validationRows: DatasetRecord[];
    if (this.start.validation && spec.validation) {
      validationRows = await readRows(this.start.validation, spec.validation.format, spec.validation.compression);
    } else {
      if (trainRows.length < 2) {
        throw new TrainingError(
          'not_enough_data',
          `The training data has ${trainRows.length} usable rows; at least 2 are needed`,
        );
      }
      const split = splitRows(trainRows, this.hp.validationFraction, this.hp.seed);
      trainRows = split.training;
      validationRows = split.validation;
    }
    if (trainRows.length === 0 || validationRows.length === 0) {
      throw new TrainingError('not_enough_data', 'The training or validation data has no usable rows');
    }

    const tabular = spec.family === 'mlp';
    if (!tabular) {
      const base = this.start.baseModel;
      if (base?.tokenizer) {
        this.tokenizer = BpeTokenizer.fromJSON(JSON.parse(base.tokenizer));
      } else if (this.start.resume?.latest.tokenizer) {
        // The tokenizer trained by the first attempt: a resumed run must read tokens identically.
        this.tokenizer = BpeTokenizer.fromJSON(JSON.parse(this.start.resume.latest.tokenizer));
      } else {
        const began = performance.now();
        this.tokenizer = BpeTokenizer.train(trainingTexts(trainRows, spec.dataTask, spec.schema), {
          vocabSize: spec.tokenizerVocabSize ?? (spec.modelConfig as Gpt2ModelConfig).vocabSize,
        });
        this.io.event('info', 'tokenizer', `Trained a byte-level BPE tokenizer of ${this.tokenizer.vocabSize} tokens`, {
          vocabSize: this.tokenizer.vocabSize,
          seconds: (performance.now() - began) / 1000,
        });
      }
    }
    this.preprocessing = fitPreprocessing(trainRows, spec.schema, spec.head, tabular, null);
    const options = {
      task: spec.dataTask,
      schema: spec.schema,
      head: spec.head,
      sequenceLength: this.hp.sequenceLength,
      tokenizer: this.tokenizer,
      preprocessing: this.preprocessing,
    };
    this.train = buildExamples(trainRows, options);
    this.validation = buildExamples(validationRows, options);
    if (this.train.count === 0 || this.validation.count === 0) {
      throw new TrainingError(
        'not_enough_data',
        `No usable examples: ${this.train.count} for training, ${this.validation.count} for validation (rows without a usable label are skipped)`,
      );
    }
    // gpt2 counts tokens; an mlp example is one row, with featureCount inputs and no tokens.
    this.io.event('info', 'data', `${this.train.count} training and ${this.validation.count} validation examples`, {
      trainingExamples: this.train.count,
      validationExamples: this.validation.count,
      unit: this.unit(),
      ...(tabular ? { featuresPerExample: this.train.featureCount } : { trainingTokens: this.train.tokenCount }),
      labels: this.preprocessing.labels,
    });
  }

  // ---------------------------------------------------------------- model

  private buildModel(): void {
    const { spec } = this;
    if (spec.family === 'gpt2') {
      const config = spec.modelConfig as Gpt2ModelConfig;
      this.gpt2Config = {
        ...config,
        dropout: this.hp.dropout ?? config.dropout,
      };
      if (this.tokenizer && this.tokenizer.vocabSize > this.gpt2Config.vocabSize) {
        throw new TrainingError(
          'tokenizer_mismatch',
          `The tokenizer has ${this.tokenizer.vocabSize} tokens but the model only ${this.gpt2Config.vocabSize} embeddings`,
        );
      }
      this.gpt2Head =
        spec.head === 'classification'
          ? { type: 'classification', numLabels: this.preprocessing.labels!.length }
          : spec.head === 'regression'
            ? { type: 'regression' }
            : { type: 'causal-lm' };
      this.specs = architectureParameterSpecs(this.architecture());
    } else {
      const config = spec.modelConfig as MlpModelConfig;
      this.mlpConfig = {
        inputSize: this.train!.featureCount,
        hiddenSizes: config.hiddenSizes,
        outputSize: spec.head === 'classification' ? this.preprocessing.labels!.length : 1,
        activation: config.activation,
        dropout: this.hp.dropout ?? config.dropout,
      };
      this.specs = architectureParameterSpecs(this.architecture());
    }

    const base = this.start.baseModel;
    if (base && !this.start.resume) {
      let tensors = readFloatTensors(base.weights);
      if (spec.family === 'gpt2') {
        tensors = normalizeGpt2Tensors(tensors);
      }
      // A new head on a base body: the head starts fresh; everything else must match.
      const headNames = new Set(this.specs.filter((s) => s.name.startsWith('score.')).map((s) => s.name));
      const sameHead =
        base.manifest.task === spec.head &&
        JSON.stringify(base.manifest.labels ?? null) === JSON.stringify(this.preprocessing.labels);
      const keep = new Map([...tensors].filter(([name]) => !headNames.has(name) || sameHead));
      const imported = importParameters(this.specs, keep, { strict: false, seed: this.hp.seed });
      const bodyMissing = imported.initialized.filter((name) => !headNames.has(name));
      if (bodyMissing.length > 0) {
        disposeParameters(imported.params);
        throw new TrainingError(
          'base_model_mismatch',
          `The base model lacks ${bodyMissing.length} parameters: ${bodyMissing.slice(0, 5).join(', ')}`,
        );
      }
      this.params = imported.params;
      this.io.event(
        'info',
        'base_model',
        `Loaded the base model ${spec.baseModel?.name ?? ''} v${spec.baseModel?.version ?? ''}`,
        {
          initialized: imported.initialized,
          ignored: imported.ignored,
        },
      );
    } else {
      this.params = initializeParameters(this.specs, this.hp.seed);
    }

    const names = [...this.params.keys()];
    if (spec.family === 'gpt2' && spec.method.type === 'freeze') {
      try {
        this.trainable = trainableParameterNames(names, this.gpt2Config!, spec.method);
      } catch (error) {
        throw new TrainingError('invalid_method', error instanceof Error ? error.message : String(error));
      }
    } else {
      this.trainable = new Set(names);
    }
    setTrainable(this.params, this.trainable);
  }

  private architecture(): ModelArchitecture {
    return this.gpt2Config
      ? { family: 'gpt2', config: this.gpt2Config, head: this.gpt2Head }
      : { family: 'mlp', config: this.mlpConfig! };
  }

  private createOptimizer(): void {
    const noDecay = new Set(this.specs.filter((spec) => !spec.decay).map((spec) => spec.name));
    this.optimizer = createOptimizer(this.hp.optimizer, { noDecay: (name) => noDecay.has(name) });
  }

  private plan(): { stepsPerEpoch: number; totalSteps: number } {
    const examplesPerStep = this.hp.batchSize * this.hp.gradientAccumulationSteps;
    const stepsPerEpoch = Math.max(1, Math.ceil(this.train!.count / examplesPerStep));
    const epochSteps = stepsPerEpoch * this.hp.epochs;
    const totalSteps = this.hp.maxSteps !== null ? Math.min(this.hp.maxSteps, epochSteps) : epochSteps;
    return { stepsPerEpoch, totalSteps };
  }

  private epochOrders = new Map<number, Int32Array>();

  private epochOrder(epoch: number): Int32Array {
    let order = this.epochOrders.get(epoch);
    if (!order) {
      this.epochOrders.clear();
      order = permutation(this.train!.count, stepSeed(this.hp.seed, epoch));
      this.epochOrders.set(epoch, order);
    }
    return order;
  }

  // ---------------------------------------------------------------- forward and loss

  private tokensIn(set: ExampleSet, indices: ArrayLike<number>): number {
    if (!set.lengths) {
      return indices.length;
    }
    let tokens = 0;
    for (let i = 0; i < indices.length; i += 1) {
      tokens += set.lengths[indices[i]];
    }
    return tokens;
  }

  private classWeights(): number[] | undefined {
    const weights = this.hp.loss.classWeights;
    if (weights === undefined) {
      return undefined;
    }
    if (weights === 'balanced') {
      // sklearn's "balanced": n_samples / (n_classes * count(class)).
      const labels = this.preprocessing.labels!;
      const counts = new Array<number>(labels.length).fill(0);
      for (const label of this.train!.labels!) {
        counts[label] += 1;
      }
      return counts.map((count) => (count > 0 ? this.train!.count / (labels.length * count) : 0));
    }
    return weights;
  }

  private lossOf(output: tf.Tensor, batch: BatchTensors): tf.Scalar {
    const loss = this.hp.loss;
    if (this.spec.head === 'causal-lm') {
      return causalLmLoss(output as tf.Tensor3D, batch.inputIds!, batch.lossMask!);
    }
    if (this.spec.head === 'classification') {
      if (loss.name === 'binary_cross_entropy') {
        const classes = this.preprocessing.labels!.length;
        return binaryCrossEntropyLoss(output, tf.oneHot(batch.labels!, classes).toFloat());
      }
      return crossEntropyLoss(output as tf.Tensor2D, batch.labels!, {
        labelSmoothing: loss.labelSmoothing,
        classWeights: this.classWeights(),
      });
    }
    switch (loss.name) {
      case 'mae':
        return maeLoss(output, batch.targets!);
      case 'huber':
        return huberLoss(output, batch.targets!, loss.huberDelta ?? 1);
      case 'mse':
      case 'cross_entropy':
      case 'binary_cross_entropy':
        return mseLoss(output, batch.targets!);
      default: {
        const unreachable: never = loss.name;
        throw new Error(`unknown loss ${String(unreachable)}`);
      }
    }
  }

  /** The loss of one training micro-batch; the causal-LM head never materialises its [B,T,V] logits. */
  private trainingLoss(batch: BatchTensors, seed: number): tf.Scalar {
    if (this.gpt2Config && this.gpt2Head.type === 'causal-lm') {
      const hidden = gpt2Hidden(this.params, this.gpt2Config, batch.inputIds!, { training: true, seed });
      return gpt2LmLoss(this.params, this.gpt2Config, hidden, batch.inputIds!, {
        targetMask: batch.lossMask,
        labelSmoothing: this.hp.loss.labelSmoothing,
      });
    }
    return this.lossOf(modelForward(this.params, this.architecture(), batch, { training: true, seed }), batch);
  }

  private penalty(): tf.Scalar | null {
    if (this.hp.l1 === 0 && this.hp.l2 === 0) {
      return null;
    }
    const weights = this.specs
      .filter((spec) => spec.decay && this.trainable.has(spec.name))
      .map((spec) => this.params.get(spec.name)!);
    return l1l2Penalty(weights, this.hp.l1, this.hp.l2);
  }

  /** One optimiser step over `gradientAccumulationSteps` micro-batches; returns the mean loss. */
  private optimizerStep(
    order: Int32Array,
    batchInEpoch: number,
    learningRate: number,
  ): { loss: number; examples: number; tokens: number } {
    const accumulation = this.hp.gradientAccumulationSteps;
    const batchSize = this.hp.batchSize;
    const variables = [...this.trainable].map((name) => this.params.get(name)!);
    const nameOf = new Map(variables.map((variable, index) => [variable.name, [...this.trainable][index]]));
    let summed: Map<string, tf.Tensor> | null = null;
    let lossSum = 0;
    let micro = 0;
    let examples = 0;
    let tokens = 0;
    try {
      for (let m = 0; m < accumulation; m += 1) {
        const start = (batchInEpoch * accumulation + m) * batchSize;
        const indices = order.subarray(start, Math.min(order.length, start + batchSize));
        if (indices.length === 0) {
          break;
        }
        // Cancel between micro-batches too: a long accumulated step need not finish first.
        if (this.io.control() === CONTROL_CANCEL) {
          throw new Stop(CONTROL_CANCEL);
        }
        const batch = batchTensors(this.train!, indices);
        const seed = stepSeed(this.hp.seed, this.step * accumulation + m + 1_000_003);
        try {
          const { value, grads } = tf.variableGrads(() => {
            const loss = this.trainingLoss(batch, seed);
            const penalty = this.penalty();
            return penalty ? tf.add(loss, penalty) : loss;
          }, variables);
          const loss = value.dataSync()[0];
          value.dispose();
          if (!Number.isFinite(loss)) {
            Object.values(grads).forEach((grad) => grad.dispose());
            throw new TrainingError(
              'nan_loss',
              `The loss became ${String(loss)} at step ${this.step + 1}; training stopped. ` +
                (this.lastGoodCheckpointStep !== null
                  ? `The last good checkpoint is step ${this.lastGoodCheckpointStep}. `
                  : 'No checkpoint was written yet. ') +
                'Lower the learning rate or enable gradientClipNorm.',
              this.step + 1,
            );
          }
          lossSum += loss;
          micro += 1;
          examples += indices.length;
          tokens += this.tokensIn(this.train!, indices);
          if (summed === null) {
            summed = new Map(Object.entries(grads).map(([name, grad]) => [nameOf.get(name)!, grad]));
          } else {
            for (const [name, grad] of Object.entries(grads)) {
              const key = nameOf.get(name)!;
              const previous = summed.get(key)!;
              summed.set(key, tf.add(previous, grad));
              previous.dispose();
              grad.dispose();
            }
          }
        } finally {
          disposeBatch(batch);
        }
      }
      if (summed === null || micro === 0) {
        return { loss: 0, examples: 0, tokens: 0 };
      }
      let grads: Map<string, tf.Tensor> = summed;
      if (micro > 1) {
        grads = new Map([...summed].map(([name, grad]) => [name, tf.div(grad, micro)]));
        summed.forEach((grad) => grad.dispose());
        summed = grads;
      }
      if (this.hp.gradientClipNorm !== null) {
        const clipped = clipGradientsByGlobalNorm(grads, this.hp.gradientClipNorm);
        grads.forEach((grad) => grad.dispose());
        grads = clipped.grads;
        summed = grads;
        if (!Number.isFinite(clipped.norm)) {
          throw new TrainingError(
            'nan_loss',
            `The gradient norm became ${String(clipped.norm)} at step ${this.step + 1}; training stopped. Lower the learning rate.`,
            this.step + 1,
          );
        }
      }
      this.optimizer!.step(this.params, grads, learningRate);
      return { loss: lossSum / micro, examples, tokens };
    } finally {
      summed?.forEach((grad) => grad.dispose());
    }
  }

  // ---------------------------------------------------------------- learning rate range test

  /** `learningRate: auto`: a short LR range test (Smith 2017, fastai's lr_find) on a copy of the start weights. */
  private findLearningRate(): number {
    const saved = this.copyWeights();
    const steps = Math.min(40, Math.max(10, this.train!.count));
    const rates = rangeTestLearningRates(1e-6, 1, steps);
    const losses: number[] = [];
    const realOptimizer = this.optimizer!;
    this.createOptimizer();
    let smoothed = 0;
    let best = Infinity;
    try {
      for (let i = 0; i < rates.length; i += 1) {
        const order = this.epochOrder(Math.floor(i / Math.max(1, Math.ceil(this.train!.count / this.hp.batchSize))));
        const batchIndex =
          i % Math.max(1, Math.ceil(this.train!.count / (this.hp.batchSize * this.hp.gradientAccumulationSteps)));
        let loss: number;
        try {
          loss = this.optimizerStep(order, batchIndex, rates[i]).loss;
        } catch (error) {
          if (error instanceof TrainingError && error.code === 'nan_loss') {
            break;
          }
          throw error;
        }
        smoothed = 0.9 * smoothed + 0.1 * loss;
        const debiased = smoothed / (1 - 0.9 ** (i + 1));
        losses.push(debiased);
        best = Math.min(best, debiased);
        if (debiased > 4 * best) {
          break;
        }
      }
    } finally {
      this.optimizer!.dispose();
      this.optimizer = realOptimizer;
      this.loadWeights(saved);
      this.epochOrders.clear();
    }
    const suggestion = suggestLearningRate(rates.slice(0, losses.length), losses);
    this.io.event(
      'info',
      'learning_rate',
      `learningRate auto: ${suggestion.learningRate.toExponential(2)} (${suggestion.method})`,
      {
        learningRate: suggestion.learningRate,
        method: suggestion.method,
        rangeTest: rates.slice(0, losses.length).map((rate, index) => ({ learningRate: rate, loss: losses[index] })),
      },
    );
    return suggestion.learningRate;
  }

  // ---------------------------------------------------------------- validation

  evaluate(): Record<string, number> {
    const set = this.validation!;
    // Causal LM evaluation holds [B,T,V] logits: keep its batches at the training size.
    const batchSize = this.spec.head === 'causal-lm' ? this.hp.batchSize : Math.max(this.hp.batchSize, 16);
    const all = Int32Array.from({ length: set.count }, (_, index) => index);
    const metrics = new ValidationMetrics(this.spec.head, this.preprocessing.labels, this.preprocessing.targetScaling);
    for (let start = 0; start < set.count; start += batchSize) {
      const indices = all.subarray(start, Math.min(set.count, start + batchSize));
      const batch = batchTensors(set, indices);
      try {
        if (this.spec.head === 'causal-lm') {
          metrics.addLanguageModelBatch(
            tf.tidy(() => {
              const logits = modelForward(this.params, this.architecture(), batch, { training: false }) as tf.Tensor3D;
              return causalLmStats(logits, batch.inputIds!, batch.lossMask!);
            }),
          );
        } else {
          const [loss, output] = tf.tidy(() => {
            const out = modelForward(this.params, this.architecture(), batch, { training: false });
            return [this.lossOf(out, batch).dataSync()[0], out.dataSync().slice()] as const;
          });
          metrics.addBatch(loss, indices.length, output);
        }
      } finally {
        disposeBatch(batch);
      }
    }
    return metrics.result({ labels: set.labels, targets: set.targets });
  }

  // ---------------------------------------------------------------- weights, checkpoints, result

  private copyWeights(): Map<string, Float32Array> {
    const copy = new Map<string, Float32Array>();
    for (const [name, tensor] of exportParameters(this.params)) {
      copy.set(name, tensor.data);
    }
    return copy;
  }

  private loadWeights(weights: Map<string, Float32Array>): void {
    for (const [name, data] of weights) {
      const variable = this.params.get(name);
      if (variable) {
        const value = tf.tensor(data, variable.shape, 'float32');
        variable.assign(value);
        value.dispose();
      }
    }
  }

  private weightFiles(): Uint8Array {
    return encodeSafetensors(toNamedTensors(exportParameters(this.params)), { format: 'pt', producer: 'tuneforge' });
  }

  private async saveCheckpoint(
    reason: WorkerCheckpoint['reason'],
    isBest: boolean,
    metrics: Record<string, number> | null,
    trainLoss: number | null,
  ): Promise<void> {
    const epoch = this.step / this.stepsPerEpoch;
    const cursor = { epoch: Math.floor(epoch), batchInEpoch: this.step % this.stepsPerEpoch };
    const state = this.optimizer!.getState();
    const optimizerTensors = new Map<string, NamedTensor>();
    for (const [name, tensor] of state.tensors) {
      optimizerTensors.set(name, {
        dtype: 'F32',
        shape: [...tensor.shape],
        data: Float32Array.from(tensor.dataSync()),
      });
      tensor.dispose();
    }
    const checkpointState: CheckpointState = {
      step: this.step,
      epoch,
      cursor,
      random: { seed: this.hp.seed, step: this.step },
      specHash: this.start.specHash,
      learningRate: this.learningRate,
      ...this.selection.toState(),
      overfitting: this.overfitting.toJSON(),
      lastGoodCheckpointStep: this.step,
      trainLoss,
      startMetrics: this.startMetrics,
    };
    const files: FileBytes[] = [
      { name: 'weights.safetensors', bytes: this.weightFiles() },
      {
        name: 'optimizer.safetensors',
        bytes: encodeSafetensors(optimizerTensors, { step: String(state.step), optimizer: this.hp.optimizer.name }),
      },
      { name: 'state.json', bytes: json(checkpointState) },
    ];
    if (this.tokenizer && !this.start.baseModel) {
      files.push({ name: 'tokenizer.json', bytes: json(this.tokenizer.toJSON()) });
    }
    await this.io.checkpoint({ step: this.step, epoch, reason, isBest, metrics, files });
    this.lastGoodCheckpointStep = this.step;
  }

  private restore(latest: CheckpointPayload, best: CheckpointPayload | null): void {
    const state = JSON.parse(text(latest.state)) as CheckpointState;
    const imported = importParameters(this.specs, readFloatTensors(latest.weights), { strict: true });
    disposeParameters(this.params);
    this.params = imported.params;
    setTrainable(this.params, this.trainable);
    const decoded = decodeSafetensors(latest.optimizer);
    const tensors = new Map<string, tf.Tensor>();
    for (const [name, tensor] of decoded.tensors) {
      tensors.set(name, tf.tensor(tensor.data, tensor.shape, 'float32'));
    }
    try {
      this.optimizer!.setState({ step: Number(decoded.metadata.step ?? state.step), tensors }, this.params);
    } finally {
      tensors.forEach((tensor) => tensor.dispose());
    }
    this.step = state.step;
    // A learning rate changed on resume (recorded in the job's spec changes) wins over the checkpoint's.
    this.learningRate = this.hp.learningRate === 'auto' ? state.learningRate : this.hp.learningRate;
    this.lastGoodCheckpointStep = state.step;
    this.startMetrics = state.startMetrics ?? null;
    this.selection.restore(
      state,
      best && this.hp.earlyStopping
        ? new Map([...readFloatTensors(best.weights)].map(([name, tensor]) => [name, tensor.data]))
        : null,
    );
    if (state.overfitting) {
      this.overfitting = OverfittingDetector.fromJSON(state.overfitting);
    }
    this.io.event(
      'info',
      'restored',
      `Restored weights, optimizer state and data position from the checkpoint at step ${state.step} (attempt ${this.start.attempt})`,
      {
        step: state.step,
        attempt: this.start.attempt,
        weightsSha256: sha256(latest.weights),
      },
    );
  }

  private result(final: { step: number; metrics: Record<string, number> }, stoppedEarly: boolean): TrainingResult {
    const weights = this.weightFiles();
    const files: FileBytes[] = [{ name: 'model.safetensors', bytes: weights }];
    if (this.tokenizer) {
      files.push({ name: 'tokenizer.json', bytes: json(this.tokenizer.toJSON()) });
    }
    const manifest: Record<string, unknown> = {
      format: 'tuneforge-model/1',
      family: this.spec.family,
      task: this.spec.head,
      config: this.gpt2Config ?? this.mlpConfig,
      head: this.gpt2Config ? this.gpt2Head : { type: this.spec.head },
      labels: this.preprocessing.labels,
      targetScaling: this.preprocessing.targetScaling,
      features: this.preprocessing.features,
      dataTask: this.spec.dataTask,
      schema: this.spec.schema,
      sequenceLength: this.hp.sequenceLength,
      tokenizer: this.tokenizer ? 'tokenizer.json' : null,
      weights: 'model.safetensors',
      parameterCount: parameterCount(this.specs),
      trainedSteps: this.step,
      stoppedEarly,
      bestStep: this.selection.best?.step ?? null,
      weightsStep: final.step,
      backend: this.backend,
    };
    files.push({ name: 'manifest.json', bytes: json(manifest) });
    return {
      manifest,
      files,
      metrics: final.metrics,
      metricsStep: final.step,
      startMetrics: this.startMetrics,
      parameterCount: parameterCount(this.specs),
    };
  }
}
