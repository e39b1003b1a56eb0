import { Global, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { APP_CONFIG, loadConfig } from '../config/config.js';
import { ArtifactTooLargeError } from './artifact-errors.js';
import { createArtifactStore } from './artifact-store.factory.js';
import { ArtifactStore } from './artifact-store.js';
import { DigestingStream } from './digesting-stream.js';
import { FolderArtifactStore } from './folder-artifact-store.js';
import { S3ArtifactStore } from './s3-artifact-store.js';
import { StorageModule } from './storage.module.js';

describe('createArtifactStore', () => {
  it('uses the folder DATA_DIR/artifacts when no bucket is configured', () => {
    const store = createArtifactStore(loadConfig({ DATA_DIR: '/var/lib/tuneforge' }));
    assert.ok(store instanceof FolderArtifactStore);
    assert.equal(store.describe(), `folder ${path.resolve('/var/lib/tuneforge/artifacts')}`);
  });

  it('uses S3 when a bucket is configured, and describes it without credentials', async () => {
    const store = createArtifactStore(
      loadConfig({
        S3_BUCKET: 'artifacts',
        S3_ENDPOINT: 'http://user:secret@127.0.0.1:5055',
        S3_PREFIX: 'team-a',
        S3_FORCE_PATH_STYLE: 'true',
      }),
    );
    try {
      assert.ok(store instanceof S3ArtifactStore);
      assert.equal(store.describe(), 's3://artifacts/team-a/ @ http://127.0.0.1:5055');
    } finally {
      await store.close();
    }
  });

  it('rejects an S3 prefix that does not end with "/"', () => {
    assert.throws(
      () => new S3ArtifactStore({ bucket: 'b', region: 'us-east-1', forcePathStyle: true, prefix: 'x' }),
      /prefix/,
    );
  });
});

describe('StorageModule', () => {
  it('provides the configured ArtifactStore under the ArtifactStore token', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-storage-module-'));
    @Global()
    @Module({
      providers: [{ provide: APP_CONFIG, useValue: loadConfig({ DATA_DIR: dataDir }) }],
      exports: [APP_CONFIG],
    })
    class TestConfigModule {}
    @Module({ imports: [TestConfigModule, StorageModule] })
    class TestAppModule {}

    const app = await NestFactory.createApplicationContext(TestAppModule, { logger: false });
    try {
      const store = app.get(ArtifactStore);
      assert.ok(store instanceof FolderArtifactStore);
      await store.check();
      assert.equal((await stat(path.join(dataDir, 'artifacts'))).mode & 0o777, 0o700);
    } finally {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('DigestingStream', () => {
  it('passes bytes through while counting and hashing them', async () => {
    const digest = new DigestingStream();
    const received: Buffer[] = [];
    await pipeline(Readable.from([Buffer.from('hello '), Buffer.from('world')]), digest, async (source) => {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        received.push(chunk);
      }
    });
    assert.equal(Buffer.concat(received).toString(), 'hello world');
    assert.equal(digest.byteCount, 11);
    assert.equal(digest.sha256, 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
  });

  it('has none of the properties lib-storage reads as a body length', () => {
    // lib-storage takes `size`, `length` or `byteLength` as the total and then fails the multipart upload.
    const digest = new DigestingStream();
    const properties = digest as unknown as Record<string, unknown>;
    for (const property of ['size', 'length', 'byteLength', 'start']) {
      assert.notEqual(typeof properties[property], 'number', property);
    }
  });

  it('fails as soon as the limit is passed', async () => {
    const digest = new DigestingStream(5);
    await assert.rejects(
      pipeline(Readable.from([Buffer.from('abc'), Buffer.from('def')]), digest, async (source) => {
        for await (const _chunk of source as AsyncIterable<Buffer>) {
          // drain
        }
      }),
      ArtifactTooLargeError,
    );
    assert.throws(() => digest.sha256, /only known after/);
  });
});
