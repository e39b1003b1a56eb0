/**
 * A request generator and a response checker driven by the OpenAPI document alone: every operation
 * the spec lists gets valid requests built from its schemas and examples and hostile variants of
 * them, and every response is checked against what the spec declares for that operation.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { OpenAPIObject } from '@nestjs/swagger';
import { seededRandom } from '../../src/trainer/runtime/examples.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Schema = { [key: string]: unknown };
type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;

export interface SpecOperation {
  id: string;
  method: string;
  path: string;
  operation: Operation;
  parameters: Array<{ name: string; in: string; required: boolean; schema: Schema }>;
  /** Content types of the request body and their schemas. */
  bodyTypes: Record<string, Schema>;
  secured: boolean;
}

export interface FuzzRequest {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** Values a request must be refused for, never crash on. */
export const HOSTILE_STRINGS = [
  '',
  '\u0000',
  'a\u0000b',
  '9999999999999999999',
  '2147483648',
  '-1',
  '0',
  '0x10',
  ' 5',
  '5 ',
  '1e3',
  '5.0',
  'x'.repeat(300),
  '../..',
  '💥',
  "' OR 1=1 --",
];
const HOSTILE_VALUES: Json[] = [
  null,
  true,
  -1,
  0,
  1.5,
  2 ** 31,
  2 ** 53,
  -(2 ** 31) - 1,
  1e308,
  '',
  'x',
  '\u0000',
  'x'.repeat(5000),
  [],
  {},
  [null],
];
const SAMPLE_UUID = '00000000-0000-4000-8000-000000000000';

/** Cursors that pass the format check (base64url) but do not hold what the API writes. */
export function hostileCursors(): string[] {
  const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
  const id = '3f1c7a52-9c1e-4a55-9d55-0d1d7a8f2b1e';
  return [
    encode(`2026-02-30T00:00:00.000Z|${id}`),
    encode(`+275760-09-13T00:00:00.000Z|${id}`),
    encode(`1|${id}`),
    encode(`0000-01-01T00:00:00.000Z|${id}`),
    encode('2026-01-01T00:00:00.000Z|------------------------------------'),
    encode(`2026-01-01T00:00:00.000Z|${id}|extra`),
    encode('\u0000|\u0000'),
    'not_a_cursor',
  ];
}

export class SpecFuzzer {
  readonly random: () => number;
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(
    readonly spec: OpenAPIObject,
    seed: number,
  ) {
    this.random = seededRandom(seed);
    this.ajv = new Ajv({ strict: false, allErrors: true, logger: false });
    (addFormatsModule as unknown as { default: (ajv: Ajv) => void }).default(this.ajv);
    this.ajv.addSchema({ components: prefixRefs(spec.components ?? {}) }, 'openapi');
  }

  operations(): SpecOperation[] {
    const found: SpecOperation[] = [];
    for (const [path, item] of Object.entries(this.spec.paths)) {
      for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
        const operation = item[method];
        if (!operation) {
          continue;
        }
        const parameters = (operation.parameters ?? []).flatMap((parameter) =>
          'in' in parameter
            ? [
                {
                  name: parameter.name,
                  in: parameter.in,
                  required: parameter.required ?? false,
                  schema: this.resolve((parameter.schema ?? { type: 'string' }) as Schema),
                },
              ]
            : [],
        );
        const content =
          operation.requestBody && 'content' in operation.requestBody ? operation.requestBody.content : {};
        const bodyTypes = Object.fromEntries(
          Object.entries(content).map(([type, media]) => [type, (media.schema ?? {}) as Schema]),
        );
        found.push({
          id: operation.operationId ?? `${method} ${path}`,
          method: method.toUpperCase(),
          path,
          operation,
          parameters,
          bodyTypes,
          secured: (operation.security ?? this.spec.security ?? []).length > 0,
        });
      }
    }
    return found;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  resolve(schema: Schema): Schema {
    let current = schema;
    for (let hops = 0; typeof current.$ref === 'string' && hops < 20; hops++) {
      const name = current.$ref.replace('#/components/schemas/', '');
      current = (this.spec.components?.schemas?.[name] ?? {}) as Schema;
    }
    return current;
  }

  /** A value the schema accepts, preferring the documented examples. */
  valid(input: Schema, depth = 0): Json {
    const schema = this.resolve(input);
    if (schema.example !== undefined && this.random() < 0.7) {
      return structuredClone(schema.example) as Json;
    }
    if (Array.isArray(schema.enum)) {
      return this.pick(schema.enum as Json[]);
    }
    for (const key of ['oneOf', 'anyOf'] as const) {
      if (Array.isArray(schema[key])) {
        return this.valid(this.pick(schema[key] as Schema[]), depth + 1);
      }
    }
    if (Array.isArray(schema.allOf)) {
      return Object.assign({}, ...(schema.allOf as Schema[]).map((part) => this.valid(part, depth + 1))) as Json;
    }
    const minimum = typeof schema.minimum === 'number' ? schema.minimum : 0;
    const maximum = typeof schema.maximum === 'number' ? schema.maximum : minimum + 10;
    switch (schema.type) {
      case 'integer':
        return this.pick([minimum, maximum, Math.min(maximum, minimum + Math.floor(this.random() * 10))]);
      case 'number':
        return minimum + (Math.min(maximum, minimum + 1) - minimum) * this.random();
      case 'boolean':
        return this.random() < 0.5;
      case 'array':
        return depth > 6 ? [] : [this.valid((schema.items ?? {}) as Schema, depth + 1)];
      case 'string':
        return this.validString(schema);
      default: {
        if (depth > 6) {
          return {};
        }
        const properties = (schema.properties ?? {}) as Record<string, Schema>;
        const required = new Set((schema.required ?? []) as string[]);
        const value: Record<string, Json> = {};
        for (const [name, property] of Object.entries(properties)) {
          if (required.has(name) || this.random() < 0.3) {
            value[name] = this.valid(property, depth + 1);
          }
        }
        return value;
      }
    }
  }

  /** A valid value as it goes into a path or a query string. */
  validText(schema: Schema): string {
    const value = this.valid(schema);
    return typeof value === 'string' ? value : JSON.stringify(value);
  }

  private validString(schema: Schema): string {
    switch (schema.format) {
      case 'uuid':
        return SAMPLE_UUID;
      case 'date-time':
        return '2026-01-01T00:00:00.000Z';
      default: {
        const length = typeof schema.minLength === 'number' ? Math.max(schema.minLength, 1) : 5;
        return 'fuzz'.repeat(length).slice(0, Math.max(length, 4));
      }
    }
  }

  /** A value of the wrong type or outside the schema's bounds. */
  hostile(input: Schema): Json {
    const schema = this.resolve(input);
    const bounds: Json[] = [];
    if (typeof schema.minimum === 'number') {
      bounds.push(schema.minimum - 1);
    }
    if (typeof schema.maximum === 'number') {
      bounds.push(schema.maximum + 1);
    }
    return this.pick([...HOSTILE_VALUES, ...bounds]);
  }

  /** The response check: no 5xx, a declared status, its declared content type and its schema. */
  check(operation: SpecOperation, status: number, contentType: string | null, text: string): string[] {
    const problems: string[] = [];
    if (status >= 500) {
      problems.push(`server error ${status}: ${text.slice(0, 300)}`);
    }
    const declared = operation.operation.responses[String(status)] ?? operation.operation.responses.default;
    if (!declared) {
      return [...problems, `undeclared status ${status}: ${text.slice(0, 200)}`];
    }
    const content = 'content' in declared ? (declared.content ?? {}) : {};
    const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
    if (Object.keys(content).length === 0 || (text.length === 0 && !mediaType)) {
      return problems;
    }
    if (!(mediaType in content)) {
      return [
        ...problems,
        `status ${status} has content type ${mediaType || '(none)'}, declared ${Object.keys(content).join(', ')}`,
      ];
    }
    if (mediaType === 'application/json') {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return [...problems, `status ${status}: body is not JSON: ${text.slice(0, 100)}`];
      }
      const validate = this.validator(operation, status, mediaType, (content[mediaType].schema ?? {}) as Schema);
      if (!validate(body)) {
        problems.push(
          `status ${status}: body does not match the declared schema: ${this.ajv.errorsText(validate.errors)}`,
        );
      }
    }
    return problems;
  }

  private validator(operation: SpecOperation, status: number, mediaType: string, schema: Schema): ValidateFunction {
    const key = `${operation.id} ${status} ${mediaType}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(prefixRefs(schema) as Schema);
      this.validators.set(key, validate);
    }
    return validate;
  }
}

/**
 * Makes a spec schema an Ajv schema: `#/components/...` references point at the document registered
 * as `openapi`, and OpenAPI 3.0's `nullable` becomes "null, or the schema" (as the SDK types it).
 */
function prefixRefs(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(prefixRefs);
  }
  if (typeof value === 'object' && value !== null) {
    if ((value as Schema).nullable === true) {
      const { nullable: _nullable, description: _description, example: _example, ...rest } = value as Schema;
      return { anyOf: [{ type: 'null' }, prefixRefs(rest)] };
    }
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [
        key,
        key === '$ref' && typeof inner === 'string' && inner.startsWith('#/') ? `openapi${inner}` : prefixRefs(inner),
      ]),
    );
  }
  return value;
}
