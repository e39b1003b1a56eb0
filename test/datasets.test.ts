import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { ArtifactStore } from '../src/platform/storage/artifact-store.js';
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
    const datasetId = await createDataset('cut-off');
    const url = new URL(`${testApp.baseUrl}/api/v1/datasets/${datasetId}/versions`);
    await new Promise<void>((resolve) => {
      const request = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: {
            Authorization: `Bearer ${testApp.adminKey}`,
            'Content-Type': 'application/x-ndjson',
            'Content-Length': 1_000_000,
          },
        },
        () => resolve(),
      );
      request.on('error', () => resolve());
      request.write(jsonl(classificationRows(200)));
      setTimeout(() => {
        request.destroy();
        resolve();
      }, 300);
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const health = await fetch(`${testApp.baseUrl}/health/ready`);
    assert.equal(health.status, 200);
    assert.equal(await versionCount(datasetId), 0);
    assert.deepEqual(await storedKeys(testApp, datasetId), [], 'no object left in storage');
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
