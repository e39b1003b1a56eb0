/**
 * Turns a job request into a complete TrainingSpec: every default filled in, every combination
 * checked against the data and the model, so a job that is queued can run. Pure: the service
 * loads what it needs and hands it over.
 */
import type { DatasetSchema, DatasetTask } from '../datasets/dataset-types.js';
import type { ErrorDetail as FieldProblem } from '../platform/errors/domain-error.js';
import type {
  DatasetRef,
  Gpt2ModelConfig,
  HeadType,
  HyperParameters,
  MlpModelConfig,
  ModelFamily,
  TrainingMethod,
  TrainingSpec,
} from '../trainer/runtime/training-spec.js';
import type { CreateJobDto, HyperparametersDto } from './job.dto.js';

export interface BaseModelInfo {
  modelVersionId: string;
  name: string;
  version: number;
  artifactPrefix: string;
  family: ModelFamily;
  task: string;
  config: Record<string, unknown>;
  hasTokenizer: boolean;
}

/** What the quality report found an input field to hold: text, single numbers, or vectors of `length` numbers. */
export interface InputFieldKind {
  kind: 'text' | 'numeric' | 'vector';
  length?: number;
}

export interface SpecInputs {
  request: CreateJobDto;
  datasetTask: DatasetTask;
  schema: DatasetSchema;
  training: DatasetRef;
  validation: DatasetRef | null;
  baseModel: BaseModelInfo | null;
  /** The training version's input fields by kind (from its quality report); absent for text tasks. */
  inputFieldKinds?: Record<string, InputFieldKind>;
  validationInputFieldKinds?: Record<string, InputFieldKind>;
}

/** The input field kinds in a stored quality report (`features.fields`), or {} when it has none. */
export function inputFieldKindsOf(report: unknown): Record<string, InputFieldKind> {
  const fields = (report as { features?: { fields?: unknown } } | null)?.features?.fields;
  if (typeof fields !== 'object' || fields === null) {
    return {};
  }
  const kinds: Record<string, InputFieldKind> = {};
  for (const [field, profile] of Object.entries(fields as Record<string, { kind?: unknown; length?: unknown }>)) {
    if (profile?.kind === 'vector' && typeof profile.length === 'number') {
      kinds[field] = { kind: 'vector', length: profile.length };
    } else if (profile?.kind === 'numeric' || profile?.kind === 'text') {
      kinds[field] = { kind: profile.kind };
    }
  }
  return kinds;
}

/**
 * Vector fields (arrays of numbers) are inputs of the mlp family only, and a validation set must
 * hold vectors of the training set's lengths: the model's input width is fixed by them.
 */
function checkInputFields(inputs: SpecInputs, family: ModelFamily, problems: FieldProblem[]): void {
  const kinds = inputs.inputFieldKinds ?? {};
  const vectors = inputs.schema.inputFields.filter((field) => kinds[field]?.kind === 'vector');
  if (vectors.length > 0 && family !== 'mlp') {
    problems.push({
      field: inputs.baseModel ? 'baseModel' : 'model.family',
      reason: `input field${vectors.length > 1 ? 's' : ''} ${vectors.map((field) => `"${field}"`).join(', ')} hold${vectors.length > 1 ? '' : 's'} vectors of numbers, which the mlp family reads; ${family} reads text`,
    });
  }
  const validationKinds = inputs.validationInputFieldKinds;
  if (!validationKinds) {
    return;
  }
  for (const field of inputs.schema.inputFields) {
    const training = kinds[field];
    const validation = validationKinds[field];
    if (training?.kind === 'vector' && validation !== undefined && validation.length !== training.length) {
      problems.push({
        field: 'validationData',
        reason: `input field "${field}" holds vectors of ${training.length} numbers in the training data but ${validation.kind === 'vector' ? `${validation.length} numbers` : `${validation.kind} values`} in the validation data`,
      });
    }
  }
}

export class SpecProblems extends Error {
  constructor(readonly problems: FieldProblem[]) {
    super(problems.map((problem) => `${problem.field}: ${problem.reason}`).join('; '));
  }
}

export const METRICS_BY_HEAD: Record<HeadType, string[]> = {
  classification: ['loss', 'accuracy', 'f1Macro', 'precisionMacro', 'recallMacro'],
  regression: ['loss', 'mae', 'rmse', 'r2'],
  'causal-lm': ['loss', 'perplexity', 'tokenAccuracy'],
};

const LOSSES_BY_HEAD: Record<HeadType, string[]> = {
  classification: ['cross_entropy', 'binary_cross_entropy'],
  regression: ['mse', 'mae', 'huber'],
  'causal-lm': ['cross_entropy'],
};

function defaultHead(task: DatasetTask): HeadType {
  switch (task) {
    case 'classification':
      return 'classification';
    case 'regression':
      return 'regression';
    case 'causal-lm':
    case 'chat':
    case 'prompt-completion':
      return 'causal-lm';
    default: {
      const unreachable: never = task;
      throw new Error(`unknown task ${String(unreachable)}`);
    }
  }
}

/** Hyperparameters a resume may change: none of them changes what a checkpoint's tensors mean. */
export const RESUMABLE_HYPERPARAMETERS: ReadonlyArray<keyof HyperParameters> = [
  'epochs',
  'maxSteps',
  'learningRate',
  'schedule',
  'evalEverySteps',
  'checkpointEverySteps',
  'keepLastCheckpoints',
  'keepBestCheckpoint',
  'earlyStopping',
  'gradientClipNorm',
  'logEverySteps',
];

export function resolveHyperparameters(
  request: HyperparametersDto | undefined,
  head: HeadType,
  problems: FieldProblem[],
  defaults?: HyperParameters,
): HyperParameters {
  const input = request ?? {};
  const learningRate = input.learningRate ?? defaults?.learningRate ?? 1e-3;
  if (learningRate !== 'auto' && !(typeof learningRate === 'number' && learningRate > 0 && learningRate <= 10)) {
    problems.push({ field: 'hyperparameters.learningRate', reason: 'must be a number in (0, 10] or "auto"' });
  }
  const optimizer = input.optimizer ? { ...input.optimizer } : (defaults?.optimizer ?? { name: 'adamw' as const });
  if (optimizer.nesterov && (optimizer.name !== 'sgd' || !(optimizer.momentum && optimizer.momentum > 0))) {
    problems.push({ field: 'hyperparameters.optimizer.nesterov', reason: 'needs the sgd optimizer with momentum > 0' });
  }
  if (optimizer.momentum && !['sgd', 'rmsprop'].includes(optimizer.name)) {
    problems.push({
      field: 'hyperparameters.optimizer.momentum',
      reason: `applies to sgd and rmsprop, not ${optimizer.name}`,
    });
  }
  const loss = input.loss
    ? { ...input.loss }
    : (defaults?.loss ?? { name: head === 'regression' ? ('mse' as const) : ('cross_entropy' as const) });
  if (!LOSSES_BY_HEAD[head].includes(loss.name)) {
    problems.push({
      field: 'hyperparameters.loss.name',
      reason: `${loss.name} does not fit a ${head} head; use ${LOSSES_BY_HEAD[head].join(' or ')}`,
    });
  }
  if (loss.classWeights !== undefined) {
    const weights = loss.classWeights;
    const valid =
      weights === 'balanced' ||
      (Array.isArray(weights) &&
        weights.length > 0 &&
        weights.every((w) => typeof w === 'number' && Number.isFinite(w) && w >= 0));
    if (!valid || head !== 'classification') {
      problems.push({
        field: 'hyperparameters.loss.classWeights',
        reason:
          head !== 'classification'
            ? 'applies to classification only'
            : 'must be "balanced" or non-negative numbers, one per class',
      });
    }
  }
  const schedule = input.schedule
    ? { warmupSteps: 0, ...input.schedule }
    : (defaults?.schedule ?? { name: 'constant' as const, warmupSteps: 0 });
  const earlyStopping = input.earlyStopping
    ? {
        monitor: input.earlyStopping.monitor,
        mode: input.earlyStopping.mode,
        patience: input.earlyStopping.patience,
        minDelta: input.earlyStopping.minDelta ?? 0,
      }
    : (defaults?.earlyStopping ?? null);
  if (earlyStopping) {
    const known = METRICS_BY_HEAD[head];
    const perClass = head === 'classification' && /^(f1|precision|recall)\./.test(earlyStopping.monitor);
    if (!known.includes(earlyStopping.monitor) && !perClass) {
      problems.push({
        field: 'hyperparameters.earlyStopping.monitor',
        reason: `${earlyStopping.monitor} is not a validation metric of a ${head} head (${known.join(', ')})`,
      });
    }
  }
  const sequenceLength = input.sequenceLength ?? defaults?.sequenceLength ?? 64;
  return {
    epochs: input.epochs ?? defaults?.epochs ?? 3,
    maxSteps: input.maxSteps ?? defaults?.maxSteps ?? null,
    batchSize: input.batchSize ?? defaults?.batchSize ?? 8,
    gradientAccumulationSteps: input.gradientAccumulationSteps ?? defaults?.gradientAccumulationSteps ?? 1,
    learningRate,
    optimizer,
    loss,
    schedule,
    gradientClipNorm: input.gradientClipNorm === 0 ? null : (input.gradientClipNorm ?? defaults?.gradientClipNorm ?? 1),
    dropout: input.dropout ?? defaults?.dropout ?? null,
    l1: input.l1 ?? defaults?.l1 ?? 0,
    l2: input.l2 ?? defaults?.l2 ?? 0,
    earlyStopping,
    sequenceLength,
    seed: input.seed ?? defaults?.seed ?? 42,
    evalEverySteps: input.evalEverySteps ?? defaults?.evalEverySteps ?? 50,
    checkpointEverySteps: input.checkpointEverySteps ?? defaults?.checkpointEverySteps ?? 50,
    keepLastCheckpoints: input.keepLastCheckpoints ?? defaults?.keepLastCheckpoints ?? 2,
    keepBestCheckpoint: input.keepBestCheckpoint ?? defaults?.keepBestCheckpoint ?? true,
    validationFraction: input.validationFraction ?? defaults?.validationFraction ?? 0.1,
    logEverySteps: input.logEverySteps ?? defaults?.logEverySteps ?? 10,
  };
}

export function buildTrainingSpec(inputs: SpecInputs): TrainingSpec {
  const { request, datasetTask, schema, baseModel } = inputs;
  const problems: FieldProblem[] = [];
  const head = request.head ?? defaultHead(datasetTask);
  if (head === 'classification' && datasetTask !== 'classification') {
    problems.push({
      field: 'head',
      reason: `a classification head needs a classification dataset, this one is ${datasetTask}`,
    });
  }
  if (head === 'regression' && datasetTask !== 'regression') {
    problems.push({
      field: 'head',
      reason: `a regression head needs a regression dataset, this one is ${datasetTask}`,
    });
  }

  let family: ModelFamily;
  if (baseModel) {
    family = baseModel.family;
    if (request.model) {
      problems.push({
        field: 'model',
        reason: 'give either baseModel (fine-tune) or model (train from scratch), not both',
      });
    }
  } else if (request.model) {
    family = request.model.family;
  } else {
    throw new SpecProblems([
      { field: 'baseModel', reason: 'give baseModel to fine-tune, or model to train from scratch' },
    ]);
  }
  checkInputFields(inputs, family, problems);
  if (family === 'mlp' && head === 'causal-lm') {
    problems.push({ field: 'head', reason: 'the mlp family trains classification and regression heads only' });
  }

  const method: TrainingMethod = (() => {
    const requested = request.method ?? { type: 'full' as const };
    switch (requested.type) {
      case 'full':
        return { type: 'full' as const };
      case 'freeze':
        if (family !== 'gpt2') {
          problems.push({ field: 'method.type', reason: 'freeze applies to the gpt2 family' });
        }
        if (requested.trainableTopBlocks === undefined && !requested.trainableLayers?.length) {
          problems.push({ field: 'method', reason: 'freeze needs trainableTopBlocks or trainableLayers' });
        }
        return {
          type: 'freeze' as const,
          ...(requested.trainableTopBlocks !== undefined ? { trainableTopBlocks: requested.trainableTopBlocks } : {}),
          ...(requested.trainableLayers ? { trainableLayers: requested.trainableLayers } : {}),
        };
      case 'lora':
        problems.push({ field: 'method.type', reason: 'lora is not available yet; use full or freeze' });
        return { type: 'full' as const };
      default: {
        const unreachable: never = requested.type;
        throw new Error(`unknown method ${String(unreachable)}`);
      }
    }
  })();

  const hyperparameters = resolveHyperparameters(request.hyperparameters, head, problems);
  let modelConfig: Gpt2ModelConfig | MlpModelConfig;
  let tokenizerVocabSize: number | null = null;
  if (family === 'gpt2') {
    if (baseModel) {
      modelConfig = baseModel.config as unknown as Gpt2ModelConfig;
      if (!baseModel.hasTokenizer) {
        problems.push({ field: 'baseModel', reason: 'the base model has no tokenizer.json' });
      }
    } else {
      const model = request.model!;
      const nEmbd = model.nEmbd ?? 64;
      const nHead = model.nHead ?? 2;
      if (nEmbd % nHead !== 0) {
        problems.push({ field: 'model.nHead', reason: `must divide nEmbd (${nEmbd})` });
      }
      modelConfig = {
        vocabSize: model.vocabSize ?? 512,
        nPositions: model.nPositions ?? Math.max(128, hyperparameters.sequenceLength),
        nEmbd,
        nLayer: model.nLayer ?? 2,
        nHead,
        layerNormEpsilon: 1e-5,
        dropout: model.dropout ?? 0.1,
      };
      tokenizerVocabSize = modelConfig.vocabSize;
      if (model.hiddenSizes || model.activation) {
        problems.push({ field: 'model', reason: 'hiddenSizes and activation belong to the mlp family' });
      }
    }
    if (hyperparameters.sequenceLength > modelConfig.nPositions) {
      problems.push({
        field: 'hyperparameters.sequenceLength',
        reason: `${hyperparameters.sequenceLength} is longer than the model's ${modelConfig.nPositions} positions`,
      });
    }
    if (
      method.type === 'freeze' &&
      method.trainableTopBlocks !== undefined &&
      method.trainableTopBlocks > modelConfig.nLayer
    ) {
      problems.push({ field: 'method.trainableTopBlocks', reason: `the model has ${modelConfig.nLayer} blocks` });
    }
  } else {
    if (baseModel) {
      modelConfig = baseModel.config as unknown as MlpModelConfig;
    } else {
      const model = request.model!;
      modelConfig = {
        hiddenSizes: model.hiddenSizes ?? [64, 32],
        activation: model.activation ?? 'relu',
        dropout: model.dropout ?? 0.1,
      };
      if (model.nLayer || model.nEmbd || model.nHead || model.vocabSize || model.nPositions) {
        problems.push({
          field: 'model',
          reason: 'nLayer, nHead, nEmbd, nPositions and vocabSize belong to the gpt2 family',
        });
      }
    }
  }
  if (baseModel && baseModel.family === 'mlp' && baseModel.task !== head) {
    problems.push({ field: 'head', reason: `the base mlp model is a ${baseModel.task} model; an mlp keeps its head` });
  }
  if (problems.length > 0) {
    throw new SpecProblems(problems);
  }
  return {
    family,
    head,
    dataTask: datasetTask,
    schema,
    modelConfig,
    tokenizerVocabSize,
    baseModel: baseModel
      ? {
          modelVersionId: baseModel.modelVersionId,
          name: baseModel.name,
          version: baseModel.version,
          artifactPrefix: baseModel.artifactPrefix,
        }
      : null,
    method,
    hyperparameters,
    training: inputs.training,
    validation: inputs.validation,
    outputModelName: request.outputModelName,
  };
}
