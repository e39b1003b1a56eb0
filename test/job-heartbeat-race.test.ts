/**
 * A heartbeat that lands after a run has succeeded finds the job no longer running, which reads
 * like a lost lease. The runner must know the run already ended and leave the worker alone: the
 * test holds the runner just after the job's success is stored until such a heartbeat has come
 * back, so the interleaving happens on every run, however fast or slow the machine is.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JobEventsRepository } from '../src/jobs/job-events.repository.js';
import { JobQueue } from '../src/jobs/job-queue.js';
import { TrainerPool } from '../src/trainer/pool/trainer-pool.js';
import { apiClient, expectStatus } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { textRows, uploadDataset, waitForJob, ended, type JobView } from './support/training-data.js';

describe('a heartbeat racing a run that succeeded', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;
  let datasetId: string;

  before(async () => {
    testApp = await startTestApp({
      TRAINER_SLOTS: '1',
      TRAINER_BACKEND: 'wasm',
      JOB_POLL_MS: '100',
      // Heartbeats every 500 ms: the hook below waits for the next one.
      JOB_LEASE_SECONDS: '2',
    });
    api = apiClient(testApp.baseUrl, testApp.adminKey);
    datasetId = await uploadDataset(api, 'race-text', 'causal-lm', textRows(120, 5));
    await testApp.app.get(TrainerPool).start();
  });
  after(async () => {
    await testApp.close();
  });

  it('does not report a lost lease or stop the worker', async () => {
    const queue = testApp.app.get(JobQueue);
    const events = testApp.app.get(JobEventsRepository);
    const pool = testApp.app.get(TrainerPool);

    // Every heartbeat that comes back "lost" is announced; the runner acts on it right after.
    let announceLostBeat!: () => void;
    const lostBeat = new Promise<void>((resolve) => (announceLostBeat = resolve));
    const heartbeat = queue.heartbeat.bind(queue);
    queue.heartbeat = async (...args) => {
      const beat = await heartbeat(...args);
      if (beat.lost) {
        announceLostBeat();
      }
      return beat;
    };
    const terminated: string[] = [];
    const terminate = pool.terminate.bind(pool);
    pool.terminate = async (jobId) => {
      terminated.push(jobId);
      await terminate(jobId);
    };
    // The success is stored (job row, model version) before its event is written: hold the event
    // until a heartbeat has seen the finished row.
    let announceSucceededEvent!: () => void;
    const succeededEvent = new Promise<void>((resolve) => (announceSucceededEvent = resolve));
    const record = events.record.bind(events);
    events.record = async (jobId, event, manager) => {
      if (event.kind === 'succeeded') {
        await lostBeat;
        // The runner's reaction to the heartbeat runs within the same turn as its answer; by the time
        // the event below is written (a database round trip), it has happened.
        await record(jobId, event, manager);
        announceSucceededEvent();
        return;
      }
      await record(jobId, event, manager);
    };

    try {
      const created = await api<JobView>('POST', '/api/v1/jobs', {
        model: { family: 'gpt2', nLayer: 1, nHead: 2, nEmbd: 32, vocabSize: 300, nPositions: 32 },
        trainingData: { datasetId, version: 1 },
        hyperparameters: { maxSteps: 2, batchSize: 4, sequenceLength: 16, validationFraction: 0.1 },
        outputModelName: 'race-model',
      });
      expectStatus(created, 201);
      await succeededEvent;
      const job = await waitForJob(api, created.body.id, ended);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      assert.deepEqual(terminated, [], 'the worker of a run that succeeded was stopped as if its lease were lost');
      const listed = await api<{ data: Array<{ kind: string }> }>(
        'GET',
        `/api/v1/jobs/${created.body.id}/events?limit=1000`,
      );
      expectStatus(listed, 200);
      assert.ok(listed.body.data.some((event) => event.kind === 'succeeded'));
    } finally {
      queue.heartbeat = heartbeat;
      pool.terminate = terminate;
      events.record = record;
    }
  });
});
