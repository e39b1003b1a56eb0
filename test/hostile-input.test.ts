/**
 * Inputs that used to reach the database or the parser and come back as 500s: each is a 400 that
 * names the field, changes nothing, and a refused mutating call is still audited.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiClient, expectStatus, type ApiResponse } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { sentimentRows, uploadDataset } from './support/training-data.js';

interface ErrorBody {
  code: string;
  message: string;
  details: Array<{ field?: string; reason: string; limit?: number }>;
}

function refusedNaming(response: ApiResponse<unknown>, field: string): ErrorBody {
  expectStatus(response, 400);
  const body = response.body as ErrorBody;
  assert.equal(body.code, 'validation_failed', JSON.stringify(body));
  assert.ok(
    body.details.some((detail) => detail.field === field),
    `expected a detail naming ${field}: ${JSON.stringify(body)}`,
  );
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  return body;
}

const cursor = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const SOME_ID = '3f1c7a52-9c1e-4a55-9d55-0d1d7a8f2b1e';

describe('hostile input is a 400 naming the field', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;
  let datasetId: string;
  let jobId: string;
  const count = async (table: string) => {
    const rows = await testApp.dataSource.query<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM ${table}`);
    return rows[0].n;
  };
  const baseJob = () => ({
    model: { family: 'gpt2', nLayer: 1, nHead: 2, nEmbd: 32, vocabSize: 300 },
    trainingData: { datasetId, version: 1 },
    hyperparameters: { epochs: 1, batchSize: 4, sequenceLength: 16 },
    outputModelName: 'hostile',
  });

  before(async () => {
    testApp = await startTestApp();
    api = apiClient(testApp.baseUrl, testApp.adminKey);
    datasetId = await uploadDataset(api, 'hostile', 'classification', sentimentRows(30, 5));
    const job = await api<{ id: string }>('POST', '/api/v1/jobs', baseJob());
    expectStatus(job, 201);
    jobId = job.body.id;
  });
  after(async () => {
    await testApp.close();
  });

  it('version path parameters past int32, signed, padded or hex', async () => {
    for (const version of ['2147483648', '9999999999999999999', '-1', '0', '0x10', '%205', '1e3']) {
      refusedNaming(await api('GET', `/api/v1/datasets/${datasetId}/versions/${version}`), 'version');
    }
    refusedNaming(await api('GET', '/api/v1/models/some-model/versions/2147483648'), 'version');
    expectStatus(await api('GET', `/api/v1/datasets/${datasetId}/versions/2147483647`), 404);
  });

  it('integer fields past int32 in the query and the body', async () => {
    const before = await count('dataset_versions');
    refusedNaming(
      await api('POST', `/api/v1/datasets/${datasetId}/versions?referenceVersion=2147483648`, 'x\n', {
        'Content-Type': 'text/csv',
      }),
      'referenceVersion',
    );
    assert.equal(await count('dataset_versions'), before);
    const jobs = await count('jobs');
    refusedNaming(
      await api('POST', '/api/v1/jobs', { ...baseJob(), trainingData: { datasetId, version: 2 ** 31 } }),
      'trainingData.version',
    );
    assert.equal(await count('jobs'), jobs);
  });

  it('event sequence numbers past bigint', async () => {
    refusedNaming(await api('GET', `/api/v1/jobs/${jobId}/events?after=9999999999999999999`), 'after');
    expectStatus(await api('GET', `/api/v1/jobs/${jobId}/events?after=999999999999999999`), 200);
  });

  it('cursors that pass the format check but are not what the API writes', async () => {
    for (const text of [
      `2026-02-30T00:00:00.000Z|${SOME_ID}`,
      `+275760-09-13T00:00:00.000Z|${SOME_ID}`,
      `1|${SOME_ID}`,
      `0000-01-01T00:00:00.000Z|${SOME_ID}`,
      '2026-01-01T00:00:00.000Z|------------------------------------',
    ]) {
      for (const path of ['/api/v1/datasets', '/api/v1/audit-events', '/api/v1/jobs', '/api/v1/models']) {
        refusedNaming(await api('GET', `${path}?cursor=${cursor(text)}`), 'cursor');
      }
    }
    expectStatus(await api('GET', `/api/v1/datasets?cursor=${cursor(`2026-01-01T00:00:00.000Z|${SOME_ID}`)}`), 200);
  });

  it('limit must be plain decimal digits', async () => {
    for (const limit of ['0x10', '%205', '5%20', '1e1', '5.0', '']) {
      refusedNaming(await api('GET', `/api/v1/datasets?limit=${limit}`), 'limit');
    }
    const page = await api<{ data: unknown[] }>('GET', '/api/v1/datasets?limit=5');
    expectStatus(page, 200);
  });

  it('a NUL character in a path is refused, and the refused call is audited', async () => {
    refusedNaming(await api('GET', '/api/v1/models/%00'), 'modelName');
    refusedNaming(await api('GET', '/api/v1/models/a%00b/versions'), 'modelName');
    refusedNaming(await api('GET', `/api/v1/datasets/%00/versions/1`), 'datasetId');
    refusedNaming(await api('DELETE', '/api/v1/api-keys/%00'), 'apiKeyId');
    const audited = await testApp.dataSource.query<Array<{ status: number; target_id: string; action: string }>>(
      `SELECT status, target_id, action FROM audit_events WHERE action = 'revokeApiKey' ORDER BY created_at DESC LIMIT 1`,
    );
    assert.deepEqual(audited, [{ status: 400, target_id: '\\u0000', action: 'revokeApiKey' }]);
  });

  it('NUL characters in body strings and keys are refused before they reach PostgreSQL', async () => {
    const before = await count('datasets');
    refusedNaming(await api('POST', '/api/v1/datasets', { name: 'a\u0000b', task: 'classification' }), 'name');
    assert.equal(await count('datasets'), before);
  });

  it('__proto__ and constructor keys are refused like any unknown field', async () => {
    const before = await count('api_keys');
    for (const key of ['__proto__', 'constructor']) {
      const body = `{"name":"x","scopes":["datasets:read"],"${key}":{"isAdmin":true}}`;
      refusedNaming(await api('POST', '/api/v1/api-keys', body, { 'Content-Type': 'application/json' }), key);
    }
    refusedNaming(await api('GET', '/api/v1/datasets?__proto__=1'), '__proto__');
    assert.equal(await count('api_keys'), before);
  });

  it('deeply nested JSON bodies are refused before parsing, naming the limit', async () => {
    const refusals = async () =>
      (
        await testApp.dataSource.query<Array<{ n: number }>>(
          `SELECT count(*)::int AS n FROM audit_events WHERE action = 'createDataset' AND status = 400`,
        )
      )[0].n;
    const refusedBefore = await refusals();
    for (const depth of [65, 400_000]) {
      const body = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      const refused = refusedNaming(
        await api('POST', '/api/v1/datasets', body, { 'Content-Type': 'application/json' }),
        'body',
      );
      assert.equal(refused.details[0].limit, 64);
    }
    // Refused where the body is read: after the key check, and audited.
    assert.equal(await refusals(), refusedBefore + 2);
    const anonymous = await fetch(`${testApp.baseUrl}/api/v1/datasets`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '['.repeat(100),
    });
    assert.equal(anonymous.status, 401);
    // Brackets inside strings are not nesting.
    const text = await api<ErrorBody>('POST', '/api/v1/datasets', { name: '['.repeat(100), task: 'classification' });
    assert.notEqual(text.body.details[0]?.field, 'body');
  });

  it('an upload sent as application/json is a 415, and any non-JSON body elsewhere is a 415', async () => {
    const upload = await api<ErrorBody>(
      'POST',
      `/api/v1/datasets/${datasetId}/versions`,
      '{"text":"a","label":"b"}\n',
      {
        'Content-Type': 'application/json',
      },
    );
    expectStatus(upload, 415);
    assert.equal(upload.body.code, 'unsupported_media_type');
    const text = await api('POST', '/api/v1/api-keys', 'name=x', { 'Content-Type': 'text/plain' });
    expectStatus(text, 415);
  });

  it('download errors are JSON in the error shape', async () => {
    const response = await api('GET', `/api/v1/datasets/${datasetId}/versions/9/download`);
    expectStatus(response, 404);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  });
});
