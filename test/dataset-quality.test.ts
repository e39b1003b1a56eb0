import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiClient, expectStatus } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';

interface Check {
  verdict: string;
}
interface Report {
  rows: number;
  completeness: {
    perField: Record<string, { missing: number; empty: number }>;
    emptyInputRows: number;
    errorRows: number;
    examples: number[];
    errorExamples: { line: number; field?: string; reason: string }[];
  } & Check;
  duplicates: {
    exact: { duplicateRows: number; groups: number; examples: { line: number; duplicateOf: number }[] };
    near: { duplicateRows: number; examples: { line: number; similarTo: number }[]; sampled: boolean };
  } & Check;
  labels: {
    distribution: Record<string, number>;
    imbalanceRatio: number;
    rareClasses: string[];
    conflicts: { groups: number; examples: { lines: number[]; labels: string[] }[] };
  } & Check;
  diversity: {
    distinct1: number;
    distinct2: number;
    vocabularySize: number;
    length: { min: number; max: number };
    lengthOutliers: { count: number; examples: number[] };
  } & Check;
  representativeness?: {
    reference: string;
    labelJsDivergence?: number;
    tokenJsDivergence: number;
    oovRate: number;
  } & Check;
  privacy: {
    rowsWithPersonalData: number;
    byType: Record<string, { count: number; rows: number; lines: number[]; examples: string[] }>;
  } & Check;
  overall: { verdict: string; score: number; reasons: string[] };
}

const WORDS =
  'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu'.split(
    ' ',
  );

/** A clean row: distinct words per index, so no accidental duplicates. */
function cleanText(index: number): string {
  const words = [];
  for (let position = 0; position < 12; position += 1) {
    words.push(
      WORDS[(index * 7 + position * 3 + Math.floor(index / 26)) % WORDS.length] + String((index * 13 + position) % 97),
    );
  }
  return words.join(' ');
}

describe('quality report finds exactly the planted defects', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;
  let datasetId: string;
  let report: Report;
  const planted = {
    exactDuplicateLines: [] as number[],
    nearDuplicateLines: [] as number[],
    conflictLines: [] as number[],
    missingTextLines: [] as number[],
    emptyTextLines: [] as number[],
    emailLines: [] as number[],
    cardLines: [] as number[],
    outlierLines: [] as number[],
  };

  before(async () => {
    testApp = await startTestApp();
    api = apiClient(testApp.baseUrl, testApp.adminKey);
    const rows: Record<string, unknown>[] = [];
    const add = (row: Record<string, unknown>) => rows.push(row) && rows.length;
    for (let index = 0; index < 300; index += 1) {
      add({ text: cleanText(index), label: ['billing', 'login', 'shipping'][index % 3] });
    }
    // 3 exact duplicates of line 1, differing only in case and whitespace.
    for (let copy = 0; copy < 3; copy += 1) {
      planted.exactDuplicateLines.push(add({ text: `  ${cleanText(0).toUpperCase()}   `, label: 'billing' }));
    }
    // 2 near duplicates: a long sentence with one word changed.
    const long =
      'the customer reports that the parcel arrived late and the box was damaged during the long journey from the ' +
      'warehouse to their home and that nobody answered the phone when they called the support line twice on monday ' +
      'so they would like a refund of the shipping costs and an apology from the courier company as soon as possible';
    add({ text: long, label: 'shipping' });
    planted.nearDuplicateLines.push(add({ text: long.replace('late', 'early'), label: 'shipping' }));
    planted.nearDuplicateLines.push(add({ text: long.replace('monday', 'friday'), label: 'shipping' }));
    // 1 label conflict: the same input as line 2 with another label.
    planted.conflictLines.push(add({ text: cleanText(1), label: 'billing' }));
    // Missing and empty input fields.
    planted.missingTextLines.push(add({ label: 'login' }), add({ label: 'login' }));
    planted.emptyTextLines.push(add({ text: '', label: 'login' }));
    // Personal data: two e-mails and one payment card.
    planted.emailLines.push(add({ text: 'please write to jane.doe@example.com about the refund', label: 'billing' }));
    planted.emailLines.push(add({ text: 'my address is bob@example.org thanks', label: 'login' }));
    planted.cardLines.push(add({ text: 'charged twice on card 4111 1111 1111 1111 yesterday', label: 'billing' }));
    // One very long row: a length outlier.
    planted.outlierLines.push(
      add({ text: Array.from({ length: 2000 }, (_, index) => `word${index}`).join(' '), label: 'shipping' }),
    );
    // A rare class with 2 rows.
    add({ text: 'a rare complaint about fraud detection', label: 'fraud' });
    add({ text: 'another rare complaint about fraud alerts', label: 'fraud' });

    const created = await api<{ id: string }>('POST', '/api/v1/datasets', {
      name: 'planted',
      task: 'classification',
      source: 'generated',
      license: 'CC0-1.0',
      containsPersonalData: 'unknown',
    });
    datasetId = created.body.id;
    const uploaded = await api(
      'POST',
      `/api/v1/datasets/${datasetId}/versions`,
      rows.map((row) => JSON.stringify(row)).join('\n') + '\n',
      {
        'Content-Type': 'application/x-ndjson',
      },
    );
    expectStatus(uploaded, 201);
    const quality = await api<{ report: Report }>('GET', `/api/v1/datasets/${datasetId}/versions/1/quality`);
    expectStatus(quality, 200);
    report = quality.body.report;
  });
  after(async () => {
    await testApp.close();
  });

  it('completeness: rows without their only input are error rows; empty inputs are counted', () => {
    assert.equal(report.completeness.errorRows, planted.missingTextLines.length);
    assert.deepEqual(
      report.completeness.errorExamples.map((error) => [error.line, error.field]),
      planted.missingTextLines.map((line) => [line, 'text']),
    );
    assert.equal(report.completeness.perField.text.empty, planted.emptyTextLines.length);
    assert.equal(report.completeness.emptyInputRows, planted.emptyTextLines.length);
    assert.deepEqual(report.completeness.examples, planted.emptyTextLines);
  });

  it('completeness: missing and empty fields per field of a tabular dataset', async () => {
    const created = await api<{ id: string }>('POST', '/api/v1/datasets', {
      name: 'tabular-gaps',
      task: 'regression',
      schema: { inputFields: ['age', 'income', 'city'], labelField: 'price' },
      source: 'generated',
      license: 'CC0-1.0',
      containsPersonalData: 'no',
    });
    const rows = Array.from({ length: 40 }, (_, index) => ({
      age: 20 + index,
      income: 1000 * index,
      city: `c${index}`,
      price: index,
    }));
    delete (rows[3] as Record<string, unknown>).income;
    delete (rows[9] as Record<string, unknown>).income;
    rows[5].city = '';
    const uploaded = await api(
      'POST',
      `/api/v1/datasets/${created.body.id}/versions`,
      rows.map((row) => JSON.stringify(row)).join('\n') + '\n',
      {
        'Content-Type': 'application/x-ndjson',
      },
    );
    expectStatus(uploaded, 201);
    const quality = await api<{ report: Report }>('GET', `/api/v1/datasets/${created.body.id}/versions/1/quality`);
    const perField = quality.body.report.completeness.perField;
    assert.deepEqual([perField.age.missing, perField.age.empty], [0, 0]);
    assert.deepEqual([perField.income.missing, perField.income.empty], [2, 0]);
    assert.deepEqual([perField.city.missing, perField.city.empty], [0, 1]);
    assert.deepEqual(quality.body.report.completeness.examples, [4, 6, 10]);
  });

  it('duplicates: exactly the exact and the near duplicates', () => {
    assert.equal(
      report.duplicates.exact.duplicateRows,
      planted.exactDuplicateLines.length + planted.conflictLines.length,
    );
    assert.deepEqual(
      report.duplicates.exact.examples.map((example) => example.line).sort((a, b) => a - b),
      [...planted.exactDuplicateLines, ...planted.conflictLines].sort((a, b) => a - b),
    );
    assert.ok(
      report.duplicates.exact.examples
        .filter((example) => planted.exactDuplicateLines.includes(example.line))
        .every((example) => example.duplicateOf === 1),
    );
    assert.equal(report.duplicates.near.duplicateRows, planted.nearDuplicateLines.length);
    assert.deepEqual(
      report.duplicates.near.examples.map((example) => example.line).sort((a, b) => a - b),
      planted.nearDuplicateLines,
    );
    assert.equal(report.duplicates.near.sampled, false);
  });

  it('labels: distribution, rare classes and the conflict', () => {
    assert.equal(report.labels.distribution.fraud, 2);
    assert.ok(report.labels.rareClasses.includes('fraud'));
    assert.equal(report.labels.conflicts.groups, 1);
    const [conflict] = report.labels.conflicts.examples;
    assert.deepEqual(
      conflict.lines.sort((a, b) => a - b),
      [2, ...planted.conflictLines],
    );
    assert.deepEqual([...conflict.labels].sort(), ['billing', 'login']);
    assert.ok(report.labels.imbalanceRatio > 40);
  });

  it('diversity: ratios in range and the length outlier', () => {
    assert.ok(report.diversity.distinct1 > 0 && report.diversity.distinct1 <= 1);
    assert.ok(report.diversity.distinct2 >= report.diversity.distinct1 * 0.5);
    assert.ok(report.diversity.vocabularySize > 100);
    assert.equal(report.diversity.length.max, 2000);
    assert.ok(report.diversity.lengthOutliers.examples.includes(planted.outlierLines[0]));
  });

  it('privacy: the e-mails and the card, by line, never in full', () => {
    assert.equal(report.privacy.rowsWithPersonalData, 3);
    assert.equal(report.privacy.byType.email.count, 2);
    assert.deepEqual(report.privacy.byType.email.lines, planted.emailLines);
    assert.equal(report.privacy.byType.payment_card.count, 1);
    assert.deepEqual(report.privacy.byType.payment_card.lines, planted.cardLines);
    const text = JSON.stringify(report);
    assert.doesNotMatch(text, /jane\.doe@example\.com|bob@example\.org|4111 1111 1111 1111/);
    assert.equal(report.privacy.verdict, 'warn');
  });

  it('overall: the verdict with one reason per problem', () => {
    assert.notEqual(report.overall.verdict, 'pass');
    assert.ok(report.overall.reasons.length >= 3, JSON.stringify(report.overall.reasons));
  });

  it('representativeness against a reference version', async () => {
    const shifted = Array.from({ length: 200 }, (_, index) => ({
      text: `completely different vocabulary ${index} zebra giraffe hippo`,
      label: 'shipping',
    }));
    const uploaded = await api<{ version: number }>(
      'POST',
      `/api/v1/datasets/${datasetId}/versions?referenceVersion=1`,
      shifted.map((row) => JSON.stringify(row)).join('\n') + '\n',
      { 'Content-Type': 'application/x-ndjson' },
    );
    expectStatus(uploaded, 201);
    const quality = await api<{ report: Report }>(
      'GET',
      `/api/v1/datasets/${datasetId}/versions/${uploaded.body.version}/quality`,
    );
    const representativeness = quality.body.report.representativeness;
    assert.ok(representativeness);
    assert.equal(representativeness.reference, 'version 1');
    assert.ok(representativeness.tokenJsDivergence > 0.5, String(representativeness.tokenJsDivergence));
    assert.ok(representativeness.oovRate > 0.5);
    assert.ok((representativeness.labelJsDivergence ?? 0) > 0.3);
    assert.equal(representativeness.verdict, 'fail');
  });

  it('thresholds set on the dataset change the verdict', async () => {
    const strict = await api<{ id: string }>('POST', '/api/v1/datasets', {
      name: 'strict',
      task: 'classification',
      source: 'generated',
      license: 'CC0-1.0',
      containsPersonalData: 'no',
      qualityThresholds: { minRows: { warn: null, fail: 1000 } },
    });
    const rows = Array.from({ length: 50 }, (_, index) => ({ text: cleanText(index), label: ['a', 'b'][index % 2] }));
    const uploaded = await api<{ qualityVerdict: string }>(
      'POST',
      `/api/v1/datasets/${strict.body.id}/versions`,
      rows.map((row) => JSON.stringify(row)).join('\n') + '\n',
      {
        'Content-Type': 'application/x-ndjson',
      },
    );
    expectStatus(uploaded, 201);
    assert.equal(uploaded.body.qualityVerdict, 'fail');

    const invalid = await api('POST', '/api/v1/datasets', {
      name: 'bad-thresholds',
      task: 'classification',
      source: 'generated',
      license: 'CC0-1.0',
      containsPersonalData: 'no',
      qualityThresholds: { maxImbalanceRatio: { warn: 'high' }, noSuchThreshold: { warn: 1 } },
    });
    expectStatus(invalid, 400);
    assert.match(JSON.stringify(invalid.body), /qualityThresholds/);
  });
});
