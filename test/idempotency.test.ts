/**
 * Idempotency-Key on creating POSTs: a retried request gets the first response again and creates
 * nothing new; the same key with another request, or while the first is running, is refused; a
 * failed request releases its key; keys belong to one project.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiClient, expectStatus } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { sentimentRows, uploadDataset, type JobView } from './support/training-data.js';

describe('Idempotency-Key', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;
  let datasetId: string;
  const job = (name: string) => ({
    model: { family: 'mlp' },
    trainingData: { datasetId, version: 1 },
    outputModelName: name,
  });
  const count = async () =>
    (await testApp.dataSource.query<Array<{ n: number }>>('SELECT count(*)::int AS n FROM jobs'))[0].n;

  before(async () => {
    testApp = await startTestApp();
    api = apiClient(testApp.baseUrl, testApp.adminKey);
    datasetId = await uploadDataset(api, 'idempotent', 'classification', sentimentRows(40, 8));
  });
  after(async () => {
    await testApp.close();
  });

  it('replays the first response to a retry and creates one job', async () => {
    const before = await count();
    const first = await api<JobView>('POST', '/api/v1/jobs', job('once'), { 'Idempotency-Key': 'ci-run-4711' });
    expectStatus(first, 201);
    const retry = await api<JobView>('POST', '/api/v1/jobs', job('once'), { 'Idempotency-Key': 'ci-run-4711' });
    expectStatus(retry, 201);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.equal(retry.body.id, first.body.id);
    assert.equal(await count(), before + 1);
  });

  it('refuses the same key with a different request', async () => {
    expectStatus(await api('POST', '/api/v1/jobs', job('a'), { 'Idempotency-Key': 'reused' }), 201);
    const other = await api<{ code: string }>('POST', '/api/v1/jobs', job('b'), { 'Idempotency-Key': 'reused' });
    expectStatus(other, 409);
    assert.equal(other.body.code, 'conflict');
  });

  it('releases the key of a request that failed, so a corrected retry goes through', async () => {
    const bad = await api(
      'POST',
      '/api/v1/jobs',
      { ...job('fixme'), hyperparameters: { learningRate: 99 } },
      { 'Idempotency-Key': 'fix-and-retry' },
    );
    expectStatus(bad, 400);
    const good = await api('POST', '/api/v1/jobs', job('fixme'), { 'Idempotency-Key': 'fix-and-retry' });
    expectStatus(good, 201);
  });

  it('keeps keys per project and rejects malformed keys', async () => {
    const project = await api<{ id: string }>('POST', '/api/v1/projects', { name: 'idem-other' });
    const key = await api<{ secret: string }>('POST', '/api/v1/api-keys', {
      projectId: project.body.id,
      name: 'k',
      scopes: ['datasets:write'],
    });
    const other = apiClient(testApp.baseUrl, key.body.secret);
    const created = await other(
      'POST',
      '/api/v1/datasets',
      {
        name: 'theirs',
        task: 'classification',
        source: 'generated for tests',
        license: 'CC0-1.0',
        containsPersonalData: 'no',
      },
      { 'Idempotency-Key': 'ci-run-4711' },
    );
    expectStatus(created, 201);
    expectStatus(await api('POST', '/api/v1/jobs', job('x'), { 'Idempotency-Key': 'has space' }), 400);
  });

  it('never stores a new API key secret and replays the key creation without it', async () => {
    const body = { name: 'replayed-key', scopes: ['datasets:read'] };
    const first = await api<{ id: string; secret?: string }>('POST', '/api/v1/api-keys', body, {
      'Idempotency-Key': 'key-create-1',
    });
    expectStatus(first, 201);
    const secret = first.body.secret ?? '';
    assert.ok(secret.startsWith('tf_'));
    assert.equal(first.headers.get('idempotent-redacted'), null);

    const stored = await testApp.dataSource.query<Array<{ body: string }>>(
      `SELECT response_body::text AS body FROM idempotency_keys WHERE key = 'key-create-1'`,
    );
    assert.equal(stored.length, 1);
    assert.ok(!stored[0].body.includes(secret), 'the secret is stored with the idempotent response');
    assert.ok(!stored[0].body.includes('"secret"'));

    const replay = await api<{ id: string; secret?: string }>('POST', '/api/v1/api-keys', body, {
      'Idempotency-Key': 'key-create-1',
    });
    expectStatus(replay, 201);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.headers.get('idempotent-redacted'), 'secret');
    assert.equal(replay.body.id, first.body.id);
    assert.equal(replay.body.secret, undefined);
    // The key itself still works: only the copy for replays lacks the secret.
    expectStatus(await apiClient(testApp.baseUrl, secret)('GET', '/api/v1/me'), 200);
  });
});
