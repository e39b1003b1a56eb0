import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { OpenAPIObject } from '@nestjs/swagger';
import { getMetadataStorage } from 'class-validator';
import { createApp } from '../../app.js';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../logging/logger.js';
import { buildOpenApiDocument } from '../openapi.js';
import { INT32_MAX } from './params.js';

interface ValidatorEntry {
  name?: string;
  propertyName: string;
  constraints?: unknown[];
  each?: boolean;
}

/** What class-validator records per class: the decorators of each property. */
const validatorsByClass = () =>
  (getMetadataStorage() as unknown as { validationMetadatas: Map<{ name: string }, ValidatorEntry[]> })
    .validationMetadatas;

/** Seeds are the widest integers a request carries (uint32); none reaches an integer column. */
const WIDEST_INTEGER = 0xffffffff;

type Schema = { type?: string; minimum?: number; maximum?: number; items?: Schema; [key: string]: unknown };

describe('the OpenAPI document agrees with the validators', () => {
  let app: NestExpressApplication;
  let document: OpenAPIObject;

  before(async () => {
    app = await createApp({
      config: loadConfig({}),
      databaseUrl: 'postgres://preview/none',
      preview: true,
      logger: createLogger('silent'),
    });
    document = buildOpenApiDocument(app);
  });
  after(async () => {
    await app.close();
  });

  it('declares every validated integer as a bounded integer with the validator bounds', () => {
    const schemas = (document.components?.schemas ?? {}) as Record<string, { properties?: Record<string, Schema> }>;
    const problems: string[] = [];
    let checked = 0;
    for (const [target, metadata] of validatorsByClass()) {
      const properties = schemas[target.name]?.properties;
      if (!properties) {
        continue;
      }
      for (const integer of metadata.filter((entry) => entry.name === 'isInt')) {
        const name = `${target.name}.${integer.propertyName}`;
        const property = properties[integer.propertyName];
        const schema = integer.each ? property?.items : property;
        checked++;
        if (schema?.type !== 'integer') {
          problems.push(`${name} is ${schema?.type ?? 'missing'} in the spec, not integer`);
          continue;
        }
        const bound = (kind: 'min' | 'max') =>
          metadata.find((entry) => entry.propertyName === integer.propertyName && entry.name === kind)
            ?.constraints?.[0] as number | undefined;
        const [minimum, maximum] = [bound('min'), bound('max')];
        if (maximum === undefined || maximum > WIDEST_INTEGER) {
          problems.push(`${name} has no upper bound`);
        }
        if (!integer.each && (schema.minimum !== minimum || schema.maximum !== maximum)) {
          problems.push(
            `${name}: spec ${schema.minimum}..${schema.maximum}, validator ${String(minimum)}..${String(maximum)}`,
          );
        }
      }
    }
    assert.ok(checked > 20, `only ${checked} integer fields found`);
    assert.deepEqual(problems, []);
  });

  it('declares the common errors on every operation, always as JSON, and bounded integer parameters', () => {
    const problems: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
        const operation = item[method];
        if (!operation) {
          continue;
        }
        const expected = ['400'];
        if ((operation.security ?? []).length > 0) {
          expected.push('401', '403', '429', '503');
        }
        if (path.includes('{')) {
          expected.push('404');
        }
        if (method !== 'get') {
          expected.push('413', '415');
        }
        for (const status of expected.filter((status) => !(status in operation.responses))) {
          problems.push(`${operation.operationId}: ${status} not declared`);
        }
        // Every numeric query or path parameter of this API is an integer with bounds.
        for (const parameter of operation.parameters ?? []) {
          const schema = 'schema' in parameter ? (parameter.schema as Schema | undefined) : undefined;
          if (schema && (schema.type === 'number' || (schema.type === 'integer' && schema.maximum === undefined))) {
            problems.push(
              `${operation.operationId}: parameter ${'name' in parameter ? parameter.name : '?'} is unbounded`,
            );
          }
        }
        for (const [status, response] of Object.entries(operation.responses)) {
          const types = response && 'content' in response ? Object.keys(response.content ?? {}) : [];
          if (Number(status) >= 400 && types.join() !== 'application/json') {
            problems.push(`${operation.operationId}: ${status} is ${types.join(', ')}`);
          }
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('gives path parameters the schema their pipe enforces', () => {
    const version = document.paths['/api/v1/datasets/{datasetId}/versions/{version}'].get?.parameters?.find(
      (parameter) => 'name' in parameter && parameter.name === 'version',
    );
    assert.deepEqual(version && 'schema' in version ? version.schema : undefined, {
      type: 'integer',
      minimum: 1,
      maximum: INT32_MAX,
    });
  });
});
