import type { OpenAPIObject } from '@nestjs/swagger';
import { JSON_MAX_DEPTH } from './json-body.js';
import { pathParameterSchema } from './params.js';

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;
type Responses = Operation['responses'];

const ERROR_SCHEMA_REF = '#/components/schemas/ErrorResponseDto';
const MUTATING = new Set(['post', 'put', 'patch', 'delete']);

/** Statuses any operation of a kind can answer, whatever its controller declares. */
const COMMON_ERRORS = {
  invalid: [
    400,
    `The request is invalid: \`details\` name each failing field (a JSON body may nest at most ${JSON_MAX_DEPTH} levels).`,
  ],
  unauthenticated: [401, 'No API key, or an invalid, revoked or expired one.'],
  forbidden: [403, 'The key may not do this.'],
  notFound: [404, 'A resource named in the path does not exist in this project.'],
  idempotencyConflict: [
    409,
    'The Idempotency-Key was used for a different request, or its first request is still running.',
  ],
  tooLarge: [413, 'The request body is larger than JSON_BODY_LIMIT.'],
  unsupportedMediaType: [415, 'The request has a body that is not application/json.'],
  rateLimited: [429, 'Rate limit reached; see Retry-After.'],
  unavailable: [503, 'The database or the artifact storage is unavailable; retry later.'],
} as const satisfies Record<string, readonly [number, string]>;

function isErrorResponse(response: Responses[string] | undefined): boolean {
  return (
    response !== undefined &&
    'content' in response &&
    Object.values(response.content ?? {}).some(
      (media) => media.schema !== undefined && '$ref' in media.schema && media.schema.$ref === ERROR_SCHEMA_REF,
    )
  );
}

/**
 * Makes the document say what every operation can answer besides its own outcomes, in one place so
 * that operations added later are covered too: 400 on every operation; 401, 403, 429 and 503 when
 * it needs a key; 404 when the path names a resource; 413 and 415 when it may take a body; 409 when
 * it honours Idempotency-Key. Errors are always the JSON error shape, also on operations whose
 * success is a file or text. Path parameters get the schema their pipe enforces.
 */
export function declareCommonResponses(document: OpenAPIObject): void {
  allowNullInNullableEnums(document.components?.schemas);
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = item[method];
      if (!operation) {
        continue;
      }
      const parameters = (operation.parameters ?? []).filter((parameter) => 'in' in parameter);
      for (const parameter of parameters) {
        const schema = 'name' in parameter && parameter.in === 'path' ? pathParameterSchema(parameter.name) : undefined;
        if (schema && 'in' in parameter) {
          parameter.schema = { ...schema };
        }
      }
      const declare = ([status, description]: readonly [number, string]) => {
        const existing = operation.responses[status];
        operation.responses[status] = {
          description: existing && 'description' in existing ? existing.description : description,
          content: { 'application/json': { schema: { $ref: ERROR_SCHEMA_REF } } },
        };
      };
      declare(COMMON_ERRORS.invalid);
      if (operation.security && operation.security.length > 0) {
        declare(COMMON_ERRORS.unauthenticated);
        declare(COMMON_ERRORS.forbidden);
        declare(COMMON_ERRORS.rateLimited);
        declare(COMMON_ERRORS.unavailable);
      }
      if (parameters.some((parameter) => 'in' in parameter && parameter.in === 'path')) {
        declare(COMMON_ERRORS.notFound);
      }
      if (MUTATING.has(method)) {
        declare(COMMON_ERRORS.tooLarge);
        declare(COMMON_ERRORS.unsupportedMediaType);
      }
      if (parameters.some((parameter) => 'name' in parameter && parameter.name === 'Idempotency-Key')) {
        declare(COMMON_ERRORS.idempotencyConflict);
      }
      // Errors are JSON even where the success is a file: @ApiProduces would otherwise apply to them.
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) >= 400 && isErrorResponse(response)) {
          declare([Number(status), '']);
        }
      }
    }
  }
}

/** OpenAPI 3.0 allows null in a `nullable` enum only when the enum lists it; generated clients read it so. */
function allowNullInNullableEnums(value: unknown): void {
  if (Array.isArray(value)) {
    value.forEach(allowNullInNullableEnums);
    return;
  }
  if (typeof value !== 'object' || value === null) {
    return;
  }
  const schema = value as { nullable?: unknown; enum?: unknown[] };
  if (schema.nullable === true && Array.isArray(schema.enum) && !schema.enum.includes(null)) {
    schema.enum.push(null);
  }
  Object.values(value).forEach(allowNullInNullableEnums);
}
