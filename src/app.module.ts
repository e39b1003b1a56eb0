import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { DatasetsModule } from './datasets/datasets.module.js';
import { EvaluationModule } from './evaluation/evaluation.module.js';
import { IdempotencyModule } from './idempotency/idempotency.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { LineageModule } from './lineage/lineage.module.js';
import { ModelsModule } from './models/models.module.js';
import { Clock } from './platform/clock.js';
import { APP_CONFIG, type AppConfig } from './platform/config/config.js';
import { DatabaseAvailableGuard } from './platform/database/database-available.guard.js';
import { DatabaseStatus } from './platform/database/database-status.js';
import { dataSourceOptions } from './platform/database/data-source.js';
import { GlobalExceptionFilter } from './platform/errors/global-exception.filter.js';
import { HealthController } from './platform/health/health.controller.js';
import { Readiness } from './platform/health/readiness.js';
import { MetricsController } from './platform/metrics/metrics.controller.js';
import { DomainMetrics } from './platform/metrics/domain-metrics.js';
import { MetricsService } from './platform/metrics/metrics.service.js';
import { StorageModule } from './platform/storage/storage.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

export interface AppModuleOptions {
  config: AppConfig;
  /** The database to use: DATABASE_URL, or the embedded server's URL. Unused in preview mode. */
  databaseUrl: string;
  /** The supervised embedded server's state; absent for an external DATABASE_URL. */
  databaseStatus?: DatabaseStatus;
}

@Global()
@Module({})
class PlatformModule {
  static forRoot(config: AppConfig, databaseStatus: DatabaseStatus): DynamicModule {
    return {
      module: PlatformModule,
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: DatabaseStatus, useValue: databaseStatus },
        Clock,
        MetricsService,
        DomainMetrics,
        Readiness,
      ],
      exports: [APP_CONFIG, DatabaseStatus, Clock, MetricsService, DomainMetrics, Readiness],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot(options.config, options.databaseStatus ?? new DatabaseStatus()),
        TypeOrmModule.forRoot(dataSourceOptions(options.databaseUrl, options.config.databasePoolSize)),
        StorageModule,
        AuthModule,
        AuditModule,
        IdempotencyModule,
        DatasetsModule,
        ModelsModule,
        JobsModule,
        LineageModule,
        EvaluationModule,
        WebhooksModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: GlobalExceptionFilter },
        // First of all guards: while the database is known to be down, answer 503 before authenticating.
        { provide: APP_GUARD, useClass: DatabaseAvailableGuard },
      ],
    };
  }
}
