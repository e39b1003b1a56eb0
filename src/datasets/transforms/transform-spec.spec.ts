import { Body, Controller, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { DomainError, type ErrorDetail } from '../../platform/errors/domain-error.js';
import { createValidationPipe, flattenValidationErrors } from '../../platform/http/validation.js';
import { CreateTransformDto, CleanStepDto, SplitStepDto } from './transform-spec.js';
import { TRANSFORM_OPS } from './transform-types.js';

/** Validates like the app's ValidationPipe and returns the flattened details (empty: valid). */
async function problems(body: unknown): Promise<ErrorDetail[]> {
  const instance = plainToInstance(CreateTransformDto, body);
  const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  return flattenValidationErrors(errors);
}

function reasons(details: ErrorDetail[]): string[] {
  return details.map((detail) => `${detail.field}: ${detail.reason}`);
}

const EVERY_STEP = [
  { op: 'clean', fields: ['text'], trim: true, nfkc: true, stripControl: true, stripHtml: true, lowercase: false },
  { op: 'dedupe', mode: 'exact' },
  { op: 'dedupe', mode: 'near', threshold: 0.85 },
  { op: 'redact', types: ['email', 'iban'] },
  { op: 'map_labels', mapping: { positive: 'pos', very_positive: 'pos' }, dropUnmapped: true },
  { op: 'drop_rows', minTokens: 2, maxTokens: 100, minChars: 1, maxChars: 5000, dropEmpty: true, labels: ['spam'] },
  { op: 'normalize', fields: ['age'], method: 'zscore' },
  { op: 'augment_text', technique: 'eda', copies: 2, alpha: 0.1, operations: ['swap'], seed: 7, labels: ['pos'] },
  { op: 'augment_numeric', fields: ['age'], noiseStd: 0.1, copies: 1, seed: 7 },
  { op: 'oversample', strategy: 'ratio', ratio: 0.5, seed: 3 },
  { op: 'split', train: 0.7, validation: 0.2, test: 0.1, seed: 1, stratify: false },
];

describe('CreateTransformDto validation', () => {
  it('accepts a spec with every kind of step and builds the class its op names', async () => {
    assert.deepEqual(await problems({ steps: EVERY_STEP }), []);
    const instance = plainToInstance(CreateTransformDto, { steps: EVERY_STEP });
    assert.ok(instance.steps[0] instanceof CleanStepDto);
    assert.ok(instance.steps[10] instanceof SplitStepDto);
    assert.deepEqual(
      instance.steps.map((step) => step.op),
      EVERY_STEP.map((step) => step.op),
    );
  });

  it('rejects an unknown op with the list of ops, and nothing else about that step', async () => {
    const details = await problems({ steps: [{ op: 'shuffle', seed: 1 }] });
    assert.deepEqual(reasons(details), [`steps.0.op: op must be one of ${TRANSFORM_OPS.join(', ')}`]);
  });

  it('rejects a step without op', async () => {
    const details = await problems({ steps: [{ mode: 'exact' }] });
    assert.deepEqual(reasons(details), [`steps.0.op: op must be one of ${TRANSFORM_OPS.join(', ')}`]);
  });

  it('rejects unknown properties of a known step', async () => {
    const details = await problems({ steps: [{ op: 'dedupe', mode: 'exact', keep: 'last' }] });
    assert.deepEqual(reasons(details), ['steps.0.keep: property keep should not exist']);
  });

  it('rejects null, strings and arrays as steps without throwing', async () => {
    for (const step of [null, 'clean', 3, [{ op: 'clean' }]]) {
      const details = await problems({ steps: [step] });
      assert.ok(details.length > 0, `step ${JSON.stringify(step)} must be rejected`);
      assert.ok(details.some((detail) => detail.field?.startsWith('steps')));
    }
  });

  it('rejects split fractions that do not sum to 1', async () => {
    const details = await problems({ steps: [{ op: 'split', train: 0.8, validation: 0.1, test: 0.2, seed: 1 }] });
    assert.equal(details.length, 1);
    assert.equal(details[0].field, 'steps.0.op');
    assert.match(details[0].reason, /train \+ validation \+ test must sum to 1 \(they sum to 1\.1/);
  });

  it('accepts fractions whose sum is 1 up to floating-point error', async () => {
    assert.deepEqual(await problems({ steps: [{ op: 'split', train: 0.7, validation: 0.2, test: 0.1, seed: 1 }] }), []);
  });

  it('rejects out-of-range and wrongly typed values with field paths', async () => {
    const details = await problems({
      steps: [
        { op: 'augment_text', technique: 'eda', copies: 9, alpha: 0.7, seed: -1 },
        { op: 'dedupe', mode: 'fuzzy', threshold: 0 },
        { op: 'normalize', fields: [], method: 'zscore' },
        { op: 'redact', types: ['passport'] },
      ],
    });
    const fields = details.map((detail) => detail.field);
    for (const field of [
      'steps.0.copies',
      'steps.0.alpha',
      'steps.0.seed',
      'steps.1.mode',
      'steps.1.threshold',
      'steps.2.fields',
      'steps.3.types',
    ]) {
      assert.ok(fields.includes(field), `${field} must be reported; got ${fields.join(', ')}`);
    }
    assert.ok(
      reasons(details).includes(
        'steps.3.types: each type must be one of email, phone, cn_mobile, payment_card, iban, ipv4, ipv6, cn_resident_id, secret',
      ),
    );
  });

  it('checks rules across properties: drop_rows needs a rule, min ≤ max, ratio with its strategy', async () => {
    const details = await problems({
      steps: [
        { op: 'drop_rows' },
        { op: 'drop_rows', minChars: 10, maxChars: 5 },
        { op: 'oversample', strategy: 'ratio', seed: 1 },
        { op: 'oversample', strategy: 'match_majority', ratio: 0.5, seed: 1 },
      ],
    });
    assert.deepEqual(reasons(details), [
      'steps.0.op: drop_rows needs at least one rule: minTokens, maxTokens, minChars, maxChars, dropEmpty or labels',
      'steps.1.op: minChars must not be greater than maxChars',
      "steps.2.op: ratio is required with strategy 'ratio'",
      "steps.3.op: ratio is only allowed with strategy 'ratio'",
    ]);
  });

  it('rejects a bad label mapping', async () => {
    const details = await problems({
      steps: [
        { op: 'map_labels', mapping: { a: 1 } },
        { op: 'map_labels', mapping: {} },
      ],
    });
    assert.deepEqual(
      details.map((detail) => detail.field),
      ['steps.0.mapping', 'steps.1.mapping'],
    );
  });

  it('needs 1 to 20 steps', async () => {
    assert.deepEqual(reasons(await problems({ steps: [] })), ['steps: steps must contain at least 1 elements']);
    const tooMany = Array.from({ length: 21 }, () => ({ op: 'dedupe', mode: 'exact' }));
    assert.deepEqual(reasons(await problems({ steps: tooMany })), [
      'steps: steps must contain no more than 20 elements',
    ]);
    assert.ok(reasons(await problems({})).includes('steps: steps must be an array'));
  });

  it("goes through the app's ValidationPipe as a 400, including a null step", async () => {
    const pipe = createValidationPipe();
    const metadata = { type: 'body' as const, metatype: CreateTransformDto };
    const valid = (await pipe.transform({ steps: [{ op: 'dedupe', mode: 'exact' }] }, metadata)) as CreateTransformDto;
    assert.equal(valid.steps[0].op, 'dedupe');
    for (const body of [{ steps: [null] }, { steps: [{ op: 'nope' }] }]) {
      await assert.rejects(
        () => pipe.transform(body, metadata),
        (error: unknown) => error instanceof DomainError && error.status === 400,
      );
    }
  });
});

describe('CreateTransformDto OpenAPI schema', () => {
  let document: OpenAPIObject;

  before(async () => {
    @Controller('transforms')
    class ProbeController {
      @Post()
      createTransform(@Body() body: CreateTransformDto): CreateTransformDto {
        return body;
      }
    }
    @Module({ controllers: [ProbeController] })
    class ProbeModule {}
    const app = await NestFactory.create(ProbeModule, { logger: false });
    document = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('probe').setVersion('1').build());
    await app.close();
  });

  it('describes steps as a oneOf with a discriminator mapping every op to a step schema', () => {
    const schemas = document.components?.schemas ?? {};
    const create = schemas.CreateTransformDto as { properties: Record<string, Record<string, unknown>> };
    const steps = create.properties.steps as {
      type: string;
      items: { oneOf: { $ref: string }[]; discriminator: { propertyName: string; mapping: Record<string, string> } };
    };
    assert.equal(steps.type, 'array');
    assert.equal(steps.items.discriminator.propertyName, 'op');
    assert.deepEqual(Object.keys(steps.items.discriminator.mapping), [...TRANSFORM_OPS]);
    assert.equal(steps.items.oneOf.length, TRANSFORM_OPS.length);
    for (const [op, reference] of Object.entries(steps.items.discriminator.mapping)) {
      assert.ok(steps.items.oneOf.some((item) => item.$ref === reference));
      const name = reference.replace('#/components/schemas/', '');
      const schema = schemas[name] as { required: string[]; properties: Record<string, { enum?: string[] }> };
      assert.ok(schema, `${name} must be a component`);
      assert.ok(schema.required.includes('op'), `${name}.op must be required`);
      assert.deepEqual(schema.properties.op.enum, [op]);
    }
  });

  it('gives every step property a description and an example', () => {
    const schemas = document.components?.schemas ?? {};
    for (const [name, schema] of Object.entries(schemas)) {
      const properties = (schema as { properties?: Record<string, { description?: string; example?: unknown }> })
        .properties;
      for (const [property, definition] of Object.entries(properties ?? {})) {
        assert.ok(definition.description, `${name}.${property} needs a description`);
        assert.notEqual(definition.example, undefined, `${name}.${property} needs an example`);
      }
    }
  });
});
