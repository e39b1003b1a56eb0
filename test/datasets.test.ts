import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdir, readlink } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { DatasetIngestor } from '../src/datasets/dataset-ingestor.js';
import { ArtifactStore } from '../src/platform/storage/artifact-store.js';
import { TEMPORARY_DIRECTORY_NAME } from '../src/platform/storage/folder-artifact-store.js';
import { apiClient, expectStatus } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';

interface Version {
  id: string;
  version: number;
  state: string;
  sha256: string;
  sizeBytes: number;
  rowCount: number;
  errorRowCount: number;
  qualityVerdict: string;
  format: string;
  compression: string;
  columns: string[] | null;
}
interface Quality {
  verdict: string;
  report: Record<string, unknown>;
  validation: { errors: { line: number; field?: string; reason: string }[]; totalErrors: number };
}

const classificationRows = (count: number) =>
  Array.from({ length: count }, (_, index) => ({
    text: `ticket number ${index} about ${['billing', 'login', 'shipping'][index % 3]} problems and ${index * 7} other words`,
    label: ['billing', 'login', 'shipping'][index % 3],
  }));
const jsonl = (rows: unknown[]) => rows.map((row) => JSON.stringify(row)).join('\n') + '\n';

describe('datasets', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;
  const provenance = { source: 'https://example.org/tickets', license: 'CC-BY-4.0', containsPersonalData: 'no' };
  const createDataset = async (name: string, extra: Record<string, unknown> = {}) => {
    const response = await api<{ id: string }>('POST', '/api/v1/datasets', {
      name,
      task: 'classification',
      ...provenance,
      ...extra,
    });
    expectStatus(response, 201);
    return response.body.id;
  };
  const upload = (datasetId: string, body: string | Uint8Array, contentType = 'application/x-ndjson', query = '') =>
    api<Version>('POST', `/api/v1/datasets/${datasetId}/versions${query}`, body, { 'Content-Type': contentType });
  const expectDownloadable = async (datasetId: string, version: number, sha256: string) => {
    const download = await fetch(`${testApp.baseUrl}/api/v1/datasets/${datasetId}/versions/${version}/download`, {
      headers: { Authorization: `Bearer ${testApp.adminKey}` },
    });
    const bytes = Buffer.from(await download.arrayBuffer());
    assert.equal(download.status, 200, bytes.toString('utf8'));
    assert.equal(createHash('sha256').update(bytes).digest('hex'), sha256);
  };
  const versionCount = async (datasetId: string) =>
    ((await api<{ data: unknown[] }>('GET', `/api/v1/datasets/${datasetId}/versions`)).body.data ?? []).length;

  before(async () => {
    testApp = await startTestApp({
      DATASET_MAX_UPLOAD_BYTES: '2mb',
      DATASET_MAX_INFLATED_BYTES: '4mb',
      DATASET_MAX_LINE_BYTES: '8kb',
    });
    api = apiClient(testApp.baseUrl, testApp.adminKey);
  });
  after(async () => {
    await testApp.close();
  });

  it('refuses a dataset without source or licence, saying why', async () => {
    const response = await api<{ code: string; details: { field: string; reason: string }[] }>(
      'POST',
      '/api/v1/datasets',
      {
        name: 'no-provenance',
        task: 'classification',
        containsPersonalData: 'no',
      },
    );
    expectStatus(response, 400);
    const fields = response.body.details.map((detail) => detail.field);
    assert.ok(fields.includes('source') && fields.includes('license'), JSON.stringify(response.body));
    assert.match(JSON.stringify(response.body.details), /source is required/);
    const withPersonalData = await api('POST', '/api/v1/datasets', {
      name: 'pd',
      task: 'chat',
      ...provenance,
      containsPersonalData: 'yes',
    });
    expectStatus(withPersonalData, 400);
    assert.match(JSON.stringify(withPersonalData.body), /legalBasis is required/);
    const list = await api<{ data: unknown[] }>('GET', '/api/v1/datasets');
    assert.equal(list.body.data.length, 0, 'nothing was created');
  });

  it('stores a JSONL upload as an immutable version, recognising the same bytes', async () => {
    const datasetId = await createDataset('tickets');
    const content = jsonl(classificationRows(60));
    const first = await upload(datasetId, content);
    expectStatus(first, 201);
    assert.equal(first.body.version, 1);
    assert.equal(first.body.state, 'ready');
    assert.equal(first.body.rowCount, 60);
    assert.equal(first.body.format, 'jsonl');
    assert.equal(first.body.sha256, createHash('sha256').update(content).digest('hex'));
    assert.equal(first.body.sizeBytes, Buffer.byteLength(content));

    const again = await upload(datasetId, content);
    expectStatus(again, 200);
    assert.equal(again.body.id, first.body.id, 'the same bytes are the same version');
    assert.equal(await versionCount(datasetId), 1);

    const download = await fetch(`${testApp.baseUrl}/api/v1/datasets/${datasetId}/versions/1/download`, {
      headers: { Authorization: `Bearer ${testApp.adminKey}` },
    });
    assert.equal(download.status, 200);
    const downloaded = Buffer.from(await download.arrayBuffer());
    assert.equal(createHash('sha256').update(downloaded).digest('hex'), first.body.sha256);
    assert.equal(download.headers.get('x-content-sha256'), first.body.sha256);

    const rows = await api<{ rows: { line: number; record: { label: string } }[]; nextOffset: number | null }>(
      'GET',
      `/api/v1/datasets/${datasetId}/versions/1/rows?offset=10&limit=5`,
    );
    expectStatus(rows, 200);
    assert.deepEqual(
      rows.body.rows.map((row) => row.line),
      [11, 12, 13, 14, 15],
    );
    assert.equal(rows.body.nextOffset, 15);
    const quality = await api<Quality>('GET', `/api/v1/datasets/${datasetId}/versions/1/quality`);
    expectStatus(quality, 200);
    assert.equal(quality.body.validation.totalErrors, 0);
  });

  it('reads CSV, gzip and multipart uploads', async () => {
    const datasetId = await createDataset('formats');
    const csv = 'text,label\n"hello, world",greeting\n"she said ""hi""",greeting\nbye now,farewell\n';
    const fromCsv = await upload(datasetId, csv, 'text/csv');
    expectStatus(fromCsv, 201);
    assert.equal(fromCsv.body.format, 'csv');
    assert.equal(fromCsv.body.rowCount, 3);
    assert.deepEqual(fromCsv.body.columns, ['text', 'label']);

    const gzipped = gzipSync(Buffer.from(jsonl(classificationRows(30))));
    const fromGzip = await upload(datasetId, gzipped, 'application/gzip');
    expectStatus(fromGzip, 201);
    assert.equal(fromGzip.body.compression, 'gzip');
    assert.equal(fromGzip.body.rowCount, 30);

    const form = new FormData();
    form.set('file', new Blob([jsonl(classificationRows(12))]), 'data.jsonl');
    const fromForm = await api<Version>('POST', `/api/v1/datasets/${datasetId}/versions`, form);
    expectStatus(fromForm, 201);
    assert.equal(fromForm.body.rowCount, 12);
  });

  it('keeps a file with bad rows as an invalid version with per-line errors', async () => {
    const datasetId = await createDataset('bad-rows');
    const lines = [
      JSON.stringify({ text: 'fine', label: 'a' }),
      '{"text": "broken json", ',
      JSON.stringify({ text: 'no label here' }),
      JSON.stringify(['not', 'an', 'object']),
      JSON.stringify({ text: 'x'.repeat(9000), label: 'a' }),
      JSON.stringify({ text: 'also fine', label: 'b' }),
    ];
    const bytes = Buffer.concat([
      Buffer.from(lines.join('\n') + '\n'),
      Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d, 0x0a]), // {"t":"\xC3(" }: invalid UTF-8
    ]);
    const response = await upload(datasetId, bytes);
    expectStatus(response, 201);
    assert.equal(response.body.state, 'invalid');
    assert.equal(response.body.rowCount + response.body.errorRowCount, 7);
    const quality = await api<Quality>('GET', `/api/v1/datasets/${datasetId}/versions/1/quality`);
    const byLine = new Map(quality.body.validation.errors.map((error) => [error.line, error]));
    assert.deepEqual(
      [...byLine.keys()].sort((a, b) => a - b),
      [2, 3, 4, 5, 7],
    );
    assert.equal(byLine.get(3)?.field, 'label');
    assert.match(byLine.get(7)?.reason ?? '', /UTF-8/);
    assert.equal(quality.body.validation.totalErrors, 5);
  });

  it('reports ragged CSV rows with their line numbers', async () => {
    const datasetId = await createDataset('ragged');
    const response = await upload(datasetId, 'text,label\nok,a\ntoo,many,fields\nfine,b\n', 'text/csv');
    expectStatus(response, 201);
    assert.equal(response.body.state, 'invalid');
    const quality = await api<Quality>('GET', `/api/v1/datasets/${datasetId}/versions/1/quality`);
    assert.deepEqual(
      quality.body.validation.errors.map((error) => error.line),
      [3],
    );
  });

  it('refuses oversized files, gzip bombs, truncated gzip and non-files with 4xx, storing nothing', async () => {
    const datasetId = await createDataset('refusals');
    const tooBig = await upload(datasetId, jsonl(classificationRows(30_000)));
    expectStatus(tooBig, 413);
    assert.equal((tooBig.body as unknown as { code: string }).code, 'payload_too_large');

    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    assert.ok(bomb.length < 2 * 1024 * 1024);
    const bombed = await upload(datasetId, bomb, 'application/gzip');
    expectStatus(bombed, 413);

    const gzipped = gzipSync(Buffer.from(jsonl(classificationRows(500))));
    const truncated = await upload(datasetId, gzipped.subarray(0, Math.floor(gzipped.length / 2)), 'application/gzip');
    expectStatus(truncated, 400);
    assert.equal((truncated.body as unknown as { code: string }).code, 'unreadable_file');

    const png = Buffer.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    ]);
    const binary = await upload(datasetId, png, 'application/octet-stream');
    expectStatus(binary, 400);
    assert.equal((binary.body as unknown as { code: string }).code, 'unreadable_file');

    const wrongType = await upload(datasetId, '{"a":1}', 'application/json');
    expectStatus(wrongType, 415);
    const image = await upload(datasetId, 'GIF89a\u0000\u0001binary', 'image/gif');
    expectStatus(image, 415);

    assert.equal(await versionCount(datasetId), 0);
    assert.deepEqual(await storedKeys(testApp, datasetId), [], 'no object left in storage');
  });

  it('stores nothing when the upload is cut off half way, and keeps serving', async () => {
    const ingestor = testApp.app.get(DatasetIngestor);
    await ingestor.whenIdle();
    const datasetId = await createDataset('cut-off');
    const url = new URL(`${testApp.baseUrl}/api/v1/datasets/${datasetId}/versions`);
    const request = http.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      agent: false,
      headers: {
        Authorization: `Bearer ${testApp.adminKey}`,
        'Content-Type': 'application/x-ndjson',
        'Content-Length': 1_000_000,
      },
    });
    request.on('error', () => undefined);
    request.write(jsonl(classificationRows(200)));
    // Cut only once the server is ingesting, so the cut lands in the middle of the stream.
    await until('the upload is streaming into a worker', () => {
      const { uploads, workers } = ingestor.activity();
      return uploads === 1 && workers === 1;
    });
    request.destroy();
    await ingestor.whenIdle();
    const health = await fetch(`${testApp.baseUrl}/health/ready`);
    assert.equal(health.status, 200);
    assert.equal(await versionCount(datasetId), 0);
    assert.deepEqual(await storedKeys(testApp, datasetId), [], 'no object left in storage');
  });

  it('answers 413 to a declared oversized body before it is sent, and to one still being sent', async () => {
    const datasetId = await createDataset('oversized');
    const declared = await rawRequest(testApp, `/api/v1/datasets/${datasetId}/versions`, {
      headers: { 'Content-Type': 'application/x-ndjson', 'Content-Length': String(3 * 1024 * 1024) },
    });
    assert.equal(declared.status, 413, declared.body);
    assert.equal((JSON.parse(declared.body) as { code: string }).code, 'payload_too_large');

    // A client that writes its body before it reads gets the answer, not a reset connection.
    const eager = await writeThenRead(testApp, `/api/v1/datasets/${datasetId}/versions`, 6 * 1024 * 1024);
    assert.match(eager.received, /^HTTP\/1\.1 413 /);
    assert.match(eager.received, /"code":"payload_too_large"/);
    assert.equal(eager.error, undefined, 'the connection was not reset');

    // Chunked, no length: the client keeps sending until it sees the answer.
    const line = Buffer.from(jsonl(classificationRows(100)));
    const streamed = await rawRequest(testApp, `/api/v1/datasets/${datasetId}/versions`, {
      headers: { 'Content-Type': 'application/x-ndjson', 'Transfer-Encoding': 'chunked' },
      keepSending: line,
    });
    assert.equal(streamed.status, 413, streamed.body);
    assert.equal((JSON.parse(streamed.body) as { code: string }).code, 'payload_too_large');
    assert.ok(streamed.bytesSent > 2 * 1024 * 1024);
    assert.equal(await versionCount(datasetId), 0);
    assert.deepEqual(await storedKeys(testApp, datasetId), []);
  });

  it('refuses empty and header-only files with 400 empty_file, storing nothing', async () => {
    const datasetId = await createDataset('empty');
    for (const [content, type] of [
      ['', 'application/x-ndjson'],
      ['\n\n', 'application/x-ndjson'],
      ['text,label\n', 'text/csv'],
    ]) {
      const response = await upload(datasetId, content, type);
      expectStatus(response, 400);
      assert.equal((response.body as unknown as { code: string }).code, 'empty_file');
    }
    const form = new FormData();
    form.set('file', new Blob(['']), 'empty.jsonl');
    const fromForm = await api<{ code: string }>('POST', `/api/v1/datasets/${datasetId}/versions`, form);
    expectStatus(fromForm, 400);
    assert.equal(fromForm.body.code, 'empty_file');
    assert.equal(await versionCount(datasetId), 0);
    assert.deepEqual(await storedKeys(testApp, datasetId), [], 'no object left in storage');
  });

  it('cleans up a multipart upload cut off by the client: worker, staging file and descriptors', async () => {
    const ingestor = testApp.app.get(DatasetIngestor);
    const datasetId = await createDataset('multipart-cut');
    const form = new FormData();
    form.set('file', new Blob([jsonl(classificationRows(15))]), 'warm-up.jsonl');
    expectStatus(await api('POST', `/api/v1/datasets/${datasetId}/versions`, form), 201);
    await ingestor.whenIdle();
    const temporaryFolder = path.join(testApp.config.dataDir, 'artifacts', TEMPORARY_DIRECTORY_NAME);
    const folderStore = !testApp.config.s3;
    const descriptorsBefore = await openDescriptors();

    const url = new URL(`${testApp.baseUrl}/api/v1/datasets/${datasetId}/versions`);
    const boundary = 'tuneforge-cut-boundary';
    const request = http.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      agent: false,
      headers: {
        Authorization: `Bearer ${testApp.adminKey}`,
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
        'Content-Length': 50_000_000,
      },
    });
    request.on('error', () => undefined);
    request.write(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jsonl"\r\n` +
        'Content-Type: application/x-ndjson\r\n\r\n',
    );
    request.write(jsonl(classificationRows(2000)));
    await until('the upload is streaming into a worker', async () => {
      const { uploads, workers } = ingestor.activity();
      return uploads === 1 && workers === 1 && (!folderStore || (await partFiles(temporaryFolder)).length === 1);
    });

    request.destroy();
    await until('the cut-off upload has settled', () => {
      const { uploads, workers } = ingestor.activity();
      return uploads === 0 && workers === 0;
    });
    if (folderStore) {
      assert.deepEqual(await partFiles(temporaryFolder), [], 'no staging file left');
    }
    await until('descriptors are back to where they were', async () => (await openDescriptors()) <= descriptorsBefore);
    assert.deepEqual(
      (await descriptorTargets()).filter((target) => target.includes(TEMPORARY_DIRECTORY_NAME)),
      [],
      'no staging file held open',
    );
    assert.equal(await versionCount(datasetId), 1);
    assert.deepEqual(
      (await storedKeys(testApp, datasetId)).filter((key) => !key.includes('/blobs/')),
      [],
      'only the warm-up blob is stored',
    );
  });

  it('never removes a blob that an upload of the same bytes is recording (upload checked first)', async () => {
    const store = testApp.app.get(ArtifactStore);
    const datasetId = await createDataset('race-upload-first');
    const content = jsonl(classificationRows(25));
    expectStatus(await upload(datasetId, content), 201);
    // The re-upload stops right after finding the blob already stored, before recording its version.
    const paused = pauseOnce(store, 'exists', (key) => key.includes(`${datasetId}/blobs/`), 'after');
    const uploading = upload(datasetId, content);
    await paused.reached;
    const deleting = api('DELETE', `/api/v1/datasets/${datasetId}/versions/1`);
    try {
      assert.equal(await blockedOrDone(deleting, () => advisoryLockWaiters(testApp)), 'blocked');
    } finally {
      paused.release();
    }
    const [uploaded, deleted] = await Promise.all([uploading, deleting]);
    expectStatus(deleted, 200);
    expectStatus(uploaded, 201);
    assert.equal(uploaded.body.version, 2);
    await expectDownloadable(datasetId, 2, uploaded.body.sha256);
  });

  it('never removes a blob that an upload of the same bytes is recording (delete checked first)', async () => {
    const store = testApp.app.get(ArtifactStore);
    const datasetId = await createDataset('race-delete-first');
    const content = jsonl(classificationRows(26));
    expectStatus(await upload(datasetId, content), 201);
    // The delete stops after deciding the blob is unused, before removing it.
    const paused = pauseOnce(store, 'delete', (key) => key.includes(`${datasetId}/blobs/`), 'before');
    const deleting = api('DELETE', `/api/v1/datasets/${datasetId}/versions/1`);
    await paused.reached;
    const uploading = upload(datasetId, content);
    try {
      assert.equal(await blockedOrDone(uploading, () => advisoryLockWaiters(testApp)), 'blocked');
    } finally {
      paused.release();
    }
    const [uploaded, deleted] = await Promise.all([uploading, deleting]);
    expectStatus(deleted, 200);
    expectStatus(uploaded, 201);
    assert.equal(uploaded.body.version, 2);
    await expectDownloadable(datasetId, 2, uploaded.body.sha256);
  });

  it('counts uploaded bytes and created versions by verdict in /metrics', async () => {
    const datasetId = await createDataset('metrics');
    const content = jsonl(classificationRows(40));
    expectStatus(await upload(datasetId, content), 201);
    const response = await fetch(`${testApp.baseUrl}/metrics`, {
      headers: { Authorization: `Bearer ${testApp.adminKey}` },
    });
    const text = await response.text();
    const bytes = Number(/^tuneforge_upload_bytes_total (\d+)/m.exec(text)?.[1]);
    assert.ok(bytes >= Buffer.byteLength(content), text);
    assert.match(text, /^tuneforge_dataset_versions_total\{verdict="(pass|warn|fail)"\} [1-9]/m);
  });

  it('deletes a version to a tombstone: the file goes, the record stays', async () => {
    const datasetId = await createDataset('deletable');
    const created = await upload(datasetId, jsonl(classificationRows(20)));
    expectStatus(created, 201);
    const deleted = await api<Version & { deletedAt: string }>('DELETE', `/api/v1/datasets/${datasetId}/versions/1`);
    expectStatus(deleted, 200);
    assert.equal(deleted.body.state, 'deleted');
    assert.ok(deleted.body.deletedAt);
    const fetched = await api<Version>('GET', `/api/v1/datasets/${datasetId}/versions/1`);
    expectStatus(fetched, 200);
    assert.equal(fetched.body.sha256, created.body.sha256, 'the tombstone keeps the hash for lineage');
    const download = await api('GET', `/api/v1/datasets/${datasetId}/versions/1/download`);
    expectStatus(download, 409);
    assert.deepEqual(await storedKeys(testApp, datasetId), [], 'the file is gone');
    const reupload = await upload(datasetId, jsonl(classificationRows(20)));
    expectStatus(reupload, 201);
    assert.equal(reupload.body.version, 2);
  });

  it('hides other projects datasets (404) and checks scopes (403)', async () => {
    const datasetId = await createDataset('private');
    const project = await api<{ id: string }>('POST', '/api/v1/projects', { name: 'other-team' });
    const otherKey = await api<{ secret: string }>('POST', '/api/v1/api-keys', {
      name: 'other',
      scopes: ['datasets:read', 'datasets:write'],
      projectId: project.body.id,
    });
    const other = apiClient(testApp.baseUrl, otherKey.body.secret);
    expectStatus(await other('GET', `/api/v1/datasets/${datasetId}`), 404);
    expectStatus(await other('GET', `/api/v1/datasets/${datasetId}/versions`), 404);
    const otherUpload = await other('POST', `/api/v1/datasets/${datasetId}/versions`, jsonl(classificationRows(3)), {
      'Content-Type': 'application/x-ndjson',
    });
    expectStatus(otherUpload, 404);
    const reader = await api<{ secret: string }>('POST', '/api/v1/api-keys', {
      name: 'reader',
      scopes: ['datasets:read'],
    });
    const readOnly = apiClient(testApp.baseUrl, reader.body.secret);
    expectStatus(
      await readOnly('POST', '/api/v1/datasets', { name: 'nope', task: 'classification', ...provenance }),
      403,
    );
    expectStatus(await readOnly('GET', `/api/v1/datasets/${datasetId}`), 200);
  });

  it('audits every read of a dataset that may contain personal data', async () => {
    const datasetId = await createDataset('customer-chats', { containsPersonalData: 'yes', legalBasis: 'contract' });
    expectStatus(await upload(datasetId, jsonl(classificationRows(10))), 201);
    for (const suffix of ['', '/quality', '/rows', '/download']) {
      const response = await fetch(`${testApp.baseUrl}/api/v1/datasets/${datasetId}/versions/1${suffix}`, {
        headers: { Authorization: `Bearer ${testApp.adminKey}` },
      });
      assert.equal(response.status, 200, suffix);
      await response.arrayBuffer();
    }
    const events = await api<{ data: { action: string; method: string; path: string }[] }>(
      'GET',
      '/api/v1/audit-events?limit=200',
    );
    const reads = events.body.data.filter((event) => event.method === 'GET' && event.path.includes(datasetId));
    assert.deepEqual(reads.map((event) => event.action).sort(), [
      'downloadDatasetVersion',
      'getDatasetVersion',
      'getDatasetVersionQuality',
      'listDatasetVersionRows',
    ]);
  });
});

/** Keys in the app's artifact store that belong to a dataset. */
async function storedKeys(testApp: TestApp, datasetId: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of testApp.app.get(ArtifactStore).list('projects/')) {
    if (item.key.includes(datasetId)) {
      keys.push(item.key);
    }
  }
  return keys;
}

/** Polls `condition` until it holds; fails (rather than hangs) if it still does not after a generous bound. */
async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting until ${what}`);
    }
    await delay(10);
  }
}

/** Whether `work` finishes, or first blocks: `blocked` reports the state that means it is waiting. */
async function blockedOrDone(work: Promise<unknown>, blocked: () => Promise<boolean>): Promise<'blocked' | 'done'> {
  let done = false;
  work.then(
    () => (done = true),
    () => (done = true),
  );
  let outcome: 'blocked' | 'done' | undefined;
  await until('the request either finishes or waits for a lock', async () => {
    outcome = done ? 'done' : (await blocked()) ? 'blocked' : undefined;
    return outcome !== undefined;
  });
  return outcome as 'blocked' | 'done';
}

/** Sessions of this test's database waiting for an advisory lock. */
async function advisoryLockWaiters(testApp: TestApp): Promise<boolean> {
  const rows = await testApp.dataSource.query<{ waiting: number }[]>(
    `SELECT count(*)::int AS waiting FROM pg_locks
      WHERE locktype = 'advisory' AND NOT granted
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  return rows[0].waiting > 0;
}

/**
 * Makes the next call of `method` with a matching key stop (before or after doing its work) until
 * released; `reached` resolves when it has stopped. The store is restored on release.
 */
function pauseOnce(
  store: ArtifactStore,
  method: 'exists' | 'delete',
  matches: (key: string) => boolean,
  when: 'before' | 'after',
): { reached: Promise<void>; release: () => void } {
  const original = store[method].bind(store) as (key: string) => Promise<unknown>;
  let reached!: () => void;
  let release!: () => void;
  const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  let armed = true;
  const patched = async (key: string) => {
    if (!armed || !matches(key)) {
      return original(key);
    }
    armed = false;
    if (when === 'before') {
      reached();
      await released;
      return original(key);
    }
    const result = await original(key);
    reached();
    await released;
    return result;
  };
  Object.assign(store, { [method]: patched });
  return {
    reached: reachedPromise,
    release: () => {
      Object.assign(store, { [method]: original });
      release();
    },
  };
}

/** A POST sent by hand: headers only, or a body sent chunk after chunk until the answer arrives. */
async function rawRequest(
  testApp: TestApp,
  requestPath: string,
  options: { headers: Record<string, string>; keepSending?: Buffer },
): Promise<{ status: number; body: string; bytesSent: number }> {
  const url = new URL(`${testApp.baseUrl}${requestPath}`);
  let bytesSent = 0;
  return new Promise((resolve, reject) => {
    let answered = false;
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent: false,
        headers: { Authorization: `Bearer ${testApp.adminKey}`, ...options.headers },
      },
      (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), bytesSent });
          request.destroy();
        });
        response.on('error', reject);
      },
    );
    request.on('error', (error) => {
      if (!answered) {
        reject(error);
      }
    });
    request.flushHeaders();
    const chunk = options.keepSending;
    if (chunk) {
      const send = () => {
        while (!answered && !request.destroyed) {
          bytesSent += chunk.length;
          if (!request.write(chunk)) {
            request.once('drain', send);
            return;
          }
        }
      };
      send();
    }
  });
}

/**
 * Over a bare TCP connection: sends a chunked upload of `sendBytes` without reading, reads whatever
 * the server answers, and closes once the server has finished.
 */
async function writeThenRead(
  testApp: TestApp,
  requestPath: string,
  sendBytes: number,
): Promise<{ received: string; error?: Error }> {
  const url = new URL(testApp.baseUrl);
  const socket = net.connect(Number(url.port), url.hostname);
  let received = '';
  let error: Error | undefined;
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
  socket.on('error', (socketError) => (error = socketError));
  socket.on('end', () => socket.end());
  socket.write(
    `POST ${requestPath} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${testApp.adminKey}\r\n` +
      'Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n',
  );
  const line = `${JSON.stringify({ text: 'x'.repeat(1000), label: 'a' })}\n`;
  const chunk = Buffer.from(`${line.length.toString(16)}\r\n${line}\r\n`.repeat(64));
  for (let sent = 0; sent < sendBytes && !socket.destroyed; sent += chunk.length) {
    if (!socket.write(chunk)) {
      await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
    }
  }
  if (!socket.closed) {
    await once(socket, 'close');
  }
  return { received, error };
}

async function openDescriptors(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

async function descriptorTargets(): Promise<string[]> {
  const targets: string[] = [];
  for (const name of await readdir('/proc/self/fd')) {
    targets.push(await readlink(`/proc/self/fd/${name}`).catch(() => ''));
  }
  return targets;
}

async function partFiles(folder: string): Promise<string[]> {
  return (await readdir(folder).catch(() => [])).filter((name) => name.endsWith('.part'));
}
