import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities.js';
import { SnakeNamingStrategy } from './naming-strategy.js';

const distRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Compiled migrations, loaded by glob from dist/migrations. */
export const MIGRATIONS_GLOB = path.join(distRoot, 'migrations', '*.js');

export function dataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: [MIGRATIONS_GLOB],
    migrationsTableName: 'typeorm_migrations',
    migrationsRun: false,
    synchronize: false,
    namingStrategy: new SnakeNamingStrategy(),
    poolSize,
    applicationName: 'tuneforge',
    // gen_random_uuid() is built into PostgreSQL 13+: no extension to install, no superuser needed.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
  };
}

/** Arbitrary but fixed: the advisory lock that serialises migrations across replicas. */
const MIGRATION_LOCK = 7_301_982_611;

/** Runs pending migrations while holding an advisory lock, so replicas starting together do not race. */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}

export async function openDataSource(url: string, poolSize = 10): Promise<DataSource> {
  return new DataSource(dataSourceOptions(url, poolSize)).initialize();
}
