/**
 * Aliases: gates stored on an alias, gated promotion (passed, blocked and forced), the full
 * history with time travel, removal, and alias moves in the lineage graph.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TrainerPool } from '../src/trainer/pool/trainer-pool.js';
import { apiClient, expectStatus } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { ended, sentimentRows, uploadDataset, waitForJob, type JobView } from './support/training-data.js';

interface GateResultView {
  kind: string;
  passed: boolean;
  detail: string;
  figures: Record<string, unknown>;
}
interface AliasView {
  name: string;
  version: number | null;
  modelVersionId: string | null;
  movedAt: string | null;
  gates: unknown[];
}
interface HistoryEntryView {
  id: string;
  kind: string;
  fromVersion: number | null;
  toVersion: number | null;
  actorKeyId: string | null;
  reason: string | null;
  gateReport: { passed: boolean; results: GateResultView[] } | null;
  createdAt: string;
}
interface ErrorView {
  code: string;
  details: Array<Record<string, unknown>>;
}

const ALIASES = '/api/v1/models/clf/aliases';

describe('model aliases', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;
  let writer: ReturnType<typeof apiClient>;
  let reader: ReturnType<typeof apiClient>;
  let cleanVersionId: string;
  const versionIds = new Map<number, string>();

  const train = async (datasetId: string) => {
    const created = await api<JobView>('POST', '/api/v1/jobs', {
      model: { family: 'gpt2', nLayer: 1, nHead: 2, nEmbd: 32, vocabSize: 300 },
      trainingData: { datasetId, version: 1 },
      hyperparameters: { maxSteps: 2, batchSize: 8, sequenceLength: 16, validationFraction: 0.2 },
      allowQualityFailures: true,
      outputModelName: 'clf',
    });
    expectStatus(created, 201);
    const job = await waitForJob(api, created.body.id, ended);
    assert.equal(job.status, 'succeeded', JSON.stringify(job));
  };
  const history = async () => {
    const response = await api<{ data: HistoryEntryView[] }>('GET', `${ALIASES}/production/history`);
    expectStatus(response, 200);
    return response.body.data;
  };

  before(async () => {
    testApp = await startTestApp({ TRAINER_SLOTS: '1', TRAINER_BACKEND: 'wasm', JOB_POLL_MS: '100' });
    api = apiClient(testApp.baseUrl, testApp.adminKey);
    for (const [name, scopes] of [
      ['writer', ['models:write', 'models:read']],
      ['reader', ['models:read']],
    ] as const) {
      const key = await api<{ secret: string }>('POST', '/api/v1/api-keys', { name, scopes });
      expectStatus(key, 201);
      if (name === 'writer') {
        writer = apiClient(testApp.baseUrl, key.body.secret);
      } else {
        reader = apiClient(testApp.baseUrl, key.body.secret);
      }
    }
    // Templated rows: lift the warnings they trip by design, so this version's verdict is pass.
    const relaxed = { warn: null, fail: null };
    const clean = await uploadDataset(api, 'clean', 'classification', sentimentRows(100, 3), {
      qualityThresholds: {
        maxExactDuplicateRatio: relaxed,
        maxNearDuplicateRatio: relaxed,
        maxLabelConflictRatio: relaxed,
        minDistinct2: relaxed,
        maxLengthOutlierRatio: relaxed,
        minClassCount: relaxed,
        maxImbalanceRatio: relaxed,
      },
    });
    const withEmails = await uploadDataset(
      api,
      'with-emails',
      'classification',
      sentimentRows(100, 4).map((row, index) =>
        index % 5 === 0 ? { ...row, text: `${row.text}, mail jane.doe${index}@example.com` } : row,
      ),
    );
    const cleanData = await api<{ data: Array<{ id: string }> }>('GET', `/api/v1/datasets/${clean}/versions`);
    cleanVersionId = cleanData.body.data[0].id;
    await testApp.app.get(TrainerPool).start();
    await train(clean);
    await train(withEmails);
    for (const version of [1, 2]) {
      versionIds.set(version, (await api<{ id: string }>('GET', `/api/v1/models/clf/versions/${version}`)).body.id);
    }
  });
  after(async () => {
    await testApp.close();
  });

  it('refuses invalid gates and alias names with 400, storing nothing', async () => {
    for (const gates of [
      [{ kind: 'improves_on_production' }],
      [{ kind: 'metric', source: 'training', metric: 'accuracy', value: 0.9 }],
      [{ kind: 'metric', source: 'training', metric: 'accuracy', op: '>=', value: '0.9' }],
      [{ kind: 'metric', source: 'evaluation', metric: 'accuracy', op: '>=', value: 0.9 }],
      [{ kind: 'no_personal_data', extra: true }],
      [null],
      Array.from({ length: 21 }, () => ({ kind: 'no_personal_data' })),
      'no_personal_data',
    ]) {
      const response = await api<ErrorView>('PUT', `${ALIASES}/production/gates`, { gates });
      assert.equal(response.status, 400, JSON.stringify(gates));
      assert.equal(response.body.code, 'validation_failed');
    }
    const badName = await api<ErrorView>('PUT', `${ALIASES}/Production!/gates`, { gates: [] });
    assert.equal(badName.status, 400);
    const listed = await api<{ data: AliasView[] }>('GET', ALIASES);
    expectStatus(listed, 200);
    assert.deepEqual(listed.body.data, []);
    assert.equal((await api('GET', `${ALIASES}/production/gates`)).status, 404);
    assert.equal((await api('GET', '/api/v1/models/nope/aliases')).status, 404);
  });

  it('stores gates on an alias (created pointing at no version)', async () => {
    const gates = [
      { kind: 'training_data_quality_passed' },
      { kind: 'no_personal_data' },
      { kind: 'metric', source: 'training', metric: 'accuracy', op: '>=', value: 0 },
    ];
    const forbidden = await reader<ErrorView>('PUT', `${ALIASES}/production/gates`, { gates });
    assert.equal(forbidden.status, 403);
    const put = await writer<{ alias: string; gates: unknown[] }>('PUT', `${ALIASES}/production/gates`, { gates });
    expectStatus(put, 200);
    assert.deepEqual(put.body, { alias: 'production', gates });
    assert.deepEqual((await reader('GET', `${ALIASES}/production/gates`)).body, { alias: 'production', gates });
    const alias = await reader<ErrorView>('GET', `${ALIASES}/production`);
    assert.equal(alias.status, 404, 'an alias that points nowhere has no current version');
    const listed = await reader<{ data: AliasView[] }>('GET', ALIASES);
    assert.deepEqual(
      listed.body.data.map((entry) => [entry.name, entry.version]),
      [['production', null]],
    );
  });

  it('promotes a version that passes every gate, answering the report', async () => {
    const promoted = await writer<{
      alias: AliasView;
      kind: string;
      gateReport: { passed: boolean; results: GateResultView[] };
      historyEntry: HistoryEntryView;
    }>('POST', `${ALIASES}/production/promote`, { version: 1, reason: 'first release' });
    expectStatus(promoted, 200);
    assert.equal(promoted.body.kind, 'promoted');
    assert.equal(promoted.body.alias.version, 1);
    assert.equal(promoted.body.alias.modelVersionId, versionIds.get(1));
    assert.equal(promoted.body.gateReport.passed, true, JSON.stringify(promoted.body.gateReport));
    assert.deepEqual(
      promoted.body.gateReport.results.map((result) => [result.kind, result.passed]),
      [
        ['training_data_quality_passed', true],
        ['no_personal_data', true],
        ['metric', true],
      ],
    );
    const figures = promoted.body.gateReport.results[0].figures as {
      datasetVersions: Array<{ datasetVersionId: string }>;
    };
    assert.deepEqual(
      figures.datasetVersions.map((data) => data.datasetVersionId),
      [cleanVersionId],
    );
    assert.equal(typeof (promoted.body.gateReport.results[2].figures as { actual: unknown }).actual, 'number');
    assert.equal(promoted.body.historyEntry.reason, 'first release');
    const current = await reader<AliasView>('GET', `${ALIASES}/production`);
    expectStatus(current, 200);
    assert.equal(current.body.version, 1);
    assert.equal(current.body.movedAt, promoted.body.historyEntry.createdAt);
  });

  it('blocks a version that fails a gate (409 with the report) and records the attempt', async () => {
    const blocked = await writer<ErrorView & { message: string }>('POST', `${ALIASES}/production/promote`, {
      version: 2,
    });
    assert.equal(blocked.status, 409);
    assert.equal(blocked.body.code, 'promotion_blocked');
    const noPersonalData = blocked.body.details.find((detail) => detail.kind === 'no_personal_data')!;
    assert.equal(noPersonalData.passed, false);
    assert.match(String(noPersonalData.reason), /with-emails v1: \d+ row\(s\) with personal data/);
    assert.equal((await reader<AliasView>('GET', `${ALIASES}/production`)).body.version, 1);
    const [latest] = await history();
    assert.equal(latest.kind, 'blocked');
    assert.equal(latest.fromVersion, 1);
    assert.equal(latest.toVersion, 2);
    assert.equal(latest.gateReport?.passed, false);
    assert.equal(latest.id, noPersonalData.historyEntryId);
  });

  it('forces past failing gates only with the admin scope and a reason, recording it as forced', async () => {
    const notAdmin = await writer<ErrorView>('POST', `${ALIASES}/production/promote`, {
      version: 2,
      force: true,
      reason: 'hotfix',
    });
    assert.equal(notAdmin.status, 403);
    assert.equal(notAdmin.body.code, 'insufficient_scope');
    for (const reason of [undefined, '', '   ']) {
      const noReason = await api<ErrorView>('POST', `${ALIASES}/production/promote`, {
        version: 2,
        force: true,
        reason,
      });
      assert.equal(noReason.status, 400);
    }
    const reader403 = await reader('POST', `${ALIASES}/production/promote`, { version: 2 });
    assert.equal(reader403.status, 403);
    assert.equal((await history()).length, 2, 'refused requests record nothing');
    const forced = await api<{ kind: string; alias: AliasView; gateReport: { passed: boolean } }>(
      'POST',
      `${ALIASES}/production/promote`,
      { version: 2, force: true, reason: 'hotfix for the tokenizer' },
    );
    expectStatus(forced, 200);
    assert.equal(forced.body.kind, 'forced');
    assert.equal(forced.body.alias.version, 2);
    assert.equal(forced.body.gateReport.passed, false);
    const [latest] = await history();
    assert.equal(latest.kind, 'forced');
    assert.equal(latest.reason, 'hotfix for the tokenizer');
    assert.equal(latest.gateReport?.passed, false);
    const audit = await api<{ data: Array<{ action: string; status: number }> }>('GET', '/api/v1/audit-events');
    assert.ok(audit.body.data.some((event) => event.action === 'promoteAlias' && event.status === 200));
    const unknownVersion = await api<ErrorView>('POST', `${ALIASES}/production/promote`, { version: 9 });
    assert.equal(unknownVersion.status, 404);
  });

  it('travels in time, pages its history and removes the alias', async () => {
    const entries = await history();
    assert.deepEqual(
      entries.map((entry) => entry.kind),
      ['forced', 'blocked', 'promoted'],
    );
    const [forced, , promoted] = entries;
    const at = async (instant: string) =>
      reader<AliasView>('GET', `${ALIASES}/production?at=${encodeURIComponent(instant)}`);
    assert.equal((await at(promoted.createdAt)).body.version, 1);
    assert.equal((await at(new Date(Date.parse(forced.createdAt) - 1).toISOString())).body.version, 1);
    assert.equal((await at(forced.createdAt)).body.version, 2);
    const tooEarly = await at(new Date(Date.parse(promoted.createdAt) - 1).toISOString());
    assert.equal(tooEarly.status, 404);
    assert.equal((await reader('GET', `${ALIASES}/production?at=yesterday`)).status, 400);

    const first = await reader<{ data: HistoryEntryView[]; nextCursor: string }>(
      'GET',
      `${ALIASES}/production/history?limit=2`,
    );
    assert.deepEqual(
      first.body.data.map((entry) => entry.kind),
      ['forced', 'blocked'],
    );
    const second = await reader<{ data: HistoryEntryView[]; nextCursor: string | null }>(
      'GET',
      `${ALIASES}/production/history?limit=2&cursor=${first.body.nextCursor}`,
    );
    assert.deepEqual(
      second.body.data.map((entry) => entry.kind),
      ['promoted'],
    );
    assert.equal(second.body.nextCursor, null);

    const busy = await api<ErrorView>('DELETE', '/api/v1/models/clf/versions/2');
    assert.equal(busy.status, 409);
    const removed = await writer<HistoryEntryView>('DELETE', `${ALIASES}/production`);
    expectStatus(removed, 200);
    assert.equal(removed.body.kind, 'removed');
    assert.equal(removed.body.fromVersion, 2);
    assert.equal((await reader('GET', `${ALIASES}/production`)).status, 404);
    assert.equal((await at(removed.body.createdAt)).status, 404);
    assert.equal((await at(forced.createdAt)).body.version, 2);
    assert.equal((await writer('DELETE', `${ALIASES}/production`)).status, 404);
    assert.deepEqual((await reader('GET', `${ALIASES}/production/gates`)).body, {
      alias: 'production',
      gates: [
        { kind: 'training_data_quality_passed' },
        { kind: 'no_personal_data' },
        { kind: 'metric', source: 'training', metric: 'accuracy', op: '>=', value: 0 },
      ],
    });
  });

  it('puts alias moves in the lineage graph', async () => {
    const entries = await history();
    const promoted = entries.find((entry) => entry.kind === 'promoted')!;
    const downstream = await reader<{
      nodes: Array<{ type: string; id: string; state: string | null; attributes: Record<string, unknown> }>;
      edges: Array<{ fromType: string; fromId: string; toType: string; toId: string; relation: string }>;
    }>('GET', `/api/v1/lineage/dataset_version/${cleanVersionId}?direction=downstream`);
    expectStatus(downstream, 200);
    const move = downstream.body.nodes.find((node) => node.type === 'alias_move' && node.id === promoted.id);
    assert.ok(move, JSON.stringify(downstream.body.nodes));
    assert.equal(move.state, 'promoted');
    assert.equal(move.attributes.alias, 'production');
    assert.ok(
      downstream.body.edges.some(
        (edge) =>
          edge.fromType === 'model_version' &&
          edge.fromId === versionIds.get(1) &&
          edge.toType === 'alias_move' &&
          edge.toId === promoted.id &&
          edge.relation === 'promoted_to',
      ),
    );
    const blocked = entries.find((entry) => entry.kind === 'blocked')!;
    assert.ok(!downstream.body.nodes.some((node) => node.id === blocked.id), 'a blocked attempt moved nothing');
    const upstream = await reader<{ nodes: Array<{ type: string; id: string }> }>(
      'GET',
      `/api/v1/lineage/alias_move/${promoted.id}`,
    );
    expectStatus(upstream, 200);
    assert.ok(upstream.body.nodes.some((node) => node.type === 'dataset_version' && node.id === cleanVersionId));
  });
});
