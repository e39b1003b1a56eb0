import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  Matches,
  MaxLength,
  Min,
} from 'class-validator';
import { ALIAS_NAME_PATTERN } from './model-alias.dto.js';

export class PredictQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    description: 'The model version that answers. Give `version` or `alias`, not both.',
    minimum: 1,
    maximum: 2147483647,
    example: 1,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2147483647)
  version?: number;

  @ApiPropertyOptional({
    description: 'The alias whose current version answers (for example `production`). Give `version` or `alias`.',
    pattern: ALIAS_NAME_PATTERN.source,
    example: 'production',
  })
  @IsOptional()
  @IsString()
  @Matches(ALIAS_NAME_PATTERN)
  alias?: string;
}

export class PredictRequestDto {
  @ApiProperty({
    description:
      "The inputs, one object per prediction, keyed by the model's input fields (the fields it was trained on: " +
      '`text` for a text classifier, `prompt` for a prompt-completion model, `messages` for a chat model, the ' +
      'feature columns for an mlp). At most INFERENCE_MAX_BATCH of them.',
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    example: [{ text: 'a wonderful film' }],
  })
  @IsArray()
  @ArrayMinSize(1)
  @IsObject({ each: true })
  inputs: Array<Record<string, unknown>>;

  @ApiPropertyOptional({
    type: 'integer',
    description: 'Generation: most tokens to generate per input (at most INFERENCE_MAX_NEW_TOKENS).',
    minimum: 1,
    maximum: 1_000_000,
    default: 64,
    example: 32,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  maxNewTokens?: number;

  @ApiPropertyOptional({
    description: 'Generation: sampling temperature; 0 is greedy (always the most likely token).',
    minimum: 0,
    maximum: 5,
    default: 1,
    example: 0.8,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(5)
  temperature?: number;

  @ApiPropertyOptional({
    type: 'integer',
    description: 'Generation: sample from the k most likely tokens only; 0 keeps all.',
    minimum: 0,
    maximum: 1_000_000,
    default: 0,
    example: 40,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  topK?: number;

  @ApiPropertyOptional({
    description: 'Generation: nucleus sampling, the smallest set of most likely tokens reaching this probability.',
    minimum: 0,
    maximum: 1,
    exclusiveMinimum: true,
    default: 1,
    example: 0.95,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(Number.MIN_VALUE)
  @Max(1)
  topP?: number;

  @ApiPropertyOptional({
    description: 'Generation: the text ends before the first of these; it is not included.',
    type: [String],
    maxItems: 8,
    example: ['\n\n'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(8)
  @IsString({ each: true })
  @MaxLength(100, { each: true })
  stopSequences?: string[];

  @ApiPropertyOptional({
    type: 'integer',
    description: 'Generation: the same seed, version, inputs and options give the same text. Random when absent.',
    minimum: 0,
    maximum: 4294967295,
    example: 42,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(4294967295)
  seed?: number;

  @ApiPropertyOptional({
    description:
      'Generation: answer as a server-sent event stream (text/event-stream) of `token` events and one final ' +
      '`done` event instead of one JSON body.',
    default: false,
  })
  @IsOptional()
  @IsBoolean()
  stream?: boolean;
}

export const FINISH_REASONS = ['stop', 'length'] as const;

export class PredictionDto {
  @ApiPropertyOptional({ description: 'Classification: the most probable label.', example: 'positive' })
  label?: string;

  @ApiPropertyOptional({
    description: 'Classification: the probability of every label.',
    type: 'object',
    additionalProperties: { type: 'number' },
    example: { negative: 0.08, positive: 0.92 },
  })
  probabilities?: Record<string, number>;

  @ApiPropertyOptional({ description: "Regression: the value, in the training target's units.", example: 213.5 })
  value?: number;

  @ApiPropertyOptional({ description: 'Generation: the generated text (without the prompt).', example: ' and then' })
  text?: string;

  @ApiPropertyOptional({ description: 'Generation: tokens of the prompt.', example: 5 })
  promptTokens?: number;

  @ApiPropertyOptional({ description: 'Generation: tokens generated.', example: 12 })
  completionTokens?: number;

  @ApiPropertyOptional({
    description: 'Generation: `stop` (end of text or a stop sequence) or `length` (maxNewTokens reached).',
    enum: FINISH_REASONS,
    example: 'stop',
  })
  finishReason?: (typeof FINISH_REASONS)[number];
}

export class PredictResponseDto {
  @ApiProperty({ description: 'The model.', example: 'sentiment' })
  model: string;

  @ApiProperty({ description: 'The version that answered.', example: 3 })
  version: number;

  @ApiProperty({ description: 'Id of the version that answered.', format: 'uuid' })
  modelVersionId: string;

  @ApiProperty({ description: 'The head that answered.', enum: ['classification', 'regression', 'causal-lm'] })
  task: string;

  @ApiProperty({ description: 'One prediction per input, in order.', type: [PredictionDto] })
  predictions: PredictionDto[];
}
