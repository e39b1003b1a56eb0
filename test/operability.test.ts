/**
 * Operability: readiness waits for the trainer pool and names the part that is not ready; /metrics
 * carries the domain's figures (jobs by status, runs by outcome and duration, training steps,
 * checkpoints) next to the HTTP and process ones.
 *
 * The trainer pool's start is held by the test, so "not ready yet" is a state the test holds.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';
import { createApp } from '../src/app.js';
import { AuthService } from '../src/auth/auth.service.js';
import { generateApiKeySecret } from '../src/auth/api-key-secret.js';
import { loadConfig } from '../src/platform/config/config.js';
import { runMigrations } from '../src/platform/database/data-source.js';
import { createScratchDatabase } from '../src/platform/database/scratch-database.js';
import { createLogger } from '../src/platform/logging/logger.js';
import { TrainerPool } from '../src/trainer/pool/trainer-pool.js';
import { apiClient, expectStatus } from './support/api.js';
import { testServerUrl } from './support/test-app.js';
import { ended, sentimentRows, uploadDataset, waitForJob, type JobView } from './support/training-data.js';

/** The value of one sample line (`name{labels} value`) of the Prometheus text. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('readiness and domain metrics with a trainer', () => {
  let app: NestExpressApplication;
  let baseUrl: string;
  let adminKey: string;
  let dataDir: string;
  let dropDatabase: () => Promise<void>;
  let startPool: () => void = () => undefined;
  let poolStarted: Promise<void> = Promise.resolve();

  before(async () => {
    const scratch = await createScratchDatabase(testServerUrl(), 'operability');
    dropDatabase = scratch.drop;
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-operability-'));
    adminKey = generateApiKeySecret();
    const config = loadConfig({
      DATA_DIR: dataDir,
      TUNEFORGE_BOOTSTRAP_KEY: adminKey,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      TRAINER_SLOTS: '1',
      TRAINER_BACKEND: 'wasm',
      JOB_POLL_MS: '100',
    });
    app = await createApp({ config, databaseUrl: scratch.url, logger: createLogger(config.logLevel) });
    await runMigrations(app.get(DataSource));
    await app.get(AuthService).ensureBootstrapKey();
    // The pool starts only when the test says so.
    const pool = app.get(TrainerPool);
    const realStart = pool.start.bind(pool);
    const released = new Promise<void>((resolve) => {
      startPool = resolve;
    });
    pool.start = () => {
      poolStarted = released.then(realStart);
      return poolStarted;
    };
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  after(async () => {
    startPool();
    await app?.close();
    await dropDatabase?.();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is not ready until the trainer pool has loaded its backend, then trains and counts', async () => {
    const api = apiClient(baseUrl, adminKey);
    const notReady = await fetch(`${baseUrl}/health/ready`);
    assert.equal(notReady.status, 503);
    const body = (await notReady.json()) as Record<string, { status: string } | string>;
    assert.equal(body.status, 'unavailable');
    assert.deepEqual(body.trainer, { status: 'starting', durationMs: 0 });
    assert.equal((body.database as { status: string }).status, 'ok');
    assert.equal((await fetch(`${baseUrl}/health/live`)).status, 200);

    // A job queued while the trainer is not running shows as queue depth.
    const datasetId = await uploadDataset(api, 'metrics-data', 'classification', sentimentRows(40, 3));
    const created = await api<JobView>('POST', '/api/v1/jobs', {
      model: { family: 'mlp' },
      trainingData: { datasetId, version: 1 },
      hyperparameters: { epochs: 1, batchSize: 8, checkpointEverySteps: 2 },
      outputModelName: 'counted',
    });
    expectStatus(created, 201);
    const before = await api<string>('GET', '/metrics');
    expectStatus(before, 200);
    assert.equal(sample(before.body, 'tuneforge_jobs{status="queued"}'), 1);
    assert.equal(sample(before.body, 'tuneforge_jobs{status="succeeded"}'), 0);
    assert.equal(sample(before.body, 'tuneforge_jobs_running'), 0);

    startPool();
    await poolStarted;
    const ready = await fetch(`${baseUrl}/health/ready`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { trainer: { status: string } }).trainer.status, 'ok');

    const job = await waitForJob(api, created.body.id, ended);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    const checkpoints = await api<{ data: unknown[] }>('GET', `/api/v1/jobs/${job.id}/checkpoints`);
    expectStatus(checkpoints, 200);

    const after = await api<string>('GET', '/metrics');
    expectStatus(after, 200);
    const text = after.body;
    assert.equal(sample(text, 'tuneforge_jobs{status="queued"}'), 0);
    assert.equal(sample(text, 'tuneforge_jobs{status="succeeded"}'), 1);
    assert.equal(sample(text, 'tuneforge_jobs_running'), 0);
    assert.equal(sample(text, 'tuneforge_job_runs_total{outcome="succeeded"}'), 1);
    assert.equal(sample(text, 'tuneforge_job_run_duration_seconds_count{outcome="succeeded"}'), 1);
    assert.ok((sample(text, 'tuneforge_training_steps_total') ?? 0) > 0, 'no training steps counted');
    const written = text
      .split('\n')
      .filter((line) => line.startsWith('tuneforge_checkpoints_written_total{'))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    assert.ok(written >= Math.max(1, checkpoints.body.data.length), `checkpoints written: ${written}`);
    assert.match(text, /^# TYPE tuneforge_evaluation_duration_seconds histogram$/m);
    assert.match(text, /^tuneforge_http_request_duration_seconds_count\{/m);
  });
});
