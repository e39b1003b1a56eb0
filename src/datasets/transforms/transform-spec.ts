/**
 * Request DTOs of POST /api/v1/datasets/{id}/versions/{v}/transforms: an ordered list of steps,
 * discriminated by `op`. OpenAPI: `steps.items` is a oneOf of the step schemas with a discriminator
 * mapping on `op`.
 */
import { ApiExtraModels, ApiProperty, ApiSchema, getSchemaPath } from '@nestjs/swagger';
import { plainToInstance, Transform, type ClassConstructor } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsPositive,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  Validate,
  ValidateIf,
  ValidateNested,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { INT32_MAX } from '../../platform/http/params.js';
import {
  crossFieldProblems,
  DEDUPE_MODES,
  EDA_OPERATIONS,
  MAX_COPIES,
  MAX_EDA_ALPHA,
  MAX_SEED,
  MAX_STEPS,
  NORMALIZATION_METHODS,
  OVERSAMPLE_STRATEGIES,
  PERSONAL_DATA_TYPES,
  TRANSFORM_OPS,
  type AugmentNumericStep,
  type AugmentTextStep,
  type CleanStep,
  type DedupeMode,
  type DedupeStep,
  type DropInvalidStep,
  type DropRowsStep,
  type EdaOperation,
  type MapLabelsStep,
  type NormalizationMethod,
  type NormalizeStep,
  type OversampleStep,
  type OversampleStrategy,
  type PersonalDataType,
  type RedactStep,
  type SplitStep,
  type TransformOp,
  type TransformStep,
} from './transform-types.js';

const MAX_FIELDS = 200;
const MAX_FIELD_NAME = 200;
const MAX_LABEL_LENGTH = 200;
const MAX_MAPPING_ENTRIES = 10_000;

/** Rules that involve several properties of a step (see crossFieldProblems), reported on `op`. */
@ValidatorConstraint({ name: 'stepConsistency' })
class StepConsistency implements ValidatorConstraintInterface {
  validate(_value: unknown, args: ValidationArguments): boolean {
    return crossFieldProblems(args.object as TransformStep).length === 0;
  }

  defaultMessage(args: ValidationArguments): string {
    return crossFieldProblems(args.object as TransformStep).join('; ');
  }
}

@ValidatorConstraint({ name: 'labelMapping' })
class LabelMapping implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return false;
    }
    const entries = Object.entries(value);
    return (
      entries.length > 0 &&
      entries.length <= MAX_MAPPING_ENTRIES &&
      entries.every(
        ([from, to]) =>
          from.length <= MAX_LABEL_LENGTH && typeof to === 'string' && to.length > 0 && to.length <= MAX_LABEL_LENGTH,
      )
    );
  }

  defaultMessage(): string {
    return `mapping must be an object of 1 to ${MAX_MAPPING_ENTRIES} entries from a label to a non-empty label (at most ${MAX_LABEL_LENGTH} characters)`;
  }
}

/** A list of field names; applied with the property's own description. */
function FieldList(): PropertyDecorator {
  return (target, property) => {
    for (const decorator of [
      IsArray(),
      ArrayMinSize(1),
      ArrayMaxSize(MAX_FIELDS),
      ArrayUnique(),
      IsString({ each: true }),
      MinLength(1, { each: true }),
      MaxLength(MAX_FIELD_NAME, { each: true }),
    ]) {
      decorator(target, property);
    }
  };
}

function Seed(): PropertyDecorator {
  return (target, property) => {
    ApiProperty({
      description: 'Seed of the pseudo-random generator: the same seed gives the same result.',
      type: 'integer',
      minimum: 0,
      maximum: MAX_SEED,
      example: 42,
    })(target, property);
    IsInt()(target, property);
    Min(0)(target, property);
    Max(MAX_SEED)(target, property);
  };
}

function Copies(description: string): PropertyDecorator {
  return (target, property) => {
    ApiProperty({ description, type: 'integer', minimum: 1, maximum: MAX_COPIES, example: 2 })(target, property);
    IsInt()(target, property);
    Min(1)(target, property);
    Max(MAX_COPIES)(target, property);
  };
}

function Op<T extends TransformOp>(op: T): PropertyDecorator {
  return (target, property) => {
    ApiProperty({ description: 'The step type.', enum: [op], example: op })(target, property);
    IsIn([op])(target, property);
    Validate(StepConsistency)(target, property);
  };
}

function OptionalFlag(description: string, example: boolean): PropertyDecorator {
  return (target, property) => {
    ApiProperty({ description, required: false, example })(target, property);
    IsOptional()(target, property);
    IsBoolean()(target, property);
  };
}

function OptionalCount(description: string, example: number): PropertyDecorator {
  return (target, property) => {
    ApiProperty({ description, required: false, type: 'integer', minimum: 0, maximum: INT32_MAX, example })(
      target,
      property,
    );
    IsOptional()(target, property);
    IsInt()(target, property);
    Min(0)(target, property);
    Max(INT32_MAX)(target, property);
  };
}

const finite = { allowNaN: false, allowInfinity: false };

@ApiSchema({ description: 'Cleans text: trimming, Unicode NFKC, control characters, HTML and case.' })
export class CleanStepDto implements CleanStep {
  @Op('clean')
  op: 'clean';

  @ApiProperty({
    description:
      "Fields to clean; default: the dataset's input fields (chat: each message's content). Classification labels " +
      'also get trim and NFKC (not the other operations) unless the label field is listed here, when it gets them all.',
    required: false,
    type: [String],
    example: ['text'],
  })
  @IsOptional()
  @FieldList()
  fields?: string[];

  @OptionalFlag('Remove leading and trailing whitespace. Default true.', true)
  trim?: boolean;

  @OptionalFlag('Apply Unicode NFKC normalisation (full-width to ASCII, ligatures, …). Default true.', true)
  nfkc?: boolean;

  @OptionalFlag(
    'Remove C0 and C1 control characters except tab and newline (CR and CRLF become LF). Default true.',
    true,
  )
  stripControl?: boolean;

  @OptionalFlag(
    'Remove HTML tags, comments and script/style contents, and decode common entities. Default false.',
    true,
  )
  stripHtml?: boolean;

  @OptionalFlag('Lowercase the text. Default false.', false)
  lowercase?: boolean;
}

@ApiSchema({
  description: 'Removes duplicate rows by their input text (not the label), keeping the first occurrence.',
})
export class DedupeStepDto implements DedupeStep {
  @Op('dedupe')
  op: 'dedupe';

  @ApiProperty({
    description:
      '`exact`: equal input text after NFKC, lowercasing and whitespace collapsing. `near`: MinHash (64 permutations, ' +
      'word 3-shingles) with LSH (16 bands × 4 rows), confirmed by estimated Jaccard similarity ≥ threshold.',
    enum: DEDUPE_MODES,
    enumName: 'DedupeMode',
    example: 'near',
  })
  @IsIn(DEDUPE_MODES)
  mode: DedupeMode;

  @ApiProperty({
    description: 'Near mode: the estimated Jaccard similarity from which two rows are duplicates. Default 0.8.',
    required: false,
    minimum: 0,
    exclusiveMinimum: true,
    maximum: 1,
    example: 0.8,
  })
  @IsOptional()
  @IsNumber(finite)
  @IsPositive()
  @Max(1)
  threshold?: number;
}

@ApiSchema({ description: 'Replaces personal data with typed placeholders such as `[EMAIL]`.' })
export class RedactStepDto implements RedactStep {
  @Op('redact')
  op: 'redact';

  @ApiProperty({
    description: 'Kinds of personal data to redact; default: all of them.',
    required: false,
    enum: PERSONAL_DATA_TYPES,
    enumName: 'PersonalDataType',
    isArray: true,
    example: ['email', 'phone'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(PERSONAL_DATA_TYPES, { each: true, message: `each type must be one of ${PERSONAL_DATA_TYPES.join(', ')}` })
  types?: PersonalDataType[];

  @ApiProperty({
    description: 'Fields to redact; default: the input fields, plus the completion of prompt-completion datasets.',
    required: false,
    type: [String],
    example: ['text'],
  })
  @IsOptional()
  @FieldList()
  fields?: string[];
}

@ApiSchema({ description: 'Renames classes; mapping several labels to one merges those classes.' })
export class MapLabelsStepDto implements MapLabelsStep {
  @Op('map_labels')
  op: 'map_labels';

  @ApiProperty({
    description: 'Old label to new label (numeric labels are matched by their decimal text).',
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { positive: 'pos', very_positive: 'pos', negative: 'neg' },
  })
  @IsObject()
  @Validate(LabelMapping)
  mapping: Record<string, string>;

  @OptionalFlag('Drop rows whose label the mapping does not mention; default false (keep them unchanged).', false)
  dropUnmapped?: boolean;
}

@ApiSchema({
  description:
    'Drops rows that match any rule. Lengths are of the input text: characters are Unicode code points, tokens are ' +
    'words and punctuation marks.',
})
export class DropRowsStepDto implements DropRowsStep {
  @Op('drop_rows')
  op: 'drop_rows';

  @OptionalCount('Drop rows with fewer tokens.', 3)
  minTokens?: number;

  @OptionalCount('Drop rows with more tokens.', 512)
  maxTokens?: number;

  @OptionalCount('Drop rows with fewer characters.', 10)
  minChars?: number;

  @OptionalCount('Drop rows with more characters.', 20000)
  maxChars?: number;

  @OptionalFlag('Drop rows whose input text is blank, or whose label (or completion) is missing or blank.', true)
  dropEmpty?: boolean;

  @ApiProperty({
    description: 'Drop rows with these labels.',
    required: false,
    type: [String],
    example: ['spam'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_MAPPING_ENTRIES)
  @IsString({ each: true })
  @MaxLength(MAX_LABEL_LENGTH, { each: true })
  labels?: string[];
}

@ApiSchema({
  description:
    "Drops the rows that fail validation for the dataset's task and schema, and lists them with the reason: " +
    'the way to a `ready` version from an `invalid` one. Must be the first step.',
})
export class DropInvalidStepDto implements DropInvalidStep {
  @Op('drop_invalid')
  op: 'drop_invalid';
}

@ApiSchema({
  description: 'Normalises numeric fields; the statistics are stored on the new version so inference can apply them.',
})
export class NormalizeStepDto implements NormalizeStep {
  @Op('normalize')
  op: 'normalize';

  @ApiProperty({
    description: 'Numeric fields (numbers or numeric strings); every row must have a finite value.',
    type: [String],
    example: ['age', 'income'],
  })
  @FieldList()
  fields: string[];

  @ApiProperty({
    description:
      '`zscore`: (x − mean) / population std; `minmax`: (x − min) / (max − min). A zero spread maps every value to 0.',
    enum: NORMALIZATION_METHODS,
    enumName: 'NormalizationMethod',
    example: 'zscore',
  })
  @IsIn(NORMALIZATION_METHODS)
  method: NormalizationMethod;
}

@ApiSchema({
  description:
    'Appends EDA-style variants of text rows (random swap, deletion and insertion of words; no synonym replacement).',
})
export class AugmentTextStepDto implements AugmentTextStep {
  @Op('augment_text')
  op: 'augment_text';

  @ApiProperty({ description: 'Augmentation technique.', enum: ['eda'], example: 'eda' })
  @IsIn(['eda'])
  technique: 'eda';

  @Copies('Variants per row.')
  copies: number;

  @ApiProperty({
    description:
      'EDA α: swap and insert change max(1, floor(α × words)) words; delete drops each word with probability α, ' +
      'keeping at least one.',
    minimum: 0,
    maximum: MAX_EDA_ALPHA,
    example: 0.1,
  })
  @IsNumber(finite)
  @Min(0)
  @Max(MAX_EDA_ALPHA)
  alpha: number;

  @ApiProperty({
    description: 'Operations to draw from, one per variant; default: all.',
    required: false,
    enum: EDA_OPERATIONS,
    enumName: 'EdaOperation',
    isArray: true,
    example: ['swap', 'delete'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(EDA_OPERATIONS, { each: true, message: `each operation must be one of ${EDA_OPERATIONS.join(', ')}` })
  operations?: EdaOperation[];

  @Seed()
  seed: number;

  @ApiProperty({
    description: 'Only augment rows of these classes; default: every row.',
    required: false,
    type: [String],
    example: ['fraud'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_MAPPING_ENTRIES)
  @IsString({ each: true })
  @MaxLength(MAX_LABEL_LENGTH, { each: true })
  labels?: string[];
}

@ApiSchema({ description: 'Appends copies of every row with Gaussian noise added to numeric fields.' })
export class AugmentNumericStepDto implements AugmentNumericStep {
  @Op('augment_numeric')
  op: 'augment_numeric';

  @ApiProperty({ description: 'Numeric fields to add noise to.', type: [String], example: ['age', 'income'] })
  @FieldList()
  fields: string[];

  @ApiProperty({
    description: "Standard deviation of the noise, in the fields' own units (normalise first for scale-free noise).",
    minimum: 0,
    example: 0.05,
  })
  @IsNumber(finite)
  @Min(0)
  noiseStd: number;

  @Copies('Noisy copies per row.')
  copies: number;

  @Seed()
  seed: number;
}

@ApiSchema({ description: 'Copies rows of smaller classes until they reach the majority count (or a ratio of it).' })
export class OversampleStepDto implements OversampleStep {
  @Op('oversample')
  op: 'oversample';

  @ApiProperty({
    description: '`match_majority`: every class up to the largest class; `ratio`: up to ceil(ratio × largest).',
    enum: OVERSAMPLE_STRATEGIES,
    enumName: 'OversampleStrategy',
    example: 'match_majority',
  })
  @IsIn(OVERSAMPLE_STRATEGIES)
  strategy: OversampleStrategy;

  @ApiProperty({
    description: 'Strategy `ratio` only (required there): the target as a fraction of the majority count.',
    required: false,
    minimum: 0,
    exclusiveMinimum: true,
    maximum: 1,
    example: 0.5,
  })
  @ValidateIf((step: OversampleStepDto) => step.ratio !== undefined)
  @IsNumber(finite)
  @IsPositive()
  @Max(1)
  ratio?: number;

  @Seed()
  seed: number;
}

function Fraction(description: string, example: number): PropertyDecorator {
  return (target, property) => {
    ApiProperty({ description, minimum: 0, maximum: 1, example })(target, property);
    IsNumber(finite)(target, property);
    Min(0)(target, property);
    Max(1)(target, property);
  };
}

@ApiSchema({
  description:
    'Splits the rows into train, validation and test; must be the last step. Copies made by augmentation or ' +
    'oversampling go to train with their source row and are dropped when the source is in validation or test.',
})
export class SplitStepDto implements SplitStep {
  @Op('split')
  op: 'split';

  @Fraction('Fraction of rows for training; train + validation + test = 1.', 0.8)
  train: number;

  @Fraction('Fraction of rows for validation.', 0.1)
  validation: number;

  @Fraction('Fraction of rows for testing.', 0.1)
  test: number;

  @Seed()
  seed: number;

  @OptionalFlag('Split each class in proportion (classification only). Default true.', true)
  stratify?: boolean;
}

export type TransformStepDto =
  | CleanStepDto
  | DedupeStepDto
  | RedactStepDto
  | MapLabelsStepDto
  | DropRowsStepDto
  | DropInvalidStepDto
  | NormalizeStepDto
  | AugmentTextStepDto
  | AugmentNumericStepDto
  | OversampleStepDto
  | SplitStepDto;

export const STEP_DTO_BY_OP: { [Op in TransformOp]: ClassConstructor<Extract<TransformStepDto, { op: Op }>> } = {
  clean: CleanStepDto,
  dedupe: DedupeStepDto,
  redact: RedactStepDto,
  map_labels: MapLabelsStepDto,
  drop_rows: DropRowsStepDto,
  drop_invalid: DropInvalidStepDto,
  normalize: NormalizeStepDto,
  augment_text: AugmentTextStepDto,
  augment_numeric: AugmentNumericStepDto,
  oversample: OversampleStepDto,
  split: SplitStepDto,
};

const STEP_DTOS = TRANSFORM_OPS.map((op) => STEP_DTO_BY_OP[op]);

/** Stands in for a step whose op is missing or unknown, so validation reports just that. */
class UnknownStepDto {
  @IsIn(TRANSFORM_OPS, { message: `op must be one of ${TRANSFORM_OPS.join(', ')}` })
  op: unknown;
}

/**
 * Turns each plain step into the DTO class its `op` names. class-transformer's own discriminator
 * (`@Type(..., { discriminator })`) would do this but throws a TypeError (a 500) on a `null` item;
 * here non-objects stay as they are and @ValidateNested rejects them.
 */
export function toStepDtos(value: unknown): unknown {
  if (!Array.isArray(value)) {
    return value;
  }
  return value.map((item: unknown) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      return item;
    }
    const op = (item as { op?: unknown }).op;
    if (typeof op === 'string' && Object.hasOwn(STEP_DTO_BY_OP, op)) {
      return plainToInstance(STEP_DTO_BY_OP[op as TransformOp] as ClassConstructor<object>, item);
    }
    return Object.assign(new UnknownStepDto(), { op });
  });
}

@ApiExtraModels(...STEP_DTOS)
export class CreateTransformDto {
  @ApiProperty({
    description:
      'Steps applied in order to the parent version; a `split`, if any, must be last. The result is a new version ' +
      'linked to its parent with this spec; the same parent and spec always give the same content.',
    type: 'array',
    minItems: 1,
    maxItems: MAX_STEPS,
    items: {
      oneOf: STEP_DTOS.map((dto) => ({ $ref: getSchemaPath(dto) })),
      discriminator: {
        propertyName: 'op',
        mapping: Object.fromEntries(TRANSFORM_OPS.map((op) => [op, getSchemaPath(STEP_DTO_BY_OP[op])])),
      },
    },
    example: [
      { op: 'clean', stripHtml: true },
      { op: 'dedupe', mode: 'near', threshold: 0.8 },
      { op: 'redact', types: ['email', 'phone'] },
      { op: 'map_labels', mapping: { very_positive: 'positive' } },
      { op: 'drop_rows', dropEmpty: true, minTokens: 3 },
      { op: 'split', train: 0.8, validation: 0.1, test: 0.1, seed: 42 },
    ],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_STEPS)
  @ValidateNested({ each: true })
  @Transform(({ obj }: { obj: Record<string, unknown> }) => toStepDtos(obj.steps), { toClassOnly: true })
  steps: TransformStepDto[];
}
