import { Global, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeyEntity } from './api-key.entity.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { BearerStrategy } from './bearer.strategy.js';
import { RateLimitGuard, ScopeGuard } from './guards.js';
import { ProjectEntity } from './project.entity.js';
import { AuthFailureLimiter, RateLimiter } from './rate-limiter.js';

/** Global so that every module's @Authenticated routes find the guards' dependencies. */
@Global()
@Module({
  imports: [PassportModule, TypeOrmModule.forFeature([ProjectEntity, ApiKeyEntity])],
  controllers: [AuthController],
  providers: [AuthService, BearerStrategy, RateLimiter, AuthFailureLimiter, RateLimitGuard, ScopeGuard],
  exports: [AuthService, RateLimiter, RateLimitGuard, ScopeGuard],
})
export class AuthModule {}
