import { createHash } from 'node:crypto';
import { CallHandler, ExecutionContext, HttpStatus, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants.js';
import { InjectRepository } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import { catchError, concatMap, from, Observable, of, throwError } from 'rxjs';
import { LessThan, Repository } from 'typeorm';
import { DomainError } from '../platform/errors/domain-error.js';
import { ErrorCode } from '../platform/errors/error-codes.js';
import { canonicalJson } from '../platform/canonical-json.js';
import { IdempotencyKeyEntity } from './idempotency-key.entity.js';
import { REDACTED_HEADER, SECRET_RESPONSE_FIELDS, withoutSecrets } from './secret-response.decorator.js';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/** Keys are remembered this long (as Stripe does). */
const RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * `Idempotency-Key` on JSON POSTs: a CI job that retries after a timeout gets the first response
 * again instead of a second job or dataset. The key belongs to the caller's project. A retry while
 * the first is still running gets 409; the same key with a different request gets 409 too. A
 * request that fails releases its key, since it changed nothing. Streamed uploads are idempotent by
 * content already (the same bytes give the same version) and ignore the header. Fields marked with
 * `@SecretResponse` are never stored: a replay lacks them and names them in `Idempotent-Redacted`.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly logger = new Logger(IdempotencyInterceptor.name);
  private lastSweep = 0;

  constructor(@InjectRepository(IdempotencyKeyEntity) private readonly keys: Repository<IdempotencyKeyEntity>) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<Request>();
    const key = request.headers[IDEMPOTENCY_HEADER];
    const isJson =
      typeof request.body === 'object' && request.body !== null && request.is('application/json') !== false;
    if (context.getType() !== 'http' || request.method !== 'POST' || key === undefined || !request.user || !isJson) {
      return next.handle();
    }
    const principal = request.user;
    if (typeof key !== 'string' || !KEY_PATTERN.test(key)) {
      return throwError(() =>
        DomainError.validation('Idempotency-Key must be 1-255 printable ASCII characters', [
          { field: 'Idempotency-Key', reason: 'invalid' },
        ]),
      );
    }
    const handler = context.getHandler();
    const successStatus =
      (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ?? HttpStatus.CREATED;
    const requestHash = createHash('sha256')
      .update(`${request.method} ${request.originalUrl}\n${canonicalJson(request.body)}`)
      .digest('hex');
    const response = context.switchToHttp().getResponse<Response>();
    const secretFields = (Reflect.getMetadata(SECRET_RESPONSE_FIELDS, handler) as string[] | undefined) ?? [];

    return from(this.begin(principal.projectId, key, requestHash)).pipe(
      concatMap((existing) => {
        if (existing) {
          response.setHeader('Idempotent-Replayed', 'true');
          if (secretFields.length > 0) {
            response.setHeader(REDACTED_HEADER, secretFields.join(', '));
          }
          response.status(existing.responseStatus ?? successStatus);
          return of(existing.responseBody);
        }
        return next.handle().pipe(
          concatMap((body: unknown) =>
            from(
              this.keys
                .update(
                  { projectId: principal.projectId, key },
                  {
                    state: 'done',
                    responseStatus: successStatus,
                    responseBody: (withoutSecrets(body, secretFields) ?? null) as never,
                  },
                )
                .then(() => body),
            ),
          ),
          catchError((error: unknown) =>
            from(this.keys.delete({ projectId: principal.projectId, key, state: 'pending' })).pipe(
              concatMap(() => throwError(() => error)),
            ),
          ),
        );
      }),
    );
  }

  /** Reserves the key, or returns the finished response to replay; throws when it cannot be used. */
  private async begin(projectId: string, key: string, requestHash: string): Promise<IdempotencyKeyEntity | null> {
    await this.sweep();
    const inserted = await this.keys
      .createQueryBuilder()
      .insert()
      .values({ projectId, key, requestHash, state: 'pending', responseStatus: null, responseBody: null as never })
      .orIgnore()
      .returning(['id'])
      .execute();
    if (inserted.raw && (inserted.raw as unknown[]).length > 0) {
      return null;
    }
    const existing = await this.keys.findOneBy({ projectId, key });
    if (!existing) {
      // Released between our insert and read: the first request failed. Try once more.
      return this.begin(projectId, key, requestHash);
    }
    if (existing.requestHash !== requestHash) {
      throw new DomainError(ErrorCode.Conflict, 'This Idempotency-Key was used for a different request', [
        { field: 'Idempotency-Key', reason: 'reused with a different method, path or body' },
      ]);
    }
    if (existing.state === 'pending') {
      throw new DomainError(
        ErrorCode.Conflict,
        'A request with this Idempotency-Key is still in progress; retry later',
        [{ field: 'Idempotency-Key', reason: 'in progress' }],
      );
    }
    return existing;
  }

  private async sweep(): Promise<void> {
    const now = Date.now();
    if (now - this.lastSweep < 60_000) {
      return;
    }
    this.lastSweep = now;
    try {
      await this.keys.delete({ createdAt: LessThan(new Date(now - RETENTION_MS)) });
    } catch (error) {
      this.logger.warn(`Could not remove old idempotency keys: ${String(error)}`);
    }
  }
}
