/**
 * `npm test`: runs every compiled unit test (dist/src/**\/*.spec.js) and integration test
 * (dist/test/**\/*.test.js) with Node's test runner.
 *
 * Without DATABASE_URL it starts one embedded PostgreSQL for the whole run (each test file makes
 * its own database on it); without S3_BUCKET the artifact tests use temporary folders. With them
 * set (as .ci/run does) the same tests run against the real servers.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddedDatabase } from '../src/platform/database/embedded-database.js';

const distRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function findTests(directory: string, suffix: string): Promise<string[]> {
  const found: string[] = [];
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true, recursive: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (entry.isFile() && entry.name.endsWith(suffix)) {
      found.push(path.join(entry.parentPath, entry.name));
    }
  }
  return found.sort();
}

async function main(): Promise<number> {
  const filters = process.argv.slice(2);
  let files = [
    ...(await findTests(path.join(distRoot, 'src'), '.spec.js')),
    ...(await findTests(path.join(distRoot, 'clients', 'typescript', 'cli'), '.spec.js')),
    ...(await findTests(path.join(distRoot, 'test'), '.test.js')),
  ];
  if (filters.length > 0) {
    files = files.filter((file) => filters.some((filter) => file.includes(filter)));
  }
  if (files.length === 0) {
    console.error('No test files found: run `npm run build` first.');
    return 1;
  }

  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test', LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' };
  let embedded: EmbeddedDatabase | undefined;
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-test-'));
  try {
    if (!env.DATABASE_URL) {
      embedded = new EmbeddedDatabase(path.join(scratch, 'postgres'));
      env.DATABASE_URL = await embedded.start();
      console.log(`test: embedded PostgreSQL at ${EmbeddedDatabase.redact(env.DATABASE_URL)}`);
    } else {
      console.log(`test: PostgreSQL at ${EmbeddedDatabase.redact(env.DATABASE_URL)}`);
    }
    console.log(
      env.S3_BUCKET
        ? `test: S3 bucket ${env.S3_BUCKET} at ${env.S3_ENDPOINT ?? 'AWS'}`
        : 'test: artifacts in temporary folders (S3 tests skipped: S3_BUCKET unset)',
    );
    env.TUNEFORGE_TEST_DATABASE_URL = env.DATABASE_URL;
    delete env.DATABASE_URL;

    const child = spawn(
      process.execPath,
      ['--test', '--test-concurrency=2', '--test-reporter=spec', '--enable-source-maps', ...files],
      { env, stdio: 'inherit' },
    );
    return await new Promise<number>((resolve) =>
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))),
    );
  } finally {
    await embedded?.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
