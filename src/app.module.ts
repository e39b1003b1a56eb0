import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { DatasetsModule } from './datasets/datasets.module.js';
import { IdempotencyModule } from './idempotency/idempotency.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { LineageModule } from './lineage/lineage.module.js';
import { ModelsModule } from './models/models.module.js';
import { Clock } from './platform/clock.js';
import { APP_CONFIG, type AppConfig } from './platform/config/config.js';
import { dataSourceOptions } from './platform/database/data-source.js';
import { GlobalExceptionFilter } from './platform/errors/global-exception.filter.js';
import { HealthController } from './platform/health/health.controller.js';
import { MetricsController } from './platform/metrics/metrics.controller.js';
import { MetricsService } from './platform/metrics/metrics.service.js';
import { StorageModule } from './platform/storage/storage.module.js';

export interface AppModuleOptions {
  config: AppConfig;
  /** The database to use: DATABASE_URL, or the embedded server's URL. Unused in preview mode. */
  databaseUrl: string;
}

@Global()
@Module({})
class PlatformModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: PlatformModule,
      controllers: [HealthController, MetricsController],
      providers: [{ provide: APP_CONFIG, useValue: config }, Clock, MetricsService],
      exports: [APP_CONFIG, Clock, MetricsService],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot(options.config),
        TypeOrmModule.forRoot(dataSourceOptions(options.databaseUrl, options.config.databasePoolSize)),
        StorageModule,
        AuthModule,
        AuditModule,
        IdempotencyModule,
        DatasetsModule,
        ModelsModule,
        JobsModule,
        LineageModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: GlobalExceptionFilter }],
    };
  }
}
