/**
 * The jobs API without training: request validation (every refusal is a 4xx that queues nothing),
 * the memory check, queue control of jobs that are not running, and tenant isolation. No trainer
 * slot runs on this app, so queued jobs stay queued.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiClient, expectStatus } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { sentimentRows, textRows, uploadDataset, type JobView } from './support/training-data.js';

describe('jobs API: validation and control', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;
  let labelled: string;
  let text: string;
  let failing: string;
  let regression: string;

  const baseJob = () => ({
    model: { family: 'gpt2', nLayer: 1, nHead: 2, nEmbd: 32, vocabSize: 300 },
    trainingData: { datasetId: labelled, version: 1 },
    hyperparameters: { epochs: 1, batchSize: 4, sequenceLength: 16 },
    outputModelName: 'validation-test',
  });
  const jobCount = async () => {
    const rows = await testApp.dataSource.query<Array<{ n: number }>>('SELECT count(*)::int AS n FROM jobs');
    return rows[0].n;
  };
  const refused = async (body: unknown, status: number, code: string, field?: string) => {
    const before = await jobCount();
    const response = await api<{ code: string; message: string; details: Array<{ field?: string }> }>(
      'POST',
      '/api/v1/jobs',
      body,
    );
    expectStatus(response, status);
    assert.equal(response.body.code, code);
    if (field) {
      assert.ok(
        response.body.details.some((detail) => detail.field === field),
        `expected a detail for ${field}: ${JSON.stringify(response.body)}`,
      );
    }
    assert.equal(await jobCount(), before, 'a refused job must change nothing');
    return response.body;
  };

  before(async () => {
    testApp = await startTestApp();
    api = apiClient(testApp.baseUrl, testApp.adminKey);
    labelled = await uploadDataset(api, 'labelled', 'classification', sentimentRows(60, 1));
    text = await uploadDataset(api, 'text', 'causal-lm', textRows(60, 2));
    failing = await uploadDataset(api, 'too-small', 'classification', sentimentRows(20, 3), {
      qualityThresholds: { minRows: { warn: 2000, fail: 1000 } },
    });
    regression = await uploadDataset(
      api,
      'numbers',
      'regression',
      Array.from({ length: 40 }, (_, i) => ({ text: `value ${i}`, label: i })),
    );
  });
  after(async () => {
    await testApp.close();
  });

  it('queues a valid job with every default resolved and a memory estimate', async () => {
    const response = await api<JobView & { spec: Record<string, unknown> }>('POST', '/api/v1/jobs', baseJob());
    expectStatus(response, 201);
    assert.equal(response.body.status, 'queued');
    const spec = response.body.spec as { head: string; hyperparameters: Record<string, unknown>; family: string };
    assert.equal(spec.head, 'classification');
    assert.equal(spec.family, 'gpt2');
    assert.equal((spec.hyperparameters.optimizer as { name: string }).name, 'adamw');
    assert.match(response.body.specHash, /^[0-9a-f]{64}$/);
    assert.ok(response.body.memoryEstimate.total > 0);
    assert.ok(response.body.memoryEstimate.budget > 0);
  });

  it('refuses unknown datasets and versions', async () => {
    await refused(
      { ...baseJob(), trainingData: { datasetId: '00000000-0000-4000-8000-000000000000', version: 1 } },
      400,
      'validation_failed',
      'trainingData.datasetId',
    );
    await refused(
      { ...baseJob(), trainingData: { datasetId: labelled, version: 9 } },
      400,
      'validation_failed',
      'trainingData.version',
    );
  });

  it('refuses an unknown base model, and neither base nor architecture', async () => {
    const { model: _model, ...withoutModel } = baseJob();
    await refused({ ...withoutModel, baseModel: { name: 'nope' } }, 400, 'validation_failed', 'baseModel');
    await refused(withoutModel, 400, 'validation_failed', 'baseModel');
  });

  it('refuses a head that does not fit the data, and mlp for language modelling', async () => {
    await refused(
      { ...baseJob(), trainingData: { datasetId: text, version: 1 }, head: 'classification' },
      400,
      'validation_failed',
      'head',
    );
    await refused({ ...baseJob(), head: 'regression' }, 400, 'validation_failed', 'head');
    await refused(
      { ...baseJob(), trainingData: { datasetId: text, version: 1 }, model: { family: 'mlp' } },
      400,
      'validation_failed',
      'head',
    );
  });

  it('refuses quality-failing data unless allowQualityFailures, and records the choice', async () => {
    const body = { ...baseJob(), trainingData: { datasetId: failing, version: 1 } };
    const problem = await refused(body, 400, 'validation_failed', 'trainingData.version');
    assert.match(problem.message, /quality/);
    const allowed = await api<JobView>('POST', '/api/v1/jobs', { ...body, allowQualityFailures: true });
    expectStatus(allowed, 201);
    const events = await api<{ data: Array<{ kind: string; data: Record<string, unknown> }> }>(
      'GET',
      `/api/v1/jobs/${allowed.body.id}/events`,
    );
    const created = events.body.data.find((event) => event.kind === 'created');
    assert.equal(created?.data.allowQualityFailures, true);
    assert.equal(created?.data.qualityVerdict, 'fail');
  });

  it('refuses hyperparameters out of range or not fitting the head', async () => {
    await refused(
      { ...baseJob(), hyperparameters: { learningRate: 50 } },
      400,
      'validation_failed',
      'hyperparameters.learningRate',
    );
    await refused(
      { ...baseJob(), hyperparameters: { learningRate: 'fast' } },
      400,
      'validation_failed',
      'hyperparameters.learningRate',
    );
    await refused({ ...baseJob(), hyperparameters: { batchSize: 0 } }, 400, 'validation_failed');
    await refused(
      { ...baseJob(), hyperparameters: { loss: { name: 'mse' } } },
      400,
      'validation_failed',
      'hyperparameters.loss.name',
    );
    await refused(
      { ...baseJob(), hyperparameters: { optimizer: { name: 'adam', nesterov: true } } },
      400,
      'validation_failed',
      'hyperparameters.optimizer.nesterov',
    );
    await refused(
      { ...baseJob(), hyperparameters: { earlyStopping: { monitor: 'rmse', mode: 'min', patience: 2 } } },
      400,
      'validation_failed',
      'hyperparameters.earlyStopping.monitor',
    );
    await refused(
      { ...baseJob(), model: { family: 'gpt2', nPositions: 64 }, hyperparameters: { sequenceLength: 128 } },
      400,
      'validation_failed',
      'hyperparameters.sequenceLength',
    );
    await refused(
      { ...baseJob(), model: { family: 'gpt2', nEmbd: 30, nHead: 4 } },
      400,
      'validation_failed',
      'model.nHead',
    );
    await refused({ ...baseJob(), unknownField: 1 }, 400, 'validation_failed');
    await refused(
      {
        ...baseJob(),
        trainingData: { datasetId: regression, version: 1 },
        hyperparameters: { loss: { name: 'cross_entropy', classWeights: 'balanced' } },
      },
      400,
      'validation_failed',
    );
  });

  it('refuses lora for now, and freeze without a selection', async () => {
    await refused({ ...baseJob(), method: { type: 'lora' } }, 400, 'validation_failed', 'method.type');
    await refused({ ...baseJob(), method: { type: 'freeze' } }, 400, 'validation_failed', 'method');
    await refused(
      { ...baseJob(), method: { type: 'freeze', trainableTopBlocks: 5 } },
      400,
      'validation_failed',
      'method.trainableTopBlocks',
    );
  });

  it('refuses a job that cannot fit a trainer slot, with the estimate and a batch size that fits', async () => {
    const body = {
      ...baseJob(),
      model: { family: 'gpt2', nLayer: 12, nHead: 12, nEmbd: 768, nPositions: 1024, vocabSize: 50257 },
      hyperparameters: { batchSize: 64, sequenceLength: 1024 },
    };
    const problem = (await refused(body, 422, 'exceeds_memory_budget', 'hyperparameters.batchSize')) as unknown as {
      message: string;
      details: Array<{ estimate: { total: number }; budget: number; suggestion: { text: string } }>;
    };
    const [detail] = problem.details;
    assert.ok(detail.estimate.total > detail.budget);
    assert.match(detail.suggestion.text, /batch|smaller model/);
    assert.match(problem.message, /MiB/);
  });

  it('cancels and pauses queued jobs at once, resumes paused ones, and refuses what does not apply', async () => {
    const created = await api<JobView>('POST', '/api/v1/jobs', baseJob());
    expectStatus(created, 201);
    const id = created.body.id;
    const paused = await api<JobView>('POST', `/api/v1/jobs/${id}/pause`);
    expectStatus(paused, 200);
    assert.equal(paused.body.status, 'paused');
    const unconfirmed = await api<{ code: string }>('POST', `/api/v1/jobs/${id}/resume`, {
      hyperparameters: { epochs: 5 },
    });
    expectStatus(unconfirmed, 409);
    const fixed = await api<{ code: string }>('POST', `/api/v1/jobs/${id}/resume`, {
      hyperparameters: { batchSize: 2 },
      confirmSpecChange: true,
    });
    expectStatus(fixed, 400);
    const resumed = await api<JobView>('POST', `/api/v1/jobs/${id}/resume`, {
      hyperparameters: { epochs: 5 },
      confirmSpecChange: true,
    });
    expectStatus(resumed, 200);
    assert.equal(resumed.body.status, 'queued');
    assert.equal(resumed.body.specChanges.length, 1);
    assert.notEqual(resumed.body.specHash, created.body.specHash);
    const cancelled = await api<JobView>('POST', `/api/v1/jobs/${id}/cancel`);
    expectStatus(cancelled, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    expectStatus(await api('POST', `/api/v1/jobs/${id}/cancel`), 409);
    expectStatus(await api('POST', `/api/v1/jobs/${id}/resume`), 409);
  });

  it('lists, pages and hides other projects’ jobs', async () => {
    const list = await api<{ data: JobView[] }>('GET', '/api/v1/jobs?limit=2');
    expectStatus(list, 200);
    assert.equal(list.body.data.length, 2);
    const project = await api<{ id: string }>('POST', '/api/v1/projects', { name: 'other-tenant' });
    expectStatus(project, 201);
    const key = await api<{ secret: string }>('POST', '/api/v1/api-keys', {
      projectId: project.body.id,
      name: 'k',
      scopes: ['jobs:read', 'jobs:write'],
    });
    expectStatus(key, 201);
    const other = apiClient(testApp.baseUrl, key.body.secret);
    expectStatus(await other('GET', `/api/v1/jobs/${list.body.data[0].id}`), 404);
    expectStatus(await other('POST', `/api/v1/jobs/${list.body.data[0].id}/cancel`), 404);
    const theirs = await other<{ data: unknown[] }>('GET', '/api/v1/jobs');
    assert.equal(theirs.body.data.length, 0);
    // Their job cannot name our dataset either.
    expectStatus(await other('POST', '/api/v1/jobs', baseJob()), 400);
  });

  it('answers 400 for a malformed id and 404 for an unknown job', async () => {
    expectStatus(await api('GET', '/api/v1/jobs/not-a-uuid'), 400);
    expectStatus(await api('GET', '/api/v1/jobs/00000000-0000-4000-8000-000000000000'), 404);
  });

  it('shows the trainer status of a replica without slots', async () => {
    const status = await api<{ slots: number; backend: string | null; queueDepth: number }>('GET', '/api/v1/trainer');
    expectStatus(status, 200);
    assert.equal(status.body.slots, 0);
    assert.equal(status.body.backend, null);
    assert.ok(status.body.queueDepth >= 1);
  });
});
