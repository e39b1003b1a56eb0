import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { requestContext } from '../platform/logging/request-context.js';
import { AuthService } from './auth.service.js';
import type { Principal } from './principal.js';

export const BEARER_STRATEGY = 'bearer';

/** Passport strategy: `Authorization: Bearer tf_...` resolves to a Principal on `request.user`. */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, BEARER_STRATEGY) {
  constructor(private readonly authService: AuthService) {
    super();
  }

  async validate(token: string): Promise<Principal> {
    const principal = await this.authService.authenticate(token);
    const context = requestContext.getStore();
    if (context) {
      context.apiKeyId = principal.apiKeyId;
      context.projectId = principal.projectId;
    }
    return principal;
  }
}
