import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '../errors/domain-error.js';
import { ErrorCode } from '../errors/error-codes.js';
import { DATABASE_RETRY_AFTER_SECONDS, DatabaseStatus, WITHOUT_DATABASE } from './database-status.js';

/**
 * Answers 503 with Retry-After at once while the embedded database is known to be down, rather
 * than letting each request wait for a connection that cannot come.
 */
@Injectable()
export class DatabaseAvailableGuard implements CanActivate {
  constructor(
    private readonly status: DatabaseStatus,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const availability = this.status.availability();
    if (availability === 'available') {
      return true;
    }
    const exempt = this.reflector.getAllAndOverride<boolean | undefined>(WITHOUT_DATABASE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (exempt) {
      return true;
    }
    throw databaseUnavailable(
      availability === 'restarting'
        ? 'The database is restarting; retry later'
        : 'The database is down and could not be restarted; retry later',
    );
  }
}

export function databaseUnavailable(message = 'The database is unavailable; retry later'): DomainError {
  return new DomainError(ErrorCode.ServiceUnavailable, message, [], {
    'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS),
  });
}
