import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../platform/config/config.js';
import { DomainError } from '../platform/errors/domain-error.js';
import { ErrorCode } from '../platform/errors/error-codes.js';
import { MetricsService } from '../platform/metrics/metrics.service.js';
import type { ArtifactBody, PutArtifactOptions, StoredArtifact } from '../platform/storage/artifact-store.js';
import { FolderArtifactStore } from '../platform/storage/folder-artifact-store.js';
import { DatasetIngestor, type IngestOptions } from './dataset-ingestor.js';
import { DatasetMetrics } from './dataset-metrics.js';

/** A folder store that only starts reading a body once that body has been closed by its producer. */
class LateStore extends FolderArtifactStore {
  protected override async write(
    key: string,
    body: ArtifactBody,
    options: PutArtifactOptions,
  ): Promise<StoredArtifact> {
    if (body instanceof Readable) {
      // Only a 'close' listener: an 'error' listener here would hide an error nobody else listens to.
      await new Promise((resolve) => body.on('close', resolve));
    }
    return super.write(key, body, options);
  }
}

const options: IngestOptions = {
  task: 'classification',
  schema: { inputFields: ['text'], labelField: 'label' },
  stagingPrefix: 'staging/test',
};

describe('DatasetIngestor', () => {
  let root: string;
  const config = loadConfig({ DATASET_MAX_UPLOAD_BYTES: '1kb', DATASET_MAX_INFLATED_BYTES: '4kb' });
  const metrics = () => new DatasetMetrics(new MetricsService());

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-ingestor-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const storedFiles = async (folder: string) =>
    (await readdir(folder, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());

  it('refuses an oversized upload with 413 even when the store has not started reading yet', async () => {
    const folder = path.join(root, 'late');
    const ingestor = new DatasetIngestor(new LateStore(folder), config, metrics());
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const chunk = Buffer.from(`${JSON.stringify({ text: 'x'.repeat(400), label: 'a' })}\n`);
      await assert.rejects(
        ingestor.ingest(Readable.from([chunk, chunk, chunk, chunk]), options),
        (error: unknown) => error instanceof DomainError && error.code === ErrorCode.PayloadTooLarge,
      );
      await ingestor.whenIdle();
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    assert.deepEqual(uncaught, []);
    assert.deepEqual(ingestor.activity(), { uploads: 0, workers: 0 });
    assert.deepEqual(await storedFiles(folder), []);
  });

  it('refuses a declared size over the limit without reading a byte', async () => {
    const ingestor = new DatasetIngestor(new FolderArtifactStore(path.join(root, 'declared')), config, metrics());
    let read = false;
    const source = new Readable({
      read() {
        read = true;
        this.push(null);
      },
    });
    await assert.rejects(
      ingestor.ingest(source, { ...options, declaredBytes: 1025 }),
      (error: unknown) => error instanceof DomainError && error.code === ErrorCode.PayloadTooLarge,
    );
    assert.equal(read, false);
    assert.deepEqual(ingestor.activity(), { uploads: 0, workers: 0 });
  });

  it('refuses files without data rows when asked to, keeping nothing', async () => {
    const folder = path.join(root, 'empty');
    const ingestor = new DatasetIngestor(new FolderArtifactStore(folder), config, metrics());
    for (const content of ['', '\n\n', 'text,label\n', '\uFEFFtext,label\r\n']) {
      await assert.rejects(
        ingestor.ingest(Readable.from([Buffer.from(content)]), { ...options, refuseEmpty: true }),
        (error: unknown) => error instanceof DomainError && error.code === ErrorCode.EmptyFile,
        JSON.stringify(content),
      );
    }
    assert.deepEqual(await storedFiles(folder), []);
    // A transform may produce an empty output: without the option the file is taken.
    const result = await ingestor.ingest(Readable.from([Buffer.from('')]), options);
    assert.equal(result.validRows, 0);
    assert.equal(result.stored.size, 0);
  });

  it('counts the bytes it receives', async () => {
    const service = new MetricsService();
    const ingestor = new DatasetIngestor(
      new FolderArtifactStore(path.join(root, 'metrics')),
      config,
      new DatasetMetrics(service),
    );
    const content = `${JSON.stringify({ text: 'hello', label: 'a' })}\n`;
    await ingestor.ingest(Readable.from([Buffer.from(content)]), options);
    const metric = await service.registry.getSingleMetric('tuneforge_upload_bytes_total')?.get();
    assert.equal(metric?.values[0]?.value, Buffer.byteLength(content));
  });
});
