import { ParseUUIDPipe, type PipeTransform } from '@nestjs/common';
import type { SchemaObject } from '@nestjs/swagger';
import { DomainError } from '../errors/domain-error.js';

/** The largest PostgreSQL `integer`: every integer a request may carry into a query stays below it. */
export const INT32_MAX = 2_147_483_647;

/**
 * The schema each named path parameter is validated against, as its pipe enforces it. The OpenAPI
 * document applies these to the path parameters of that name, so spec and pipes cannot disagree.
 */
const pathParameterSchemas = new Map<string, SchemaObject>();

function declarePathParameter(name: string, schema: SchemaObject): void {
  const known = pathParameterSchemas.get(name);
  if (known && JSON.stringify(known) !== JSON.stringify(schema)) {
    throw new Error(`path parameter ${name} is validated in two different ways`);
  }
  pathParameterSchemas.set(name, schema);
}

export function pathParameterSchema(name: string): SchemaObject | undefined {
  return pathParameterSchemas.get(name);
}

/** A UUID path parameter; a malformed one is a 400 that names the parameter. */
export function uuidParam(name: string): ParseUUIDPipe {
  declarePathParameter(name, { type: 'string', format: 'uuid' });
  return new ParseUUIDPipe({
    exceptionFactory: () =>
      DomainError.validation(`${name} must be a UUID`, [{ field: name, reason: 'must be a UUID' }]),
  });
}

/**
 * A positive integer path parameter (a version number), at most INT32_MAX; anything else
 * (signs, spaces, hex, exponents, larger numbers) is a 400 that names it.
 */
export function positiveIntParam(name: string): PipeTransform<string, number> {
  declarePathParameter(name, { type: 'integer', minimum: 1, maximum: INT32_MAX });
  return {
    transform(value: string): number {
      const parsed = /^[1-9][0-9]{0,9}$/.test(value) ? Number(value) : NaN;
      if (!(parsed <= INT32_MAX)) {
        throw DomainError.validation(`${name} must be an integer from 1 to ${INT32_MAX}`, [
          { field: name, reason: `must be an integer from 1 to ${INT32_MAX}` },
        ]);
      }
      return parsed;
    },
  };
}

/** A path parameter that must match a pattern (a name); anything else is a 400 that names it. */
export function patternParam(name: string, pattern: RegExp, reason: string): PipeTransform<string, string> {
  declarePathParameter(name, { type: 'string', pattern: pattern.source });
  return {
    transform(value: string): string {
      if (!pattern.test(value)) {
        throw DomainError.validation(`${name} ${reason}`, [{ field: name, reason }]);
      }
      return value;
    },
  };
}
