/**
 * The Postgres job queue itself: priority order, the per-project concurrency limit, lease expiry
 * and takeover, fencing of a replica that lost its lease, and the attempt limit. Claims are made
 * directly (no trainer runs on this app), as two replicas would. A lease runs out when the test
 * says so (its expiry is moved into the past), not after a sleep.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { JobQueue } from '../src/jobs/job-queue.js';
import { apiClient, expectStatus } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { sentimentRows, uploadDataset, type JobView } from './support/training-data.js';

describe('job queue', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;
  let queue: JobQueue;
  let datasetId: string;

  const createJob = async (priority: number) => {
    const response = await api<JobView>('POST', '/api/v1/jobs', {
      model: { family: 'mlp' },
      trainingData: { datasetId, version: 1 },
      head: 'classification',
      resources: { priority },
      outputModelName: `queued-${priority}`,
    });
    expectStatus(response, 201);
    return response.body.id;
  };

  before(async () => {
    testApp = await startTestApp({ JOB_LEASE_SECONDS: '60', JOBS_PER_PROJECT_LIMIT: '2', JOB_MAX_ATTEMPTS: '2' });
    api = apiClient(testApp.baseUrl, testApp.adminKey);
    queue = testApp.app.get(JobQueue);
    datasetId = await uploadDataset(api, 'queue-data', 'classification', sentimentRows(40, 4));
  });
  beforeEach(async () => {
    await testApp.dataSource.query(
      `UPDATE jobs SET status = 'cancelled', lease_owner = NULL WHERE status <> 'cancelled'`,
    );
  });
  after(async () => {
    await testApp.close();
  });
  const expireLease = async (id: string) => {
    await testApp.dataSource.query(`UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1`, [
      id,
    ]);
  };

  it('claims the highest priority first, then the oldest, and each job once', async () => {
    const low = await createJob(0);
    const high = await createJob(50);
    const alsoLow = await createJob(0);
    const first = await queue.claim('replica-a');
    const second = await queue.claim('replica-b');
    assert.equal(first?.id, high);
    assert.equal(second?.id, low);
    assert.equal(first?.attempt, 1);
    // The per-project limit (2) holds the third back while two run.
    assert.equal(await queue.claim('replica-c'), null);
    assert.ok(await queue.finish(high, 'replica-a', { status: 'cancelled', step: 0 }));
    assert.equal((await queue.claim('replica-c'))?.id, alsoLow);
  });

  it('hands a job whose lease expired to another replica, and fences the one that lost it', async () => {
    const id = await createJob(0);
    assert.equal((await queue.claim('replica-a'))?.id, id);
    assert.deepEqual(await queue.heartbeat(id, 'replica-a'), { lost: false, control: null });
    // A live lease is not taken over.
    assert.equal(await queue.claim('replica-b'), null);
    await expireLease(id);
    const takeover = await queue.claim('replica-b');
    assert.equal(takeover?.id, id);
    assert.equal(takeover?.recovered, true);
    assert.equal(takeover?.previousOwner, 'replica-a');
    assert.equal(takeover?.attempt, 2);
    // The replica that lost the lease can neither renew it nor record an outcome.
    assert.equal((await queue.heartbeat(id, 'replica-a')).lost, true);
    assert.equal(await queue.finish(id, 'replica-a', { status: 'failed', error: { code: 'x', message: 'x' } }), false);
    const job = await api<JobView>('GET', `/api/v1/jobs/${id}`);
    assert.equal(job.body.status, 'running');
  });

  it('fails a job once its attempts are used up', async () => {
    const id = await createJob(0);
    await queue.claim('replica-a');
    await expireLease(id);
    assert.equal((await queue.claim('replica-b'))?.id, id);
    await expireLease(id);
    assert.equal(await queue.claim('replica-c'), null);
    const job = await api<JobView>('GET', `/api/v1/jobs/${id}`);
    assert.equal(job.body.status, 'failed');
    assert.equal(job.body.error?.code, 'attempts_exhausted');
  });

  it('passes a cancel or pause request to the lease holder', async () => {
    const id = await createJob(0);
    await queue.claim('replica-a');
    expectStatus(await api('POST', `/api/v1/jobs/${id}/pause`), 200);
    assert.deepEqual(await queue.heartbeat(id, 'replica-a'), { lost: false, control: 'pause' });
    expectStatus(await api('POST', `/api/v1/jobs/${id}/cancel`), 200);
    assert.deepEqual(await queue.heartbeat(id, 'replica-a'), { lost: false, control: 'cancel' });
    assert.ok(await queue.finish(id, 'replica-a', { status: 'cancelled', step: 3 }));
    const job = await api<JobView>('GET', `/api/v1/jobs/${id}`);
    assert.equal(job.body.status, 'cancelled');
    assert.equal(job.body.pendingControl, null);
  });
});
