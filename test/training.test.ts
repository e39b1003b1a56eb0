/**
 * End to end on the real trainer (wasm backend, test-sized models): pretraining and fine-tuning,
 * metrics, checkpoints, lineage, events over SSE, and the faults a user can meet: cancel in the
 * middle of training, pause and resume, a crashed worker, a NaN loss, a corrupt checkpoint, a
 * dataset file gone from storage. A test that acts on a running job holds it at a known step
 * (TrainingStepGate) and acts while it waits there, so nothing depends on how fast the trainer is.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { TrainingStepGate } from '../src/jobs/training-step-gate.js';
import { ArtifactStore } from '../src/platform/storage/artifact-store.js';
import { TrainerPool } from '../src/trainer/pool/trainer-pool.js';
import { majorityBaseline } from '../src/trainer/training/metrics.js';
import { apiClient, expectStatus } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import {
  ended,
  jobEvents,
  sentimentRows,
  textRows,
  uploadDataset,
  waitForJob,
  type JobView,
} from './support/training-data.js';

interface MetricPoint {
  step: number;
  split: string;
  values: Record<string, number | boolean>;
}

describe('training jobs on the wasm backend', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;
  let text: string;
  let labelled: string;
  let labelledValidation: string;
  let gate: TrainingStepGate;

  const createJob = async (body: Record<string, unknown>) => {
    const response = await api<JobView>('POST', '/api/v1/jobs', body);
    expectStatus(response, 201);
    return response.body;
  };
  const smallClassifier = (name: string, hyperparameters: Record<string, unknown> = {}) => ({
    model: { family: 'gpt2', nLayer: 1, nHead: 2, nEmbd: 32, vocabSize: 320 },
    trainingData: { datasetId: labelled, version: 1 },
    hyperparameters: {
      epochs: 2,
      batchSize: 8,
      sequenceLength: 16,
      learningRate: 0.003,
      evalEverySteps: 5,
      checkpointEverySteps: 5,
      ...hyperparameters,
    },
    outputModelName: name,
  });

  before(async () => {
    testApp = await startTestApp({
      TRAINER_SLOTS: '1',
      TRAINER_BACKEND: 'wasm',
      JOB_POLL_MS: '100',
      JOB_LEASE_SECONDS: '3',
    });
    api = apiClient(testApp.baseUrl, testApp.adminKey);
    text = await uploadDataset(api, 'reviews-text', 'causal-lm', textRows(300, 11));
    labelled = await uploadDataset(api, 'reviews', 'classification', sentimentRows(240, 12));
    labelledValidation = await uploadDataset(api, 'reviews-validation', 'classification', sentimentRows(90, 13));
    await testApp.app.get(TrainerPool).start();
    gate = testApp.app.get(TrainingStepGate);
  });
  after(async () => {
    await testApp.close();
  });

  it('reports the backend it trains on', async () => {
    const status = await api<{ backend: string; slots: number; devices: string[] }>('GET', '/api/v1/trainer');
    expectStatus(status, 200);
    assert.equal(status.body.backend, 'wasm');
    assert.equal(status.body.slots, 1);
  });

  it('pretrains a tiny gpt2, fine-tunes it for classification, and beats the majority baseline', async () => {
    const pretrain = await createJob({
      model: { family: 'gpt2', nLayer: 2, nHead: 2, nEmbd: 48, vocabSize: 400, nPositions: 64 },
      trainingData: { datasetId: text, version: 1 },
      hyperparameters: {
        epochs: 2,
        batchSize: 8,
        sequenceLength: 32,
        learningRate: 0.003,
        schedule: { name: 'cosine', warmupSteps: 5 },
        evalEverySteps: 20,
        checkpointEverySteps: 20,
      },
      outputModelName: 'tiny-lm',
    });
    const lm = await waitForJob(api, pretrain.id, ended);
    assert.equal(lm.status, 'succeeded', JSON.stringify(lm.error));
    assert.equal(lm.backend, 'wasm');
    assert.equal(lm.currentStep, lm.totalSteps);
    const lmMetrics = await api<{ data: MetricPoint[] }>('GET', `/api/v1/jobs/${pretrain.id}/metrics?split=validation`);
    const lmFinal = lmMetrics.body.data.at(-1)!;
    assert.equal(lmFinal.values.final, true);
    assert.equal(lmFinal.step, lm.totalSteps);
    // The starting model is evaluated first: step 0, marked as the start.
    const lmStart = lmMetrics.body.data[0];
    assert.equal(lmStart.step, 0);
    assert.equal(lmStart.values.start, true);
    assert.ok((lmStart.values.loss as number) > (lmFinal.values.loss as number), 'training lowered the loss');
    assert.ok(
      (lmFinal.values.perplexity as number) < 400 / 4,
      `perplexity ${lmFinal.values.perplexity} should be far below the vocabulary size`,
    );
    assert.ok((lmFinal.values.tokenAccuracy as number) > 0.2);

    const fineTune = await createJob({
      baseModel: { name: 'tiny-lm', version: 1 },
      trainingData: { datasetId: labelled, version: 1 },
      validationData: { datasetId: labelledValidation, version: 1 },
      hyperparameters: {
        epochs: 4,
        batchSize: 8,
        sequenceLength: 32,
        learningRate: 0.003,
        evalEverySteps: 15,
        checkpointEverySteps: 30,
      },
      outputModelName: 'tiny-sentiment',
    });
    const classifier = await waitForJob(api, fineTune.id, ended);
    assert.equal(classifier.status, 'succeeded', JSON.stringify(classifier.error));
    const metrics = await api<{ data: MetricPoint[] }>('GET', `/api/v1/jobs/${fineTune.id}/metrics?split=validation`);
    const final = metrics.body.data.at(-1)!;
    const validationLabels = sentimentRows(90, 13).map((row) => row.label);
    const labels = [...new Set(validationLabels)].sort();
    const baseline = majorityBaseline(
      validationLabels.map((label) => labels.indexOf(label)),
      labels,
    );
    assert.ok(
      (final.values.f1Macro as number) > baseline.f1Macro + 0.3,
      `validation F1 ${final.values.f1Macro} should clearly beat the majority baseline ${baseline.f1Macro}`,
    );
    for (const label of labels) {
      assert.equal(typeof final.values[`f1.${label}`], 'number');
    }

    // The result is a model version with its files, and lineage back to data and base model.
    const version = await api<{
      id: string;
      files: Array<{ name: string }>;
      manifest: Record<string, unknown>;
      sourceJobId: string;
      metrics: Record<string, number>;
    }>('GET', '/api/v1/models/tiny-sentiment/versions/1');
    expectStatus(version, 200);
    assert.equal(version.body.id, classifier.resultModelVersionId);
    assert.deepEqual(version.body.files.map((file) => file.name).sort(), [
      'manifest.json',
      'model.safetensors',
      'tokenizer.json',
    ]);
    assert.deepEqual(version.body.manifest.labels, labels);
    assert.equal(version.body.sourceJobId, fineTune.id);
    const edges = await testApp.dataSource.query<Array<{ from_type: string; to_type: string; relation: string }>>(
      `SELECT from_type, to_type, relation FROM lineage_edges WHERE to_id = $1 OR from_id = $1 ORDER BY relation`,
      [fineTune.id],
    );
    assert.deepEqual(
      edges.map((edge) => `${edge.from_type}-${edge.relation}->${edge.to_type}`),
      [
        'model_version-fine_tuned_from->job',
        'job-produced->model_version',
        'dataset_version-trained_on->job',
        'dataset_version-validated_on->job',
      ],
    );

    const events = await jobEvents(api, fineTune.id);
    const kinds = events.map((event) => event.kind);
    for (const kind of [
      'created',
      'queued',
      'started',
      'base_model',
      'plan',
      'start_evaluation',
      'progress',
      'validation',
      'checkpoint',
      'succeeded',
    ]) {
      assert.ok(kinds.includes(kind), `missing a ${kind} event: ${kinds.join(',')}`);
    }
    const progress = events.find((event) => event.kind === 'progress')!;
    for (const field of ['examplesPerSecond', 'unitsPerSecond', 'tokensPerSecond', 'etaSeconds', 'learningRate']) {
      assert.equal(typeof progress.data?.[field], 'number', `progress events carry ${field}`);
    }
    assert.equal(progress.data?.unit, 'tokens');
    assert.equal(progress.data?.unitsPerSecond, progress.data?.tokensPerSecond);
    const data = events.find((event) => event.kind === 'data')!;
    assert.equal(data.data?.unit, 'tokens');
    assert.equal(typeof data.data?.trainingTokens, 'number');
    const succeeded = events.find((event) => event.kind === 'succeeded')!;
    const startMetrics = succeeded.data?.startMetrics as Record<string, number>;
    assert.equal(typeof startMetrics.loss, 'number', 'the result says where training started');
    assert.equal(succeeded.data?.metricsStep, classifier.totalSteps);
    assert.match(succeeded.message, /validation loss .* at step 0, .* at step \d+/);
    const started = events.find((event) => event.kind === 'started')!;
    assert.match(started.message, /backend wasm/);
  });

  it('streams events as server-sent events until the job ends', async () => {
    const job = await createJob(smallClassifier('sse-model', { epochs: 1 }));
    const response = await fetch(`${testApp.baseUrl}/api/v1/jobs/${job.id}/events`, {
      headers: { Authorization: `Bearer ${testApp.adminKey}`, Accept: 'text/event-stream' },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    const body = await response.text();
    assert.match(body, /^id: \d+\nevent: message\ndata: \{/m);
    assert.match(body, /"kind":"succeeded"/);
    assert.match(body, /event: end/);
    // Resuming after the last event id gives nothing more but the end.
    const ids = [...body.matchAll(/^id: (\d+)$/gm)].map((match) => match[1]);
    const again = await fetch(`${testApp.baseUrl}/api/v1/jobs/${job.id}/events`, {
      headers: {
        Authorization: `Bearer ${testApp.adminKey}`,
        Accept: 'text/event-stream',
        'Last-Event-ID': ids.at(-1)!,
      },
    });
    assert.equal((await again.text()).trim(), 'event: end\ndata: {}');
  });

  it('gives the same metrics for the same seed on the same backend', async () => {
    const tabular = await uploadDataset(
      api,
      'tabular',
      'classification',
      Array.from({ length: 120 }, (_, i) => ({
        x: (i % 10) / 10,
        y: ((i * 7) % 10) / 10,
        label: (i % 10) + ((i * 7) % 10) > 9 ? 'high' : 'low',
      })),
      { schema: { inputFields: ['x', 'y'], labelField: 'label' } },
    );
    const body = (name: string) => ({
      model: { family: 'mlp', hiddenSizes: [16] },
      trainingData: { datasetId: tabular, version: 1 },
      hyperparameters: { epochs: 3, batchSize: 8, learningRate: 0.01, seed: 7 },
      outputModelName: name,
    });
    const first = await waitForJob(api, (await createJob(body('same-seed'))).id, ended);
    const second = await waitForJob(api, (await createJob(body('same-seed'))).id, ended);
    assert.equal(first.status, 'succeeded');
    assert.equal(second.status, 'succeeded');
    const validationOf = async (id: string) =>
      (await api<{ data: MetricPoint[] }>('GET', `/api/v1/jobs/${id}/metrics?split=validation`)).body.data;
    const firstPoints = await validationOf(first.id);
    const secondPoints = await validationOf(second.id);
    assert.deepEqual(
      firstPoints.map((point) => [point.step, point.values]),
      secondPoints.map((point) => [point.step, point.values]),
    );
    // Each step is evaluated once: the start (step 0), and the last evaluation is the final one.
    const steps = firstPoints.map((point) => point.step);
    assert.deepEqual(steps, [...new Set(steps)], 'no step is evaluated twice');
    assert.equal(firstPoints[0].values.start, true);
    assert.equal(firstPoints.filter((point) => point.values.final === true).length, 1);
    assert.equal(firstPoints.at(-1)!.values.final, true);
    assert.equal(firstPoints.at(-1)!.step, first.totalSteps);
    const versions = await api<{ data: Array<{ version: number }> }>('GET', '/api/v1/models/same-seed/versions');
    assert.deepEqual(versions.body.data.map((version) => version.version).sort(), [1, 2]);

    // Without early stopping the best checkpoint is still tracked, by validation loss.
    const trained = firstPoints.filter((point) => point.step > 0);
    const lowest = trained.reduce((best, point) =>
      (point.values.loss as number) < (best.values.loss as number) ? point : best,
    );
    const checkpoints = await api<{ data: Array<{ isBest: boolean; step: number }> }>(
      'GET',
      `/api/v1/jobs/${first.id}/checkpoints`,
    );
    assert.equal(checkpoints.body.data.find((checkpoint) => checkpoint.isBest)?.step, lowest.step);
    const version = await api<{ manifest: Record<string, unknown> }>('GET', '/api/v1/models/same-seed/versions/1');
    assert.equal(version.body.manifest.bestStep, lowest.step);
    assert.equal(version.body.manifest.weightsStep, first.totalSteps);

    // An mlp counts examples (rows), not tokens.
    const events = await jobEvents(api, first.id);
    const progress = events.find((event) => event.kind === 'progress')!;
    assert.equal(progress.data?.unit, 'examples');
    assert.equal(progress.data?.unitsPerSecond, progress.data?.examplesPerSecond);
    assert.equal(progress.data?.tokensPerSecond, undefined);
    const data = events.find((event) => event.kind === 'data')!;
    assert.equal(data.data?.unit, 'examples');
    assert.equal(data.data?.featuresPerExample, 2);
    assert.equal(data.data?.trainingTokens, undefined);
  });

  it('cancels a running job in the middle of training', async () => {
    const hold = gate.hold(3, { outputModelName: 'cancelled-model' });
    const job = await createJob(smallClassifier('cancelled-model', { epochs: 50 }));
    await hold.reached;
    const cancel = await api<JobView>('POST', `/api/v1/jobs/${job.id}/cancel`);
    expectStatus(cancel, 200);
    hold.release();
    const done = await waitForJob(api, job.id, ended);
    assert.equal(done.status, 'cancelled');
    assert.equal(done.currentStep, 3);
    assert.ok(done.currentStep < done.totalSteps);
    const models = await api('GET', '/api/v1/models/cancelled-model');
    expectStatus(models, 404);
  });

  it('pauses at a checkpoint and resumes to the planned step count', async () => {
    const hold = gate.hold(3, { outputModelName: 'paused-model' });
    const job = await createJob(smallClassifier('paused-model', { epochs: 6 }));
    await hold.reached;
    expectStatus(await api('POST', `/api/v1/jobs/${job.id}/pause`), 200);
    hold.release();
    const paused = await waitForJob(api, job.id, (current) => current.status === 'paused' || ended(current));
    assert.equal(paused.status, 'paused');
    assert.equal(paused.currentStep, 3);
    const checkpoints = await api<{ data: Array<{ step: number; reason: string }> }>(
      'GET',
      `/api/v1/jobs/${job.id}/checkpoints`,
    );
    assert.equal(checkpoints.body.data[0].reason, 'pause');
    assert.equal(checkpoints.body.data[0].step, paused.currentStep);
    expectStatus(await api('POST', `/api/v1/jobs/${job.id}/resume`), 200);
    const done = await waitForJob(api, job.id, ended);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.currentStep, done.totalSteps);
    const events = await jobEvents(api, job.id);
    const resumed = events.find((event) => event.kind === 'resumed');
    assert.equal(resumed?.data?.step, paused.currentStep);
  });

  it('retries a job whose worker thread crashed, from its last checkpoint, and keeps serving', async () => {
    // Checkpoints every 5 steps: held at step 7, the last one is step 5.
    const hold = gate.hold(7, { outputModelName: 'crash-model' });
    const job = await createJob(smallClassifier('crash-model', { epochs: 6 }));
    await hold.reached;
    await testApp.app.get(TrainerPool).terminate(job.id);
    hold.release();
    expectStatus(await api('GET', `/api/v1/jobs/${job.id}`), 200);
    const done = await waitForJob(api, job.id, ended);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.attempt, 2);
    assert.equal(done.currentStep, done.totalSteps);
    const events = await jobEvents(api, job.id);
    assert.ok(events.some((event) => event.kind === 'worker_crashed'));
    assert.equal(events.find((event) => event.kind === 'resumed')?.data?.step, 5);
  });

  it('stops on a NaN loss with a clear error and keeps the last good checkpoint', async () => {
    const numbers = await uploadDataset(
      api,
      'diverging',
      'regression',
      Array.from({ length: 64 }, (_, i) => ({ a: i, b: i * i, label: i * 3 })),
      { schema: { inputFields: ['a', 'b'], labelField: 'label' } },
    );
    const job = await createJob({
      model: { family: 'mlp', hiddenSizes: [32, 32] },
      trainingData: { datasetId: numbers, version: 1 },
      hyperparameters: {
        epochs: 500,
        batchSize: 8,
        learningRate: 10,
        optimizer: { name: 'sgd', momentum: 0.9 },
        gradientClipNorm: 0,
        checkpointEverySteps: 2,
        evalEverySteps: 1000,
      },
      outputModelName: 'nan-model',
    });
    const done = await waitForJob(api, job.id, ended);
    assert.equal(done.status, 'failed');
    assert.equal(done.error?.code, 'nan_loss');
    assert.match(done.error.message, /NaN|Infinity/);
    const checkpoints = await api<{ data: Array<{ step: number }> }>('GET', `/api/v1/jobs/${job.id}/checkpoints`);
    assert.ok(checkpoints.body.data.length > 0, 'a checkpoint from before the NaN remains');
    assert.ok(checkpoints.body.data[0].step < (done.error.step ?? Infinity));
  });

  it('skips a corrupt checkpoint on resume and continues from an older one', async () => {
    const hold = gate.hold(7, { outputModelName: 'corrupt-model' });
    const job = await createJob(
      smallClassifier('corrupt-model', { epochs: 6, checkpointEverySteps: 3, keepLastCheckpoints: 5 }),
    );
    await hold.reached;
    expectStatus(await api('POST', `/api/v1/jobs/${job.id}/pause`), 200);
    hold.release();
    await waitForJob(api, job.id, (current) => current.status === 'paused' || ended(current));
    const rows = await testApp.dataSource.query<Array<{ step: number; artifact_prefix: string }>>(
      `SELECT step, artifact_prefix FROM checkpoints WHERE job_id = $1 ORDER BY step DESC`,
      [job.id],
    );
    assert.deepEqual(
      rows.slice(0, 2).map((row) => row.step),
      [7, 6],
    );
    const store = testApp.app.get(ArtifactStore);
    await store.put(`${rows[0].artifact_prefix}weights.safetensors`, Readable.from([Buffer.from('not a checkpoint')]));
    expectStatus(await api('POST', `/api/v1/jobs/${job.id}/resume`), 200);
    const done = await waitForJob(api, job.id, ended);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    const events = await jobEvents(api, job.id);
    const corrupt = events.find((event) => event.kind === 'checkpoint_corrupt');
    assert.equal(corrupt?.level, 'warn');
    assert.equal(corrupt?.data?.step, rows[0].step);
    const resumed = events.filter((event) => event.kind === 'resumed').at(-1);
    assert.equal(resumed?.data?.step, rows[1].step);
  });

  it('fails a job whose dataset file is gone from storage, with the reason', async () => {
    const doomed = await uploadDataset(api, 'doomed', 'classification', sentimentRows(40, 21));
    const rows = await testApp.dataSource.query<Array<{ artifact_key: string }>>(
      `SELECT artifact_key FROM dataset_versions WHERE dataset_id = $1`,
      [doomed],
    );
    await testApp.app.get(ArtifactStore).delete(rows[0].artifact_key);
    const job = await createJob({
      ...smallClassifier('doomed-model'),
      trainingData: { datasetId: doomed, version: 1 },
    });
    const done = await waitForJob(api, job.id, ended);
    assert.equal(done.status, 'failed');
    assert.equal(done.error?.code, 'artifact_missing');
    assert.match(done.error.message, /Missing from storage/);
  });

  it('restores the best weights when early stopping ends a run that overfits', async () => {
    // Labels that carry no signal: validation loss can only get worse as the model memorises.
    const noise = await uploadDataset(
      api,
      'noise',
      'classification',
      sentimentRows(120, 31).map((row, index) => ({ text: row.text, label: ['a', 'b', 'c'][(index * 7919) % 3] })),
    );
    // The same sentence under different labels fails the label-conflict check: train on it anyway.
    const job = await createJob({
      ...smallClassifier('early-model'),
      trainingData: { datasetId: noise, version: 1 },
      allowQualityFailures: true,
      hyperparameters: {
        epochs: 40,
        batchSize: 8,
        sequenceLength: 16,
        learningRate: 0.01,
        evalEverySteps: 5,
        checkpointEverySteps: 1000,
        validationFraction: 0.3,
        earlyStopping: { monitor: 'loss', mode: 'min', patience: 6, minDelta: 0 },
      },
    });
    const done = await waitForJob(api, job.id, ended);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.ok(done.currentStep < done.totalSteps, 'stopped before the planned steps');
    const events = await jobEvents(api, job.id);
    const stop = events.find((event) => event.kind === 'early_stopping');
    assert.ok(stop, 'an early_stopping event');
    const best = stop.data?.best as { step: number; value: number };
    const points = (await api<{ data: MetricPoint[] }>('GET', `/api/v1/jobs/${job.id}/metrics?split=validation`)).body
      .data;
    const finals = points.filter((point) => point.values.final === true);
    assert.equal(finals.length, 1, 'one final point');
    const [final] = finals;
    // Labelled with the step whose weights the model keeps, not the step training stopped at.
    assert.equal(final.step, best.step);
    assert.ok(best.step < done.currentStep);
    const bestPoint = points.find((point) => point.step === best.step && point.values.final !== true)!;
    assert.deepEqual({ ...bestPoint.values, final: true }, final.values, 'the best evaluation, not a new one');
    const version = await api<{ manifest: Record<string, unknown>; metrics: Record<string, number> }>(
      'GET',
      '/api/v1/models/early-model/versions/1',
    );
    assert.equal(version.body.manifest.weightsStep, best.step);
    assert.equal(version.body.manifest.bestStep, best.step);
    assert.ok(
      Math.abs((final.values.loss as number) - best.value) < 1e-5,
      `final loss ${final.values.loss} is the best ${best.value}`,
    );
    const checkpoints = await api<{ data: Array<{ isBest: boolean; step: number }> }>(
      'GET',
      `/api/v1/jobs/${job.id}/checkpoints`,
    );
    assert.equal(checkpoints.body.data.find((checkpoint) => checkpoint.isBest)?.step, best.step);
    assert.ok(
      events.some((event) => event.kind === 'overfitting' && event.level === 'warn'),
      'an overfitting warning',
    );
  });
});
