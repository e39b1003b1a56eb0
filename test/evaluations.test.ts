/**
 * Evaluations end to end: models trained through the jobs API on the real trainer (wasm), evaluated
 * on held-out data by the trainer pool, with metrics checked against a recomputation from the
 * predictions file, a comparison with an earlier version, reference models, lineage, a worker
 * crash landed at a known batch by a hold, cancel, and refusals that create nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EvaluationHoldGate } from '../src/evaluation/evaluation-hold-gate.js';
import { EvaluationsService } from '../src/evaluation/evaluations.service.js';
import { TrainerPool } from '../src/trainer/pool/trainer-pool.js';
import { apiClient, expectStatus } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { ended, uploadDataset, waitForJob, type JobView } from './support/training-data.js';

interface EvaluationView {
  id: string;
  status: string;
  task: string;
  attempt: number;
  modelVersionId: string;
  datasetVersionId: string;
  progress: { processedRows: number; totalRows: number };
  error: { code: string; message: string } | null;
  result: {
    rows: number;
    examples: number;
    skipped: Record<string, number>;
    metrics: Record<string, unknown>;
    slices: Array<{ value: string; examples: number; metrics: Record<string, unknown> }> | null;
    referenceModels: {
      fittedOn: { rows: number } | null;
      note: string | null;
      models: Array<{ name: string; metrics: Record<string, unknown> }>;
    };
    comparison: {
      differences: Record<string, { estimate: number; lower: number; upper: number; resamples: number; seed: number }>;
      mcnemar: { candidateOnly: number; baselineOnly: number; pValue: number } | null;
      baselineMetrics: Record<string, unknown>;
    } | null;
  } | null;
}

const tableRow = (i: number) => {
  const x = (i % 10) / 10;
  const y = ((i * 7) % 10) / 10;
  return { x, y, group: i % 2 === 0 ? 'a' : 'b', label: x + y > 0.9 ? 'high' : 'low' };
};
const numberRow = (i: number) => {
  const a = (i % 9) / 4;
  const b = ((i * 5) % 7) / 3;
  return { a, b, label: 3 * a - 2 * b + 1 };
};

describe('evaluations', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;
  let gate: EvaluationHoldGate;
  let heldOut: string;
  let numbersHeldOut: string;
  const classifier = { v1: '', v2: '' };

  const train = async (body: Record<string, unknown>): Promise<JobView> => {
    const created = await api<JobView>('POST', '/api/v1/jobs', body);
    expectStatus(created, 201);
    const done = await waitForJob(api, created.body.id, ended);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    return done;
  };
  const evaluate = async (body: Record<string, unknown>): Promise<EvaluationView> => {
    const created = await api<EvaluationView>('POST', '/api/v1/evaluations', body);
    expectStatus(created, 201);
    assert.equal(created.body.status, 'queued');
    return created.body;
  };
  const waitFor = async (id: string, until: (evaluation: EvaluationView) => boolean): Promise<EvaluationView> => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const response = await api<EvaluationView>('GET', `/api/v1/evaluations/${id}`);
      expectStatus(response, 200);
      if (until(response.body)) {
        return response.body;
      }
      if (Date.now() > deadline) {
        throw new Error(`evaluation ${id} did not reach the expected state: ${JSON.stringify(response.body)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const finished = (evaluation: EvaluationView) => ['succeeded', 'failed', 'cancelled'].includes(evaluation.status);
  const predictions = async (id: string): Promise<Array<Record<string, unknown>>> => {
    const response = await fetch(`${testApp.baseUrl}/api/v1/evaluations/${id}/predictions`, {
      headers: { Authorization: `Bearer ${testApp.adminKey}` },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /ndjson/);
    return (await response.text())
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  };
  const count = async () => (await api<{ data: unknown[] }>('GET', '/api/v1/evaluations?limit=200')).body.data.length;

  before(async () => {
    testApp = await startTestApp({
      TRAINER_SLOTS: '1',
      TRAINER_BACKEND: 'wasm',
      JOB_POLL_MS: '100',
      JOB_LEASE_SECONDS: '3',
      EVALUATION_BATCH_SIZE: '16',
    });
    api = apiClient(testApp.baseUrl, testApp.adminKey);
    gate = testApp.app.get(EvaluationHoldGate);
    const schema = { schema: { inputFields: ['x', 'y'], labelField: 'label' } };
    const training = await uploadDataset(
      api,
      'table-train',
      'classification',
      Array.from({ length: 120 }, (_, i) => tableRow(i)),
      schema,
    );
    heldOut = 'table-test';
    await uploadDataset(
      api,
      heldOut,
      'classification',
      Array.from({ length: 64 }, (_, i) => tableRow(i * 3 + 1)),
      schema,
    );
    const job = (epochs: number) => ({
      model: { family: 'mlp', hiddenSizes: [16] },
      trainingData: { datasetId: training, version: 1 },
      hyperparameters: { epochs, batchSize: 8, learningRate: 0.01, seed: 7 },
      outputModelName: 'table-clf',
    });
    classifier.v1 = (await train(job(1))).resultModelVersionId!;
    classifier.v2 = (await train(job(6))).resultModelVersionId!;

    const numberSchema = { schema: { inputFields: ['a', 'b'], labelField: 'label' } };
    const numbers = await uploadDataset(
      api,
      'numbers-train',
      'regression',
      Array.from({ length: 96 }, (_, i) => numberRow(i)),
      numberSchema,
    );
    numbersHeldOut = 'numbers-test';
    await uploadDataset(
      api,
      numbersHeldOut,
      'regression',
      Array.from({ length: 40 }, (_, i) => numberRow(i * 2 + 1)),
      numberSchema,
    );
    await train({
      model: { family: 'mlp', hiddenSizes: [16] },
      trainingData: { datasetId: numbers, version: 1 },
      hyperparameters: { epochs: 8, batchSize: 8, learningRate: 0.01, seed: 3 },
      outputModelName: 'numbers-reg',
    });
  });

  after(async () => {
    await testApp?.close();
  });

  let comparedId = '';

  it('scores a classifier against an earlier version, with metrics that the predictions file reproduces', async () => {
    const created = await evaluate({
      model: { name: 'table-clf', version: 2 },
      dataset: { name: heldOut, version: 1 },
      sliceBy: 'group',
      baseline: { version: 1 },
      bootstrap: { resamples: 500, seed: 5 },
    });
    comparedId = created.id;
    const done = await waitFor(created.id, finished);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.progress.processedRows, 64);
    const result = done.result!;
    assert.equal(result.rows, 64);
    assert.equal(result.examples, 64);

    const lines = await predictions(done.id);
    assert.equal(lines.length, 64);
    assert.deepEqual(
      lines.map((line) => line.line),
      Array.from({ length: 64 }, (_, i) => i + 1),
    );
    const right = lines.filter((line) => line.prediction === line.target).length;
    assert.equal(result.metrics.accuracy, right / 64);
    const labels = (result.metrics.perClass as Array<{ label: string }>).map((entry) => entry.label);
    const confusion = labels.map(() => labels.map(() => 0));
    for (const line of lines) {
      confusion[labels.indexOf(String(line.target))][labels.indexOf(String(line.prediction))] += 1;
      const probabilities = line.probabilities as Record<string, number>;
      assert.ok(Math.abs(Object.values(probabilities).reduce((sum, p) => sum + p, 0) - 1) < 1e-5);
    }
    assert.deepEqual(result.metrics.confusionMatrix, confusion);
    for (const name of ['f1Macro', 'f1Micro', 'f1Weighted', 'logLoss', 'expectedCalibrationError', 'rocAuc', 'prAuc']) {
      assert.equal(typeof result.metrics[name], 'number', name);
    }
    assert.ok(result.metrics.accuracy > 0.75, `a trained classifier: ${String(result.metrics.accuracy)}`);

    assert.deepEqual(result.slices?.map((slice) => slice.value).sort(), ['a', 'b']);
    assert.equal(
      result.slices?.reduce((sum, slice) => sum + slice.examples, 0),
      64,
    );

    // A table: the training data's majority class is the one reference for a classifier.
    assert.deepEqual(
      result.referenceModels.models.map((model) => model.name),
      ['majority_class'],
    );
    assert.equal(result.referenceModels.fittedOn?.rows, 120);

    const comparison = result.comparison!;
    const accuracy = comparison.differences.accuracy;
    assert.equal(accuracy.estimate, result.metrics.accuracy - (comparison.baselineMetrics.accuracy as number));
    assert.ok(accuracy.lower <= accuracy.estimate && accuracy.estimate <= accuracy.upper);
    assert.equal(accuracy.resamples, 500);
    assert.equal(accuracy.seed, 5);
    assert.ok(comparison.mcnemar !== null && comparison.mcnemar.pValue <= 1);
  });

  it('scores a regressor in the target units against the mean and ridge references', async () => {
    const created = await evaluate({
      model: { name: 'numbers-reg', version: 1 },
      dataset: { name: numbersHeldOut, version: 1 },
    });
    const done = await waitFor(created.id, finished);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    const lines = await predictions(done.id);
    const errors = lines.map((line) => (line.prediction as number) - (line.target as number));
    const mae = errors.reduce((sum, error) => sum + Math.abs(error), 0) / errors.length;
    const rmse = Math.sqrt(errors.reduce((sum, error) => sum + error * error, 0) / errors.length);
    const metrics = done.result!.metrics;
    assert.ok(Math.abs((metrics.mae as number) - mae) < 1e-9);
    assert.ok(Math.abs((metrics.rmse as number) - rmse) < 1e-9);
    assert.equal(typeof metrics.rSquared, 'number');
    assert.deepEqual(
      done.result!.referenceModels.models.map((model) => model.name),
      ['mean', 'ridge_regression'],
    );
    // The data is linear: ridge regression is close to exact and far better than the mean.
    const [mean, ridge] = done.result!.referenceModels.models;
    assert.ok((ridge.metrics.mae as number) < (mean.metrics.mae as number) / 5);
  });

  it('links an evaluation to its model and data in the lineage, both ways', async () => {
    const upstream = await api<{ nodes: Array<{ type: string; id: string }> }>(
      'GET',
      `/api/v1/lineage/evaluation/${comparedId}`,
    );
    expectStatus(upstream, 200);
    const evaluation = (await api<EvaluationView>('GET', `/api/v1/evaluations/${comparedId}`)).body;
    const has = (nodes: Array<{ type: string; id: string }>, type: string, id: string) =>
      nodes.some((node) => node.type === type && node.id === id);
    assert.ok(has(upstream.body.nodes, 'model_version', classifier.v2));
    assert.ok(has(upstream.body.nodes, 'model_version', classifier.v1), 'the compared version');
    assert.ok(has(upstream.body.nodes, 'dataset_version', evaluation.datasetVersionId));
    assert.ok(
      upstream.body.nodes.some((node) => node.type === 'job'),
      'and on to the job that trained it',
    );
    const downstream = await api<{ nodes: Array<{ type: string; id: string }> }>(
      'GET',
      `/api/v1/lineage/model_version/${classifier.v2}?direction=downstream`,
    );
    assert.ok(has(downstream.body.nodes, 'evaluation', comparedId));
  });

  it('answers promotion gates with the latest comparison of two versions on a dataset version', async () => {
    const me = await api<{ project: { id: string } }>('GET', '/api/v1/me');
    const evaluation = (await api<EvaluationView>('GET', `/api/v1/evaluations/${comparedId}`)).body;
    const service = testApp.app.get(EvaluationsService);
    const gateView = await service.latestSucceeded(me.body.project.id, classifier.v2, evaluation.datasetVersionId, {
      comparedWith: classifier.v1,
    });
    assert.equal(gateView?.evaluationId, comparedId);
    assert.equal(gateView?.metrics.accuracy, evaluation.result!.metrics.accuracy);
    assert.deepEqual(gateView?.comparison?.differences, evaluation.result!.comparison!.differences);
    assert.equal(
      await service.latestSucceeded(me.body.project.id, classifier.v1, evaluation.datasetVersionId, {
        comparedWith: classifier.v2,
      }),
      null,
      'no evaluation of v1 compared with v2',
    );
  });

  it('re-runs an evaluation whose worker crashed, to the same result', async () => {
    const hold = gate.hold(2, { modelName: 'table-clf' });
    const created = await evaluate({
      model: { name: 'table-clf', version: 2 },
      dataset: { name: heldOut, version: 1 },
    });
    const reached = await hold.reached;
    assert.equal(reached.evaluationId, created.id);
    const held = (await api<EvaluationView>('GET', `/api/v1/evaluations/${created.id}`)).body;
    assert.equal(held.status, 'running');
    assert.equal(held.progress.processedRows, 32, 'two batches of 16 rows were scored before the hold');
    await testApp.app.get(TrainerPool).terminate(created.id);
    hold.release();
    const done = await waitFor(created.id, finished);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.attempt, 2);
    const reference = (await api<EvaluationView>('GET', `/api/v1/evaluations/${comparedId}`)).body;
    assert.deepEqual(done.result!.metrics, reference.result!.metrics);
    assert.equal((await predictions(done.id)).length, 64, 'the file holds each row once');
  });

  it('cancels a running evaluation before its next batch', async () => {
    const hold = gate.hold(1, { modelName: 'table-clf' });
    const created = await evaluate({
      model: { name: 'table-clf', version: 1 },
      dataset: { name: heldOut, version: 1 },
    });
    await hold.reached;
    const cancelling = await api<EvaluationView & { pendingControl: string | null }>(
      'POST',
      `/api/v1/evaluations/${created.id}/cancel`,
    );
    expectStatus(cancelling, 200);
    assert.equal(cancelling.body.pendingControl, 'cancel');
    hold.release();
    const done = await waitFor(created.id, finished);
    assert.equal(done.status, 'cancelled');
    assert.equal(done.result, null);
    const again = await api<{ code: string }>('POST', `/api/v1/evaluations/${created.id}/cancel`);
    expectStatus(again, 409);
    const file = await api<{ code: string }>('GET', `/api/v1/evaluations/${created.id}/predictions`);
    expectStatus(file, 409);
    assert.equal(file.body.code, 'invalid_state');
  });

  it('lists evaluations by model and version', async () => {
    const all = await api<{ data: EvaluationView[] }>('GET', '/api/v1/evaluations?model=table-clf');
    expectStatus(all, 200);
    assert.ok(all.body.data.length >= 3);
    const second = await api<{ data: Array<EvaluationView & { model: { version: number } }> }>(
      'GET',
      '/api/v1/evaluations?model=table-clf&version=2',
    );
    assert.ok(second.body.data.every((evaluation) => evaluation.model.version === 2));
    assert.ok(second.body.data.length < all.body.data.length);
    const page = await api<{ data: EvaluationView[]; nextCursor: string | null }>('GET', '/api/v1/evaluations?limit=1');
    assert.equal(page.body.data.length, 1);
    assert.ok(page.body.nextCursor);
    expectStatus(await api('GET', '/api/v1/evaluations?version=2'), 400);
  });

  it('refuses what cannot be evaluated, with a code, and creates nothing', async () => {
    const before = await count();
    const refusals: Array<[Record<string, unknown>, number, string]> = [
      [{ model: { name: 'nope', version: 1 }, dataset: { name: heldOut, version: 1 } }, 404, 'not_found'],
      [{ model: { name: 'table-clf', version: 9 }, dataset: { name: heldOut, version: 1 } }, 404, 'not_found'],
      [{ model: { name: 'table-clf', version: 1 }, dataset: { name: 'nope', version: 1 } }, 404, 'not_found'],
      [{ model: { name: 'table-clf', version: 1 }, dataset: { name: heldOut, version: 4 } }, 404, 'not_found'],
      [
        { model: { name: 'table-clf', version: 1 }, dataset: { name: numbersHeldOut, version: 1 } },
        422,
        'incompatible_data',
      ],
      [
        { model: { name: 'table-clf', version: 2 }, dataset: { name: heldOut, version: 1 }, baseline: { version: 2 } },
        400,
        'validation_failed',
      ],
      [
        { model: { name: 'table-clf', version: 2 }, dataset: { name: heldOut, version: 1 }, baseline: { version: 7 } },
        404,
        'not_found',
      ],
      [
        {
          model: { name: 'table-clf', version: 2 },
          dataset: { name: heldOut, version: 1 },
          bootstrap: { resamples: 5 },
        },
        400,
        'validation_failed',
      ],
      [{ model: { name: 'table-clf' }, dataset: { name: heldOut, version: 1 } }, 400, 'validation_failed'],
    ];
    for (const [body, status, code] of refusals) {
      const response = await api<{ code: string }>('POST', '/api/v1/evaluations', body);
      assert.equal(response.status, status, JSON.stringify({ body, answer: response.body }));
      assert.equal(response.body.code, code);
    }
    assert.equal(await count(), before, 'no refused request created an evaluation');
  });

  it("answers 404 for other projects' models, data and evaluations", async () => {
    const project = await api<{ id: string }>('POST', '/api/v1/projects', { name: 'evaluation-tenant' });
    expectStatus(project, 201);
    const key = await api<{ secret: string }>('POST', '/api/v1/api-keys', {
      name: 'tenant',
      scopes: ['admin'],
      projectId: project.body.id,
    });
    expectStatus(key, 201);
    const tenant = apiClient(testApp.baseUrl, key.body.secret);
    const created = await tenant<{ code: string }>('POST', '/api/v1/evaluations', {
      model: { name: 'table-clf', version: 1 },
      dataset: { name: heldOut, version: 1 },
    });
    expectStatus(created, 404);
    expectStatus(await tenant('GET', `/api/v1/evaluations/${comparedId}`), 404);
    expectStatus(await tenant('GET', `/api/v1/evaluations/${comparedId}/predictions`), 404);
    expectStatus(await tenant('POST', `/api/v1/evaluations/${comparedId}/cancel`), 404);
    expectStatus(await tenant('GET', `/api/v1/lineage/evaluation/${comparedId}`), 404);
    const listed = await tenant<{ data: unknown[] }>('GET', '/api/v1/evaluations');
    assert.deepEqual(listed.body.data, []);
  });
});
