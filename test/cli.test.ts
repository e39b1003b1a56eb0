/**
 * The `tuneforge` CLI as a pipeline runs it: a child process, configured by environment variables,
 * output not a terminal, outcome in the exit code.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TrainingStepGate } from '../src/jobs/training-step-gate.js';
import { TrainerPool } from '../src/trainer/pool/trainer-pool.js';
import { jsonl } from './support/training-data.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../clients/typescript/cli/bin.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('tuneforge CLI', () => {
  let testApp: TestApp;
  let folder: string;
  let gate: TrainingStepGate;

  const cli = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        {
          cwd: folder,
          env: { PATH: process.env.PATH, TUNEFORGE_URL: testApp.baseUrl, TUNEFORGE_KEY: testApp.adminKey, ...env },
        },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  const lastJson = <T>(run: Run): T => JSON.parse(run.stdout.trim().split('\n').at(-1)!) as T;

  before(async () => {
    testApp = await startTestApp({ TRAINER_SLOTS: '1', TRAINER_BACKEND: 'wasm', JOB_POLL_MS: '100' });
    await testApp.app.get(TrainerPool).start();
    gate = testApp.app.get(TrainingStepGate);
    folder = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-cli-'));
  });
  after(async () => {
    await testApp.close();
    await rm(folder, { recursive: true, force: true });
  });

  let datasetId = '';

  it('creates a dataset, uploads a file and reads its quality report', async () => {
    const created = await cli([
      'datasets',
      'create',
      '--name',
      'points',
      '--task',
      'classification',
      '--source',
      'generated',
      '--license',
      'CC0-1.0',
      '--personal-data',
      'no',
      '--input-fields',
      'x,y',
      '--label-field',
      'label',
    ]);
    assert.equal(created.code, 0, created.stderr);
    datasetId = created.stdout.trim();
    assert.match(datasetId, /^[0-9a-f-]{36}$/);

    const rows = Array.from({ length: 120 }, (_, i) => ({
      x: i % 10,
      y: (i * 7) % 10,
      label: i % 10 > 4 ? 'high' : 'low',
    }));
    await writeFile(path.join(folder, 'points.jsonl'), jsonl(rows));
    const uploaded = await cli(['datasets', 'upload', datasetId, 'points.jsonl', '--json']);
    assert.equal(uploaded.code, 0, uploaded.stderr);
    const version = lastJson<{ version: number; state: string; rowCount: number }>(uploaded);
    assert.equal(version.version, 1);
    assert.equal(version.state, 'ready');
    assert.equal(version.rowCount, 120);

    const quality = await cli(['datasets', 'quality', datasetId, '1', '--json']);
    assert.equal(quality.code, 0, quality.stderr);
    const report = lastJson<{ verdict: string }>(quality);
    assert.ok(['pass', 'warn', 'fail'].includes(report.verdict));
    // --fail-on turns the verdict into the exit code.
    const strict = await cli(['datasets', 'quality', datasetId, '1', '--fail-on', 'warn']);
    assert.equal(strict.code, report.verdict === 'pass' ? 0 : 1);
    assert.match(strict.stdout, new RegExp(`verdict: ${report.verdict}`));
  });

  it('creates a job, waits for it, prints its log, downloads and imports the model', async () => {
    const spec = {
      model: { family: 'mlp', hiddenSizes: [8] },
      trainingData: { datasetId, version: 1 },
      hyperparameters: { epochs: 2, batchSize: 16, learningRate: 0.01, seed: 3 },
      allowQualityFailures: true,
      outputModelName: 'cli-points',
    };
    await writeFile(path.join(folder, 'job.json'), JSON.stringify(spec));
    const waited = await cli(['jobs', 'create', '--spec', 'job.json', '--wait']);
    assert.equal(waited.code, 0, waited.stderr + waited.stdout);
    // Not a terminal: plain lines, no carriage-return redraws.
    assert.doesNotMatch(waited.stdout, /\r/);
    const jobId = /job ([0-9a-f-]{36}): succeeded/.exec(waited.stdout)?.[1];
    assert.ok(jobId, waited.stdout);

    const logs = await cli(['jobs', 'logs', jobId]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, / plan: Training \d+ steps/);
    assert.match(logs.stdout, / succeeded: /);
    const jsonLogs = await cli(['jobs', 'logs', jobId, '--json']);
    const documents = jsonLogs.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind?: string; status?: string });
    assert.ok(documents.some((document) => document.kind === 'validation'));
    assert.equal(documents.at(-1)!.status, 'succeeded');

    const downloaded = await cli(['models', 'download', 'cli-points', '1', '--output', 'model.tar']);
    assert.equal(downloaded.code, 0, downloaded.stderr);
    assert.ok((await stat(path.join(folder, 'model.tar'))).size > 1024);
    const imported = await cli(['models', 'import', 'cli-points-copy', 'model.tar', '--json']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(lastJson<{ version: number; family: string }>(imported).family, 'mlp');
  });

  it('evaluates, promotes (exit 1 when a gate blocks) and predicts through an alias', async () => {
    const evaluated = await cli(['evaluate', '--model', 'cli-points:1', '--dataset', 'points:1', '--json']);
    assert.equal(evaluated.code, 0, evaluated.stderr + evaluated.stdout);
    const evaluation = lastJson<{ status: string; result: { metrics: { accuracy: number } } }>(evaluated);
    assert.equal(evaluation.status, 'succeeded');
    assert.equal(typeof evaluation.result.metrics.accuracy, 'number');

    const promoted = await cli(['promote', 'cli-points', 'production', '1']);
    assert.equal(promoted.code, 0, promoted.stderr + promoted.stdout);
    assert.match(promoted.stdout, /cli-points:production -> v1 \(promoted\)/);

    const gates = await fetch(`${testApp.baseUrl}/api/v1/models/cli-points/aliases/staging/gates`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${testApp.adminKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        gates: [
          { kind: 'evaluation_metric', dataset: { name: 'points', version: 1 }, metric: 'accuracy', op: '>', value: 1 },
        ],
      }),
    });
    assert.equal(gates.status, 200);
    const blocked = await cli(['promote', 'cli-points', 'staging', '1']);
    assert.equal(blocked.code, 1, blocked.stderr + blocked.stdout);
    assert.match(blocked.stdout, /FAIL evaluation_metric: accuracy/);

    const predicted = await cli([
      'predict',
      'cli-points',
      '--alias',
      'production',
      '--input',
      '{"x":9,"y":8}',
      '--json',
    ]);
    assert.equal(predicted.code, 0, predicted.stderr + predicted.stdout);
    const answer = lastJson<{ version: number; predictions: Array<{ label: string }> }>(predicted);
    assert.equal(answer.version, 1);
    assert.ok(['high', 'low'].includes(answer.predictions[0].label));
    const noTarget = await cli(['predict', 'cli-points', '--input', '{}']);
    assert.equal(noTarget.code, 2);
  });

  it('exits 1 when the job it waits for is cancelled', async () => {
    const hold = gate.hold(2, { outputModelName: 'cli-cancelled' });
    const spec = {
      model: { family: 'mlp', hiddenSizes: [8] },
      trainingData: { datasetId, version: 1 },
      hyperparameters: { epochs: 20, batchSize: 8 },
      allowQualityFailures: true,
      outputModelName: 'cli-cancelled',
    };
    await writeFile(path.join(folder, 'long.json'), JSON.stringify(spec));
    const created = await cli(['jobs', 'create', '--spec', 'long.json']);
    assert.equal(created.code, 0, created.stderr);
    const jobId = created.stdout.trim();
    await hold.reached;
    const waiting = cli(['jobs', 'wait', jobId]);
    const cancelled = await cli(['jobs', 'cancel', jobId]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    hold.release();
    const waited = await waiting;
    assert.equal(waited.code, 1);
    assert.match(waited.stdout, /cancelled/);
  });

  it('reports refusals with the API error and exit code 3, and usage errors with 2', async () => {
    const refused = await cli(['jobs', 'wait', '00000000-0000-4000-8000-000000000000']);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /404 not_found/);
    const badKey = await cli(['datasets', 'quality', datasetId, '1'], { TUNEFORGE_KEY: 'tf_wrong' });
    assert.equal(badKey.code, 3);
    assert.match(badKey.stderr, /401/);
    const noKey = await cli(['jobs', 'logs', 'x'], { TUNEFORGE_KEY: '' });
    assert.equal(noKey.code, 2);
    const unknown = await cli(['jobs', 'explode']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command jobs explode/);
    const badVersion = await cli(['models', 'download', 'cli-points', 'one']);
    assert.equal(badVersion.code, 2);
    const unreachable = await cli(['jobs', 'wait', 'x'], { TUNEFORGE_URL: 'http://127.0.0.1:9' });
    assert.equal(unreachable.code, 3);
    assert.match(unreachable.stderr, /cannot reach the service/);
  });
});
