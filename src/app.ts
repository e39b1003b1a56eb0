import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { Logger as PinoLogger } from 'pino';
import { AppModule } from './app.module.js';
import type { AppConfig } from './platform/config/config.js';
import { DatabaseStatus } from './platform/database/database-status.js';
import type { EmbeddedDatabase } from './platform/database/embedded-database.js';
import {
  deferBodyErrors,
  jsonBodyParserOptions,
  rawBodyRoutesOf,
  refuseNonJsonBodies,
  type RawBodyRoute,
} from './platform/http/json-body.js';
import { createValidationPipe } from './platform/http/validation.js';
import { applyConnectionTimeouts } from './platform/http/connection-timeouts.js';
import { requestMiddleware } from './platform/http/request-middleware.js';
import { createLogger, PinoLoggerService } from './platform/logging/logger.js';
import { MetricsService } from './platform/metrics/metrics.service.js';
import { buildOpenApiDocument } from './platform/openapi.js';

export interface CreateAppOptions {
  config: AppConfig;
  databaseUrl: string;
  /** The supervised embedded server behind databaseUrl, when there is one. */
  embeddedDatabase?: EmbeddedDatabase;
  logger?: PinoLogger;
  /** Build the module graph without instantiating providers (no database): for writing the spec. */
  preview?: boolean;
}

/** The configured HTTP app, not yet listening: shared by main, the tests and the spec generator. */
export async function createApp(options: CreateAppOptions): Promise<NestExpressApplication> {
  const logger = options.logger ?? createLogger(options.config.logLevel);
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot({
      config: options.config,
      databaseUrl: options.databaseUrl,
      databaseStatus: new DatabaseStatus(options.embeddedDatabase),
    }),
    {
      bodyParser: false,
      logger: new PinoLoggerService(logger),
      preview: options.preview ?? false,
      abortOnError: false,
    },
  );
  app.disable('x-powered-by');
  applyConnectionTimeouts(app.getHttpServer(), {
    keepAliveSeconds: options.config.httpKeepAliveSeconds,
    requestTimeoutSeconds: options.config.httpRequestTimeoutSeconds,
  });
  if (!options.preview) {
    app.use(requestMiddleware(logger, app.get(MetricsService)));
  }
  // Filled from the spec below, before the first request: the uploads, whose bodies are not JSON.
  const rawBodyRoutes: RawBodyRoute[] = [];
  // Passed as a variable: Nest's option type leaves out `verify`, which it only uses itself for rawBody.
  const jsonOptions = jsonBodyParserOptions(options.config.jsonBodyLimit, rawBodyRoutes);
  app.use(refuseNonJsonBodies(rawBodyRoutes));
  app.useBodyParser('json', jsonOptions);
  app.use(deferBodyErrors());
  app.useGlobalPipes(createValidationPipe());
  const document = buildOpenApiDocument(app);
  rawBodyRoutes.push(...rawBodyRoutesOf(document));
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });
  return app;
}
