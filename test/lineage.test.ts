/**
 * Lineage across modules: an upload, its transformed split, a job trained on the split, its
 * checkpoints and the model version it produced, walked upstream and downstream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TrainerPool } from '../src/trainer/pool/trainer-pool.js';
import { apiClient, expectStatus } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { ended, sentimentRows, uploadDataset, waitForJob, type JobView } from './support/training-data.js';

interface Graph {
  root: { type: string; id: string };
  nodes: Array<{ type: string; id: string; label: string; distance: number; attributes: Record<string, unknown> }>;
  edges: Array<{ fromType: string; fromId: string; toType: string; toId: string; relation: string }>;
}

describe('lineage', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;
  let uploadId: string;
  let trainSplitId: string;
  let modelVersionId: string;
  let jobId: string;

  before(async () => {
    testApp = await startTestApp({ TRAINER_SLOTS: '1', TRAINER_BACKEND: 'wasm', JOB_POLL_MS: '100' });
    api = apiClient(testApp.baseUrl, testApp.adminKey);
    const datasetId = await uploadDataset(api, 'reviews', 'classification', sentimentRows(120, 5));
    const versions = await api<{ data: Array<{ id: string; version: number }> }>(
      'GET',
      `/api/v1/datasets/${datasetId}/versions`,
    );
    uploadId = versions.body.data[0].id;
    const split = await api<{ versions: Array<{ id: string; version: number; splitName: string | null }> }>(
      'POST',
      `/api/v1/datasets/${datasetId}/versions/1/transforms`,
      { steps: [{ op: 'split', train: 0.8, validation: 0.2, test: 0, seed: 1 }] },
    );
    expectStatus(split, 201);
    const train = split.body.versions.find((version) => version.splitName === 'train')!;
    trainSplitId = train.id;
    await testApp.app.get(TrainerPool).start();
    const created = await api<JobView>('POST', '/api/v1/jobs', {
      model: { family: 'gpt2', nLayer: 1, nHead: 2, nEmbd: 32, vocabSize: 300 },
      trainingData: { datasetId, version: train.version },
      hyperparameters: {
        maxSteps: 4,
        batchSize: 8,
        sequenceLength: 16,
        validationFraction: 0.2,
        checkpointEverySteps: 2,
      },
      allowQualityFailures: true,
      outputModelName: 'sentiment',
    });
    expectStatus(created, 201);
    jobId = created.body.id;
    assert.equal((await waitForJob(api, jobId, ended)).status, 'succeeded');
    const version = await api<{ id: string }>('GET', '/api/v1/models/sentiment/versions/1');
    modelVersionId = version.body.id;
  });
  after(async () => {
    await testApp.close();
  });

  it('walks from a model version back to the original upload', async () => {
    const graph = await api<Graph>('GET', `/api/v1/lineage/model_version/${modelVersionId}?direction=upstream`);
    expectStatus(graph, 200);
    assert.deepEqual(graph.body.root, { ...graph.body.nodes[0] });
    const key = (node: { type: string; id: string }) => `${node.type}:${node.id}`;
    const nodes = new Map(graph.body.nodes.map((node) => [key(node), node]));
    assert.equal(nodes.get(`job:${jobId}`)?.distance, 1);
    assert.equal(nodes.get(`dataset_version:${trainSplitId}`)?.distance, 2);
    assert.equal(nodes.get(`dataset_version:${uploadId}`)?.distance, 3, 'the original upload');
    assert.match(nodes.get(`dataset_version:${uploadId}`)!.label, /^reviews v1$/);
    const relations = graph.body.edges.map((edge) => `${edge.fromType}-${edge.relation}->${edge.toType}`).sort();
    assert.ok(relations.includes('dataset_version-derived_from->dataset_version'));
    assert.ok(relations.includes('dataset_version-trained_on->job'));
    assert.ok(relations.includes('job-produced->model_version'));
    assert.ok(!graph.body.nodes.some((node) => node.type === 'checkpoint'), 'checkpoints are downstream of the job');

    const shallow = await api<Graph>('GET', `/api/v1/lineage/model_version/${modelVersionId}?depth=1`);
    assert.deepEqual(shallow.body.nodes.map((node) => node.type).sort(), ['job', 'model_version']);
  });

  it('answers which models used a data version, with the checkpoints on the way', async () => {
    const graph = await api<Graph>('GET', `/api/v1/lineage/dataset_version/${uploadId}?direction=downstream`);
    expectStatus(graph, 200);
    const types = new Set(graph.body.nodes.map((node) => `${node.type}:${node.id}`));
    assert.ok(types.has(`model_version:${modelVersionId}`));
    assert.ok(graph.body.nodes.some((node) => node.type === 'checkpoint'));
    const model = graph.body.nodes.find((node) => node.type === 'model_version')!;
    assert.deepEqual(model.attributes, { modelName: 'sentiment', version: 1 });

    // Deleting the data keeps it in the graph as a tombstone.
    const both = await api<Graph>('GET', `/api/v1/lineage/job/${jobId}?direction=both`);
    assert.ok(both.body.nodes.some((node) => node.id === uploadId));
    assert.ok(both.body.nodes.some((node) => node.id === modelVersionId));
  });

  it('refuses bad types and ids, and hides other projects', async () => {
    expectStatus(await api('GET', `/api/v1/lineage/nothing/${modelVersionId}`), 400);
    expectStatus(await api('GET', '/api/v1/lineage/model_version/not-a-uuid'), 400);
    expectStatus(await api('GET', `/api/v1/lineage/model_version/${modelVersionId}?depth=0`), 400);
    expectStatus(await api('GET', `/api/v1/lineage/model_version/${uploadId}`), 404);
    const project = await api<{ id: string }>('POST', '/api/v1/projects', { name: 'other-team' });
    const key = await api<{ secret: string }>('POST', '/api/v1/api-keys', {
      name: 'reader',
      scopes: ['models:read'],
      projectId: project.body.id,
    });
    const other = apiClient(testApp.baseUrl, key.body.secret);
    expectStatus(await other('GET', `/api/v1/lineage/model_version/${modelVersionId}`), 404);
  });
});
