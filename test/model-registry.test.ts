/**
 * The registry's model and version records: PATCH-able descriptive fields, version state, size and
 * lineage summary, tombstone deletion, and jobs that name their base model by alias.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ArtifactStore } from '../src/platform/storage/artifact-store.js';
import { TrainerPool } from '../src/trainer/pool/trainer-pool.js';
import { apiClient, expectStatus } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { ended, sentimentRows, uploadDataset, waitForJob, type JobView } from './support/training-data.js';

interface ModelView {
  name: string;
  description: string | null;
  intendedUse: string | null;
  outOfScopeUse: string | null;
  limitations: string | null;
  tags: string[];
}
interface VersionView {
  id: string;
  version: number;
  state: string;
  deletedAt: string | null;
  sizeBytes: number;
  parameterCount: number;
  metrics: Record<string, unknown>;
  files: Array<{ name: string; sizeBytes: number }>;
  sourceJobId: string | null;
  lineage: {
    sourceJobId: string | null;
    baseModelVersion: { id: string; modelName: string; version: number } | null;
    datasetVersions: Array<{ id: string; datasetName: string; version: number; role: string }>;
    aliases: string[];
  };
}
interface ErrorView {
  code: string;
  details: Array<Record<string, unknown>>;
}

describe('model registry', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;
  let reader: ReturnType<typeof apiClient>;
  let datasetId: string;
  let trainSplit: { id: string; version: number };
  let uploadVersionId: string;

  const train = async (body: Record<string, unknown>) => {
    const created = await api<JobView & { baseModelAlias: string | null; spec: Record<string, unknown> }>(
      'POST',
      '/api/v1/jobs',
      body,
    );
    expectStatus(created, 201);
    const job = await waitForJob(api, created.body.id, ended);
    assert.equal(job.status, 'succeeded', JSON.stringify(job));
    return created.body;
  };

  before(async () => {
    testApp = await startTestApp({ TRAINER_SLOTS: '1', TRAINER_BACKEND: 'wasm', JOB_POLL_MS: '100' });
    api = apiClient(testApp.baseUrl, testApp.adminKey);
    const key = await api<{ secret: string }>('POST', '/api/v1/api-keys', { name: 'reader', scopes: ['models:read'] });
    expectStatus(key, 201);
    reader = apiClient(testApp.baseUrl, key.body.secret);
    datasetId = await uploadDataset(api, 'reviews', 'classification', sentimentRows(100, 7));
    const versions = await api<{ data: Array<{ id: string }> }>('GET', `/api/v1/datasets/${datasetId}/versions`);
    uploadVersionId = versions.body.data[0].id;
    const split = await api<{ versions: Array<{ id: string; version: number; splitName: string | null }> }>(
      'POST',
      `/api/v1/datasets/${datasetId}/versions/1/transforms`,
      { steps: [{ op: 'split', train: 0.8, validation: 0.2, test: 0, seed: 1 }] },
    );
    expectStatus(split, 201);
    trainSplit = split.body.versions.find((version) => version.splitName === 'train')!;
    await testApp.app.get(TrainerPool).start();
    await train({
      model: { family: 'gpt2', nLayer: 1, nHead: 2, nEmbd: 32, vocabSize: 300 },
      trainingData: { datasetId, version: trainSplit.version },
      hyperparameters: { maxSteps: 2, batchSize: 8, sequenceLength: 16, validationFraction: 0.2 },
      allowQualityFailures: true,
      outputModelName: 'sentiment',
    });
  });
  after(async () => {
    await testApp.close();
  });

  describe('PATCH /models/{name}', () => {
    it('sets, keeps (absent) and clears (null) descriptive fields, and audits the change', async () => {
      const set = await api<ModelView>('PATCH', '/api/v1/models/sentiment', {
        description: 'Review sentiment',
        intendedUse: 'Routing reviews',
        outOfScopeUse: 'Medical text',
        limitations: 'English only',
        tags: ['nlp', 'reviews'],
      });
      expectStatus(set, 200);
      assert.deepEqual(
        { ...set.body, id: undefined, createdAt: undefined, updatedAt: undefined },
        {
          id: undefined,
          name: 'sentiment',
          description: 'Review sentiment',
          intendedUse: 'Routing reviews',
          outOfScopeUse: 'Medical text',
          limitations: 'English only',
          tags: ['nlp', 'reviews'],
          createdAt: undefined,
          updatedAt: undefined,
        },
      );
      const partial = await api<ModelView>('PATCH', '/api/v1/models/sentiment', { limitations: null, tags: null });
      expectStatus(partial, 200);
      assert.equal(partial.body.description, 'Review sentiment');
      assert.equal(partial.body.intendedUse, 'Routing reviews');
      assert.equal(partial.body.limitations, null);
      assert.deepEqual(partial.body.tags, []);
      const got = await reader<ModelView>('GET', '/api/v1/models/sentiment');
      assert.equal(got.body.limitations, null);
      assert.equal(got.body.outOfScopeUse, 'Medical text');
      const audit = await api<{ data: Array<{ action: string; status: number }> }>('GET', '/api/v1/audit-events');
      assert.ok(audit.body.data.some((event) => event.action === 'updateModel' && event.status === 200));
    });

    it('refuses bad input with 400 and changes nothing', async () => {
      const before = await api<ModelView>('GET', '/api/v1/models/sentiment');
      for (const body of [
        { description: 'x'.repeat(10_001) },
        { tags: ['ok', 'ok'] },
        { tags: ['bad\ntag'] },
        { tags: Array.from({ length: 33 }, (_, i) => `t${i}`) },
        { tags: 'nlp' },
        { intendedUse: 5 },
        { name: 'renamed' },
      ]) {
        const response = await api<ErrorView>('PATCH', '/api/v1/models/sentiment', body);
        assert.equal(response.status, 400, JSON.stringify(body));
        assert.equal(response.body.code, 'validation_failed');
      }
      assert.deepEqual((await api<ModelView>('GET', '/api/v1/models/sentiment')).body, before.body);
    });

    it('needs models:write and an existing model', async () => {
      const forbidden = await reader<ErrorView>('PATCH', '/api/v1/models/sentiment', { description: 'nope' });
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.body.code, 'insufficient_scope');
      const missing = await api<ErrorView>('PATCH', '/api/v1/models/absent', { description: 'nope' });
      assert.equal(missing.status, 404);
    });
  });

  describe('versions', () => {
    it('carry state, size, parameters, metrics, files and a lineage summary', async () => {
      const version = await api<VersionView>('GET', '/api/v1/models/sentiment/versions/1');
      expectStatus(version, 200);
      const body = version.body;
      assert.equal(body.state, 'ready');
      assert.equal(body.deletedAt, null);
      assert.ok(body.files.length >= 2);
      assert.equal(
        body.sizeBytes,
        body.files.reduce((sum, file) => sum + file.sizeBytes, 0),
      );
      assert.ok(body.parameterCount > 0);
      assert.equal(typeof body.metrics.accuracy, 'number');
      assert.equal(body.lineage.sourceJobId, body.sourceJobId);
      assert.equal(body.lineage.baseModelVersion, null);
      assert.deepEqual(
        body.lineage.datasetVersions.map((data) => [data.id, data.role]),
        [
          [trainSplit.id, 'training'],
          [uploadVersionId, 'ancestor'],
        ],
      );
      assert.deepEqual(body.lineage.aliases, []);
    });

    it('a job takes its base model by alias, recording the alias and the version it resolved to', async () => {
      const promoted = await api('POST', '/api/v1/models/sentiment/aliases/production/promote', { version: 1 });
      expectStatus(promoted, 200);
      const job = await train({
        baseModel: { name: 'sentiment', alias: 'production' },
        trainingData: { datasetId, version: trainSplit.version },
        hyperparameters: { maxSteps: 1, batchSize: 8, sequenceLength: 16, validationFraction: 0.2 },
        allowQualityFailures: true,
        outputModelName: 'sentiment',
      });
      assert.equal(job.baseModelAlias, 'production');
      assert.equal((job.spec.baseModel as { version: number }).version, 1);
      const second = await api<VersionView>('GET', '/api/v1/models/sentiment/versions/2');
      assert.equal(second.body.lineage.baseModelVersion?.version, 1);
      assert.equal(second.body.lineage.baseModelVersion?.modelName, 'sentiment');
      const first = await api<VersionView>('GET', '/api/v1/models/sentiment/versions/1');
      assert.deepEqual(first.body.lineage.aliases, ['production']);
    });

    it('refuses an unknown alias (404 alias_not_found) and version with alias (400)', async () => {
      const base = {
        trainingData: { datasetId, version: trainSplit.version },
        hyperparameters: { maxSteps: 1, batchSize: 8, sequenceLength: 16 },
        allowQualityFailures: true,
        outputModelName: 'never',
      };
      const unknown = await api<ErrorView>('POST', '/api/v1/jobs', {
        ...base,
        baseModel: { name: 'sentiment', alias: 'staging' },
      });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.code, 'alias_not_found');
      const both = await api<ErrorView>('POST', '/api/v1/jobs', {
        ...base,
        baseModel: { name: 'sentiment', alias: 'production', version: 1 },
      });
      assert.equal(both.status, 400);
      const badName = await api<ErrorView>('POST', '/api/v1/jobs', {
        ...base,
        baseModel: { name: 'sentiment', alias: 'Not An Alias' },
      });
      assert.equal(badName.status, 400);
      const jobs = await api<{ data: Array<{ name: string }> }>('GET', '/api/v1/jobs');
      assert.ok(!jobs.body.data.some((job) => job.name.startsWith('never')));
    });
  });

  describe('DELETE /models/{name}/versions/{v}', () => {
    it('refuses while an alias points at the version, naming the alias', async () => {
      const refused = await api<ErrorView>('DELETE', '/api/v1/models/sentiment/versions/1');
      assert.equal(refused.status, 409);
      assert.equal(refused.body.code, 'model_version_in_use');
      assert.deepEqual(
        refused.body.details.map((detail) => detail.alias),
        ['production'],
      );
      const still = await api<VersionView>('GET', '/api/v1/models/sentiment/versions/1');
      assert.equal(still.body.state, 'ready');
    });

    it('needs models:write', async () => {
      const forbidden = await reader<ErrorView>('DELETE', '/api/v1/models/sentiment/versions/2');
      assert.equal(forbidden.status, 403);
      assert.equal((await api<VersionView>('GET', '/api/v1/models/sentiment/versions/2')).body.state, 'ready');
    });

    it('makes a tombstone: files leave the store, the row and lineage stay, any use is 410', async () => {
      const store = testApp.app.get(ArtifactStore);
      const before = await api<VersionView>('GET', '/api/v1/models/sentiment/versions/2');
      const [{ artifact_prefix: prefix }] = await testApp.dataSource.query<Array<{ artifact_prefix: string }>>(
        'SELECT artifact_prefix FROM model_versions WHERE id = $1',
        [before.body.id],
      );
      for (const file of before.body.files) {
        assert.equal(await store.exists(`${prefix}${file.name}`), true);
      }
      const deleted = await api<VersionView>('DELETE', '/api/v1/models/sentiment/versions/2');
      expectStatus(deleted, 200);
      assert.equal(deleted.body.state, 'deleted');
      assert.ok(deleted.body.deletedAt);
      assert.equal(deleted.body.lineage.baseModelVersion?.version, 1);
      for (const file of before.body.files) {
        assert.equal(await store.exists(`${prefix}${file.name}`), false, file.name);
      }
      const again = await api<VersionView>('DELETE', '/api/v1/models/sentiment/versions/2');
      expectStatus(again, 200);
      assert.equal(again.body.deletedAt, deleted.body.deletedAt);
      const listed = await api<{ data: VersionView[] }>('GET', '/api/v1/models/sentiment/versions');
      assert.deepEqual(
        listed.body.data.map((version) => [version.version, version.state]),
        [
          [2, 'deleted'],
          [1, 'ready'],
        ],
      );
      const download = await api<ErrorView>('GET', '/api/v1/models/sentiment/versions/2/download');
      assert.equal(download.status, 410);
      assert.equal(download.body.code, 'model_version_deleted');
      const job = await api<ErrorView>('POST', '/api/v1/jobs', {
        baseModel: { name: 'sentiment', version: 2 },
        trainingData: { datasetId, version: trainSplit.version },
        hyperparameters: { maxSteps: 1, batchSize: 8, sequenceLength: 16 },
        allowQualityFailures: true,
        outputModelName: 'never',
      });
      assert.equal(job.status, 410);
      assert.equal(job.body.code, 'model_version_deleted');
      const promote = await api<ErrorView>('POST', '/api/v1/models/sentiment/aliases/staging/promote', { version: 2 });
      assert.equal(promote.status, 410);
      const lineage = await api<{ root: { state: string } }>('GET', `/api/v1/lineage/model_version/${deleted.body.id}`);
      expectStatus(lineage, 200);
      assert.equal(lineage.body.root.state, 'deleted');
    });

    it('is 404 for an unknown version', async () => {
      const missing = await api<ErrorView>('DELETE', '/api/v1/models/sentiment/versions/99');
      assert.equal(missing.status, 404);
    });
  });
});
