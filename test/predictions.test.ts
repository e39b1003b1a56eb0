/**
 * Predictions through the inference workers: classification, regression in the target's units,
 * seeded generation, server-sent event streams, limits and bad inputs, other projects' models, an
 * API that stays live while a generation is held mid-way, and a fine-tuned imported model that
 * answers identically after an export and re-import.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { readTar, writeTar, type TarSourceEntry } from '../src/platform/archive/tar.js';
import { InferencePool } from '../src/trainer/pool/inference-pool.js';
import { TrainerPool } from '../src/trainer/pool/trainer-pool.js';
import { apiClient, expectStatus, type ApiResponse } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { ended, sentimentRows, textRows, uploadDataset, waitForJob, type JobView } from './support/training-data.js';

interface Prediction {
  label?: string;
  probabilities?: Record<string, number>;
  value?: number;
  text?: string;
  promptTokens?: number;
  completionTokens?: number;
  finishReason?: string;
}
interface PredictResponse {
  model: string;
  version: number;
  modelVersionId: string;
  task: string;
  predictions: Prediction[];
}
interface ErrorBody {
  code: string;
  details: Array<{ field?: string; reason: string }>;
}

async function bytesOf(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** Server-sent events as (event, data) pairs; every event must be `event:` then one `data:` line. */
function parseEvents(text: string): Array<{ event: string; data: unknown }> {
  assert.ok(text.endsWith('\n\n'), 'the stream ends after a complete event');
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((block) => {
      const lines = block.split('\n');
      assert.equal(lines.length, 2, block);
      assert.ok(lines[0].startsWith('event: ') && lines[1].startsWith('data: '), block);
      return { event: lines[0].slice(7), data: JSON.parse(lines[1].slice(6)) as unknown };
    });
}

describe('predictions', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;
  let inference: InferencePool;

  const train = async (body: Record<string, unknown>) => {
    const created = await api<JobView>('POST', '/api/v1/jobs', body);
    expectStatus(created, 201);
    const job = await waitForJob(api, created.body.id, ended);
    assert.equal(job.status, 'succeeded', JSON.stringify(job));
  };
  const predict = (model: string, version: number, body: Record<string, unknown>) =>
    api<PredictResponse>('POST', `/api/v1/models/${model}/predict?version=${version}`, body);
  /** Generations wait before their first token (INFERENCE_HOLD_AT_TOKENS=0): release each one explicitly. */
  const released = async <T>(request: Promise<T>): Promise<T> => {
    inference.release(await inference.nextHold());
    return request;
  };
  const download = async (model: string, version: number): Promise<TarSourceEntry[]> => {
    const response = await fetch(`${testApp.baseUrl}/api/v1/models/${model}/versions/${version}/download`, {
      headers: { Authorization: `Bearer ${testApp.adminKey}` },
    });
    assert.equal(response.status, 200);
    const entries: TarSourceEntry[] = [];
    for await (const entry of readTar(Readable.from([Buffer.from(await response.arrayBuffer())]))) {
      const bytes = await bytesOf(entry.body);
      entries.push({ name: `${model}/${entry.name}`, size: bytes.length, body: () => Readable.from([bytes]) });
    }
    return entries;
  };
  const importArchive = async (model: string, entries: TarSourceEntry[]) => {
    const archive = await bytesOf(Readable.from(writeTar(entries)));
    const response = await api('POST', `/api/v1/models/${model}/versions`, new Uint8Array(archive), {
      'Content-Type': 'application/x-tar',
    });
    expectStatus(response, 201);
  };

  before(async () => {
    testApp = await startTestApp({
      TRAINER_SLOTS: '1',
      TRAINER_BACKEND: 'wasm',
      JOB_POLL_MS: '100',
      INFERENCE_MAX_BATCH: '8',
      INFERENCE_HOLD_AT_TOKENS: '0',
    });
    api = apiClient(testApp.baseUrl, testApp.adminKey);
    inference = testApp.app.get(InferencePool);
    const points = Array.from({ length: 60 }, (_, i) => ({
      x: i % 7,
      y: (i * 3) % 5,
      shape: i % 2 === 0 ? 'round' : 'square',
      target: 1000 + 20 * (i % 7) - 5 * ((i * 3) % 5),
    }));
    const kinds = await uploadDataset(
      api,
      'kinds',
      'classification',
      points.map(({ x, y, shape }) => ({ x, y, shape, kind: x > 3 ? 'big' : 'small' })),
      { schema: { inputFields: ['x', 'y', 'shape'], labelField: 'kind' } },
    );
    const prices = await uploadDataset(api, 'prices', 'regression', points, {
      schema: { inputFields: ['x', 'y', 'shape'], labelField: 'target' },
    });
    const stories = await uploadDataset(api, 'stories', 'causal-lm', textRows(60, 5));
    await testApp.app.get(TrainerPool).start();
    const tabular = { maxSteps: 30, batchSize: 8, learningRate: 0.05, validationFraction: 0.2 };
    await train({
      model: { family: 'mlp', hiddenSizes: [8] },
      trainingData: { datasetId: kinds, version: 1 },
      hyperparameters: tabular,
      outputModelName: 'kinds',
    });
    await train({
      model: { family: 'mlp', hiddenSizes: [8] },
      trainingData: { datasetId: prices, version: 1 },
      hyperparameters: tabular,
      outputModelName: 'prices',
    });
    await train({
      model: { family: 'gpt2', nLayer: 1, nHead: 2, nEmbd: 32, vocabSize: 300 },
      trainingData: { datasetId: stories, version: 1 },
      hyperparameters: { maxSteps: 4, batchSize: 8, sequenceLength: 32, validationFraction: 0.2 },
      outputModelName: 'stories',
    });
  });
  after(async () => {
    await testApp.close();
  });

  it('classifies with a label and the probability of every label, naming the version', async () => {
    const response = await predict('kinds', 1, {
      inputs: [
        { x: 6, y: 1, shape: 'round' },
        { x: 0, y: 2, shape: 'square' },
      ],
    });
    expectStatus(response, 200);
    const body = response.body;
    assert.equal(body.model, 'kinds');
    assert.equal(body.version, 1);
    assert.equal(body.task, 'classification');
    assert.match(body.modelVersionId, /^[0-9a-f-]{36}$/);
    assert.equal(body.predictions.length, 2);
    for (const prediction of body.predictions) {
      assert.deepEqual(Object.keys(prediction.probabilities!).sort(), ['big', 'small']);
      const total = Object.values(prediction.probabilities!).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(total - 1) < 1e-5);
      const best = Object.entries(prediction.probabilities!).sort((a, b) => b[1] - a[1])[0][0];
      assert.equal(prediction.label, best);
    }
    assert.deepEqual(
      body.predictions.map((prediction) => prediction.label),
      ['big', 'small'],
    );
  });

  it("answers regression in the target's own units", async () => {
    const response = await predict('prices', 1, {
      inputs: [
        { x: 6, y: 0, shape: 'round' },
        { x: 0, y: 4, shape: 'square' },
      ],
    });
    expectStatus(response, 200);
    const [high, low] = response.body.predictions.map((prediction) => prediction.value!);
    // Targets run from 980 to 1120: standardised outputs would sit near 0.
    assert.ok(high > 950 && high < 1200 && low > 900 && low < 1150, `${high} ${low}`);
    assert.ok(high > low);
  });

  it('generates the same text from the same seed, and greedy text at temperature 0', async () => {
    const body = { inputs: [{ text: 'the film was' }], maxNewTokens: 12, temperature: 0.9, topK: 20, seed: 7 };
    const first = await released(predict('stories', 1, body));
    expectStatus(first, 200);
    const second = await released(predict('stories', 1, body));
    assert.deepEqual(second.body.predictions, first.body.predictions);
    const generation = first.body.predictions[0];
    assert.equal(typeof generation.text, 'string');
    assert.ok(generation.promptTokens! > 0);
    assert.ok(generation.completionTokens! >= 1 && generation.completionTokens! <= 12);
    assert.ok(['stop', 'length'].includes(generation.finishReason!));
    if (generation.finishReason === 'length') {
      assert.equal(generation.completionTokens, 12);
    }
    const greedy = { inputs: [{ text: 'the film was' }], maxNewTokens: 8, temperature: 0 };
    const [a, b] = [await released(predict('stories', 1, greedy)), await released(predict('stories', 1, greedy))];
    assert.deepEqual(a.body.predictions, b.body.predictions);
  });

  it('streams token events and one final done event holding the whole response', async () => {
    const response = fetch(`${testApp.baseUrl}/api/v1/models/stories/predict?version=1`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${testApp.adminKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ text: 'our trip' }],
        maxNewTokens: 10,
        temperature: 0.8,
        seed: 3,
        stream: true,
      }),
    });
    const streamed = await released(response);
    assert.equal(streamed.status, 200);
    assert.match(streamed.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = parseEvents(await streamed.text());
    const done = events[events.length - 1];
    assert.equal(done.event, 'done');
    assert.ok(events.slice(0, -1).every((event) => event.event === 'token'));
    const tokens = events.slice(0, -1).map((event) => (event.data as { index: number; text: string }).text);
    const final = done.data as PredictResponse;
    assert.equal(final.version, 1);
    assert.equal(tokens.join(''), final.predictions[0].text);
    // The same request without streaming gives the same text.
    const plain = await released(
      predict('stories', 1, { inputs: [{ text: 'our trip' }], maxNewTokens: 10, temperature: 0.8, seed: 3 }),
    );
    assert.deepEqual(plain.body.predictions, final.predictions);
  });

  it('stays live while a generation is held mid-way, and answers other models meanwhile', async () => {
    const generation = predict('stories', 1, { inputs: [{ text: 'the meal' }], maxNewTokens: 6, temperature: 0 });
    const held = await inference.nextHold();
    const live = await fetch(`${testApp.baseUrl}/health/live`);
    assert.equal(live.status, 200);
    // The worker itself is free between tokens: a classification on it answers while the generation waits.
    expectStatus(await predict('kinds', 1, { inputs: [{ x: 1, y: 1, shape: 'round' }] }), 200);
    inference.release(held);
    expectStatus(await generation, 200);
  });

  it('refuses too many inputs, inputs that do not fit the model, and options its head does not take', async () => {
    const nine = Array.from({ length: 9 }, () => ({ x: 1, y: 1, shape: 'round' }));
    const tooMany = (await predict('kinds', 1, { inputs: nine })) as ApiResponse<unknown> as ApiResponse<ErrorBody>;
    expectStatus(tooMany, 400);
    assert.equal(tooMany.body.code, 'validation_failed');
    assert.equal(tooMany.body.details[0].field, 'inputs');

    const bad = (await predict('kinds', 1, {
      inputs: [
        { x: 'many', y: 1, shape: 'round' },
        { x: 1, y: 1, shape: 'round', colour: 'red' },
        { y: 1, shape: 'round' },
      ],
    })) as ApiResponse<unknown> as ApiResponse<ErrorBody>;
    expectStatus(bad, 400);
    assert.equal(bad.body.code, 'validation_failed');
    assert.deepEqual(
      bad.body.details.map((detail) => detail.field),
      ['inputs.0.x', 'inputs.1.colour', 'inputs.2.x'],
    );
    for (const body of [
      { inputs: [] },
      { inputs: ['text'] },
      { inputs: [{ x: 1, y: 1, shape: 'round' }], temperature: 0.5 },
      { inputs: [{ x: 1, y: 1, shape: 'round' }], stream: true },
    ]) {
      const refused = (await predict('kinds', 1, body)) as ApiResponse<unknown> as ApiResponse<ErrorBody>;
      expectStatus(refused, 400);
      assert.equal(refused.body.code, 'validation_failed');
    }
    const tooLong = (await predict('stories', 1, {
      inputs: [{ text: 'x' }],
      maxNewTokens: 100_000,
    })) as ApiResponse<unknown> as ApiResponse<ErrorBody>;
    expectStatus(tooLong, 400);
    assert.equal(tooLong.body.details[0].field, 'maxNewTokens');
    expectStatus(await api('POST', '/api/v1/models/kinds/predict', { inputs: [{ x: 1, y: 1, shape: 'round' }] }), 400);
  });

  it("answers 404 for unknown versions and models, and for another project's models", async () => {
    const input = { inputs: [{ x: 1, y: 1, shape: 'round' }] };
    const unknownVersion = (await predict('kinds', 9, input)) as ApiResponse<unknown> as ApiResponse<ErrorBody>;
    expectStatus(unknownVersion, 404);
    assert.equal(unknownVersion.body.code, 'not_found');
    expectStatus(await predict('nothing', 1, input), 404);
    const project = await api<{ id: string }>('POST', '/api/v1/projects', { name: 'other-team' });
    const key = await api<{ secret: string }>('POST', '/api/v1/api-keys', {
      name: 'reader',
      scopes: ['models:read'],
      projectId: project.body.id,
    });
    const other = apiClient(testApp.baseUrl, key.body.secret);
    expectStatus(await other('POST', '/api/v1/models/kinds/predict?version=1', input), 404);
  });

  it('gives identical predictions from a fine-tuned imported model and its export imported again', async () => {
    const reviews = await uploadDataset(api, 'reviews', 'classification', sentimentRows(80, 3));
    await train({
      model: { family: 'gpt2', nLayer: 1, nHead: 2, nEmbd: 32, vocabSize: 300 },
      trainingData: { datasetId: reviews, version: 1 },
      hyperparameters: { maxSteps: 2, batchSize: 8, sequenceLength: 16, validationFraction: 0.2 },
      outputModelName: 'sentiment',
    });
    await importArchive('sentiment-base', await download('sentiment', 1));
    await train({
      baseModel: { name: 'sentiment-base' },
      trainingData: { datasetId: reviews, version: 1 },
      hyperparameters: { maxSteps: 3, batchSize: 8, sequenceLength: 16, validationFraction: 0.2 },
      outputModelName: 'sentiment-tuned',
    });
    await importArchive('sentiment-again', await download('sentiment-tuned', 1));
    const inputs = sentimentRows(6, 99).map(({ text }) => ({ text }));
    const tuned = await predict('sentiment-tuned', 1, { inputs });
    const again = await predict('sentiment-again', 1, { inputs });
    expectStatus(tuned, 200);
    expectStatus(again, 200);
    assert.notEqual(again.body.modelVersionId, tuned.body.modelVersionId);
    assert.deepEqual(again.body.predictions, tuned.body.predictions);
  });
});
