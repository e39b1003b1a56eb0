import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiClient, expectStatus } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';

interface Version {
  id: string;
  version: number;
  state: string;
  sha256: string;
  rowCount: number;
  parentVersionId: string | null;
  splitName: string | null;
  transformSpec: unknown[] | null;
  statistics: Record<string, unknown>;
}
interface TransformResult {
  versions: Version[];
  report: { step: number; op: string; rowsIn: number; rowsOut: number; details: Record<string, unknown> }[];
  statistics: Record<string, unknown>;
}
type Row = Record<string, unknown>;

const jsonl = (rows: unknown[]) => rows.map((row) => JSON.stringify(row)).join('\n') + '\n';

describe('dataset transforms', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;
  const provenance = { source: 'generated for tests', license: 'CC0-1.0', containsPersonalData: 'unknown' };

  const dataset = async (name: string, task: string, rows: Row[], schema?: Record<string, unknown>) => {
    const created = await api<{ id: string }>('POST', '/api/v1/datasets', {
      name,
      task,
      ...provenance,
      ...(schema ? { schema } : {}),
    });
    expectStatus(created, 201);
    const uploaded = await api<Version>('POST', `/api/v1/datasets/${created.body.id}/versions`, jsonl(rows), {
      'Content-Type': 'application/x-ndjson',
    });
    expectStatus(uploaded, 201);
    return created.body.id;
  };
  const transform = (datasetId: string, steps: unknown[], version = 1) =>
    api<TransformResult>('POST', `/api/v1/datasets/${datasetId}/versions/${version}/transforms`, { steps });
  const rowsOf = async (datasetId: string, version: number): Promise<Row[]> => {
    const response = await api<{ rows: { record: Row }[] }>(
      'GET',
      `/api/v1/datasets/${datasetId}/versions/${version}/rows?limit=500`,
    );
    expectStatus(response, 200);
    return response.body.rows.map((row) => row.record);
  };

  before(async () => {
    testApp = await startTestApp();
    api = apiClient(testApp.baseUrl, testApp.adminKey);
  });
  after(async () => {
    await testApp.close();
  });

  it('cleans text and makes a new version linked to its parent with the spec', async () => {
    const id = await dataset('clean', 'classification', [
      { text: '  <b>Hello</b>&amp; ｗｏｒｌｄ\u0007 ', label: 'a' },
      { text: 'Plain', label: 'b' },
    ]);
    const steps = [{ op: 'clean', trim: true, nfkc: true, stripControl: true, stripHtml: true, lowercase: true }];
    const result = await transform(id, steps);
    expectStatus(result, 201);
    const [version] = result.body.versions;
    assert.equal(version.version, 2);
    assert.equal(version.state, 'ready');
    assert.ok(version.parentVersionId);
    assert.deepEqual(version.transformSpec, steps);
    const rows = await rowsOf(id, 2);
    assert.equal(rows[0].text, 'hello& world');
    assert.equal(rows[1].text, 'plain');
  });

  it('is deterministic: the same parent and steps give the same bytes and versions', async () => {
    const id = await dataset(
      'determinism',
      'classification',
      Array.from({ length: 40 }, (_, index) => ({
        text: `sentence number ${index} with some words in it`,
        label: index % 2 ? 'x' : 'y',
      })),
    );
    const steps = [
      { op: 'augment_text', technique: 'eda', copies: 2, alpha: 0.3, seed: 7 },
      { op: 'split', train: 0.5, validation: 0.25, test: 0.25, seed: 3 },
    ];
    const first = await transform(id, steps);
    expectStatus(first, 201);
    const second = await transform(id, steps);
    expectStatus(second, 201);
    assert.deepEqual(
      second.body.versions.map((version) => [version.id, version.sha256]),
      first.body.versions.map((version) => [version.id, version.sha256]),
    );
    const reseeded = await transform(id, [{ ...steps[0], seed: 8 }, steps[1]]);
    assert.notEqual(reseeded.body.versions[0].sha256, first.body.versions[0].sha256);
  });

  it('dedupes exact and near duplicates', async () => {
    const sentence = 'the quick brown fox jumps over the lazy dog near the river bank today';
    const id = await dataset('dedupe', 'classification', [
      { text: sentence, label: 'a' },
      { text: sentence.toUpperCase() + '  ', label: 'a' },
      { text: sentence.replace('today', 'tonight'), label: 'a' },
      { text: 'something entirely different about invoices and payments', label: 'b' },
    ]);
    const exact = await transform(id, [{ op: 'dedupe', mode: 'exact' }]);
    expectStatus(exact, 201);
    assert.equal(exact.body.versions[0].rowCount, 3);
    const near = await transform(id, [{ op: 'dedupe', mode: 'near', threshold: 0.7 }]);
    assert.equal(near.body.versions[0].rowCount, 2);
  });

  it('redacts personal data with typed placeholders', async () => {
    const id = await dataset('redact', 'classification', [
      { text: 'mail jane.doe@example.com or call +44 20 7946 0958', label: 'a' },
      { text: 'card 4111 1111 1111 1111 please', label: 'b' },
    ]);
    const result = await transform(id, [{ op: 'redact' }]);
    expectStatus(result, 201);
    const rows = await rowsOf(id, result.body.versions[0].version);
    assert.equal(rows[0].text, 'mail [EMAIL] or call [PHONE]');
    assert.equal(rows[1].text, 'card [PAYMENT_CARD] please');
    assert.doesNotMatch(JSON.stringify(rows), /jane|4111/);
  });

  it('maps and merges labels, and drops rows by rule', async () => {
    const id = await dataset('labels', 'classification', [
      { text: 'great product', label: 'very_positive' },
      { text: 'good product', label: 'positive' },
      { text: 'bad', label: 'negative' },
      { text: '', label: 'negative' },
    ]);
    const result = await transform(id, [
      { op: 'map_labels', mapping: { very_positive: 'positive' } },
      { op: 'drop_rows', dropEmpty: true, minTokens: 2 },
    ]);
    expectStatus(result, 201);
    const rows = await rowsOf(id, result.body.versions[0].version);
    assert.deepEqual(
      rows.map((row) => row.label),
      ['positive', 'positive'],
    );
    assert.deepEqual(
      result.body.report.map((step) => [step.op, step.rowsIn, step.rowsOut]),
      [
        ['map_labels', 4, 4],
        ['drop_rows', 4, 2],
      ],
    );
  });

  it('normalises numeric features and stores the statistics on the version', async () => {
    const id = await dataset(
      'tabular',
      'regression',
      [
        { age: 20, income: 1000, price: 1 },
        { age: 30, income: 2000, price: 2 },
        { age: 40, income: 3000, price: 3 },
      ],
      { inputFields: ['age', 'income'], labelField: 'price' },
    );
    const result = await transform(id, [{ op: 'normalize', fields: ['age', 'income'], method: 'zscore' }]);
    expectStatus(result, 201);
    const version = result.body.versions[0];
    const normalization = version.statistics.normalization as Record<string, { mean: number; std: number }>;
    assert.equal(normalization.age.mean, 30);
    assert.ok(Math.abs(normalization.age.std - Math.sqrt(200 / 3)) < 1e-9);
    const rows = await rowsOf(id, version.version);
    assert.ok(Math.abs((rows[1].age as number) - 0) < 1e-12);
    const noisy = await transform(id, [{ op: 'augment_numeric', fields: ['age'], noiseStd: 0.5, copies: 2, seed: 1 }]);
    expectStatus(noisy, 201);
    assert.equal(noisy.body.versions[0].rowCount, 9);
  });

  it('oversamples minority classes and splits stratified with a seed', async () => {
    const rows = [
      ...Array.from({ length: 30 }, (_, index) => ({ text: `common example ${index}`, label: 'common' })),
      ...Array.from({ length: 10 }, (_, index) => ({ text: `rare example ${index}`, label: 'rare' })),
    ];
    const id = await dataset('balance', 'classification', rows);
    const balanced = await transform(id, [{ op: 'oversample', strategy: 'match_majority', seed: 5 }]);
    expectStatus(balanced, 201);
    assert.equal(balanced.body.versions[0].rowCount, 60);

    const split = await transform(id, [{ op: 'split', train: 0.6, validation: 0.2, test: 0.2, seed: 11 }]);
    expectStatus(split, 201);
    const byName: Record<string, Version> = Object.fromEntries(
      split.body.versions.map((version) => [version.splitName ?? 'all', version]),
    );
    assert.deepEqual(Object.keys(byName).sort(), ['test', 'train', 'validation']);
    assert.equal(byName.train.rowCount + byName.validation.rowCount + byName.test.rowCount, 40);
    const validation = await rowsOf(id, byName.validation.version);
    assert.equal(validation.filter((row) => row.label === 'rare').length, 2, 'stratified: 20% of the 10 rare rows');
  });

  it('refuses bad specs with 400 naming the step, and invalid versions with 409', async () => {
    const id = await dataset('refusals', 'causal-lm', [{ text: 'some text' }]);
    const unknownOp = await transform(id, [{ op: 'teleport' }]);
    expectStatus(unknownOp, 400);
    const badSplit = await transform(id, [{ op: 'split', train: 0.9, validation: 0.9, test: 0.1, seed: 1 }]);
    expectStatus(badSplit, 400);
    const noLabels = await transform(id, [{ op: 'map_labels', mapping: { a: 'b' } }]);
    expectStatus(noLabels, 400);
    assert.match(JSON.stringify(noLabels.body), /steps\.0/);

    const invalid = await api<{ id: string }>('POST', '/api/v1/datasets', {
      name: 'broken',
      task: 'classification',
      ...provenance,
    });
    const upload = await api<Version>('POST', `/api/v1/datasets/${invalid.body.id}/versions`, '{"text":"no label"}\n', {
      'Content-Type': 'application/x-ndjson',
    });
    assert.equal(upload.body.state, 'invalid');
    expectStatus(await transform(invalid.body.id, [{ op: 'clean', trim: true }]), 409);
    const versions = await api<{ data: unknown[] }>('GET', `/api/v1/datasets/${id}/versions`);
    assert.equal(versions.body.data.length, 1, 'refused transforms made no version');
  });
});
