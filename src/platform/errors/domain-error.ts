import { ErrorCode, statusForCode } from './error-codes.js';

/** One failing field or item; `field` is a dotted path into the request (`scopes.0`). */
export interface ErrorDetail {
  field?: string;
  reason: string;
  [key: string]: unknown;
}

/** An error that services throw and the global filter renders; never carries secrets. */
export class DomainError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'DomainError';
    this.status = statusForCode(code);
  }

  static notFound(what: string, id: string): DomainError {
    return new DomainError(ErrorCode.NotFound, `${what} ${id} was not found`);
  }

  static validation(message: string, details: ErrorDetail[] = []): DomainError {
    return new DomainError(ErrorCode.ValidationFailed, message, details);
  }
}
