import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AuditService, MUTATING_METHODS } from '../audit/audit.service.js';
import { DomainError } from '../platform/errors/domain-error.js';
import { ErrorCode } from '../platform/errors/error-codes.js';
import { RateLimiter } from './rate-limiter.js';
import { hasScope, INSTANCE_SCOPES, type Scope } from './scopes.js';

export const REQUIRED_SCOPE = 'tuneforge:required-scope';

/** 429 with Retry-After once a key spends its bucket; runs after authentication. */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(private readonly limiter: RateLimiter) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const response = context.switchToHttp().getResponse<Response>();
    if (!request.user) {
      return true;
    }
    const decision = this.limiter.take(request.user.apiKeyId);
    response.setHeader('RateLimit-Limit', String(decision.limit));
    response.setHeader('RateLimit-Remaining', String(decision.remaining));
    if (!decision.allowed) {
      throw new DomainError(
        ErrorCode.RateLimited,
        `Too many requests for this API key; retry in ${decision.retryAfterSeconds} s`,
        [{ reason: 'rate limit', retryAfterSeconds: decision.retryAfterSeconds }],
        { 'Retry-After': String(decision.retryAfterSeconds) },
      );
    }
    return true;
  }
}

/** 403 when the key lacks the route's scope; a refused mutating call is audited too. */
@Injectable()
export class ScopeGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const required = this.reflector.getAllAndOverride<Scope | undefined>(REQUIRED_SCOPE, [
      context.getHandler(),
      context.getClass(),
    ]);
    const request = context.switchToHttp().getRequest<Request>();
    const principal = request.user;
    const instanceScopeOutsideRoot =
      required !== undefined && INSTANCE_SCOPES.includes(required) && !principal?.isRootProject;
    if (required && principal && (!hasScope(principal.scopes, required) || instanceScopeOutsideRoot)) {
      if (MUTATING_METHODS.has(request.method)) {
        await this.audit.record(request, principal, { action: context.getHandler().name, status: 403 });
      }
      throw new DomainError(ErrorCode.InsufficientScope, `This API key lacks the ${required} scope`, [
        { reason: 'missing scope', requiredScope: required },
      ]);
    }
    return true;
  }
}
