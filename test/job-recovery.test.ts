/**
 * Scale-out and crash recovery with real processes: two replicas of the app share one database;
 * one is killed with SIGKILL in the middle of training; its job is taken over (by the other
 * replica once the lease expires, or by the killed one after a restart), resumes from its last
 * checkpoint with the attempt count raised, and finishes at the planned step count. The replicas
 * that are killed hold every job at a known step (TRAINER_HOLD_AT_STEPS), and are killed while it
 * waits there, so the kill lands at the same point however fast the machine is.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { generateApiKeySecret } from '../src/auth/api-key-secret.js';
import { createScratchDatabase } from '../src/platform/database/scratch-database.js';
import { apiClient, expectStatus } from './support/api.js';
import { testS3Environment, testServerUrl } from './support/test-app.js';
import {
  ended,
  jobEvents,
  sentimentRows,
  uploadDataset,
  waitForEvent,
  waitForJob,
  type JobView,
} from './support/training-data.js';
import { freePort } from '../scripts/lib/free-port.js';

const mainScript = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/main.js');

interface Replica {
  process: ChildProcess;
  baseUrl: string;
  output: string[];
}

describe('job recovery across replicas and restarts', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let dataDir: string;
  const adminKey = generateApiKeySecret();
  const replicas: Replica[] = [];

  const startReplica = async (extra: Record<string, string> = {}): Promise<Replica> => {
    const port = await freePort();
    const s3 = testS3Environment();
    if (s3.S3_BUCKET) {
      s3.S3_PREFIX = `recovery-${path.basename(dataDir)}`;
    }
    const child = spawn(process.execPath, [mainScript], {
      env: {
        PATH: process.env.PATH,
        // S3 credentials and region come from the AWS chain, as in production.
        ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('AWS_'))),
        DATABASE_URL: scratch.url,
        DATA_DIR: dataDir,
        PORT: String(port),
        HOST: '127.0.0.1',
        TUNEFORGE_BOOTSTRAP_KEY: adminKey,
        TRAINER_BACKEND: 'wasm',
        TRAINER_SLOTS: '1',
        JOB_LEASE_SECONDS: '2',
        JOB_POLL_MS: '100',
        LOG_LEVEL: 'warn',
        ...s3,
        ...extra,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const replica: Replica = { process: child, baseUrl: `http://127.0.0.1:${port}`, output: [] };
    child.stdout?.on('data', (chunk: Buffer) => replica.output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => replica.output.push(chunk.toString()));
    replicas.push(replica);
    // Generous: a loaded machine starts a replica slowly; a healthy start is a few seconds.
    const deadline = Date.now() + 180_000;
    for (;;) {
      try {
        const response = await fetch(`${replica.baseUrl}/health/ready`);
        if (response.status === 200) {
          break;
        }
      } catch {
        // not listening yet
      }
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`replica did not start: ${replica.output.join('')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // Ready once its trainer is: the status shows the backend.
    const api = apiClient(replica.baseUrl, adminKey);
    for (;;) {
      const status = await api<{ backend: string | null }>('GET', '/api/v1/trainer');
      if (status.body.backend) {
        return replica;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  const kill = (replica: Replica) =>
    new Promise<void>((resolve) => {
      replica.process.once('exit', () => resolve());
      replica.process.kill('SIGKILL');
    });

  before(async () => {
    scratch = await createScratchDatabase(testServerUrl(), 'recovery');
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-recovery-'));
  });
  after(async () => {
    // Every replica has exited (and closed its connections) before its database is dropped.
    await Promise.all(
      replicas
        .filter((replica) => replica.process.exitCode === null && replica.process.signalCode === null)
        .map((replica) => kill(replica)),
    );
    await scratch.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('resumes a job after kill -9: another replica takes it over, then a restarted one', async () => {
    // Both hold every job at step 6, after the checkpoint at step 4.
    const holdAtStep6 = { TRAINER_HOLD_AT_STEPS: '6' };
    const first = await startReplica(holdAtStep6);
    const second = await startReplica(holdAtStep6);
    const api = apiClient(first.baseUrl, adminKey);
    const datasetId = await uploadDataset(api, 'reviews', 'classification', sentimentRows(200, 5));
    const body = {
      model: { family: 'gpt2', nLayer: 1, nHead: 2, nEmbd: 32, vocabSize: 320 },
      trainingData: { datasetId, version: 1 },
      hyperparameters: {
        epochs: 4,
        batchSize: 8,
        sequenceLength: 16,
        learningRate: 0.003,
        checkpointEverySteps: 4,
        evalEverySteps: 10,
      },
      outputModelName: 'survivor',
    };
    const created = await api<JobView>('POST', '/api/v1/jobs', body);
    expectStatus(created, 201);
    const jobId = created.body.id;
    const heldCount = (count: number) => (events: Awaited<ReturnType<typeof jobEvents>>) =>
      events.filter((event) => event.kind === 'held').length >= count;
    await waitForEvent(api, jobId, heldCount(1));
    const running = await waitForJob(api, jobId, () => true);
    assert.equal(running.status, 'running');
    assert.equal(running.attempt, 1);
    assert.equal(running.currentStep, 6);
    const holder = (await testDataSourceQuery(scratch.url, `SELECT lease_owner FROM jobs WHERE id = $1`, [jobId]))[0]
      .lease_owner as string;
    const holderPid = Number(holder.split(':')[1]);
    const victim = replicas.find((replica) => replica.process.pid === holderPid)!;
    const survivor = victim === first ? second : first;
    assert.ok(victim, `the lease owner ${holder} is one of the replicas`);
    await kill(victim);

    // The other replica takes the job over once the lease expires, resumes from step 4 and is
    // held at step 6 in its turn; kill it there and start a replica without holds.
    const survivorApi = apiClient(survivor.baseUrl, adminKey);
    await waitForEvent(survivorApi, jobId, heldCount(2));
    const takenOver = await waitForJob(survivorApi, jobId, () => true);
    assert.equal(takenOver.attempt, 2);
    assert.equal(takenOver.status, 'running');
    await kill(survivor);
    const restarted = await startReplica();
    const restartedApi = apiClient(restarted.baseUrl, adminKey);
    const done = await waitForJob(restartedApi, jobId, ended, 180_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.attempt, 3);
    assert.equal(done.currentStep, done.totalSteps);
    const events = await jobEvents(restartedApi, jobId);
    const resumed = events.filter((event) => event.kind === 'resumed');
    assert.equal(resumed.length, 2, events.map((event) => `${event.kind}: ${event.message}`).join('\n'));
    assert.deepEqual(
      resumed.map((event) => event.data?.step),
      [4, 4],
    );
    const started = events.filter((event) => event.kind === 'started');
    assert.deepEqual(
      started.map((event) => event.data?.recovered),
      [false, true, true],
    );
    const version = await restartedApi<{ version: number }>('GET', '/api/v1/models/survivor/versions/1');
    expectStatus(version, 200);
  });
});

async function testDataSourceQuery(
  url: string,
  sql: string,
  parameters: unknown[],
): Promise<Array<Record<string, unknown>>> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, parameters)).rows as Array<Record<string, unknown>>;
  } finally {
    await client.end();
  }
}
