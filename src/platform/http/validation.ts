import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { DomainError, type ErrorDetail } from '../errors/domain-error.js';
import { RejectedBody } from './json-body.js';

/** Flattens class-validator's tree into dotted field paths with one reason each. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    for (const reason of Object.values(error.constraints ?? {})) {
      details.push({ field, reason });
    }
    if (error.children?.length) {
      details.push(...flattenValidationErrors(error.children, field));
    }
  }
  return details;
}

/** Keys class-transformer silently drops when it builds a DTO, so they would be neither refused nor kept. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor']);

/**
 * Values no request field may hold, whatever its DTO says: NUL characters (PostgreSQL `text` and
 * `jsonb` refuse them, so they would fail as 500s deep in a query) and the keys in FORBIDDEN_KEYS.
 */
export function unsafeInputDetails(value: unknown, field: string, depth = 0): ErrorDetail[] {
  if (typeof value === 'string') {
    return value.includes('\u0000') ? [{ field: field || 'body', reason: 'must not contain NUL characters' }] : [];
  }
  if (typeof value !== 'object' || value === null || depth > 100) {
    return [];
  }
  const details: ErrorDetail[] = [];
  for (const key of Object.keys(value)) {
    const path = field ? `${field}.${key}` : key;
    if (FORBIDDEN_KEYS.has(key)) {
      details.push({ field: path, reason: `property ${key} should not exist` });
    } else if (key.includes('\u0000')) {
      details.push({ field: path.replaceAll('\u0000', '\\u0000'), reason: 'must not contain NUL characters' });
    } else {
      details.push(...unsafeInputDetails((value as Record<string, unknown>)[key], path, depth + 1));
    }
  }
  return details;
}

function invalid(details: ErrorDetail[]): DomainError {
  const fields = [...new Set(details.map((detail) => detail.field))].join(', ');
  return DomainError.validation(`The request is invalid: ${fields}`, details);
}

/** Refuses unsafe values in the body, query and path before class-validator sees the DTO. */
class RequestValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (value instanceof RejectedBody) {
      throw value.error;
    }
    if (metadata.type === 'body' || metadata.type === 'query' || metadata.type === 'param') {
      const field = metadata.type === 'param' ? (metadata.data ?? 'path') : (metadata.data ?? '');
      const details = unsafeInputDetails(value, field);
      if (details.length > 0) {
        throw invalid(details);
      }
    }
    // Path parameters are converted by their own pipes: a global conversion first would read `0x10` as 16.
    if (metadata.type === 'param') {
      return value;
    }
    return super.transform(value, metadata);
  }
}

/** Strict validation for every DTO: unknown fields are refused, types are converted only where declared. */
export function createValidationPipe(): ValidationPipe {
  return new RequestValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => invalid(flattenValidationErrors(errors)),
  });
}
