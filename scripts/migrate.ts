/**
 * Migrations, generated from the entities and never edited once landed.
 *
 *   node dist/scripts/migrate.js run              apply pending migrations (DATABASE_URL, or the embedded database in DATA_DIR)
 *   node dist/scripts/migrate.js check            fail when the entities and the migrations disagree
 *   node dist/scripts/migrate.js generate <Name>  write migrations/<timestamp>-<Name>.ts for the difference
 *
 * `check` and `generate` work on a scratch database on DATABASE_URL's server (or a temporary
 * embedded server), which they drop afterwards.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataSource } from 'typeorm';
import { loadConfig } from '../src/platform/config/config.js';
import { openDataSource, runMigrations } from '../src/platform/database/data-source.js';
import { EmbeddedDatabase } from '../src/platform/database/embedded-database.js';
import { createScratchDatabase } from '../src/platform/database/scratch-database.js';
import { migrationSource, pendingSchemaChanges } from './lib/migrations.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function withScratchDatabase<T>(work: (dataSource: DataSource) => Promise<T>): Promise<T> {
  const config = loadConfig();
  let embedded: EmbeddedDatabase | undefined;
  let scratchDir: string | undefined;
  let serverUrl = config.databaseUrl;
  if (!serverUrl) {
    scratchDir = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-migrate-'));
    embedded = new EmbeddedDatabase(path.join(scratchDir, 'postgres'));
    serverUrl = await embedded.start();
  }
  const scratch = await createScratchDatabase(serverUrl, 'migrations');
  const dataSource = await openDataSource(scratch.url, 2);
  try {
    await runMigrations(dataSource);
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
    await scratch.drop();
    await embedded?.stop();
    if (scratchDir) {
      await rm(scratchDir, { recursive: true, force: true });
    }
  }
}

async function main(): Promise<number> {
  const [command, name] = process.argv.slice(2);
  switch (command) {
    case 'run': {
      const config = loadConfig();
      let embedded: EmbeddedDatabase | undefined;
      let url = config.databaseUrl;
      if (!url) {
        embedded = new EmbeddedDatabase(path.join(config.dataDir, 'postgres'));
        url = await embedded.start();
      }
      const dataSource = await openDataSource(url, 2);
      try {
        const applied = await runMigrations(dataSource);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'no pending migrations');
      } finally {
        await dataSource.destroy();
        await embedded?.stop();
      }
      return 0;
    }
    case 'check': {
      const changes = await withScratchDatabase(pendingSchemaChanges);
      if (changes.up.length === 0) {
        console.log('migrations: entities and migrations agree');
        return 0;
      }
      console.error(
        'migrations: the entities differ from the migrations; run `npm run migration:generate -- <Name>`. Missing:',
      );
      for (const query of changes.up) {
        console.error(`  ${query}`);
      }
      return 1;
    }
    case 'generate': {
      if (!name || !/^[A-Z][A-Za-z0-9]*$/.test(name)) {
        console.error('usage: migrate generate <PascalCaseName>, e.g. CreateDatasets');
        return 2;
      }
      const changes = await withScratchDatabase(pendingSchemaChanges);
      if (changes.up.length === 0) {
        console.log('no schema changes: nothing generated');
        return 0;
      }
      const timestamp = Date.now();
      const file = path.join(projectRoot, 'migrations', `${timestamp}-${name}.ts`);
      await writeFile(file, migrationSource(`${name}${timestamp}`, changes.up, changes.down));
      console.log(
        `wrote ${path.relative(projectRoot, file)} (${changes.up.length} statements): review it, then commit`,
      );
      return 0;
    }
    default:
      console.error('usage: migrate run | check | generate <Name>');
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
