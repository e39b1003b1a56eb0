import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { isDatabaseUnavailableError } from '../database/connection-errors.js';
import { databaseUnavailable } from '../database/database-available.guard.js';
import { ArtifactStoreError, ArtifactStoreErrorCode, ArtifactTooLargeError } from '../storage/artifact-errors.js';
import { assertUnreachable } from './error-codes.js';
import { DomainError } from './domain-error.js';
import { ErrorCode } from './error-codes.js';
import type { ErrorResponseDto } from './error.dto.js';

export interface BodyParserError {
  type: string;
  status?: number;
  statusCode?: number;
  limit?: number;
}

export function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { type?: unknown }).type === 'string' &&
    typeof ((error as { status?: unknown }).status ?? (error as { statusCode?: unknown }).statusCode) === 'number'
  );
}

/** Renders every error, from any layer, in the one error shape. Never leaks internals on 5xx. */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(GlobalExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const error = this.toDomainError(exception, request);
    if (error.status === 503) {
      // Expected while a dependency is away: one line, not a stack per request.
      this.logger.warn(`${error.message}: ${exception instanceof Error ? exception.message : String(exception)}`);
    } else if (error.status >= 500) {
      this.logger.error(exception instanceof Error ? exception : String(exception));
    }
    const body: ErrorResponseDto = {
      status: error.status,
      code: error.code,
      message: error.message,
      details: error.details,
      requestId: request.requestId ?? 'unknown',
    };
    if (response.headersSent) {
      response.end();
      return;
    }
    for (const [name, value] of Object.entries(error.headers)) {
      response.setHeader(name, value);
    }
    response.status(error.status).json(body);
  }

  toDomainError(exception: unknown, request: Request): DomainError {
    if (exception instanceof DomainError) {
      return exception;
    }
    // Express 5's adapter wraps body-parser's errors in an HttpException with the original as cause.
    const cause = exception instanceof HttpException ? exception.cause : exception;
    if (isBodyParserError(cause)) {
      return fromBodyParser(cause);
    }
    if (exception instanceof HttpException) {
      return this.fromHttpException(exception, request);
    }
    if (exception instanceof ArtifactStoreError) {
      return fromArtifactStoreError(exception);
    }
    if (isDatabaseUnavailableError(exception)) {
      return databaseUnavailable();
    }
    return new DomainError(ErrorCode.Internal, 'An internal error occurred; quote the request id when reporting it');
  }

  private fromHttpException(exception: HttpException, request: Request): DomainError {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const message =
      typeof response === 'object' && response !== null && 'message' in response
        ? String(response.message)
        : exception.message;
    if (status === 404) {
      return new DomainError(ErrorCode.RouteNotFound, `No route for ${request.method} ${request.path}`);
    }
    if (status === 401) {
      return new DomainError(
        ErrorCode.Unauthenticated,
        'A valid API key is required (Authorization: Bearer tf_...)',
        [],
        {
          'WWW-Authenticate': 'Bearer realm="tuneforge"',
        },
      );
    }
    const code =
      CODE_BY_STATUS.get(status) ?? (status >= 400 && status < 500 ? ErrorCode.ValidationFailed : ErrorCode.Internal);
    return new DomainError(
      code,
      code === ErrorCode.Internal ? 'An internal error occurred; quote the request id when reporting it' : message,
    );
  }
}

/** The error of Express's body parser in the API's terms. */
export function fromBodyParser(error: BodyParserError): DomainError {
  switch (error.type) {
    case 'entity.parse.failed':
      return new DomainError(ErrorCode.MalformedJson, 'The request body is not valid JSON');
    case 'entity.too.large':
      return new DomainError(
        ErrorCode.PayloadTooLarge,
        `The request body is larger than the limit of ${error.limit ?? '?'} bytes`,
        [{ reason: 'body too large', limit: error.limit }],
      );
    case 'entity.too.deep':
      return DomainError.validation(`The request body is nested more than ${error.limit ?? '?'} levels deep`, [
        { field: 'body', reason: `nested more than ${error.limit ?? '?'} levels deep`, limit: error.limit },
      ]);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new DomainError(ErrorCode.UnsupportedMediaType, 'The request body encoding or charset is not supported');
    default:
      return new DomainError(ErrorCode.ValidationFailed, 'The request body could not be read');
  }
}

const CODE_BY_STATUS = new Map<number, ErrorCode>([
  [400, ErrorCode.ValidationFailed],
  [403, ErrorCode.Forbidden],
  [405, ErrorCode.MethodNotAllowed],
  [409, ErrorCode.Conflict],
  [413, ErrorCode.PayloadTooLarge],
  [415, ErrorCode.UnsupportedMediaType],
  [429, ErrorCode.RateLimited],
  [503, ErrorCode.ServiceUnavailable],
]);

/** Storage errors that escape a service: keys are never user paths, so these are mostly our faults. */
function fromArtifactStoreError(error: ArtifactStoreError): DomainError {
  switch (error.code) {
    case ArtifactStoreErrorCode.TooLarge:
      return new DomainError(ErrorCode.PayloadTooLarge, error.message, [
        { reason: 'too large', limit: (error as ArtifactTooLargeError).maxBytes },
      ]);
    case ArtifactStoreErrorCode.InvalidKey:
      return new DomainError(ErrorCode.ValidationFailed, error.message);
    case ArtifactStoreErrorCode.NotFound:
      return new DomainError(ErrorCode.NotFound, 'The stored file was not found');
    case ArtifactStoreErrorCode.KeyConflict:
      return new DomainError(ErrorCode.Conflict, error.message);
    case ArtifactStoreErrorCode.BackendFailure:
      return new DomainError(ErrorCode.ServiceUnavailable, 'Artifact storage is unavailable; retry later');
    default:
      return assertUnreachable(error.code);
  }
}
