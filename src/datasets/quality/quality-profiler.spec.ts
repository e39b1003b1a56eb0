/**
 * End-to-end checks of the quality report, one dimension at a time: datasets with planted defects,
 * where the report must find exactly what was planted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DatasetRecord, DatasetSchema, DatasetTask } from '../dataset-types.js';
import { normaliseText, tokenize } from '../text/text.js';
import { QualityProfiler, type QualityProfilerOptions } from './quality-profiler.js';
import type { QualityReport } from './quality-report.js';
import { asRows, fakeDetector, seededRandom, sentence, wordList } from './quality-test-helpers.js';

const CLASSIFICATION: DatasetSchema = { inputFields: ['text'], labelField: 'label' };

function profile(
  records: DatasetRecord[],
  options: Partial<QualityProfilerOptions<'email' | 'secret'>> = {},
): { report: QualityReport; profiler: QualityProfiler<'email' | 'secret'> } {
  const task: DatasetTask = options.task ?? 'classification';
  const profiler = new QualityProfiler<'email' | 'secret'>({ task, schema: CLASSIFICATION, ...options });
  profiler.addRows(asRows(records));
  return { report: profiler.finish(), profiler };
}

/** Unique rows of 12–20 random words, labels alternating; the rows at `long` lines have 60 words. */
function baseRows(count: number, seed: number, long: number[] = []): DatasetRecord[] {
  const random = seededRandom(seed);
  const words = wordList(3000, random);
  return Array.from({ length: count }, (_, index) => ({
    text: sentence(random, words, long.includes(index + 1) ? 60 : 12 + Math.floor(random() * 9)),
    label: index % 2 === 0 ? 'pos' : 'neg',
  }));
}

function textOf(record: DatasetRecord): string {
  return record.text as string;
}

describe('QualityProfiler: duplicates', () => {
  const records = baseRows(300, 1, [11, 22, 33, 44]);
  const recase = (text: string, variant: number) =>
    variant % 2 === 0 ? `  ${text.toUpperCase().replaceAll(' ', '   ')}\t` : `\n${text.replace(' ', '\n ')} `;
  const exactOf = [5, 17, 120, 200, 250, 5];
  for (const [variant, line] of exactOf.entries()) {
    records.push({ text: recase(textOf(records[line - 1]), variant), label: records[line - 1].label });
  }
  const nearOf = [11, 22, 33, 44];
  for (const [variant, line] of nearOf.entries()) {
    const words = textOf(records[line - 1]).split(' ');
    words[30] = `planted${variant}word`;
    records.push({ text: words.join(' '), label: records[line - 1].label });
  }

  it('finds nothing in the base rows', () => {
    const { report } = profile(records.slice(0, 300));
    assert.equal(report.duplicates.exact.duplicateRows, 0);
    assert.equal(report.duplicates.near.duplicateRows, 0);
  });

  it('finds exactly the planted exact duplicates, whatever their case and whitespace', () => {
    const { report } = profile(records);
    assert.equal(report.rows, 310);
    assert.equal(report.duplicates.exact.duplicateRows, 6);
    assert.equal(report.duplicates.exact.groups, 5);
    assert.deepEqual(
      report.duplicates.exact.examples,
      exactOf.map((duplicateOf, index) => ({ line: 301 + index, duplicateOf })),
    );
  });

  it('finds exactly the planted near-duplicates, and not as exact ones', () => {
    const { report } = profile(records);
    const near = report.duplicates.near;
    assert.equal(near.duplicateRows, 4);
    assert.deepEqual(
      near.examples.map(({ line, similarTo }) => ({ line, similarTo })),
      nearOf.map((similarTo, index) => ({ line: 307 + index, similarTo })),
    );
    for (const example of near.examples) {
      assert.ok(example.similarity >= 0.8 && example.similarity < 1, String(example.similarity));
    }
    assert.equal(near.sampled, false);
    // Exact duplicates are not checked again for near-duplicates.
    assert.equal(near.sampleSize, 310 - 6);
    assert.equal(near.threshold, 0.8);
  });

  it('checks only the first nearDuplicateSampleCap rows, and says so', () => {
    const capped = profile(records, { nearDuplicateSampleCap: 100 }).report.duplicates.near;
    assert.equal(capped.sampled, true);
    assert.equal(capped.sampleSize, 100);
    assert.equal(capped.duplicateRows, 0);
    const all = profile(records, { nearDuplicateSampleCap: 304 }).report.duplicates.near;
    assert.equal(all.sampled, false);
    assert.equal(all.duplicateRows, 4);
  });

  it('scores duplicates against the thresholds', () => {
    const { report } = profile(records);
    // 6 / 310 exact duplicates: above the 1% warning, below the 10% failure.
    assert.equal(report.duplicates.verdict, 'warn');
    const strict = profile(records, { thresholds: { maxExactDuplicateRatio: { fail: 0.015 } } }).report;
    assert.equal(strict.duplicates.verdict, 'fail');
    assert.equal(strict.overall.verdict, 'fail');
    assert.ok(strict.overall.reasons[0].startsWith('fail: duplicates: maxExactDuplicateRatio is 0.0193548'));
  });
});

describe('QualityProfiler: label conflicts', () => {
  const records = baseRows(200, 2);
  const flip = (label: unknown) => (label === 'pos' ? 'neg' : 'pos');
  records.push({ text: textOf(records[2]).toUpperCase(), label: flip(records[2].label) }); // 201
  records.push({ text: ` ${textOf(records[49])} `, label: flip(records[49].label) }); // 202
  records.push({ text: textOf(records[99]).replaceAll(' ', '  '), label: flip(records[99].label) }); // 203
  records.push({ text: textOf(records[2]), label: records[2].label }); // 204: a duplicate, not a conflict
  records.push({ text: textOf(records[2]), label: flip(records[2].label) }); // 205: contradicts line 3 again

  it('finds exactly the planted conflicts, with their lines and labels', () => {
    const { report } = profile(records);
    assert.ok(report.labels?.kind === 'categorical');
    assert.deepEqual(report.labels.conflicts, {
      groups: 3,
      rows: 4,
      examples: [
        { lines: [3, 201, 205], labels: ['pos', 'neg', 'neg'] },
        { lines: [50, 202], labels: ['neg', 'pos'] },
        { lines: [100, 203], labels: ['neg', 'pos'] },
      ],
    });
    // Conflicting rows are exact duplicates of their input too.
    assert.equal(report.duplicates.exact.duplicateRows, 5);
    assert.equal(report.duplicates.exact.groups, 3);
  });

  it('fails by default, and an overridden threshold turns that into a warning', () => {
    const strict = profile(records).report;
    assert.equal(strict.labels?.verdict, 'fail');
    assert.equal(strict.overall.verdict, 'fail');
    const lenient = profile(records, { thresholds: { maxLabelConflictRatio: { fail: 0.05 } } }).report;
    assert.equal(lenient.labels?.verdict, 'warn');
    assert.equal(lenient.overall.verdict, 'warn');
    assert.equal(lenient.thresholds.maxLabelConflictRatio.fail, 0.05);
  });

  it('finds conflicts of numeric labels (regression)', () => {
    const numeric: DatasetRecord[] = baseRows(50, 3).map((record, index) => ({ text: record.text, label: index / 10 }));
    numeric.push({ text: textOf(numeric[9]).toUpperCase(), label: '0.9' }); // the same value, as CSV gives it
    numeric.push({ text: textOf(numeric[19]), label: 7 });
    const { report } = profile(numeric, { task: 'regression' });
    assert.ok(report.labels?.kind === 'numeric');
    assert.deepEqual(report.labels.conflicts, {
      groups: 1,
      rows: 1,
      examples: [{ lines: [20, 52], labels: ['1.9', '7'] }],
    });
    assert.equal(report.labels.numeric.min, 0);
    assert.equal(report.labels.numeric.max, 7);
    const values = numeric.map((record) => Number(record.label));
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    assert.ok(Math.abs(report.labels.numeric.mean - mean) < 1e-4);
  });
});

describe('QualityProfiler: completeness', () => {
  const schema: DatasetSchema = { inputFields: ['title', 'body'], labelField: 'label' };
  const base = baseRows(100, 4).map((record, index) => ({
    title: `title ${index}`,
    body: record.text,
    label: record.label,
  }));
  const planted = new Map<number, DatasetRecord>([
    [10, { title: 'a', label: 'pos' }], // body missing
    [11, { title: 'b', label: 'neg' }],
    [12, { title: 'c', label: 'pos' }],
    [13, { title: 'd', label: 'neg' }],
    [20, { title: 'e', body: null, label: 'pos' }], // body null: missing
    [21, { title: 'f', body: null, label: 'neg' }],
    [30, { title: '', body: 'some body text', label: 'pos' }], // title empty
    [31, { title: '', body: 'another body text', label: 'neg' }],
    [32, { title: '', body: 'third body text', label: 'pos' }],
    [33, { title: '   ', body: 'fourth body text', label: 'neg' }],
    [40, { title: '', body: '', label: 'pos' }], // both empty: an empty input
    [41, { title: ' ', body: '\t', label: 'neg' }],
  ]);
  const records = base.map((record, index) => planted.get(index + 1) ?? record);

  it('counts exactly the planted missing and empty fields, and error rows per field', () => {
    const profiler = new QualityProfiler({ task: 'classification', schema });
    profiler.addRows(asRows(records));
    profiler.addError({ line: 101, field: 'label', reason: 'missing label field "label"' });
    profiler.addError({ line: 102, field: 'label', reason: 'missing label field "label"' });
    profiler.addError({ line: 103, reason: 'not valid JSON: Unexpected token' });
    const report = profiler.finish();
    assert.deepEqual(report.completeness.perField, {
      title: { missing: 0, empty: 6, invalid: 0 },
      body: { missing: 6, empty: 2, invalid: 0 },
      label: { missing: 0, empty: 0, invalid: 2 },
    });
    assert.equal(report.completeness.emptyInputRows, 2);
    assert.equal(report.completeness.incompleteRows, 12);
    assert.deepEqual(report.completeness.examples, [...planted.keys()]);
    assert.equal(report.errorRows, 3);
    assert.equal(report.completeness.errorRows, 3);
    assert.deepEqual(report.completeness.errorExamples[2], { line: 103, reason: 'not valid JSON: Unexpected token' });
    // 12% incomplete rows and 3% error rows: both fail the defaults.
    assert.equal(report.completeness.verdict, 'fail');
    assert.deepEqual(
      report.completeness.checks.map((item) => [item.threshold, item.verdict]),
      [
        ['minRows', 'pass'],
        ['maxErrorRowRatio', 'fail'],
        ['maxMissingRatio', 'fail'],
      ],
    );
    // Empty inputs are not duplicates of each other.
    assert.equal(report.duplicates.exact.duplicateRows, 0);
  });
});

describe('QualityProfiler: labels', () => {
  function classes(counts: Record<string, number>): DatasetRecord[] {
    const random = seededRandom(5);
    const words = wordList(2000, random);
    const records: DatasetRecord[] = [];
    for (const [label, count] of Object.entries(counts)) {
      for (let index = 0; index < count; index += 1) {
        records.push({ text: sentence(random, words, 10), label });
      }
    }
    return records;
  }

  it('reports the distribution, imbalance and rare classes', () => {
    const { report } = profile(classes({ a: 500, b: 40, c: 5, d: 9 }));
    assert.ok(report.labels?.kind === 'categorical');
    assert.deepEqual(report.labels.distribution, { a: 500, b: 40, d: 9, c: 5 });
    assert.equal(report.labels.classes, 4);
    assert.equal(report.labels.imbalanceRatio, 100);
    assert.deepEqual(report.labels.rareClasses, ['c', 'd']);
    assert.equal(report.labels.rareClassCount, 2);
    // 100 is not above the fail bound of 100: a warning.
    assert.equal(report.labels.verdict, 'warn');
    const worse = profile(classes({ a: 500, b: 4 })).report;
    assert.equal(worse.labels?.verdict, 'fail');
    assert.ok(worse.overall.reasons.some((reason) => reason.startsWith('fail: labels: maxImbalanceRatio is 125')));
  });

  it('lists the largest classes and sums the rest', () => {
    const { report } = profile(classes({ a: 30, b: 20, c: 10, d: 5 }), { distributionCap: 2 });
    assert.ok(report.labels?.kind === 'categorical');
    assert.deepEqual(report.labels.distribution, { a: 30, b: 20 });
    assert.deepEqual(report.labels.otherClasses, { classes: 2, rows: 15 });
  });

  it('counts integer labels as their string, and estimates classes beyond labelCap', () => {
    const records = classes({ x: 1 }).concat(
      Array.from({ length: 300 }, (_, index) => ({ text: `row ${index}`, label: index })),
    );
    const { report } = profile(records, { labelCap: 100 });
    assert.ok(report.labels?.kind === 'categorical');
    assert.equal(report.labels.classesExact, false);
    assert.ok(Math.abs(report.labels.classes - 301) <= 6, String(report.labels.classes));
    assert.equal(report.labels.distribution['0'], 1);
  });

  it('fails a classification dataset with a single class', () => {
    const { report } = profile(classes({ only: 200 }));
    assert.equal(report.labels?.verdict, 'fail');
  });
});

describe('QualityProfiler: diversity', () => {
  const random = seededRandom(6);
  const words = wordList(500, random);
  const records: DatasetRecord[] = Array.from({ length: 200 }, (_, index) => ({
    text: `${sentence(random, words, 10 + (index % 11))}.`,
    label: index % 2 === 0 ? 'pos' : 'neg',
  }));
  const outliers = [50, 120, 180];
  for (const line of outliers) {
    records[line - 1] = { text: sentence(random, words, 150), label: records[line - 1].label };
  }

  it('finds exactly the planted length outliers', () => {
    const { report } = profile(records);
    assert.equal(report.diversity.lengthOutliers.count, 3);
    assert.deepEqual(report.diversity.lengthOutliers.examples, outliers);
    assert.equal(report.diversity.length.max, 150);
    assert.equal(report.diversity.length.unit, 'tokens');
  });

  it('matches brute-force token statistics', () => {
    const { report } = profile(records);
    const tokenLists = records.map((record) => tokenize(normaliseText(textOf(record))));
    const counts = new Map<string, number>();
    const bigrams = new Set<string>();
    let bigramCount = 0;
    for (const tokens of tokenLists) {
      tokens.forEach((token, index) => {
        counts.set(token, (counts.get(token) ?? 0) + 1);
        if (index > 0) {
          bigrams.add(`${tokens[index - 1]} ${token}`);
          bigramCount += 1;
        }
      });
    }
    const total = tokenLists.reduce((sum, tokens) => sum + tokens.length, 0);
    let entropy = 0;
    for (const count of counts.values()) {
      entropy -= (count / total) * Math.log2(count / total);
    }
    const lengths = tokenLists.map((tokens) => tokens.length).sort((left, right) => left - right);
    const rank = (q: number) => lengths[Math.max(1, Math.ceil(q * lengths.length)) - 1];
    const diversity = report.diversity;
    assert.equal(diversity.tokens, total);
    assert.equal(diversity.vocabularySize, counts.size);
    assert.equal(diversity.vocabularyExact, true);
    assert.ok(Math.abs(diversity.distinct1 - counts.size / total) < 1e-5);
    assert.ok(Math.abs(diversity.distinct2 - bigrams.size / bigramCount) < 1e-5);
    assert.ok(Math.abs(diversity.tokenEntropy - entropy) < 1e-4);
    assert.deepEqual(
      [diversity.length.min, diversity.length.p50, diversity.length.p90, diversity.length.p99, diversity.length.max],
      [lengths[0], rank(0.5), rank(0.9), rank(0.99), lengths[lengths.length - 1]],
    );
    assert.ok(diversity.distinct1 > 0 && diversity.distinct1 <= 1);
  });

  it('estimates the vocabulary once it outgrows vocabularyCap', () => {
    const manyWords = wordList(20_000, seededRandom(7));
    const wide = Array.from({ length: 2000 }, (_, index) => ({
      text: manyWords.slice(index * 10, index * 10 + 10).join(' ') + ' the common words',
      label: index % 2 === 0 ? 'pos' : 'neg',
    }));
    const { report } = profile(wide, { vocabularyCap: 1000 });
    assert.equal(report.diversity.vocabularyExact, false);
    assert.equal(report.diversity.tokens, 2000 * 13);
    assert.ok(
      Math.abs(report.diversity.vocabularySize - 20_003) / 20_003 < 0.03,
      String(report.diversity.vocabularySize),
    );
    const exact = profile(wide).report.diversity;
    assert.ok(Math.abs(report.diversity.tokenEntropy - exact.tokenEntropy) / exact.tokenEntropy < 0.05);
  });
});

describe('QualityProfiler: privacy', () => {
  const records = baseRows(100, 8);
  records[9] = { text: 'Write to jane.doe@example.com or to j.smith@example.org today', label: 'pos' };
  records[19] = { text: 'my address is bob@mail.example.net', label: 'neg' };
  records[29] = { text: 'support: help@tuneforge.dev', label: 'pos' };
  records[39] = { text: 'token sk-abcdefghijklmnopqrstuvwxyz123456 leaked', label: 'neg' };

  it('finds exactly the planted personal data, masked', () => {
    const { report } = profile(records, { detectPersonalData: fakeDetector });
    const privacy = report.privacy;
    assert.equal(privacy.rowsWithPersonalData, 4);
    assert.equal(privacy.secretRows, 1);
    assert.deepEqual(Object.keys(privacy.byType), ['email', 'secret']);
    assert.equal(privacy.byType.email.count, 4);
    assert.equal(privacy.byType.email.rows, 3);
    assert.deepEqual(privacy.byType.email.lines, [10, 20, 30]);
    assert.equal(privacy.byType.secret.count, 1);
    assert.deepEqual(privacy.byType.secret.lines, [40]);
    const serialised = JSON.stringify(report);
    for (const value of [
      'jane.doe@example.com',
      'j.smith@example.org',
      'bob@mail.example.net',
      'help@tuneforge.dev',
      'sk-abcdefghijklmnopqrstuvwxyz123456',
    ]) {
      assert.ok(!serialised.includes(value), value);
    }
    assert.equal(privacy.byType.email.examples.length, 4);
    // A secret fails the version; other personal data warns.
    assert.equal(privacy.verdict, 'fail');
    assert.ok(report.overall.reasons.includes('fail: privacy: maxSecretRows is 1 (fail above 0)'));
  });

  it('uses the given masker, but never one that reveals the value', () => {
    const masked = profile(records, { detectPersonalData: fakeDetector, maskValue: (type) => `<${type}>` }).report;
    assert.deepEqual(masked.privacy.byType.secret.examples, ['<secret>']);
    const leaky = profile(records, {
      detectPersonalData: fakeDetector,
      maskValue: (_type, value) => `[${value}]`,
    }).report;
    assert.ok(!JSON.stringify(leaky).includes('help@tuneforge.dev'));
  });

  it('warns on personal data without secrets, and does not scan without a detector', () => {
    const withoutSecret = records.filter((_record, index) => index !== 39);
    assert.equal(profile(withoutSecret, { detectPersonalData: fakeDetector }).report.privacy.verdict, 'warn');
    const unscanned = profile(records).report.privacy;
    assert.deepEqual(unscanned.scannedFields, []);
    assert.equal(unscanned.verdict, 'pass');
    assert.equal(unscanned.rowsWithPersonalData, 0);
  });
});

describe('QualityProfiler: representativeness', () => {
  const records = baseRows(300, 9);

  it('finds no divergence from an identical distribution', () => {
    const reference = profile(records).profiler.exportReference();
    const { report } = profile([...records].reverse(), { reference, referenceName: 'version 1' });
    const representativeness = report.representativeness;
    assert.ok(representativeness);
    assert.equal(representativeness.reference, 'version 1');
    assert.equal(representativeness.labelJsDivergence, 0);
    assert.equal(representativeness.tokenJsDivergence, 0);
    assert.equal(representativeness.oovRate, 0);
    assert.equal(representativeness.approximate, false);
    assert.equal(representativeness.verdict, 'pass');
  });

  it('finds the largest divergence from a disjoint one', () => {
    const reference = profile(records).profiler.exportReference();
    const random = seededRandom(10);
    const otherWords = wordList(3000, random).map((word) => `${word}q`);
    const disjoint = Array.from({ length: 100 }, () => ({ text: sentence(random, otherWords, 12), label: 'other' }));
    const representativeness = profile(disjoint, { reference }).report.representativeness;
    assert.ok(representativeness);
    assert.equal(representativeness.labelJsDivergence, 1);
    assert.equal(representativeness.tokenJsDivergence, 1);
    assert.equal(representativeness.oovRate, 1);
    assert.equal(representativeness.verdict, 'fail');
  });

  it('measures the out-of-vocabulary rate exactly', () => {
    const reference = profile(records.slice(0, 150)).profiler.exportReference();
    const known = new Set(reference.tokens.top.map(([token]) => token));
    const current = records.slice(150);
    let total = 0;
    let unknown = 0;
    for (const record of current) {
      for (const token of tokenize(normaliseText(textOf(record)))) {
        total += 1;
        unknown += known.has(token) ? 0 : 1;
      }
    }
    const representativeness = profile(current, { reference }).report.representativeness;
    assert.ok(representativeness);
    assert.ok(Math.abs(representativeness.oovRate - unknown / total) < 1e-5);
    assert.ok(representativeness.tokenJsDivergence > 0 && representativeness.tokenJsDivergence < 1);
  });

  it('exports a bounded reference profile', () => {
    const reference = profile(records, { referenceTokenCap: 10 }).profiler.exportReference();
    assert.equal(reference.tokens.top.length, 10);
    assert.equal(reference.tokens.complete, false);
    assert.equal(
      reference.tokens.top.reduce((sum, [, count]) => sum + count, 0) + reference.tokens.other,
      reference.tokens.total,
    );
    assert.deepEqual(reference.labels, [
      ['neg', 150],
      ['pos', 150],
    ]);
  });

  it('rejects a malformed reference', () => {
    assert.throws(
      () =>
        profile(records, { reference: { version: 1, tokens: {} } as unknown as QualityProfilerOptions['reference'] }),
      /reference profile is malformed/,
    );
  });
});

describe('QualityProfiler: tasks', () => {
  it('chat: profiles the messages, without labels', () => {
    const random = seededRandom(11);
    const words = wordList(1000, random);
    const records: DatasetRecord[] = Array.from({ length: 150 }, () => ({
      messages: [
        { role: 'user', content: sentence(random, words, 8) },
        { role: 'assistant', content: sentence(random, words, 12) },
      ],
    }));
    records.push({
      messages: [
        { role: 'user', content: 'ask me@example.com' },
        { role: 'assistant', content: 'ok' },
      ],
    });
    records.push({
      messages: (records[4].messages as { role: string; content: string }[]).map((message) => ({
        ...message,
        content: message.content.toUpperCase(),
      })),
    });
    const { report } = profile(records, {
      task: 'chat',
      schema: { inputFields: ['messages'] },
      detectPersonalData: fakeDetector,
    });
    assert.equal(report.labels, undefined);
    assert.equal(report.duplicates.exact.duplicateRows, 1);
    assert.deepEqual(report.duplicates.exact.examples, [{ line: 152, duplicateOf: 5 }]);
    assert.deepEqual(report.privacy.byType.email.lines, [151]);
    assert.ok(report.diversity.length.min >= 2);
  });

  it('prompt-completion: profiles the completion as text too, without labels', () => {
    const records: DatasetRecord[] = [
      { prompt: 'What is the capital of France?', completion: 'Paris. Write to paris@example.fr' },
      { prompt: 'What is the capital of Spain?', completion: 'Madrid.' },
      { prompt: 'what is the capital of FRANCE?', completion: 'Paris, of course.' },
    ];
    const { report } = profile(records, {
      task: 'prompt-completion',
      schema: { inputFields: ['prompt'], labelField: 'completion' },
      detectPersonalData: fakeDetector,
      thresholds: { minRows: { warn: null, fail: null } },
    });
    assert.equal(report.labels, undefined);
    assert.deepEqual(report.diversity.textFields, ['prompt', 'completion']);
    assert.deepEqual(report.privacy.scannedFields, ['prompt', 'completion']);
    assert.deepEqual(report.privacy.byType.email.lines, [1]);
    assert.equal(report.duplicates.exact.duplicateRows, 1);
    // 7 prompt tokens + 9 completion tokens in the first row.
    assert.equal(report.diversity.length.max, 16);
  });

  it('causal-lm: profiles the text', () => {
    const { report } = profile(
      baseRows(120, 12).map((record) => ({ text: record.text })),
      {
        task: 'causal-lm',
        schema: { inputFields: ['text'] },
      },
    );
    assert.equal(report.labels, undefined);
    assert.equal(report.overall.verdict, 'pass');
    assert.deepEqual(report.overall.reasons, []);
  });
});

describe('QualityProfiler: the report', () => {
  it('passes a clean dataset', () => {
    const { report } = profile(baseRows(400, 13), { detectPersonalData: fakeDetector });
    assert.equal(report.overall.verdict, 'pass', report.overall.reasons.join('\n'));
    assert.ok(report.overall.score >= 80);
    assert.equal(report.version, 1);
    assert.deepEqual(report.schema, CLASSIFICATION);
    assert.ok(report.memory.exactIndexBytes > 0);
  });

  it('fails a dataset that is too small', () => {
    const { report } = profile(baseRows(5, 14));
    assert.equal(report.overall.verdict, 'fail');
    assert.ok(report.overall.reasons.includes('fail: completeness: minRows is 5 (warn below 100, fail below 10)'));
  });

  it('reports an empty dataset without NaN', () => {
    const { report } = profile([]);
    assert.equal(report.rows, 0);
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  });

  it('holds nothing that Postgres jsonb refuses (NUL, lone surrogates)', () => {
    const records = baseRows(20, 16);
    records.push({ text: 'nul \u0000 here', label: 'bad\u0000label' });
    records.push({ text: 'lone \ud800 surrogate mail x\ud800y@example.com', label: 'pos' });
    const profiler = new QualityProfiler({
      task: 'classification',
      schema: CLASSIFICATION,
      detectPersonalData: fakeDetector,
    });
    profiler.addRows(asRows(records));
    profiler.addError({ line: 99, field: 'f\u0000', reason: 'bad \udc00 value' });
    const serialised = JSON.stringify([profiler.finish(), profiler.exportReference()]);
    assert.ok(!/\\u0000|\\ud[89a-f]/i.test(serialised), serialised);
    assert.equal(profiler.exportReference().tokens.complete, false);
  });

  it('can be finished twice, and rows added after', () => {
    const profiler = new QualityProfiler({ task: 'classification', schema: CLASSIFICATION });
    const rows = asRows(baseRows(50, 15));
    profiler.addRows(rows.slice(0, 25));
    const first = profiler.finish();
    assert.deepEqual(profiler.finish(), first);
    profiler.addRows(rows.slice(25));
    assert.equal(profiler.finish().rows, 50);
  });

  it('refuses invalid options', () => {
    assert.throws(
      () =>
        new QualityProfiler({
          task: 'classification',
          schema: CLASSIFICATION,
          thresholds: { maxOovRate: { warn: -1 } },
        }),
      /invalid quality thresholds/,
    );
    assert.throws(
      () => new QualityProfiler({ task: 'classification', schema: CLASSIFICATION, exampleCap: -1 }),
      /exampleCap/,
    );
    assert.throws(
      () => new QualityProfiler({ task: 'classification', schema: CLASSIFICATION, nearDuplicateThreshold: 0 }),
      /nearDuplicateThreshold/,
    );
  });
});
