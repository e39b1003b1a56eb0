import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-http-bearer';
import { DomainError } from '../platform/errors/domain-error.js';
import { ErrorCode } from '../platform/errors/error-codes.js';
import { requestContext } from '../platform/logging/request-context.js';
import { AuthService } from './auth.service.js';
import type { Principal } from './principal.js';
import { AuthFailureLimiter } from './rate-limiter.js';

export const BEARER_STRATEGY = 'bearer';

/**
 * Passport strategy: `Authorization: Bearer tf_...` resolves to a Principal on `request.user`.
 * An address that failed to authenticate too often is refused (429) before any key lookup.
 */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, BEARER_STRATEGY) {
  constructor(
    private readonly authService: AuthService,
    private readonly failures: AuthFailureLimiter,
  ) {
    super({ passReqToCallback: true });
  }

  async validate(request: Request, token: string): Promise<Principal> {
    const address = request.ip ?? request.socket.remoteAddress ?? 'unknown';
    const decision = this.failures.check(address);
    if (!decision.allowed) {
      throw new DomainError(
        ErrorCode.RateLimited,
        `Too many failed authentications from this address; retry in ${decision.retryAfterSeconds} s`,
        [{ reason: 'too many failed authentications', retryAfterSeconds: decision.retryAfterSeconds }],
        { 'Retry-After': String(decision.retryAfterSeconds) },
      );
    }
    let principal: Principal;
    try {
      principal = await this.authService.authenticate(token);
    } catch (error) {
      if (error instanceof DomainError && error.code === ErrorCode.Unauthenticated) {
        this.failures.recordFailure(address);
      }
      throw error;
    }
    const context = requestContext.getStore();
    if (context) {
      context.apiKeyId = principal.apiKeyId;
      context.projectId = principal.projectId;
    }
    return principal;
  }
}
