import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiServiceUnavailableResponse,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { ErrorResponseDto } from '../platform/errors/error.dto.js';
import { BEARER_STRATEGY } from './bearer.strategy.js';
import { RateLimitGuard, REQUIRED_SCOPE, ScopeGuard } from './guards.js';
import type { Principal } from './principal.js';
import type { Scope } from './scopes.js';

export const API_KEY_SECURITY = 'apiKey';

/**
 * Guards a route (API key, rate limit, scope) and documents exactly that in OpenAPI. Without a
 * scope, any valid key passes.
 */
export function Authenticated(options: { scope?: Scope } = {}): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(REQUIRED_SCOPE, options.scope),
    UseGuards(AuthGuard(BEARER_STRATEGY), RateLimitGuard, ScopeGuard),
    ApiBearerAuth(API_KEY_SECURITY),
    ApiUnauthorizedResponse({
      description: 'No API key, or an invalid, revoked or expired one.',
      type: ErrorResponseDto,
    }),
    ApiForbiddenResponse({
      description: options.scope ? `The key lacks the \`${options.scope}\` scope.` : 'The key may not do this.',
      type: ErrorResponseDto,
    }),
    ApiTooManyRequestsResponse({
      description:
        'Rate limit of the key reached, or too many failed authentications from this address; see Retry-After.',
      type: ErrorResponseDto,
    }),
    ApiServiceUnavailableResponse({
      description: 'The database (or artifact storage) cannot be reached; retry after Retry-After seconds.',
      type: ErrorResponseDto,
    }),
  );
}

/** The authenticated caller. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<Request>().user;
  if (!principal) {
    throw new Error('CurrentPrincipal used on a route without @Authenticated');
  }
  return principal;
});
