import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { IntegerQuery, PageOf, PageQueryDto } from '../platform/http/pagination.js';
import { INT32_MAX } from '../platform/http/params.js';
import { DATASET_FORMATS, DATASET_TASKS, type DatasetFormat, type DatasetTask } from './dataset-types.js';
import type { DatasetVersionEntity, DatasetVersionState, QualityVerdictColumn } from './dataset-version.entity.js';
import { DATASET_VERSION_STATES, QUALITY_VERDICTS } from './dataset-version.entity.js';
import type { DatasetEntity, PersonalDataDeclaration } from './dataset.entity.js';
import { PERSONAL_DATA_DECLARATIONS } from './dataset.entity.js';

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_. -]{0,127}$/;

export class DatasetSchemaDto {
  @ApiProperty({
    description: 'Fields that hold the model input (text, chat messages, or tabular features).',
    example: ['text'],
    type: [String],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(FIELD_NAME, {
    each: true,
    message: 'each input field must be a field name (letters, digits, _ . - and spaces)',
  })
  inputFields: string[];

  @ApiProperty({
    description: 'Field that holds the label or target (classification, regression, prompt-completion).',
    required: false,
    example: 'label',
  })
  @IsOptional()
  @IsString()
  @Matches(FIELD_NAME, { message: 'labelField must be a field name' })
  labelField?: string;
}

export class CreateDatasetDto {
  @ApiProperty({ description: 'Name, unique in the project.', example: 'support-tickets' })
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, {
    message: 'name must be 1-100 letters, digits, dots, underscores or hyphens',
  })
  name: string;

  @ApiProperty({
    description: 'What the data is and how it was collected.',
    required: false,
    example: 'Tickets from the help desk, 2024-2026, labelled by agents',
  })
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  description?: string;

  @ApiProperty({
    description: 'What the data trains.',
    enum: DATASET_TASKS,
    enumName: 'DatasetTask',
    example: 'classification',
  })
  @IsIn(DATASET_TASKS, { message: `task must be one of ${DATASET_TASKS.join(', ')}` })
  task: DatasetTask;

  @ApiProperty({
    description: 'Which fields are input and label; defaults by task (text/label, text, messages, prompt/completion).',
    required: false,
    type: DatasetSchemaDto,
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => DatasetSchemaDto)
  schema?: DatasetSchemaDto;

  @ApiProperty({
    description:
      'Where the data comes from: a URL or a description. Required: provenance is recorded for every model trained on it.',
    example: 'https://huggingface.co/datasets/ag_news',
  })
  @IsString({ message: 'source is required: say where the data comes from (a URL or a description)' })
  @MinLength(3, { message: 'source is required: say where the data comes from (a URL or a description)' })
  @MaxLength(2000)
  source: string;

  @ApiProperty({
    description: 'SPDX licence id of the data (e.g. CC-BY-4.0, MIT, Apache-2.0), or `proprietary`. Required.',
    example: 'CC-BY-4.0',
  })
  @IsString({ message: 'license is required: an SPDX licence id such as CC-BY-4.0, or proprietary' })
  @Matches(/^(proprietary|[A-Za-z0-9][A-Za-z0-9.+-]{1,63}( (AND|OR|WITH) [A-Za-z0-9][A-Za-z0-9.+-]{1,63})*)$/, {
    message: 'license is required: an SPDX licence id such as CC-BY-4.0, or proprietary',
  })
  license: string;

  @ApiProperty({
    description:
      'Whether the data may contain personal data. With yes or unknown, every read of its versions is audited.',
    enum: PERSONAL_DATA_DECLARATIONS,
    enumName: 'PersonalDataDeclaration',
    example: 'unknown',
  })
  @IsIn(PERSONAL_DATA_DECLARATIONS, { message: 'containsPersonalData must be one of yes, no, unknown' })
  containsPersonalData: PersonalDataDeclaration;

  @ApiProperty({
    description:
      'Legal basis for using the data (consent, contract, legitimate interest, public data...). Required when containsPersonalData is yes.',
    required: false,
    example: 'legitimate interest: service improvement, DPIA 2026-04',
  })
  @ValidateIf((dataset: CreateDatasetDto) => dataset.containsPersonalData === 'yes' || dataset.legalBasis !== undefined)
  @IsString({ message: 'legalBasis is required when containsPersonalData is yes' })
  @MinLength(3, { message: 'legalBasis is required when containsPersonalData is yes' })
  @MaxLength(2000)
  legalBasis?: string;

  @ApiProperty({
    description: 'Overrides of the quality thresholds (see the quality report) for this dataset.',
    required: false,
    type: Object,
    additionalProperties: true,
    example: { maxExactDuplicateRatio: { warn: 0.02, fail: 0.2 } },
  })
  @IsOptional()
  @IsObject()
  qualityThresholds?: Record<string, unknown>;
}

export class DatasetDto {
  @ApiProperty({ description: 'Dataset id.', format: 'uuid', example: '2c1b9a0e-3d4f-4e5a-9b6c-7d8e9f0a1b2c' })
  id: string;

  @ApiProperty({
    description: 'Project it belongs to.',
    format: 'uuid',
    example: '0b3f4a8e-6f1d-4c1e-9a55-8a1c2d3e4f50',
  })
  projectId: string;

  @ApiProperty({ description: 'Name, unique in the project.', example: 'support-tickets' })
  name: string;

  @ApiProperty({ description: 'Description.', example: 'Tickets from the help desk' })
  description: string;

  @ApiProperty({ description: 'Task.', enum: DATASET_TASKS, enumName: 'DatasetTask', example: 'classification' })
  task: DatasetTask;

  @ApiProperty({ description: 'Input and label fields.', type: DatasetSchemaDto })
  schema: DatasetSchemaDto;

  @ApiProperty({ description: 'Provenance: URL or description.', example: 'https://huggingface.co/datasets/ag_news' })
  source: string;

  @ApiProperty({ description: 'SPDX licence id or proprietary.', example: 'CC-BY-4.0' })
  license: string;

  @ApiProperty({
    description: 'Declared personal data.',
    enum: PERSONAL_DATA_DECLARATIONS,
    enumName: 'PersonalDataDeclaration',
    example: 'unknown',
  })
  containsPersonalData: PersonalDataDeclaration;

  @ApiProperty({ description: 'Legal basis for using the data.', example: '' })
  legalBasis: string;

  @ApiProperty({ description: 'Quality threshold overrides.', type: Object, additionalProperties: true, example: {} })
  qualityThresholds: Record<string, unknown>;

  @ApiProperty({ description: 'Created at.', format: 'date-time', example: '2026-11-28T10:00:00.000Z' })
  createdAt: string;

  static from(dataset: DatasetEntity): DatasetDto {
    return {
      id: dataset.id,
      projectId: dataset.projectId,
      name: dataset.name,
      description: dataset.description,
      task: dataset.task,
      schema: dataset.schema,
      source: dataset.source,
      license: dataset.license,
      containsPersonalData: dataset.containsPersonalData,
      legalBasis: dataset.legalBasis,
      qualityThresholds: dataset.qualityThresholds,
      createdAt: dataset.createdAt.toISOString(),
    };
  }
}

export class DatasetListDto extends PageOf(DatasetDto, 'Datasets, newest first.') {}

export class DatasetVersionDto {
  @ApiProperty({ description: 'Version id.', format: 'uuid', example: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' })
  id: string;

  @ApiProperty({ description: 'Dataset id.', format: 'uuid', example: '2c1b9a0e-3d4f-4e5a-9b6c-7d8e9f0a1b2c' })
  datasetId: string;

  @ApiProperty({ description: 'Version number, from 1.', example: 1 })
  version: number;

  @ApiProperty({
    description:
      'ready: usable; invalid: has row errors, cannot be trained on; deleted: file removed, kept for lineage.',
    enum: DATASET_VERSION_STATES,
    enumName: 'DatasetVersionState',
    example: 'ready',
  })
  state: DatasetVersionState;

  @ApiProperty({ description: 'File format.', enum: DATASET_FORMATS, enumName: 'DatasetFormat', example: 'jsonl' })
  format: DatasetFormat;

  @ApiProperty({ description: 'Compression of the stored file.', enum: ['gzip', 'none'], example: 'none' })
  compression: 'gzip' | 'none';

  @ApiProperty({
    description: 'SHA-256 of the file as uploaded.',
    example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  })
  sha256: string;

  @ApiProperty({ description: 'Size of the file as uploaded, in bytes.', example: 1048576 })
  sizeBytes: number;

  @ApiProperty({ description: 'Rows read without error.', example: 120000 })
  rowCount: number;

  @ApiProperty({ description: 'Rows with errors (see the quality report).', example: 0 })
  errorRowCount: number;

  @ApiProperty({ description: 'Input and label fields of this version.', type: DatasetSchemaDto })
  schema: DatasetSchemaDto;

  @ApiProperty({ description: 'CSV header, for CSV files.', type: [String], nullable: true, example: null })
  columns: string[] | null;

  @ApiProperty({
    description: 'Overall quality verdict; a failing version is refused by jobs unless they allow quality failures.',
    enum: QUALITY_VERDICTS,
    enumName: 'QualityVerdict',
    example: 'pass',
  })
  qualityVerdict: QualityVerdictColumn;

  @ApiProperty({
    description: 'The version this one was transformed from.',
    format: 'uuid',
    type: String,
    nullable: true,
    example: null,
  })
  parentVersionId: string | null;

  @ApiProperty({
    description: 'The transform steps that made this version.',
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    nullable: true,
    example: null,
  })
  transformSpec: unknown[] | null;

  @ApiProperty({
    description: 'What each transform step did.',
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    nullable: true,
    example: null,
  })
  transformReport: unknown[] | null;

  @ApiProperty({
    description: 'train, validation or test, for the outputs of a split.',
    type: String,
    nullable: true,
    example: null,
  })
  splitName: string | null;

  @ApiProperty({
    description: 'Statistics needed at inference, such as feature normalisation.',
    type: Object,
    additionalProperties: true,
    example: {},
  })
  statistics: Record<string, unknown>;

  @ApiProperty({ description: 'Created at.', format: 'date-time', example: '2026-11-28T10:00:00.000Z' })
  createdAt: string;

  @ApiProperty({
    description: 'When the file was deleted.',
    format: 'date-time',
    type: String,
    nullable: true,
    example: null,
  })
  deletedAt: string | null;

  static from(version: DatasetVersionEntity): DatasetVersionDto {
    return {
      id: version.id,
      datasetId: version.datasetId,
      version: version.version,
      state: version.state,
      format: version.format,
      compression: version.compression,
      sha256: version.sha256,
      sizeBytes: version.sizeBytes,
      rowCount: version.rowCount,
      errorRowCount: version.errorRowCount,
      schema: version.schema,
      columns: version.columns,
      qualityVerdict: version.qualityVerdict,
      parentVersionId: version.parentVersionId,
      transformSpec: version.transformSpec,
      transformReport: version.transformReport,
      splitName: version.splitName,
      statistics: version.statistics,
      createdAt: version.createdAt.toISOString(),
      deletedAt: version.deletedAt?.toISOString() ?? null,
    };
  }
}

export class DatasetVersionListDto extends PageOf(DatasetVersionDto, 'Versions, newest first.') {}

export class UploadDatasetVersionQueryDto {
  @ApiProperty({
    description: 'File format; detected from the content when omitted.',
    enum: DATASET_FORMATS,
    required: false,
    example: 'jsonl',
  })
  @IsOptional()
  @IsIn(DATASET_FORMATS)
  format?: DatasetFormat;

  @ApiProperty({
    type: 'integer',
    description:
      'A version of this dataset (or of the one it is validated against) to measure representativeness against.',
    required: false,
    minimum: 1,
    example: 1,
    maximum: INT32_MAX,
  })
  @IsOptional()
  @IntegerQuery()
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  referenceVersion?: number;
}

export class RowErrorDto {
  @ApiProperty({ description: 'Line number (1-based) in the decompressed file.', example: 17 })
  line: number;

  @ApiProperty({ description: 'The field at fault, where one is.', required: false, example: 'label' })
  field?: string;

  @ApiProperty({ description: 'What is wrong.', example: 'missing label field "label"' })
  reason: string;
}

export class ValidationSummaryDto {
  @ApiProperty({ description: 'The first row errors.', type: [RowErrorDto] })
  errors: RowErrorDto[];

  @ApiProperty({ description: 'How many rows had errors in all.', example: 0 })
  totalErrors: number;
}

export class QualityReportDto {
  @ApiProperty({ description: 'Dataset version id.', format: 'uuid', example: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' })
  datasetVersionId: string;

  @ApiProperty({ description: 'Overall verdict.', enum: QUALITY_VERDICTS, enumName: 'QualityVerdict', example: 'warn' })
  verdict: QualityVerdictColumn;

  @ApiProperty({
    description:
      'The report: completeness, duplicates, labels, diversity (text fields), representativeness, features (numeric and vector fields: ranges, non-finite values, constant columns, outliers, label leaks), privacy (each with score and verdict) and overall reasons. Personal data is shown masked, never in full.',
    type: 'object',
    additionalProperties: true,
    example: { overall: { verdict: 'warn', score: 82, reasons: ['3 exact duplicate rows (0.3%)'] } },
  })
  report: Record<string, unknown>;

  @ApiProperty({ description: 'Row errors found while reading.', type: ValidationSummaryDto })
  validation: ValidationSummaryDto;
}

export class DatasetRowDto {
  @ApiProperty({ description: 'Line number (1-based).', example: 1 })
  line: number;

  @ApiProperty({
    description: 'The row.',
    type: Object,
    additionalProperties: true,
    example: { text: 'My card was charged twice', label: 'billing' },
  })
  record: Record<string, unknown>;
}

export class DatasetRowsDto {
  @ApiProperty({ description: 'Rows from `offset`.', type: [DatasetRowDto] })
  rows: DatasetRowDto[];

  @ApiProperty({ description: 'Offset of the next page; null at the end.', type: Number, nullable: true, example: 50 })
  nextOffset: number | null;
}

export class ListRowsQueryDto {
  @ApiProperty({
    type: 'integer',
    description: 'Rows to skip.',
    required: false,
    minimum: 0,
    default: 0,
    example: 0,
    maximum: INT32_MAX,
  })
  @IsOptional()
  @IntegerQuery()
  @IsInt()
  @Min(0)
  @Max(INT32_MAX)
  offset?: number;

  @ApiProperty({
    type: 'integer',
    description: 'Rows to return.',
    required: false,
    minimum: 1,
    maximum: 500,
    default: 50,
    example: 50,
  })
  @IsOptional()
  @IntegerQuery()
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class ListDatasetVersionsQueryDto extends PageQueryDto {}

export class SkippedTransformOutputDto {
  @ApiProperty({
    description: 'The split part that made no version.',
    enum: ['train', 'validation', 'test'],
    example: 'test',
  })
  splitName: 'train' | 'validation' | 'test';

  @ApiProperty({
    description: '`fraction 0`: the split gave it no share; `no rows`: its share came to no rows.',
    enum: ['fraction 0', 'no rows'],
    example: 'fraction 0',
  })
  reason: 'fraction 0' | 'no rows';
}

export class TransformResultDto {
  @ApiProperty({
    description:
      'The new versions: one, or one per split part (train, validation, test) that has rows; see `skipped` for the others.',
    type: [DatasetVersionDto],
  })
  versions: DatasetVersionDto[];

  @ApiProperty({
    description: 'Split parts that made no version, and why (empty without a split).',
    type: [SkippedTransformOutputDto],
    example: [{ splitName: 'test', reason: 'fraction 0' }],
  })
  skipped: SkippedTransformOutputDto[];

  @ApiProperty({
    description: 'What each step did (rows in and out, and details such as removed duplicates or redaction counts).',
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    example: [{ step: 0, op: 'dedupe', rowsIn: 1000, rowsOut: 990, details: { removed: 10 } }],
  })
  report: Record<string, unknown>[];

  @ApiProperty({
    description: 'Statistics stored on the versions for inference (feature normalisation).',
    type: Object,
    additionalProperties: true,
    example: {},
  })
  statistics: Record<string, unknown>;
}
