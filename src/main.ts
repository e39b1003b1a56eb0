import 'reflect-metadata';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { createApp } from './app.js';
import { AuthService } from './auth/auth.service.js';
import { ConfigurationError, loadConfig, type AppConfig } from './platform/config/config.js';
import { runMigrations } from './platform/database/data-source.js';
import { EmbeddedDatabase, EmbeddedDatabaseSetupError } from './platform/database/embedded-database.js';
import { createLogger } from './platform/logging/logger.js';

function readConfig(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigurationError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config.logLevel);
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });

  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    const database = new EmbeddedDatabase(
      path.join(config.dataDir, 'postgres'),
      (message) => logger.debug({ component: 'postgres' }, message),
      { restartAttempts: config.databaseRestartAttempts },
    );
    embedded = database;
    try {
      databaseUrl = await database.start();
    } catch (error) {
      if (error instanceof EmbeddedDatabaseSetupError) {
        console.error(error.message);
        process.exit(78); // EX_CONFIG: nothing will change until the set-up does
      }
      throw error;
    }
    database.onStateChange((state) => {
      if (state === 'restarting') {
        logger.error('embedded PostgreSQL stopped unexpectedly; restarting it (requests get 503 meanwhile)');
      } else if (state === 'running') {
        logger.warn('embedded PostgreSQL is running again');
      } else if (state === 'failed') {
        logger.fatal('embedded PostgreSQL could not be restarted; /health/live now fails: restart TuneForge');
      }
    });
    logger.info({ dataDir: config.dataDir }, 'embedded PostgreSQL started');
  }

  const app = await createApp({ config, databaseUrl, embeddedDatabase: embedded, logger });
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) {
      return;
    }
    closing = true;
    logger.info({ signal }, 'shutting down');
    try {
      await app.close();
    } finally {
      await embedded?.stop();
      logger.info('stopped');
      process.exit(0);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  if (config.migrateOnStart) {
    const applied = await runMigrations(app.get(DataSource));
    if (applied.length > 0) {
      logger.info({ migrations: applied }, 'migrations applied');
    }
  }
  const bootstrapSecret = await app.get(AuthService).ensureBootstrapKey();
  await app.listen(config.port, config.host);
  const url = config.publicUrl ?? `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`;
  logger.info(
    { url, database: embedded ? 'embedded' : 'external', storage: config.s3 ? 's3' : 'folder' },
    'TuneForge is listening',
  );
  console.log(`\nTuneForge is running at ${url} (API docs: ${url}/docs)`);
  if (bootstrapSecret) {
    const keyFile = path.join(config.dataDir, 'bootstrap-admin-key');
    await writeFile(keyFile, `${bootstrapSecret}\n`, { mode: 0o600 });
    // Shown once, like an initial admin password; it is never written to the logs.
    console.log(
      `\nAn admin API key was created for this new instance. It is shown once and saved to ${keyFile}:\n\n  ${bootstrapSecret}\n`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(
    `TuneForge failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exit(1);
});
