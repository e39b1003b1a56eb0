import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { PageOf } from '../platform/http/pagination.js';
import { MODEL_VERSION_STATES, type ModelVersionEntity, type ModelVersionState } from './model-version.entity.js';
import type { RegisteredModelEntity } from './registered-model.entity.js';

/** A registered model's name: what a job may name its output model. */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** The longest description, intended use, out-of-scope use or limitations text. */
export const MAX_MODEL_TEXT_LENGTH = 10_000;
export const MAX_MODEL_TAGS = 32;
/** A tag: 1-50 letters, digits, spaces and `. _ : / + -`, starting with a letter or digit. */
export const MODEL_TAG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._:/+-]{0,49}$/;

export class RegisteredModelDto {
  @ApiProperty({ description: 'Model id.', format: 'uuid' })
  id: string;

  @ApiProperty({ description: 'Name, unique in the project.', example: 'sentiment' })
  name: string;

  @ApiProperty({ description: 'What the model is.', type: String, nullable: true, example: 'Review sentiment' })
  description: string | null;

  @ApiProperty({
    description: 'What it is meant to be used for.',
    type: String,
    nullable: true,
    example: 'Routing English product reviews',
  })
  intendedUse: string | null;

  @ApiProperty({
    description: 'Uses it is not meant for.',
    type: String,
    nullable: true,
    example: 'Medical or legal text',
  })
  outOfScopeUse: string | null;

  @ApiProperty({
    description: 'Known limitations.',
    type: String,
    nullable: true,
    example: 'Trained on reviews under 200 words',
  })
  limitations: string | null;

  @ApiProperty({ description: 'Tags.', type: [String], example: ['nlp', 'reviews'] })
  tags: string[];

  @ApiProperty({ description: 'Creation time.', format: 'date-time' })
  createdAt: string;

  @ApiProperty({ description: 'Last change to the model or its descriptive fields.', format: 'date-time' })
  updatedAt: string;

  static from(model: RegisteredModelEntity): RegisteredModelDto {
    return {
      id: model.id,
      name: model.name,
      description: model.description,
      intendedUse: model.intendedUse,
      outOfScopeUse: model.outOfScopeUse,
      limitations: model.limitations,
      tags: model.tags,
      createdAt: model.createdAt.toISOString(),
      updatedAt: model.updatedAt.toISOString(),
    };
  }
}

function describedText(description: string, example: string) {
  return {
    description: `${description} Absent: unchanged; null: cleared.`,
    type: String,
    nullable: true,
    required: false,
    maxLength: MAX_MODEL_TEXT_LENGTH,
    example,
  };
}

/** JSON merge semantics: an absent field stays as it is, null clears it. */
export class UpdateModelDto {
  @ApiProperty(describedText('What the model is.', 'Review sentiment'))
  @ValidateIf((_object, value) => value !== undefined && value !== null)
  @IsString()
  @MaxLength(MAX_MODEL_TEXT_LENGTH)
  description?: string | null;

  @ApiProperty(describedText('What it is meant to be used for.', 'Routing English product reviews'))
  @ValidateIf((_object, value) => value !== undefined && value !== null)
  @IsString()
  @MaxLength(MAX_MODEL_TEXT_LENGTH)
  intendedUse?: string | null;

  @ApiProperty(describedText('Uses it is not meant for.', 'Medical or legal text'))
  @ValidateIf((_object, value) => value !== undefined && value !== null)
  @IsString()
  @MaxLength(MAX_MODEL_TEXT_LENGTH)
  outOfScopeUse?: string | null;

  @ApiProperty(describedText('Known limitations.', 'Trained on reviews under 200 words'))
  @ValidateIf((_object, value) => value !== undefined && value !== null)
  @IsString()
  @MaxLength(MAX_MODEL_TEXT_LENGTH)
  limitations?: string | null;

  @ApiProperty({
    description: `Tags, replacing the current ones (at most ${MAX_MODEL_TAGS}, no repeats). Absent: unchanged; null: cleared.`,
    type: 'array',
    items: { type: 'string', pattern: MODEL_TAG_PATTERN.source, maxLength: 50 },
    maxItems: MAX_MODEL_TAGS,
    uniqueItems: true,
    nullable: true,
    required: false,
    example: ['nlp', 'reviews'],
  })
  @ValidateIf((_object, value) => value !== undefined && value !== null)
  @IsArray()
  @ArrayMaxSize(MAX_MODEL_TAGS)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(MODEL_TAG_PATTERN, {
    each: true,
    message: 'each tag must be 1-50 letters, digits, spaces or . _ : / + -, starting with a letter or digit',
  })
  tags?: string[] | null;
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

export class ModelVersionRefDto {
  @ApiProperty({ description: 'Model version id.', format: 'uuid' })
  id: string;

  @ApiProperty({ description: 'Model name.', example: 'tiny-gpt2' })
  modelName: string;

  @ApiProperty({ description: 'Version number.', example: 1 })
  version: number;
}

export const LINEAGE_DATA_ROLES = ['training', 'validation', 'ancestor'] as const;

export class LineageDatasetVersionDto {
  @ApiProperty({ description: 'Dataset version id.', format: 'uuid' })
  id: string;

  @ApiProperty({ description: 'Dataset id.', format: 'uuid' })
  datasetId: string;

  @ApiProperty({ description: 'Dataset name.', example: 'reviews' })
  datasetName: string;

  @ApiProperty({ description: 'Version number.', example: 2 })
  version: number;

  @ApiProperty({
    description:
      "training or validation: the source job's data; ancestor: a version those were transformed from, back to the upload.",
    enum: LINEAGE_DATA_ROLES,
    example: 'training',
  })
  role: (typeof LINEAGE_DATA_ROLES)[number];
}

/** Where a version came from and where it is used, in short; GET /lineage has the whole graph. */
export class ModelVersionLineageDto {
  @ApiProperty({
    description: 'The job that trained it; null for imports.',
    type: String,
    format: 'uuid',
    nullable: true,
  })
  sourceJobId: string | null;

  @ApiProperty({ description: 'The version it was fine-tuned from.', type: ModelVersionRefDto, nullable: true })
  baseModelVersion: ModelVersionRefDto | null;

  @ApiProperty({
    description: 'Data of the source job, then the versions it was derived from up to the original upload.',
    type: [LineageDatasetVersionDto],
  })
  datasetVersions: LineageDatasetVersionDto[];

  @ApiProperty({ description: 'Aliases of its model that point at it now.', type: [String], example: ['production'] })
  aliases: string[];
}

export class ModelVersionDto {
  @ApiProperty({ description: 'Model version id.', format: 'uuid' })
  id: string;

  @ApiProperty({ description: 'Model name.', example: 'sentiment' })
  modelName: string;

  @ApiProperty({ description: 'Version number.', example: 1 })
  version: number;

  @ApiProperty({
    description: 'ready: usable; deleted: a tombstone whose files were removed (row and lineage remain).',
    enum: MODEL_VERSION_STATES,
    enumName: 'ModelVersionState',
    example: 'ready',
  })
  state: ModelVersionState;

  @ApiProperty({ description: 'When it was deleted.', type: String, format: 'date-time', nullable: true })
  deletedAt: string | null;

  @ApiProperty({ description: 'Model family.', enum: ['gpt2', 'mlp'], example: 'gpt2' })
  family: string;

  @ApiProperty({ description: 'Head: causal-lm, classification or regression.', example: 'classification' })
  task: string;

  @ApiProperty({ description: 'The manifest stored beside the weights.', type: Object, additionalProperties: true })
  manifest: Record<string, unknown>;

  @ApiProperty({ description: 'Files of the version (as stored before any deletion).', type: [ModelFileDto] })
  files: ModelFileDto[];

  @ApiProperty({ description: 'Total size of its files, in bytes.', example: 1052672 })
  sizeBytes: number;

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

  @ApiProperty({ description: 'Lineage in short.', type: ModelVersionLineageDto })
  lineage: ModelVersionLineageDto;

  @ApiProperty({ description: 'Creation time.', format: 'date-time' })
  createdAt: string;

  static from(modelName: string, version: ModelVersionEntity, lineage: ModelVersionLineageDto): ModelVersionDto {
    return {
      id: version.id,
      modelName,
      version: version.version,
      state: version.state,
      deletedAt: version.deletedAt?.toISOString() ?? null,
      family: version.family,
      task: version.task,
      manifest: version.manifest,
      files: version.files,
      sizeBytes: version.files.reduce((sum, file) => sum + file.sizeBytes, 0),
      format: version.format,
      parameterCount: version.parameterCount,
      metrics: version.metrics,
      sourceJobId: version.sourceJobId,
      lineage,
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
