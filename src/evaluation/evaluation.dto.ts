import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsNumber, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { MODEL_NAME_PATTERN } from '../models/model.dto.js';
import { IntegerQuery, PageOf, PageQueryDto } from '../platform/http/pagination.js';
import { INT32_MAX } from '../platform/http/params.js';
import { EVALUATION_STATUSES, type EvaluationEntity, type EvaluationStatus } from './evaluation.entity.js';
import { EVALUATION_TASKS, type EvaluationResult } from './scoring.js';

const DATASET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const FIELD_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_. -]{0,127}$/;

export class EvaluatedModelRefDto {
  @ApiProperty({ description: 'Registered model name in this project.', example: 'sentiment' })
  @IsString()
  @Matches(MODEL_NAME_PATTERN, { message: 'name must be a model name' })
  name: string;

  @ApiProperty({ type: 'integer', description: 'Version number.', example: 2, minimum: 1, maximum: INT32_MAX })
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  version: number;
}

export class EvaluatedDatasetRefDto {
  @ApiProperty({ description: 'Dataset name in this project.', example: 'reviews-test' })
  @IsString()
  @Matches(DATASET_NAME_PATTERN, { message: 'name must be a dataset name' })
  name: string;

  @ApiProperty({ type: 'integer', description: 'Version number.', example: 1, minimum: 1, maximum: INT32_MAX })
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  version: number;
}

export class BaselineVersionRefDto {
  @ApiProperty({
    type: 'integer',
    description: 'Another version of the same model, scored on the same rows and compared with.',
    example: 1,
    minimum: 1,
    maximum: INT32_MAX,
  })
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  version: number;
}

export class BootstrapOptionsDto {
  @ApiProperty({
    type: 'integer',
    description: 'Paired-bootstrap resamples.',
    required: false,
    default: 1000,
    example: 1000,
    minimum: 100,
    maximum: 10000,
  })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(10000)
  resamples?: number;

  @ApiProperty({
    type: 'integer',
    description: 'Seed of the resampling: the same seed gives the same interval.',
    required: false,
    default: 0,
    example: 0,
    minimum: 0,
    maximum: INT32_MAX,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(INT32_MAX)
  seed?: number;

  @ApiProperty({
    description: 'Confidence level of the intervals.',
    required: false,
    default: 0.95,
    example: 0.95,
    minimum: 0.5,
    maximum: 0.999,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.5)
  @Max(0.999)
  confidence?: number;
}

export class CreateEvaluationDto {
  @ApiProperty({ description: 'The model version to evaluate.', type: EvaluatedModelRefDto })
  @ValidateNested()
  @Type(() => EvaluatedModelRefDto)
  model: EvaluatedModelRefDto;

  @ApiProperty({ description: 'The dataset version to evaluate on (a held-out split).', type: EvaluatedDatasetRefDto })
  @ValidateNested()
  @Type(() => EvaluatedDatasetRefDto)
  dataset: EvaluatedDatasetRefDto;

  @ApiProperty({
    description: 'A field of the rows to report metrics per value of (at most 50 slices; the rest as `(other)`).',
    required: false,
    example: 'source',
  })
  @IsOptional()
  @IsString()
  @Matches(FIELD_NAME_PATTERN, { message: 'sliceBy must be a field name' })
  sliceBy?: string;

  @ApiProperty({
    description: 'Compare with another version of the same model on the same rows.',
    required: false,
    type: BaselineVersionRefDto,
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => BaselineVersionRefDto)
  baseline?: BaselineVersionRefDto;

  @ApiProperty({ description: 'Settings of the paired bootstrap.', required: false, type: BootstrapOptionsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => BootstrapOptionsDto)
  bootstrap?: BootstrapOptionsDto;
}

export class EvaluationListQueryDto extends PageQueryDto {
  @ApiProperty({ description: 'Only evaluations of this model.', required: false, example: 'sentiment' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(MODEL_NAME_PATTERN, { message: 'model must be a model name' })
  model?: string;

  @ApiProperty({
    type: 'integer',
    description: 'Only evaluations of this version (with `model`).',
    required: false,
    example: 2,
    minimum: 1,
    maximum: INT32_MAX,
  })
  @IsOptional()
  @IntegerQuery()
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  version?: number;
}

export class EvaluationErrorDto {
  @ApiProperty({ description: 'Machine-readable reason.', example: 'dataset_deleted' })
  code: string;

  @ApiProperty({
    description: 'What happened.',
    example: 'The dataset version was deleted after the evaluation was created',
  })
  message: string;
}

export class EvaluationProgressDto {
  @ApiProperty({ description: 'Rows scored so far in the current attempt.', example: 640 })
  processedRows: number;

  @ApiProperty({ description: 'Rows of the dataset version.', example: 1000 })
  totalRows: number;
}

export class EvaluationDto {
  @ApiProperty({ description: 'Evaluation id.', format: 'uuid' })
  id: string;

  @ApiProperty({ description: 'State.', enum: EVALUATION_STATUSES, enumName: 'EvaluationStatus', example: 'succeeded' })
  status: EvaluationStatus;

  @ApiProperty({ description: 'What the model does.', enum: EVALUATION_TASKS, enumName: 'EvaluationTask' })
  task: string;

  @ApiProperty({ description: 'The model version evaluated.', type: EvaluatedModelRefDto })
  model: EvaluatedModelRefDto;

  @ApiProperty({ description: 'Its id.', format: 'uuid' })
  modelVersionId: string;

  @ApiProperty({ description: 'The dataset version evaluated on.', type: EvaluatedDatasetRefDto })
  dataset: EvaluatedDatasetRefDto;

  @ApiProperty({ description: 'Its id.', format: 'uuid' })
  datasetVersionId: string;

  @ApiProperty({ description: 'The version compared with.', type: BaselineVersionRefDto, nullable: true })
  baseline: BaselineVersionRefDto | null;

  @ApiProperty({ description: 'The field metrics are sliced by.', type: String, nullable: true, example: null })
  sliceBy: string | null;

  @ApiProperty({ description: 'Settings of the paired bootstrap.', type: BootstrapOptionsDto })
  bootstrap: BootstrapOptionsDto;

  @ApiProperty({ description: 'Progress of the current attempt.', type: EvaluationProgressDto })
  progress: EvaluationProgressDto;

  @ApiProperty({ description: 'Attempts so far (a crashed worker or replica re-runs it).', example: 1 })
  attempt: number;

  @ApiProperty({
    description:
      'Once succeeded: `rows`, `examples` (scored), `skipped` (by reason), `metrics`, `slices`, `referenceModels` ' +
      '(majority class or mean, TF-IDF + logistic regression, ridge regression, trigram LM: each with its metrics), ' +
      'and `comparison` (per-metric difference with a paired-bootstrap interval, McNemar exact test for classifiers). ' +
      'See the evaluation documentation for every field.',
    type: Object,
    additionalProperties: true,
    nullable: true,
  })
  result: EvaluationResult | null;

  @ApiProperty({ description: 'Why it failed.', type: EvaluationErrorDto, nullable: true })
  error: EvaluationErrorDto | null;

  @ApiProperty({
    description: 'Pending cancel of a running evaluation.',
    type: String,
    nullable: true,
    enum: ['cancel'],
  })
  pendingControl: 'cancel' | null;

  @ApiProperty({ description: 'Creation time.', format: 'date-time' })
  createdAt: string;

  @ApiProperty({ description: 'First start.', format: 'date-time', type: String, nullable: true })
  startedAt: string | null;

  @ApiProperty({ description: 'End time.', format: 'date-time', type: String, nullable: true })
  finishedAt: string | null;

  static from(entity: EvaluationEntity): EvaluationDto {
    return {
      id: entity.id,
      status: entity.status,
      task: entity.task,
      model: { name: entity.modelName, version: entity.modelVersion },
      modelVersionId: entity.modelVersionId,
      dataset: { name: entity.datasetName, version: entity.datasetVersion },
      datasetVersionId: entity.datasetVersionId,
      baseline: entity.baselineVersion === null ? null : { version: entity.baselineVersion },
      sliceBy: entity.sliceBy,
      bootstrap: entity.bootstrap,
      progress: { processedRows: entity.processedRows, totalRows: entity.totalRows },
      attempt: entity.attempt,
      result: entity.result,
      error: entity.error,
      pendingControl: entity.control,
      createdAt: entity.createdAt.toISOString(),
      startedAt: entity.startedAt?.toISOString() ?? null,
      finishedAt: entity.finishedAt?.toISOString() ?? null,
    };
  }
}

export class EvaluationListDto extends PageOf(EvaluationDto, 'Evaluations, newest first.') {}
