import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { threadId } from 'node:worker_threads';
import { TransformRunner } from '../src/datasets/transforms/transform-runner.js';
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
  skipped: { splitName: string; reason: string }[];
  report: { step: number; op: string; rowsIn: number; rowsOut: number; details: Record<string, unknown> }[];
  statistics: Record<string, unknown>;
}
type Row = Record<string, unknown>;
interface Problem {
  code: string;
  message: string;
  details: Record<string, unknown>[];
}

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
    const refused = await transform(invalid.body.id, [{ op: 'clean', trim: true }]);
    expectStatus(refused, 409);
    assert.match((refused.body as unknown as Problem).message, /drop_invalid/, 'the refusal names the way forward');
    const versions = await api<{ data: unknown[] }>('GET', `/api/v1/datasets/${id}/versions`);
    assert.equal(versions.body.data.length, 1, 'refused transforms made no version');
  });

  it('refuses up front, with the estimate, a spec certain to pass TRANSFORM_MAX_OUTPUT_ROWS', async () => {
    const id = await dataset(
      'explosive',
      'classification',
      Array.from({ length: 400 }, (_, index) => ({
        text: `row ${index} has a few words`,
        label: index % 2 ? 'a' : 'b',
      })),
    );
    const augment = { op: 'augment_text', technique: 'eda', alpha: 0.1, copies: 8, seed: 1 };
    const response = await transform(id, [augment, augment, augment, augment, augment]);
    expectStatus(response, 422);
    const problem = response.body as unknown as Problem;
    assert.equal(problem.code, 'transform_output_too_large');
    const detail = problem.details[0];
    assert.equal(detail.field, 'steps.4', 'the first step past 10 million rows');
    assert.equal(detail.estimatedRows, 400 * 9 ** 5);
    assert.equal(detail.maximum, testApp.config.transforms.maxOutputRows);
    const estimates = detail.estimates as { rows: number }[];
    assert.equal(estimates[3].rows, 400 * 9 ** 4);
    const versions = await api<{ data: unknown[] }>('GET', `/api/v1/datasets/${id}/versions`);
    assert.equal(versions.body.data.length, 1, 'nothing was stored');
  });

  it('runs steps in a worker thread: the API answers while a transform is held at a step', async () => {
    const id = await dataset(
      'held',
      'classification',
      Array.from({ length: 50 }, (_, index) => ({ text: `held row ${index}`, label: index % 2 ? 'a' : 'b' })),
    );
    const runner = testApp.app.get(TransformRunner);
    let reached!: (info: { step: number; threadId: number }) => void;
    const atStep = new Promise<{ step: number; threadId: number }>((resolve) => {
      reached = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    runner.hooks.beforeStep = async (step, info) => {
      if (step === 1) {
        reached({ step, threadId: info.threadId });
        await released;
      }
    };
    try {
      const pending = transform(id, [
        { op: 'dedupe', mode: 'exact' },
        { op: 'augment_text', technique: 'eda', alpha: 0.2, copies: 2, seed: 3 },
      ]);
      const held = await atStep;
      assert.notEqual(held.threadId, threadId, 'the step runs on another thread');
      const live = await fetch(`${testApp.baseUrl}/health/live`);
      assert.equal(live.status, 200, 'the event loop serves requests while the transform is mid-way');
      const versions = await api<{ data: unknown[] }>('GET', `/api/v1/datasets/${id}/versions`);
      assert.equal(versions.body.data.length, 1, 'the transform has not finished');
      release();
      const result = await pending;
      expectStatus(result, 201);
      assert.equal(result.body.versions[0].rowCount, 150);
    } finally {
      runner.hooks.beforeStep = undefined;
      release();
    }
  });

  it('repairs an invalid version with drop_invalid: a ready version without the failing rows', async () => {
    const created = await api<{ id: string }>('POST', '/api/v1/datasets', {
      name: 'repairable',
      task: 'classification',
      ...provenance,
    });
    const body =
      [
        '{"text":"good one","label":"a"}',
        '{"text":"no label"}',
        '{"text":"good two","label":"b"}',
        'not json at all',
        '{"label":"a"}',
        '{"text":"good three","label":"a"}',
      ].join('\n') + '\n';
    const upload = await api<Version>('POST', `/api/v1/datasets/${created.body.id}/versions`, body, {
      'Content-Type': 'application/x-ndjson',
    });
    assert.equal(upload.body.state, 'invalid');

    const job = await api<Problem>('POST', '/api/v1/jobs', {
      model: { family: 'gpt2', nLayer: 1, nHead: 2, nEmbd: 32, vocabSize: 300 },
      trainingData: { datasetId: created.body.id, version: 1 },
      hyperparameters: { epochs: 1, batchSize: 4, sequenceLength: 16 },
      outputModelName: 'never-trained',
    });
    expectStatus(job, 400);
    assert.match(job.body.message, /"op":"drop_invalid"/, 'training names the repair');

    const repaired = await transform(created.body.id, [{ op: 'drop_invalid' }, { op: 'clean' }]);
    expectStatus(repaired, 201);
    const [version] = repaired.body.versions;
    assert.equal(version.state, 'ready');
    assert.equal(version.parentVersionId, upload.body.id, 'lineage to the invalid version');
    assert.equal(version.rowCount, 3);
    const details = repaired.body.report[0].details;
    assert.equal(details.removedCount, 2);
    assert.deepEqual(
      (details.removed as { line: number; field?: string }[]).map((row) => [row.line, row.field]),
      [
        [2, 'label'],
        [5, 'text'],
      ],
    );
    assert.equal(details.unreadableLines, 1);
    assert.deepEqual(
      (await rowsOf(created.body.id, version.version)).map((row) => row.text),
      ['good one', 'good two', 'good three'],
    );

    const late = await transform(created.body.id, [{ op: 'clean' }, { op: 'drop_invalid' }], version.version);
    expectStatus(late, 400);
    assert.match(JSON.stringify(late.body), /drop_invalid must be the first step/);
  });

  it('makes no version for a split part with fraction 0 or no rows, and says so', async () => {
    const id = await dataset(
      'split-parts',
      'causal-lm',
      Array.from({ length: 10 }, (_, index) => ({ text: `split row ${index}` })),
    );
    const noTest = await transform(id, [{ op: 'split', train: 0.8, validation: 0.2, test: 0, seed: 1 }]);
    expectStatus(noTest, 201);
    assert.deepEqual(
      noTest.body.versions.map((version) => [version.splitName, version.rowCount]),
      [
        ['train', 8],
        ['validation', 2],
      ],
    );
    assert.deepEqual(noTest.body.skipped, [{ splitName: 'test', reason: 'fraction 0' }]);

    const tiny = await dataset('split-tiny', 'causal-lm', [{ text: 'the only row' }]);
    const empty = await transform(tiny, [{ op: 'split', train: 0.5, validation: 0.25, test: 0.25, seed: 1 }]);
    expectStatus(empty, 201);
    assert.deepEqual(
      empty.body.versions.map((version) => version.splitName),
      ['train'],
    );
    assert.deepEqual(empty.body.skipped, [
      { splitName: 'validation', reason: 'no rows' },
      { splitName: 'test', reason: 'no rows' },
    ]);
    const versions = await api<{ data: Version[] }>('GET', `/api/v1/datasets/${tiny}/versions`);
    assert.ok(
      versions.body.data.every((version) => version.rowCount > 0),
      'no empty version',
    );
  });

  it('records transform durations in tuneforge_transform_duration_seconds', async () => {
    const metrics = await fetch(`${testApp.baseUrl}/metrics`, {
      headers: { Authorization: `Bearer ${testApp.adminKey}` },
    });
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    assert.match(text, /tuneforge_transform_duration_seconds_count\{outcome="succeeded"\} [1-9]/);
    assert.match(text, /tuneforge_transform_duration_seconds_count\{outcome="refused"\} [1-9]/);
  });
});

describe('dataset transforms past their output limits', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;
  const provenance = { source: 'generated for tests', license: 'CC0-1.0', containsPersonalData: 'no' };

  before(async () => {
    testApp = await startTestApp({ TRANSFORM_MAX_OUTPUT_ROWS: '50', TRANSFORM_MAX_OUTPUT_BYTES: '4kb' });
    api = apiClient(testApp.baseUrl, testApp.adminKey);
  });
  after(async () => {
    await testApp.close();
  });

  const dataset = async (name: string, rows: Row[]) => {
    const created = await api<{ id: string }>('POST', '/api/v1/datasets', {
      name,
      task: 'classification',
      ...provenance,
    });
    expectStatus(created, 201);
    expectStatus(
      await api('POST', `/api/v1/datasets/${created.body.id}/versions`, jsonl(rows), {
        'Content-Type': 'application/x-ndjson',
      }),
      201,
    );
    return created.body.id;
  };
  const expectStopped = async (id: string, steps: unknown[], limit: string) => {
    const response = await api<Problem>('POST', `/api/v1/datasets/${id}/versions/1/transforms`, { steps });
    expectStatus(response, 422);
    assert.equal(response.body.code, 'transform_output_too_large');
    assert.equal(response.body.details[0].limit, limit);
    assert.equal(response.body.details[0].reason, 'output too large');
    const versions = await api<{ data: unknown[] }>('GET', `/api/v1/datasets/${id}/versions`);
    assert.equal(versions.body.data.length, 1, 'nothing was stored');
    const spools = await readdir(path.join(testApp.config.dataDir, 'tmp', 'transforms'));
    assert.deepEqual(spools, [], 'no spool is left behind');
  };

  it('stops a step that passes the row limit while running (oversampling cannot be estimated)', async () => {
    const id = await dataset('imbalanced', [
      ...Array.from({ length: 30 }, (_, index) => ({ text: `common ${index}`, label: 'common' })),
      ...Array.from({ length: 10 }, (_, index) => ({ text: `rare ${index}`, label: 'rare' })),
    ]);
    await expectStopped(id, [{ op: 'oversample', strategy: 'match_majority', seed: 1 }], 'rows');
  });

  it('stops a step that passes the byte limit', async () => {
    const id = await dataset(
      'wordy',
      Array.from({ length: 20 }, (_, index) => ({ text: `${'long words '.repeat(30)}${index}`, label: 'a' })),
    );
    await expectStopped(id, [{ op: 'clean', lowercase: true }], 'bytes');
  });
});
