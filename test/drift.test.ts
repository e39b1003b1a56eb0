import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { openDataSource, runMigrations } from '../src/platform/database/data-source.js';
import { createScratchDatabase } from '../src/platform/database/scratch-database.js';
import { pendingSchemaChanges } from '../scripts/lib/migrations.js';
import { projectRoot, SDK, SPEC, staleGeneratedFiles } from '../scripts/lib/openapi-sync.js';
import { testServerUrl } from './support/test-app.js';

/** The checks CI runs must fail when the committed artifacts are stale, not only pass when fresh. */
describe('drift checks', () => {
  describe('OpenAPI spec and SDK', () => {
    let copy: string;
    before(async () => {
      copy = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-drift-'));
      await cp(path.join(projectRoot, SPEC), path.join(copy, SPEC), { recursive: true });
      await cp(path.join(projectRoot, SDK), path.join(copy, SDK), { recursive: true });
    });
    after(async () => {
      await rm(copy, { recursive: true, force: true });
    });

    it('passes on the committed files', async () => {
      assert.deepEqual(await staleGeneratedFiles(copy), []);
    });

    it('fails when the spec is stale', async () => {
      const file = path.join(copy, SPEC);
      const original = await readFile(file, 'utf8');
      await writeFile(file, original.replace('"operationId": "getMe"', '"operationId": "whoAmI"'));
      assert.deepEqual(await staleGeneratedFiles(copy), [SPEC]);
      await writeFile(file, original);
    });

    it('fails when the SDK is stale or has a file missing', async () => {
      const sdkFile = path.join(copy, SDK, 'sdk.gen.ts');
      const original = await readFile(sdkFile, 'utf8');
      await writeFile(sdkFile, original.replace('export const getMe', 'export const getMeOld'));
      await unlink(path.join(copy, SDK, 'index.ts'));
      assert.deepEqual((await staleGeneratedFiles(copy)).sort(), [
        path.join(SDK, 'index.ts'),
        path.join(SDK, 'sdk.gen.ts'),
      ]);
    });
  });

  describe('migrations', () => {
    let dataSource: DataSource;
    let drop: () => Promise<void>;
    before(async () => {
      const scratch = await createScratchDatabase(testServerUrl(), 'drift');
      drop = scratch.drop;
      dataSource = await openDataSource(scratch.url, 2);
      await runMigrations(dataSource);
    });
    after(async () => {
      await dataSource.destroy();
      await drop();
    });

    it('agree with the entities after all migrations', async () => {
      assert.deepEqual((await pendingSchemaChanges(dataSource)).up, []);
    });

    it('are reported stale when a migration is missing', async () => {
      await dataSource.undoLastMigration();
      const changes = await pendingSchemaChanges(dataSource);
      assert.ok(
        changes.up.some((query) => query.startsWith('CREATE TABLE')),
        changes.up.join('\n'),
      );
      await runMigrations(dataSource);
      assert.deepEqual((await pendingSchemaChanges(dataSource)).up, []);
    });
  });
});
