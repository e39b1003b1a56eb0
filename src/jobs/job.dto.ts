import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { IntegerQuery, PageOf } from '../platform/http/pagination.js';
import { INT32_MAX } from '../platform/http/params.js';
import { HEAD_TYPES, METHOD_TYPES, MODEL_FAMILIES } from '../trainer/runtime/training-spec.js';
import type { CheckpointEntity } from './checkpoint.entity.js';
import type { JobEventEntity } from './job-event.entity.js';
import { JOB_EVENT_LEVELS, JOB_EVENT_TYPES } from './job-event.entity.js';
import type { JobMetricEntity } from './job-metric.entity.js';
import { JOB_CONTROLS, JOB_STATUSES, type JobControl, type JobEntity, type JobStatus } from './job.entity.js';

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** The alias name rule of the registry (kept here so the jobs DTOs do not load the models module). */
const ALIAS_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;

export class BaseModelRefDto {
  @ApiProperty({ description: 'Registered model name in this project.', example: 'tiny-gpt2' })
  @IsString()
  @Matches(MODEL_NAME, { message: 'name must be a model name' })
  name: string;

  @ApiProperty({
    type: 'integer',
    description: 'Version number; without it (and without alias), the latest ready version.',
    required: false,
    example: 1,
    maximum: INT32_MAX,
    minimum: 1,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  version?: number;

  @ApiProperty({
    description:
      'An alias of the model (`production`), resolved to the version it points at when the job is created; ' +
      'the job records both. Give version or alias, not both.',
    required: false,
    example: 'production',
    pattern: ALIAS_NAME_PATTERN.source,
  })
  @IsOptional()
  @IsString()
  @Matches(ALIAS_NAME_PATTERN, { message: 'alias must be an alias name' })
  alias?: string;
}

export class ModelArchitectureDto {
  @ApiProperty({ description: 'Model family.', enum: MODEL_FAMILIES, enumName: 'ModelFamily', example: 'gpt2' })
  @IsIn(MODEL_FAMILIES)
  family: (typeof MODEL_FAMILIES)[number];

  @ApiProperty({
    type: 'integer',
    description: 'gpt2: transformer blocks.',
    required: false,
    example: 2,
    minimum: 1,
    maximum: 48,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(48)
  nLayer?: number;

  @ApiProperty({
    type: 'integer',
    description: 'gpt2: attention heads (must divide nEmbd).',
    required: false,
    example: 2,
    minimum: 1,
    maximum: 64,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(64)
  nHead?: number;

  @ApiProperty({
    type: 'integer',
    description: 'gpt2: model width.',
    required: false,
    example: 64,
    minimum: 8,
    maximum: 4096,
  })
  @IsOptional()
  @IsInt()
  @Min(8)
  @Max(4096)
  nEmbd?: number;

  @ApiProperty({
    type: 'integer',
    description: 'gpt2: longest sequence (position embeddings).',
    required: false,
    example: 128,
    minimum: 8,
    maximum: 4096,
  })
  @IsOptional()
  @IsInt()
  @Min(8)
  @Max(4096)
  nPositions?: number;

  @ApiProperty({
    type: 'integer',
    description:
      'gpt2: vocabulary size of the byte-level BPE tokenizer trained on the training data (at least 256 bytes + 2 special tokens).',
    required: false,
    example: 512,
    minimum: 260,
    maximum: 65536,
  })
  @IsOptional()
  @IsInt()
  @Min(260)
  @Max(65536)
  vocabSize?: number;

  @ApiProperty({
    description: 'mlp: hidden layer widths.',
    required: false,
    example: [64, 32],
    type: 'integer',
    isArray: true,
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(8192, { each: true })
  hiddenSizes?: number[];

  @ApiProperty({ description: 'mlp: activation.', required: false, enum: ['relu', 'gelu', 'tanh'], example: 'relu' })
  @IsOptional()
  @IsIn(['relu', 'gelu', 'tanh'])
  activation?: 'relu' | 'gelu' | 'tanh';

  @ApiProperty({
    description: 'Dropout probability of the architecture.',
    required: false,
    example: 0.1,
    minimum: 0,
    maximum: 0.9,
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(0.9)
  dropout?: number;
}

export class DatasetVersionRefDto {
  @ApiProperty({ description: 'Dataset id.', format: 'uuid', example: '8d0e6a53-8f4a-4c4e-9d53-3c1c5b3bfa61' })
  @IsUUID()
  datasetId: string;

  @ApiProperty({
    type: 'integer',
    description: 'Version number of the dataset.',
    example: 1,
    minimum: 1,
    maximum: INT32_MAX,
  })
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  version: number;
}

export class TrainingMethodDto {
  @ApiProperty({
    description:
      '`full` trains every weight; `freeze` trains only the head and the top blocks or named layers; `lora` is reserved.',
    enum: METHOD_TYPES,
    enumName: 'TrainingMethodType',
    example: 'full',
  })
  @IsIn(METHOD_TYPES)
  type: (typeof METHOD_TYPES)[number];

  @ApiProperty({
    type: 'integer',
    description: 'freeze: how many top transformer blocks stay trainable.',
    required: false,
    example: 1,
    minimum: 0,
    maximum: 48,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(48)
  trainableTopBlocks?: number;

  @ApiProperty({
    description: 'freeze: parameter names or name prefixes that stay trainable (e.g. `h.3.`, `ln_f`).',
    required: false,
    type: [String],
    example: ['h.1.', 'ln_f'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  trainableLayers?: string[];
}

export class OptimizerDto {
  @ApiProperty({ description: 'Optimiser.', enum: ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'], example: 'adamw' })
  @IsIn(['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'])
  name: 'sgd' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad';

  @ApiProperty({ description: 'sgd, rmsprop: momentum.', required: false, example: 0.9, minimum: 0, maximum: 0.999 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(0.999)
  momentum?: number;

  @ApiProperty({ description: 'sgd: Nesterov momentum (needs momentum > 0).', required: false, example: false })
  @IsOptional()
  @IsBoolean()
  nesterov?: boolean;

  @ApiProperty({ description: 'adam/adamw: beta1.', required: false, example: 0.9, minimum: 0, maximum: 0.9999 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(0.9999)
  beta1?: number;

  @ApiProperty({ description: 'adam/adamw: beta2.', required: false, example: 0.999, minimum: 0, maximum: 0.99999 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(0.99999)
  beta2?: number;

  @ApiProperty({ description: 'Numerical stability term.', required: false, example: 1e-8, minimum: 0, maximum: 1 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  epsilon?: number;

  @ApiProperty({
    description:
      'Weight decay: decoupled for adamw (default 0.01), an L2 term in the gradient for the others (default 0).',
    required: false,
    example: 0.01,
    minimum: 0,
    maximum: 1,
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  weightDecay?: number;

  @ApiProperty({
    description: 'rmsprop: smoothing constant.',
    required: false,
    example: 0.99,
    minimum: 0,
    maximum: 0.9999,
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(0.9999)
  alpha?: number;
}

export class LossDto {
  @ApiProperty({
    description:
      'Loss. Classification: cross_entropy or binary_cross_entropy (one-vs-rest); regression: mse, mae or huber; causal LM: cross_entropy on the target tokens only.',
    enum: ['cross_entropy', 'binary_cross_entropy', 'mse', 'mae', 'huber'],
    example: 'cross_entropy',
  })
  @IsIn(['cross_entropy', 'binary_cross_entropy', 'mse', 'mae', 'huber'])
  name: 'cross_entropy' | 'binary_cross_entropy' | 'mse' | 'mae' | 'huber';

  @ApiProperty({
    description: 'cross_entropy: label smoothing.',
    required: false,
    example: 0.1,
    minimum: 0,
    maximum: 0.5,
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(0.5)
  labelSmoothing?: number;

  @ApiProperty({
    description: 'cross_entropy: a weight per class (in label order), or `balanced` (n / (classes x count)).',
    required: false,
    oneOf: [
      { type: 'array', items: { type: 'number' } },
      { type: 'string', enum: ['balanced'] },
    ],
    example: 'balanced',
  })
  @IsOptional()
  @Allow()
  classWeights?: number[] | 'balanced';

  @ApiProperty({ description: 'huber: delta.', required: false, example: 1, minimum: 0.0001, maximum: 1000 })
  @IsOptional()
  @IsNumber()
  @Min(0.0001)
  @Max(1000)
  huberDelta?: number;
}

export class ScheduleDto {
  @ApiProperty({
    description: 'Learning-rate schedule after warm-up.',
    enum: ['constant', 'step', 'cosine', 'linear'],
    example: 'cosine',
  })
  @IsIn(['constant', 'step', 'cosine', 'linear'])
  name: 'constant' | 'step' | 'cosine' | 'linear';

  @ApiProperty({
    type: 'integer',
    description: 'Linear warm-up steps from 0 to the learning rate.',
    required: false,
    example: 10,
    minimum: 0,
    maximum: 1_000_000,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  warmupSteps?: number;

  @ApiProperty({
    type: 'integer',
    description: 'step: steps between decays.',
    required: false,
    example: 100,
    minimum: 1,
    maximum: 1_000_000,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  stepSize?: number;

  @ApiProperty({ description: 'step: decay factor.', required: false, example: 0.5, minimum: 0, maximum: 1 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  gamma?: number;

  @ApiProperty({
    description: 'cosine/linear: final learning rate as a fraction of the peak.',
    required: false,
    example: 0.1,
    minimum: 0,
    maximum: 1,
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  minLearningRateRatio?: number;
}

export class EarlyStoppingDto {
  @ApiProperty({
    description:
      'Validation metric to watch: loss, accuracy, f1Macro, precisionMacro, recallMacro, mae, rmse, r2, perplexity, tokenAccuracy.',
    example: 'loss',
  })
  @IsString()
  @Matches(/^[A-Za-z0-9_.]{1,100}$/, { message: 'monitor must be a metric name' })
  monitor: string;

  @ApiProperty({ description: 'Whether lower (min) or higher (max) is better.', enum: ['min', 'max'], example: 'min' })
  @IsIn(['min', 'max'])
  mode: 'min' | 'max';

  @ApiProperty({
    type: 'integer',
    description: 'Evaluations without improvement before stopping.',
    example: 3,
    minimum: 1,
    maximum: 1000,
  })
  @IsInt()
  @Min(1)
  @Max(1000)
  patience: number;

  @ApiProperty({
    description: 'Smallest change that counts as an improvement.',
    required: false,
    example: 0.001,
    minimum: 0,
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  minDelta?: number;
}

export class HyperparametersDto {
  @ApiProperty({
    type: 'integer',
    description: 'Passes over the training data.',
    required: false,
    example: 3,
    minimum: 1,
    maximum: 1000,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  epochs?: number;

  @ApiProperty({
    type: 'integer',
    description: 'A step budget: stop after this many optimiser steps.',
    required: false,
    example: 200,
    minimum: 1,
    maximum: 10_000_000,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  maxSteps?: number;

  @ApiProperty({
    type: 'integer',
    description: 'Examples per micro-batch.',
    required: false,
    example: 8,
    minimum: 1,
    maximum: 4096,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(4096)
  batchSize?: number;

  @ApiProperty({
    type: 'integer',
    description: 'Micro-batches per optimiser step (effective batch = batchSize x this).',
    required: false,
    example: 1,
    minimum: 1,
    maximum: 1024,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1024)
  gradientAccumulationSteps?: number;

  @ApiProperty({
    description: 'Peak learning rate, or `auto` for a learning-rate range test before training.',
    required: false,
    oneOf: [
      { type: 'number', minimum: 1e-8, maximum: 10 },
      { type: 'string', enum: ['auto'] },
    ],
    example: 0.001,
  })
  @IsOptional()
  @Allow()
  learningRate?: number | 'auto';

  @ApiProperty({ description: 'Optimiser; default adamw.', required: false, type: OptimizerDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => OptimizerDto)
  optimizer?: OptimizerDto;

  @ApiProperty({ description: 'Loss; default by head.', required: false, type: LossDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => LossDto)
  loss?: LossDto;

  @ApiProperty({
    description: 'Learning-rate schedule; default constant without warm-up.',
    required: false,
    type: ScheduleDto,
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => ScheduleDto)
  schedule?: ScheduleDto;

  @ApiProperty({
    description: 'Clip gradients to this global L2 norm; 0 turns clipping off. Default 1.',
    required: false,
    example: 1,
    minimum: 0,
    maximum: 1_000_000,
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1_000_000)
  gradientClipNorm?: number;

  @ApiProperty({
    description: 'Dropout probability (overrides the architecture).',
    required: false,
    example: 0.1,
    minimum: 0,
    maximum: 0.9,
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(0.9)
  dropout?: number;

  @ApiProperty({ description: 'L1 penalty on weight matrices.', required: false, example: 0, minimum: 0, maximum: 10 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(10)
  l1?: number;

  @ApiProperty({ description: 'L2 penalty on weight matrices.', required: false, example: 0, minimum: 0, maximum: 10 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(10)
  l2?: number;

  @ApiProperty({
    description: 'Stop when a validation metric stops improving; the best weights are restored.',
    required: false,
    type: EarlyStoppingDto,
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => EarlyStoppingDto)
  earlyStopping?: EarlyStoppingDto;

  @ApiProperty({
    type: 'integer',
    description: 'gpt2: tokens per example.',
    required: false,
    example: 64,
    minimum: 4,
    maximum: 4096,
  })
  @IsOptional()
  @IsInt()
  @Min(4)
  @Max(4096)
  sequenceLength?: number;

  @ApiProperty({
    type: 'integer',
    description: 'Random seed: the same seed and backend give the same metrics.',
    required: false,
    example: 42,
    minimum: 0,
    maximum: 2 ** 31 - 1,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(2 ** 31 - 1)
  seed?: number;

  @ApiProperty({
    type: 'integer',
    description: 'Validate every N steps (and at every epoch end).',
    required: false,
    example: 50,
    minimum: 1,
    maximum: INT32_MAX,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  evalEverySteps?: number;

  @ApiProperty({
    type: 'integer',
    description: 'Checkpoint every N steps (and at every epoch end).',
    required: false,
    example: 50,
    minimum: 1,
    maximum: INT32_MAX,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  checkpointEverySteps?: number;

  @ApiProperty({
    type: 'integer',
    description: 'Checkpoints kept, newest first (plus the best one with keepBestCheckpoint).',
    required: false,
    example: 2,
    minimum: 1,
    maximum: 1000,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  keepLastCheckpoints?: number;

  @ApiProperty({
    description: 'Keep the best checkpoint by the early-stopping monitor.',
    required: false,
    example: true,
  })
  @IsOptional()
  @IsBoolean()
  keepBestCheckpoint?: boolean;

  @ApiProperty({
    description: 'Share of the training data held out for validation when no validation data is given.',
    required: false,
    example: 0.1,
    minimum: 0.01,
    maximum: 0.5,
  })
  @IsOptional()
  @IsNumber()
  @Min(0.01)
  @Max(0.5)
  validationFraction?: number;

  @ApiProperty({
    type: 'integer',
    description: 'Training metrics (loss, throughput, ETA) every N steps.',
    required: false,
    example: 10,
    minimum: 1,
    maximum: INT32_MAX,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  logEverySteps?: number;
}

export class JobResourcesDto {
  @ApiProperty({
    type: 'integer',
    description: 'Queue priority: higher runs first.',
    required: false,
    example: 0,
    minimum: -100,
    maximum: 100,
  })
  @IsOptional()
  @IsInt()
  @Min(-100)
  @Max(100)
  priority?: number;
}

export class CreateJobDto {
  @ApiProperty({ description: 'A label for people.', required: false, example: 'sentiment v3' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;

  @ApiProperty({
    description: 'A registered model version to fine-tune. Omit to train from scratch (then give `model`).',
    required: false,
    type: BaseModelRefDto,
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => BaseModelRefDto)
  baseModel?: BaseModelRefDto;

  @ApiProperty({
    description: 'The architecture of a model trained from scratch.',
    required: false,
    type: ModelArchitectureDto,
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => ModelArchitectureDto)
  model?: ModelArchitectureDto;

  @ApiProperty({ description: 'Training data.', type: DatasetVersionRefDto })
  @ValidateNested()
  @Type(() => DatasetVersionRefDto)
  trainingData: DatasetVersionRefDto;

  @ApiProperty({
    description: 'Validation data; without it `hyperparameters.validationFraction` is held out.',
    required: false,
    type: DatasetVersionRefDto,
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => DatasetVersionRefDto)
  validationData?: DatasetVersionRefDto;

  @ApiProperty({
    description: 'The head to train; by default from the dataset task (chat and prompt-completion train causal-lm).',
    required: false,
    enum: HEAD_TYPES,
    enumName: 'HeadType',
    example: 'classification',
  })
  @IsOptional()
  @IsIn(HEAD_TYPES)
  head?: (typeof HEAD_TYPES)[number];

  @ApiProperty({ description: 'What is trained; default full.', required: false, type: TrainingMethodDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => TrainingMethodDto)
  method?: TrainingMethodDto;

  @ApiProperty({ description: 'Hyperparameters; every one has a default.', required: false, type: HyperparametersDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => HyperparametersDto)
  hyperparameters?: HyperparametersDto;

  @ApiProperty({ description: 'Scheduling.', required: false, type: JobResourcesDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => JobResourcesDto)
  resources?: JobResourcesDto;

  @ApiProperty({
    description: 'Registered model that receives the result as a new version (created if new).',
    example: 'sentiment',
  })
  @IsString()
  @Matches(MODEL_NAME, { message: 'outputModelName must be 1-100 letters, digits, dots, underscores or hyphens' })
  outputModelName: string;

  @ApiProperty({
    description: 'Train on data whose quality report failed its thresholds (recorded on the job).',
    required: false,
    example: false,
  })
  @IsOptional()
  @IsBoolean()
  allowQualityFailures?: boolean;
}

export class ResumeJobDto {
  @ApiProperty({
    description:
      'Hyperparameters to change on resume (epochs, maxSteps, learningRate, schedule, evalEverySteps, checkpointEverySteps, keepLastCheckpoints, earlyStopping, gradientClipNorm, logEverySteps).',
    required: false,
    type: HyperparametersDto,
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => HyperparametersDto)
  hyperparameters?: HyperparametersDto;

  @ApiProperty({
    description: 'Must be true when hyperparameters change: resume refuses an unconfirmed change of spec.',
    required: false,
    example: true,
  })
  @IsOptional()
  @IsBoolean()
  confirmSpecChange?: boolean;
}

export class JobErrorDto {
  @ApiProperty({ description: 'Machine-readable reason.', example: 'nan_loss' })
  code: string;

  @ApiProperty({ description: 'What happened, for people.', example: 'The loss became NaN at step 12' })
  message: string;

  @ApiProperty({ description: 'Step at which it happened.', type: Number, nullable: true, example: 12 })
  step: number | null;
}

export class JobDto {
  @ApiProperty({ description: 'Job id.', format: 'uuid' })
  id: string;

  @ApiProperty({ description: 'Label.', example: 'sentiment v3' })
  name: string;

  @ApiProperty({ description: 'State.', enum: JOB_STATUSES, enumName: 'JobStatus', example: 'running' })
  status: JobStatus;

  @ApiProperty({
    description: 'A cancel or pause asked for and not yet carried out.',
    enum: JOB_CONTROLS,
    nullable: true,
    example: 'cancel',
  })
  pendingControl: JobControl | null;

  @ApiProperty({ description: 'Queue priority.', example: 0 })
  priority: number;

  @ApiProperty({
    description: 'The resolved training spec (every default filled in).',
    type: Object,
    additionalProperties: true,
  })
  spec: Record<string, unknown>;

  @ApiProperty({ description: 'SHA-256 of the spec; checkpoints record it.', example: 'c0ffee...' })
  specHash: string;

  @ApiProperty({
    description: 'Spec changes made on resume.',
    type: 'array',
    items: { type: 'object', additionalProperties: true },
  })
  specChanges: Array<Record<string, unknown>>;

  @ApiProperty({
    description: 'Memory estimate in bytes (parameters, gradients, optimizerState, activations, total, budget).',
    type: Object,
    additionalProperties: { type: 'number' },
  })
  memoryEstimate: Record<string, number>;

  @ApiProperty({ description: 'Attempts so far (a crash or a lost replica starts another).', example: 1 })
  attempt: number;

  @ApiProperty({ description: 'Attempts allowed.', example: 3 })
  maxAttempts: number;

  @ApiProperty({ description: 'Optimiser steps done.', example: 40 })
  currentStep: number;

  @ApiProperty({ description: 'Planned optimiser steps (known once training starts).', example: 200 })
  totalSteps: number;

  @ApiProperty({ description: 'Trainer backend of the latest attempt.', type: String, nullable: true, example: 'wasm' })
  backend: string | null;

  @ApiProperty({ description: 'Why the job failed.', type: JobErrorDto, nullable: true })
  error: JobErrorDto | null;

  @ApiProperty({ description: 'The model version it produced.', type: String, format: 'uuid', nullable: true })
  resultModelVersionId: string | null;

  @ApiProperty({
    description: 'The base model alias asked for, if any; spec.baseModel holds the version it resolved to.',
    type: String,
    nullable: true,
    example: 'production',
  })
  baseModelAlias: string | null;

  @ApiProperty({ description: 'Creation time.', format: 'date-time' })
  createdAt: string;

  @ApiProperty({ description: 'First start.', type: String, format: 'date-time', nullable: true })
  startedAt: string | null;

  @ApiProperty({ description: 'End time.', type: String, format: 'date-time', nullable: true })
  finishedAt: string | null;

  static from(job: JobEntity): JobDto {
    return {
      id: job.id,
      name: job.name,
      status: job.status,
      pendingControl: job.control,
      priority: job.priority,
      spec: job.spec as unknown as Record<string, unknown>,
      specHash: job.specHash,
      specChanges: job.specChanges,
      memoryEstimate: job.memoryEstimate,
      attempt: job.attempt,
      maxAttempts: job.maxAttempts,
      currentStep: job.currentStep,
      totalSteps: job.totalSteps,
      backend: job.backend,
      error: job.error ? { code: job.error.code, message: job.error.message, step: job.error.step ?? null } : null,
      resultModelVersionId: job.resultModelVersionId,
      baseModelAlias: job.baseModelAlias,
      createdAt: job.createdAt.toISOString(),
      startedAt: job.startedAt?.toISOString() ?? null,
      finishedAt: job.finishedAt?.toISOString() ?? null,
    };
  }
}

export class JobListDto extends PageOf(JobDto, 'Jobs, newest first.') {}

export class JobEventDto {
  @ApiProperty({ description: 'Position in the job log: the cursor and the SSE event id.', example: '42' })
  sequence: string;

  @ApiProperty({ description: 'Level.', enum: JOB_EVENT_LEVELS, example: 'info' })
  level: string;

  @ApiProperty({
    description: 'message, or metrics (data holds the values).',
    enum: JOB_EVENT_TYPES,
    example: 'message',
  })
  type: string;

  @ApiProperty({
    description:
      'Kind: created, queued, started, resumed, plan, progress, validation, checkpoint, overfitting, early_stopping, paused, cancelled, failed, succeeded...',
    example: 'checkpoint',
  })
  kind: string;

  @ApiProperty({ description: 'For people.', example: 'Checkpoint at step 50 (interval)' })
  message: string;

  @ApiProperty({ description: 'Structured details.', type: Object, additionalProperties: true, nullable: true })
  data: Record<string, unknown> | null;

  @ApiProperty({ description: 'Time.', format: 'date-time' })
  createdAt: string;

  static from(event: JobEventEntity): JobEventDto {
    return {
      sequence: event.sequence,
      level: event.level,
      type: event.type,
      kind: event.kind,
      message: event.message,
      data: event.data,
      createdAt: event.createdAt.toISOString(),
    };
  }
}

export class JobEventListDto {
  @ApiProperty({ description: 'Events, oldest first.', type: [JobEventDto] })
  data: JobEventDto[];

  @ApiProperty({
    description: 'Pass as `after` for the next page; null at the end of the log so far.',
    type: String,
    nullable: true,
    example: '42',
  })
  nextCursor: string | null;
}

/** An event sequence number (a bigint): 18 digits at most, so it always fits PostgreSQL's bigint. */
export const JOB_EVENT_SEQUENCE = /^[0-9]{1,18}$/;

export class JobEventQueryDto {
  @ApiProperty({
    description: 'Events after this sequence number (at most 18 digits).',
    required: false,
    pattern: JOB_EVENT_SEQUENCE.source,
    example: '0',
  })
  @IsOptional()
  @Matches(JOB_EVENT_SEQUENCE, { message: 'after must be a sequence number of at most 18 digits' })
  after?: string;

  @ApiProperty({ type: 'integer', description: 'Page size.', required: false, example: 100, minimum: 1, maximum: 1000 })
  @IsOptional()
  @IntegerQuery()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class MetricPointDto {
  @ApiProperty({ description: 'Optimiser step.', example: 50 })
  step: number;

  @ApiProperty({ description: 'Epochs done (fractional).', example: 1.25 })
  epoch: number;

  @ApiProperty({ description: 'train or validation.', enum: ['train', 'validation'], example: 'validation' })
  split: 'train' | 'validation';

  @ApiProperty({
    description: 'Metric values.',
    type: Object,
    additionalProperties: true,
    example: { loss: 0.42, f1Macro: 0.81 },
  })
  values: Record<string, unknown>;

  @ApiProperty({ description: 'Time.', format: 'date-time' })
  createdAt: string;

  static from(point: JobMetricEntity): MetricPointDto {
    return {
      step: point.step,
      epoch: point.epoch,
      split: point.split,
      values: point.values,
      createdAt: point.createdAt.toISOString(),
    };
  }
}

export class JobMetricsDto {
  @ApiProperty({ description: 'The time series, by step.', type: [MetricPointDto] })
  data: MetricPointDto[];
}

export class JobMetricsQueryDto {
  @ApiProperty({ description: 'Only this split.', required: false, enum: ['train', 'validation'] })
  @IsOptional()
  @IsIn(['train', 'validation'])
  split?: 'train' | 'validation';
}

export class CheckpointDto {
  @ApiProperty({ description: 'Checkpoint id.', format: 'uuid' })
  id: string;

  @ApiProperty({ description: 'Optimiser step.', example: 50 })
  step: number;

  @ApiProperty({ description: 'Epochs done.', example: 1 })
  epoch: number;

  @ApiProperty({ description: 'Why it was written: interval, epoch_end, pause, best.', example: 'interval' })
  reason: string;

  @ApiProperty({ description: 'Best so far by the early-stopping monitor.', example: false })
  isBest: boolean;

  @ApiProperty({
    description: 'Validation metrics at this step.',
    type: Object,
    additionalProperties: { type: 'number' },
    nullable: true,
  })
  metrics: Record<string, number> | null;

  @ApiProperty({
    description: 'Files with size and sha256.',
    type: 'array',
    items: { type: 'object', additionalProperties: true },
  })
  files: Array<Record<string, unknown>>;

  @ApiProperty({ description: 'Time.', format: 'date-time' })
  createdAt: string;

  static from(checkpoint: CheckpointEntity): CheckpointDto {
    return {
      id: checkpoint.id,
      step: checkpoint.step,
      epoch: checkpoint.epoch,
      reason: checkpoint.reason,
      isBest: checkpoint.isBest,
      metrics: checkpoint.metrics,
      files: checkpoint.files,
      createdAt: checkpoint.createdAt.toISOString(),
    };
  }
}

export class CheckpointListDto {
  @ApiProperty({ description: 'Kept checkpoints, newest first.', type: [CheckpointDto] })
  data: CheckpointDto[];
}

export class TrainerStatusDto {
  @ApiProperty({ description: 'This replica.', example: 'host:1234:abcd1234' })
  replica: string;

  @ApiProperty({
    description: 'Backend the workers run on; null when this replica runs no trainer.',
    nullable: true,
    enum: ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'],
    example: 'wasm',
  })
  backend: string | null;

  @ApiProperty({ description: 'Devices of the backend.', type: [String], example: ['wasm:simd=true'] })
  devices: string[];

  @ApiProperty({
    description: 'Better backends that did not load, and why.',
    type: 'array',
    items: { type: 'object', additionalProperties: true },
  })
  unavailable: Array<Record<string, unknown>>;

  @ApiProperty({ description: 'GPUs seen by nvidia-smi.', type: [String], example: [] })
  gpus: string[];

  @ApiProperty({ description: 'Trainer slots (worker threads) of this replica.', example: 1 })
  slots: number;

  @ApiProperty({ description: 'Slots running a job now.', example: 0 })
  busySlots: number;

  @ApiProperty({ description: 'Memory budget of one slot, bytes.', example: 2147483648 })
  slotMemoryBudget: number;

  @ApiProperty({ description: 'Queued jobs across all replicas.', example: 0 })
  queueDepth: number;
}
