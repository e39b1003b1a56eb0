import { ParseIntPipe, ParseUUIDPipe } from '@nestjs/common';
import { DomainError } from '../errors/domain-error.js';

/** A UUID path parameter; a malformed one is a 400 that names the parameter. */
export function uuidParam(name: string): ParseUUIDPipe {
  return new ParseUUIDPipe({
    exceptionFactory: () =>
      DomainError.validation(`${name} must be a UUID`, [{ field: name, reason: 'must be a UUID' }]),
  });
}

/** A positive integer path parameter (a version number); anything else is a 400 that names it. */
export function positiveIntParam(name: string): ParseIntPipe {
  return new ParseIntPipe({
    exceptionFactory: () =>
      DomainError.validation(`${name} must be a positive integer`, [
        { field: name, reason: 'must be a positive integer' },
      ]),
  });
}
