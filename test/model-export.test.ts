/**
 * Model bundles leave the service: a trained gpt2 classifier and an mlp download as tar and zip
 * archives, in Hugging Face's layout for gpt2 (config, prefixed tensor names, `format: pt`), with
 * exactly the stored weights.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { readTar } from '../src/platform/archive/tar.js';
import { readZip } from '../src/platform/archive/zip.js';
import { ArtifactStore } from '../src/platform/storage/artifact-store.js';
import { decodeSafetensors, readSafetensorsHeader } from '../src/trainer/formats/safetensors.js';
import { TrainerPool } from '../src/trainer/pool/trainer-pool.js';
import { apiClient, expectStatus } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { ended, sentimentRows, uploadDataset, waitForJob, type JobView } from './support/training-data.js';

async function bytesOf(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

describe('model version download', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;
  let stored: (name: string) => Promise<Buffer>;

  const download = async (path: string) => {
    const response = await fetch(`${testApp.baseUrl}${path}`, {
      headers: { Authorization: `Bearer ${testApp.adminKey}` },
    });
    return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
  };
  const untar = async (bytes: Buffer) => {
    const files = new Map<string, Buffer>();
    for await (const entry of readTar(Readable.from([bytes]))) {
      files.set(entry.name, await bytesOf(entry.body));
    }
    return files;
  };
  const train = async (body: Record<string, unknown>) => {
    const created = await api<JobView>('POST', '/api/v1/jobs', body);
    expectStatus(created, 201);
    const job = await waitForJob(api, created.body.id, ended);
    assert.equal(job.status, 'succeeded', JSON.stringify(job));
  };

  before(async () => {
    testApp = await startTestApp({ TRAINER_SLOTS: '1', TRAINER_BACKEND: 'wasm', JOB_POLL_MS: '100' });
    api = apiClient(testApp.baseUrl, testApp.adminKey);
    const store = testApp.app.get(ArtifactStore);
    stored = async (key: string) => bytesOf(await store.get(key));
    const labelled = await uploadDataset(api, 'reviews', 'classification', sentimentRows(80, 3));
    const tabular = await uploadDataset(
      api,
      'points',
      'regression',
      Array.from({ length: 60 }, (_, i) => ({ x: i % 7, y: (i * 3) % 5, target: (i % 7) * 2 - ((i * 3) % 5) })),
      { schema: { inputFields: ['x', 'y'], labelField: 'target' } },
    );
    await testApp.app.get(TrainerPool).start();
    await train({
      model: { family: 'gpt2', nLayer: 1, nHead: 2, nEmbd: 32, vocabSize: 300 },
      trainingData: { datasetId: labelled, version: 1 },
      hyperparameters: { maxSteps: 3, batchSize: 8, sequenceLength: 16, validationFraction: 0.2 },
      outputModelName: 'sentiment',
    });
    await train({
      model: { family: 'mlp', hiddenSizes: [8] },
      trainingData: { datasetId: tabular, version: 1 },
      hyperparameters: { maxSteps: 3, batchSize: 8, validationFraction: 0.2 },
      outputModelName: 'points',
    });
  });
  after(async () => {
    await testApp.close();
  });

  it('streams a gpt2 classifier as a Hugging Face model folder in a tar', async () => {
    const response = await download('/api/v1/models/sentiment/versions/1/download');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/x-tar');
    assert.match(response.headers.get('content-disposition') ?? '', /sentiment-v1\.tar/);
    const files = await untar(response.bytes);
    assert.deepEqual([...files.keys()].sort(), [
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
      'tuneforge-manifest.json',
    ]);
    const version = await api<{ manifest: Record<string, unknown> }>('GET', '/api/v1/models/sentiment/versions/1');
    const config = JSON.parse(files.get('config.json')!.toString()) as Record<string, unknown>;
    assert.deepEqual(config.architectures, ['GPT2ForSequenceClassification']);
    assert.equal(config.model_type, 'gpt2');
    assert.equal(config.n_embd, 32);
    assert.equal(config.n_layer, 1);
    assert.equal(config.vocab_size, (version.body.manifest.config as { vocabSize: number }).vocabSize);
    const labels = version.body.manifest.labels as string[];
    assert.deepEqual(config.id2label, Object.fromEntries(labels.map((label, index) => [String(index), label])));
    assert.equal(typeof config.pad_token_id, 'number');
    assert.deepEqual(JSON.parse(files.get('tuneforge-manifest.json')!.toString()), version.body.manifest);

    const weights = files.get('model.safetensors')!;
    const header = readSafetensorsHeader(weights);
    assert.equal(header.metadata.format, 'pt', 'transformers refuses safetensors without a framework tag');
    const names = Object.keys(header.tensors);
    assert.ok(names.includes('transformer.h.0.attn.c_attn.weight'));
    assert.ok(names.includes('transformer.wte.weight'));
    assert.ok(names.includes('score.weight'));
    assert.ok(names.every((name) => name === 'score.weight' || name.startsWith('transformer.')));

    const original = decodeSafetensors(await stored(`${await prefixOf('sentiment')}model.safetensors`));
    const exported = decodeSafetensors(weights);
    assert.equal(exported.tensors.size, original.tensors.size);
    for (const [name, tensor] of original.tensors) {
      const renamed = name === 'score.weight' ? name : `transformer.${name}`;
      assert.deepEqual(exported.tensors.get(renamed), tensor, renamed);
    }
    assert.deepEqual(files.get('tokenizer.json'), await stored(`${await prefixOf('sentiment')}tokenizer.json`));
  });

  it('gives the same files as a zip', async () => {
    const tar = await untar((await download('/api/v1/models/sentiment/versions/1/download')).bytes);
    const response = await download('/api/v1/models/sentiment/versions/1/download?format=zip');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/zip');
    const entries = await readZip({
      size: response.bytes.length,
      read: (start, end) => Promise.resolve(Readable.from([response.bytes.subarray(start, end + 1)])),
    });
    assert.deepEqual(entries.map((entry) => entry.name).sort(), [...tar.keys()].sort());
    for (const entry of entries) {
      assert.deepEqual(await bytesOf(await entry.open()), tar.get(entry.name), entry.name);
    }
  });

  it('exports an mlp with the manifest that states its preprocessing', async () => {
    const files = await untar((await download('/api/v1/models/points/versions/1/download')).bytes);
    assert.deepEqual([...files.keys()].sort(), ['manifest.json', 'model.safetensors', 'tuneforge-manifest.json']);
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as Record<string, unknown>;
    assert.equal(manifest.family, 'mlp');
    assert.ok(manifest.features, 'feature statistics are in the manifest');
    assert.ok(manifest.targetScaling, 'target scaling is in the manifest');
    const weights = decodeSafetensors(files.get('model.safetensors')!);
    const original = decodeSafetensors(await stored(`${await prefixOf('points')}model.safetensors`));
    assert.deepEqual(weights.tensors, original.tensors);
  });

  it('answers 404 for a missing version or model and 400 for an unknown format, and hides other projects', async () => {
    assert.equal((await download('/api/v1/models/sentiment/versions/9/download')).status, 404);
    assert.equal((await download('/api/v1/models/nothing/versions/1/download')).status, 404);
    const bad = await download('/api/v1/models/sentiment/versions/1/download?format=rar');
    assert.equal(bad.status, 400);
    assert.equal((JSON.parse(bad.bytes.toString()) as { code: string }).code, 'validation_failed');

    const project = await api<{ id: string }>('POST', '/api/v1/projects', { name: 'other-team' });
    const key = await api<{ secret: string }>('POST', '/api/v1/api-keys', {
      name: 'reader',
      scopes: ['models:read'],
      projectId: project.body.id,
    });
    const other = await fetch(`${testApp.baseUrl}/api/v1/models/sentiment/versions/1/download`, {
      headers: { Authorization: `Bearer ${key.body.secret}` },
    });
    assert.equal(other.status, 404);
  });

  async function prefixOf(model: string): Promise<string> {
    const rows = await testApp.dataSource.query<Array<{ artifact_prefix: string }>>(
      `SELECT v.artifact_prefix FROM model_versions v JOIN registered_models m ON m.id = v.model_id
        WHERE m.name = $1 AND v.version = 1`,
      [model],
    );
    return rows[0].artifact_prefix;
  }
});
