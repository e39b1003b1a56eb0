/**
 * Promotion gate rules: declarative, stored on an alias, discriminated by `kind`. A new kind is a
 * DTO here (added to GATE_RULE_DTO_BY_KIND) and a PromotionGate beside the others; the compiler
 * then asks for it everywhere a kind is switched on.
 */
import { INT32_MAX } from '../../platform/http/params.js';
import { ApiExtraModels, ApiProperty, getSchemaPath } from '@nestjs/swagger';
import { plainToInstance, Transform, Type, type ClassConstructor } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';

export const GATE_KINDS = [
  'training_data_quality_passed',
  'no_personal_data',
  'metric',
  'evaluation_metric',
  'improves_on_alias',
  'held_out_evaluation',
] as const;
export type GateKind = (typeof GATE_KINDS)[number];

/** Where a metric rule reads its figure: the validation metrics of the job that trained the candidate. */
export const METRIC_SOURCES = ['training'] as const;
export const METRIC_OPS = ['>=', '>', '<=', '<', '=='] as const;
export type MetricOp = (typeof METRIC_OPS)[number];
export const MAX_GATES = 20;
const METRIC_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

export class TrainingDataQualityGateDto {
  @ApiProperty({
    description:
      'Every dataset version that the candidate, or any model it was fine-tuned from, was trained on has a quality verdict of pass.',
    enum: ['training_data_quality_passed'],
    example: 'training_data_quality_passed',
  })
  @IsIn(['training_data_quality_passed'])
  kind: 'training_data_quality_passed';
}

export class NoPersonalDataGateDto {
  @ApiProperty({
    description: "The quality reports of the candidate's training data found no personal data in any row.",
    enum: ['no_personal_data'],
    example: 'no_personal_data',
  })
  @IsIn(['no_personal_data'])
  kind: 'no_personal_data';
}

export class MetricGateDto {
  @ApiProperty({ description: 'Compares one metric with a threshold.', enum: ['metric'], example: 'metric' })
  @IsIn(['metric'])
  kind: 'metric';

  @ApiProperty({
    description: 'training: the final validation metrics of the job that trained the candidate.',
    enum: METRIC_SOURCES,
    example: 'training',
  })
  @IsIn(METRIC_SOURCES)
  source: (typeof METRIC_SOURCES)[number];

  @ApiProperty({
    description: 'Metric name, as in the version metrics.',
    example: 'accuracy',
    pattern: METRIC_NAME.source,
  })
  @IsString()
  @Matches(METRIC_NAME, { message: 'metric must be a metric name' })
  metric: string;

  @ApiProperty({ description: 'Comparison: the metric `op` the value.', enum: METRIC_OPS, example: '>=' })
  @IsIn(METRIC_OPS)
  op: MetricOp;

  @ApiProperty({ description: 'Threshold.', example: 0.9 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  value: number;
}

const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** The dataset version an evaluation gate reads its evaluation from. */
export class GateDatasetRefDto {
  @ApiProperty({ description: 'Dataset name.', example: 'reviews', pattern: DATASET_NAME.source })
  @IsString()
  @Matches(DATASET_NAME, { message: 'name must be a dataset name' })
  name: string;

  @ApiProperty({
    type: 'integer',
    description: 'Dataset version (for example the held-out test split).',
    example: 4,
    minimum: 1,
    maximum: INT32_MAX,
  })
  @IsInt()
  @Min(1)
  @Max(INT32_MAX)
  version: number;
}

export class EvaluationMetricGateDto {
  @ApiProperty({
    description:
      "Compares a metric of the candidate's latest succeeded evaluation on `dataset` with a threshold; no such evaluation fails.",
    enum: ['evaluation_metric'],
    example: 'evaluation_metric',
  })
  @IsIn(['evaluation_metric'])
  kind: 'evaluation_metric';

  @ApiProperty({ description: 'The evaluation data.', type: GateDatasetRefDto })
  @ValidateNested()
  @Type(() => GateDatasetRefDto)
  dataset: GateDatasetRefDto;

  @ApiProperty({
    description: 'Metric name, as in the evaluation metrics.',
    example: 'f1Macro',
    pattern: METRIC_NAME.source,
  })
  @IsString()
  @Matches(METRIC_NAME, { message: 'metric must be a metric name' })
  metric: string;

  @ApiProperty({ description: 'Comparison: the metric `op` the value.', enum: METRIC_OPS, example: '>=' })
  @IsIn(METRIC_OPS)
  op: MetricOp;

  @ApiProperty({ description: 'Threshold.', example: 0.9 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  value: number;
}

export class ImprovesOnAliasGateDto {
  @ApiProperty({
    description:
      "The candidate is better than the alias's current version on `metric` with the given confidence: an evaluation of " +
      'the candidate on `dataset` with the current version as its baseline has a paired-bootstrap interval of the ' +
      'difference wholly on the better side of zero (above for accuracy-like metrics, below for losses and errors). ' +
      'An alias that points at no version yet passes.',
    enum: ['improves_on_alias'],
    example: 'improves_on_alias',
  })
  @IsIn(['improves_on_alias'])
  kind: 'improves_on_alias';

  @ApiProperty({ description: 'The evaluation data.', type: GateDatasetRefDto })
  @ValidateNested()
  @Type(() => GateDatasetRefDto)
  dataset: GateDatasetRefDto;

  @ApiProperty({
    description: 'Metric name, as in the evaluation comparison.',
    example: 'f1Macro',
    pattern: METRIC_NAME.source,
  })
  @IsString()
  @Matches(METRIC_NAME, { message: 'metric must be a metric name' })
  metric: string;

  @ApiProperty({
    description: 'Least confidence of the interval; the evaluation must have been run with at least this.',
    example: 0.95,
    minimum: 0.5,
    maximum: 0.999,
    default: 0.95,
    required: false,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.5)
  @Max(0.999)
  confidence?: number;
}

export class HeldOutEvaluationGateDto {
  @ApiProperty({
    description:
      'The candidate has a succeeded evaluation on `dataset`, and no job of its lineage (its own, or those of the models ' +
      'it was fine-tuned from) trained or validated on that dataset version.',
    enum: ['held_out_evaluation'],
    example: 'held_out_evaluation',
  })
  @IsIn(['held_out_evaluation'])
  kind: 'held_out_evaluation';

  @ApiProperty({ description: 'The held-out evaluation data.', type: GateDatasetRefDto })
  @ValidateNested()
  @Type(() => GateDatasetRefDto)
  dataset: GateDatasetRefDto;
}

export type GateRule =
  | TrainingDataQualityGateDto
  | NoPersonalDataGateDto
  | MetricGateDto
  | EvaluationMetricGateDto
  | ImprovesOnAliasGateDto
  | HeldOutEvaluationGateDto;

const GATE_RULE_DTO_BY_KIND: { [K in GateKind]: ClassConstructor<Extract<GateRule, { kind: K }>> } = {
  training_data_quality_passed: TrainingDataQualityGateDto,
  no_personal_data: NoPersonalDataGateDto,
  metric: MetricGateDto,
  evaluation_metric: EvaluationMetricGateDto,
  improves_on_alias: ImprovesOnAliasGateDto,
  held_out_evaluation: HeldOutEvaluationGateDto,
};
const GATE_RULE_DTOS = GATE_KINDS.map((kind) => GATE_RULE_DTO_BY_KIND[kind]);

/** Stands in for a rule whose kind is missing or unknown, so validation reports just that. */
class UnknownGateDto {
  @IsIn(GATE_KINDS, { message: `kind must be one of ${GATE_KINDS.join(', ')}` })
  kind: unknown;
}

function toGateDtos(value: unknown): unknown {
  if (!Array.isArray(value)) {
    return value;
  }
  return value.map((item: unknown) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      return item;
    }
    const kind = (item as { kind?: unknown }).kind;
    if (typeof kind === 'string' && Object.hasOwn(GATE_RULE_DTO_BY_KIND, kind)) {
      return plainToInstance(GATE_RULE_DTO_BY_KIND[kind as GateKind] as ClassConstructor<object>, item);
    }
    return Object.assign(new UnknownGateDto(), { kind });
  });
}

export const GATE_RULES_SCHEMA = {
  type: 'array' as const,
  maxItems: MAX_GATES,
  items: {
    oneOf: GATE_RULE_DTOS.map((dto) => ({ $ref: getSchemaPath(dto) })),
    discriminator: {
      propertyName: 'kind',
      mapping: Object.fromEntries(GATE_KINDS.map((kind) => [kind, getSchemaPath(GATE_RULE_DTO_BY_KIND[kind])])),
    },
  },
};

@ApiExtraModels(...GATE_RULE_DTOS, GateDatasetRefDto)
export class PutGatesDto {
  @ApiProperty({
    description: 'The rules a version must all pass to be promoted to this alias; an empty list lets any version in.',
    ...GATE_RULES_SCHEMA,
    example: [
      { kind: 'training_data_quality_passed' },
      { kind: 'no_personal_data' },
      { kind: 'metric', source: 'training', metric: 'accuracy', op: '>=', value: 0.9 },
    ],
  })
  @IsArray()
  @ArrayMaxSize(MAX_GATES)
  @ValidateNested({ each: true })
  @Transform(({ obj }: { obj: Record<string, unknown> }) => toGateDtos(obj.gates), { toClassOnly: true })
  gates: GateRule[];
}

/** What one gate decided, with the figures it looked at. */
export interface GateResult {
  kind: GateKind;
  rule: GateRule;
  passed: boolean;
  detail: string;
  figures: Record<string, unknown>;
}

export interface GateReport {
  passed: boolean;
  results: GateResult[];
}

/** A stored rule as plain JSON: the DTO instance without its class. */
export function plainRule(rule: GateRule): GateRule {
  return JSON.parse(JSON.stringify(rule)) as GateRule;
}
