/**
 * Vector input fields end to end: a digit-like dataset of `{ "pixels": [64 numbers], "label": n }`
 * rows is validated, profiled as numbers (not text), and trains an mlp classifier on the wasm
 * backend that beats the majority baseline; rows with a wrong vector are refused with a reason, and
 * a gpt2 job on vectors is refused before it is queued.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TrainerPool } from '../src/trainer/pool/trainer-pool.js';
import { seededRandom } from '../src/trainer/runtime/examples.js';
import { majorityBaseline } from '../src/trainer/training/metrics.js';
import { apiClient, expectStatus } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { ended, jsonl, PROVENANCE, waitForJob, type JobView } from './support/training-data.js';

const SIDE = 8;
const CLASSES = 4;

/**
 * 8x8 "digits": each class is a stroke pattern (a vertical bar, a horizontal bar, a diagonal, a
 * ring) drawn with varying intensity, shifted by up to one pixel, on a noisy background.
 */
function digitRows(count: number, seed: number): { pixels: number[]; label: number }[] {
  const random = seededRandom(seed);
  const strokes: ((row: number, column: number) => boolean)[] = [
    (_row, column) => column === 3 || column === 4,
    (row) => row === 3 || row === 4,
    (row, column) => Math.abs(row - column) <= 0,
    (row, column) =>
      (row === 1 || row === 6 || column === 1 || column === 6) && row >= 1 && row <= 6 && column >= 1 && column <= 6,
  ];
  return Array.from({ length: count }, () => {
    const label = Math.floor(random() * CLASSES);
    const shift = Math.floor(random() * 3) - 1;
    const pixels: number[] = [];
    for (let row = 0; row < SIDE; row += 1) {
      for (let column = 0; column < SIDE; column += 1) {
        const inStroke = strokes[label](row, Math.min(SIDE - 1, Math.max(0, column - shift)));
        const background = Math.floor(random() * 40);
        pixels.push(inStroke ? 150 + Math.floor(random() * 105) : background);
      }
    }
    return { pixels, label };
  });
}

interface MetricPoint {
  values: Record<string, number>;
}

describe('vector input fields', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;

  const createDataset = async (name: string) => {
    const created = await api<{ id: string }>('POST', '/api/v1/datasets', {
      name,
      task: 'classification',
      schema: { inputFields: ['pixels'], labelField: 'label' },
      ...PROVENANCE,
    });
    expectStatus(created, 201);
    return created.body.id;
  };
  const upload = (datasetId: string, rows: unknown[]) =>
    api<{ version: number; state: string; qualityVerdict: string }>(
      'POST',
      `/api/v1/datasets/${datasetId}/versions`,
      jsonl(rows),
      { 'Content-Type': 'application/x-ndjson' },
    );

  before(async () => {
    testApp = await startTestApp({
      TRAINER_SLOTS: '1',
      TRAINER_BACKEND: 'wasm',
      JOB_POLL_MS: '100',
      JOB_LEASE_SECONDS: '3',
    });
    api = apiClient(testApp.baseUrl, testApp.adminKey);
    await testApp.app.get(TrainerPool).start();
  });
  after(async () => {
    await testApp.close();
  });

  it('profiles vectors as numbers, trains an mlp on them and beats the majority baseline', async () => {
    const training = await createDataset('digits');
    const uploaded = await upload(training, digitRows(400, 1));
    expectStatus(uploaded, 201);
    assert.equal(uploaded.body.state, 'ready');

    const quality = await api<{ report: Record<string, unknown> & { features: { fields: Record<string, unknown> } } }>(
      'GET',
      `/api/v1/datasets/${training}/versions/1/quality`,
    );
    expectStatus(quality, 200);
    const pixels = quality.body.report.features.fields.pixels as {
      kind: string;
      length: number;
      count: number;
      nonFinite: number;
      min: number;
      max: number;
      dimensions: { mean: number[] };
    };
    assert.deepEqual(
      [pixels.kind, pixels.length, pixels.count, pixels.nonFinite, pixels.min],
      ['vector', 64, 400, 0, 0],
    );
    assert.ok(pixels.max <= 255);
    assert.equal(pixels.dimensions.mean.length, 64);
    const diversity = quality.body.report.diversity as { tokens: number; checks: unknown[] };
    assert.equal(diversity.tokens, 0);
    assert.deepEqual(diversity.checks, []);
    const reasons = (quality.body.report.overall as { reasons: string[] }).reasons;
    assert.ok(!reasons.some((reason) => /distinct2|NearDuplicate|LengthOutlier/.test(reason)), reasons.join('\n'));

    const validation = await createDataset('digits-validation');
    expectStatus(await upload(validation, digitRows(120, 2)), 201);

    const job = await api<JobView>('POST', '/api/v1/jobs', {
      model: { family: 'mlp', hiddenSizes: [32] },
      trainingData: { datasetId: training, version: 1 },
      validationData: { datasetId: validation, version: 1 },
      hyperparameters: { epochs: 6, batchSize: 16, learningRate: 0.01, seed: 3, evalEverySteps: 25 },
      outputModelName: 'digit-mlp',
    });
    expectStatus(job, 201);
    const done = await waitForJob(api, job.body.id, ended);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));

    const metrics = await api<{ data: MetricPoint[] }>('GET', `/api/v1/jobs/${job.body.id}/metrics?split=validation`);
    const final = metrics.body.data.at(-1)!.values;
    const labels = Array.from({ length: CLASSES }, (_, label) => String(label));
    const baseline = majorityBaseline(
      digitRows(120, 2).map((row) => row.label),
      labels,
    );
    assert.ok(
      final.accuracy > baseline.accuracy + 0.4,
      `validation accuracy ${final.accuracy} should clearly beat the majority baseline ${baseline.accuracy}`,
    );

    // The model reads 64 inputs, standardised with each pixel's own statistics.
    const model = await api<{ manifest: { config: { inputSize: number }; features: { fields: unknown[] } } }>(
      'GET',
      '/api/v1/models/digit-mlp/versions/1',
    );
    expectStatus(model, 200);
    assert.equal(model.body.manifest.config.inputSize, 64);
    const [field] = model.body.manifest.features.fields as {
      kind: string;
      length: number;
      mean: number[];
      std: number[];
    }[];
    assert.deepEqual([field.kind, field.length, field.mean.length, field.std.length], ['vector', 64, 64, 64]);
  });

  it('makes a version with a wrong vector invalid, with the line and the reason', async () => {
    const datasetId = await createDataset('digits-broken');
    const rows: unknown[] = digitRows(20, 3);
    rows[4] = { pixels: new Array<number>(63).fill(1), label: 1 };
    rows[9] = { pixels: [...new Array<number>(63).fill(1), 'x'], label: 2 };
    const uploaded = await upload(datasetId, rows);
    expectStatus(uploaded, 201);
    assert.equal(uploaded.body.state, 'invalid');
    const quality = await api<{ validation: { errors: { line: number; field?: string; reason: string }[] } }>(
      'GET',
      `/api/v1/datasets/${datasetId}/versions/1/quality`,
    );
    assert.deepEqual(quality.body.validation.errors, [
      { line: 5, field: 'pixels', reason: 'input field "pixels" has 63 numbers; earlier rows have 64' },
      {
        line: 10,
        field: 'pixels',
        reason: 'input field "pixels" must be an array of finite numbers; element 63 is "x"',
      },
    ]);
  });

  it('refuses a gpt2 job on vector fields before queueing it', async () => {
    const datasetId = await createDataset('digits-for-gpt2');
    expectStatus(await upload(datasetId, digitRows(120, 4)), 201);
    const before = await testApp.dataSource.query<{ count: string }[]>('SELECT count(*) FROM jobs');
    const refused = await api<{ code: string; details: { field: string; reason: string }[] }>('POST', '/api/v1/jobs', {
      model: { family: 'gpt2', nLayer: 1, nHead: 2, nEmbd: 32, vocabSize: 320 },
      trainingData: { datasetId, version: 1 },
      outputModelName: 'digit-gpt2',
    });
    expectStatus(refused, 400);
    assert.equal(refused.body.code, 'validation_failed');
    assert.deepEqual(refused.body.details, [
      {
        field: 'model.family',
        reason: 'input field "pixels" holds vectors of numbers, which the mlp family reads; gpt2 reads text',
      },
    ]);
    const afterCount = await testApp.dataSource.query<{ count: string }[]>('SELECT count(*) FROM jobs');
    assert.equal(afterCount[0].count, before[0].count);
  });
});
