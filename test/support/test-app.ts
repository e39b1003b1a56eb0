import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger as PinoLogger } from 'pino';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.js';
import { AuthService } from '../../src/auth/auth.service.js';
import { generateApiKeySecret } from '../../src/auth/api-key-secret.js';
import { loadConfig, type AppConfig } from '../../src/platform/config/config.js';
import { runMigrations } from '../../src/platform/database/data-source.js';
import { createScratchDatabase } from '../../src/platform/database/scratch-database.js';
import { createLogger } from '../../src/platform/logging/logger.js';

/** The PostgreSQL server the test run uses (scripts/test.ts sets it: DATABASE_URL or an embedded one). */
export function testServerUrl(): string {
  const url = process.env.TUNEFORGE_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) {
    throw new Error('TUNEFORGE_TEST_DATABASE_URL is unset: run the tests with `npm test`');
  }
  return url;
}

/** S3 settings from the environment when the run has an S3 server (CI: moto), else none. */
export function testS3Environment(): Record<string, string> {
  const names = ['S3_BUCKET', 'S3_ENDPOINT', 'S3_REGION', 'S3_FORCE_PATH_STYLE'];
  return Object.fromEntries(
    names.filter((name) => process.env[name]).map((name) => [name, process.env[name] as string]),
  );
}

export interface TestApp {
  app: NestExpressApplication;
  baseUrl: string;
  /** A root-project admin key. */
  adminKey: string;
  config: AppConfig;
  dataSource: DataSource;
  close(): Promise<void>;
}

/**
 * The real HTTP app on a fresh database of its own (migrated), real storage (S3 when the run has
 * one, under a unique prefix; else a temporary folder), listening on a free loopback port.
 */
export async function startTestApp(
  environment: Record<string, string> = {},
  options: { logger?: PinoLogger } = {},
): Promise<TestApp> {
  const scratch = await createScratchDatabase(testServerUrl(), 'e2e');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-e2e-'));
  const adminKey = generateApiKeySecret();
  const s3 = testS3Environment();
  if (s3.S3_BUCKET) {
    s3.S3_PREFIX = `e2e-${path.basename(dataDir)}`;
  }
  const config = loadConfig({
    DATA_DIR: dataDir,
    TUNEFORGE_BOOTSTRAP_KEY: adminKey,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    // No trainer unless a test asks for one: most tests never train, and workers cost a second each.
    TRAINER_SLOTS: '0',
    ...s3,
    ...environment,
  });
  const app = await createApp({
    config,
    databaseUrl: scratch.url,
    logger: options.logger ?? createLogger(config.logLevel),
  });
  const dataSource = app.get(DataSource);
  await runMigrations(dataSource);
  await app.get(AuthService).ensureBootstrapKey();
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    baseUrl: `http://127.0.0.1:${address.port}`,
    adminKey,
    config,
    dataSource,
    close: async () => {
      await app.close();
      await scratch.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
