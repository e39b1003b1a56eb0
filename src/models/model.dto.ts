import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageOf } from '../platform/http/pagination.js';
import type { ModelVersionEntity } from './model-version.entity.js';
import type { RegisteredModelEntity } from './registered-model.entity.js';

/** A registered model's name: what a job may name its output model. */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export class RegisteredModelDto {
  @ApiProperty({ description: 'Model id.', format: 'uuid' })
  id: string;

  @ApiProperty({ description: 'Name, unique in the project.', example: 'sentiment' })
  name: string;

  @ApiProperty({ description: 'Description.', example: '' })
  description: string;

  @ApiProperty({ description: 'Creation time.', format: 'date-time' })
  createdAt: string;

  static from(model: RegisteredModelEntity): RegisteredModelDto {
    return { id: model.id, name: model.name, description: model.description, createdAt: model.createdAt.toISOString() };
  }
}

export class RegisteredModelListDto extends PageOf(RegisteredModelDto, 'Models, newest first.') {}

export class ModelFileDto {
  @ApiProperty({ description: 'File name in the version folder.', example: 'model.safetensors' })
  name: string;

  @ApiProperty({ description: 'Size in bytes.', example: 1048576 })
  sizeBytes: number;

  @ApiProperty({
    description: 'SHA-256, hex.',
    example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  })
  sha256: string;
}

export class ModelVersionDto {
  @ApiProperty({ description: 'Model version id.', format: 'uuid' })
  id: string;

  @ApiProperty({ description: 'Model name.', example: 'sentiment' })
  modelName: string;

  @ApiProperty({ description: 'Version number.', example: 1 })
  version: number;

  @ApiProperty({ description: 'Model family.', enum: ['gpt2', 'mlp'], example: 'gpt2' })
  family: string;

  @ApiProperty({ description: 'Head: causal-lm, classification or regression.', example: 'classification' })
  task: string;

  @ApiProperty({ description: 'The manifest stored beside the weights.', type: Object, additionalProperties: true })
  manifest: Record<string, unknown>;

  @ApiProperty({ description: 'Files of the version.', type: [ModelFileDto] })
  files: ModelFileDto[];

  @ApiProperty({ description: 'Weights format.', example: 'safetensors' })
  format: string;

  @ApiProperty({ description: 'Parameters.', example: 120000 })
  parameterCount: number;

  @ApiProperty({
    description: 'Final validation metrics of the job that made it.',
    type: Object,
    additionalProperties: true,
  })
  metrics: Record<string, unknown>;

  @ApiProperty({
    description: 'The job that trained it; null for imports.',
    type: String,
    format: 'uuid',
    nullable: true,
  })
  sourceJobId: string | null;

  @ApiProperty({ description: 'Creation time.', format: 'date-time' })
  createdAt: string;

  static from(modelName: string, version: ModelVersionEntity): ModelVersionDto {
    return {
      id: version.id,
      modelName,
      version: version.version,
      family: version.family,
      task: version.task,
      manifest: version.manifest,
      files: version.files,
      format: version.format,
      parameterCount: version.parameterCount,
      metrics: version.metrics,
      sourceJobId: version.sourceJobId,
      createdAt: version.createdAt.toISOString(),
    };
  }
}

export class ModelVersionListDto extends PageOf(ModelVersionDto, 'Versions, newest first.') {}

export const BUNDLE_FORMATS = ['tar', 'zip'] as const;

export class DownloadModelVersionQueryDto {
  @ApiProperty({
    description: 'Archive format of the bundle.',
    enum: BUNDLE_FORMATS,
    required: false,
    default: 'tar',
    example: 'tar',
  })
  @IsOptional()
  @IsIn(BUNDLE_FORMATS)
  format?: (typeof BUNDLE_FORMATS)[number];
}

/** Media types a model import accepts: the archive as the raw body. */
export const MODEL_ARCHIVE_TYPES = [
  'application/x-tar',
  'application/gzip',
  'application/x-gzip',
  'application/zip',
  'application/octet-stream',
] as const;
