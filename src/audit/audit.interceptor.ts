import { CallHandler, ExecutionContext, HttpException, HttpStatus, Injectable, NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants.js';
import type { Request } from 'express';
import { catchError, concatMap, from, Observable, throwError } from 'rxjs';
import { DomainError } from '../platform/errors/domain-error.js';
import { AuditService, MUTATING_METHODS } from './audit.service.js';

/** Audits every authenticated mutating call, success or failure, before its response goes out. */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(private readonly audit: AuditService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<Request>();
    const principal = request.user;
    if (context.getType() !== 'http' || !principal || !MUTATING_METHODS.has(request.method)) {
      return next.handle();
    }
    const handler = context.getHandler();
    const action = handler.name;
    const successStatus =
      (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ??
      (request.method === 'POST' ? HttpStatus.CREATED : HttpStatus.OK);
    return next.handle().pipe(
      concatMap((body: unknown) => {
        const targetId =
          typeof body === 'object' && body !== null && typeof (body as { id?: unknown }).id === 'string'
            ? (body as { id: string }).id
            : undefined;
        return from(
          this.audit.record(request, principal, { action, status: successStatus, targetId }).then(() => body),
        );
      }),
      catchError((error: unknown) => {
        const status =
          error instanceof DomainError ? error.status : error instanceof HttpException ? error.getStatus() : 500;
        return from(this.audit.record(request, principal, { action, status })).pipe(
          concatMap(() => throwError(() => error)),
        );
      }),
    );
  }
}
