/**
 * Property-based checks of the profiler against brute force on small random datasets, built from a
 * tiny vocabulary with random case and whitespace so that duplicates, near-duplicates and conflicts
 * are common.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { DatasetRecord } from '../dataset-types.js';
import { estimatedJaccard, MinHasher, normaliseText, shingles, tokenize } from '../text/text.js';
import { QualityProfiler } from './quality-profiler.js';
import { asRows, fakeDetector } from './quality-test-helpers.js';

const WORDS = ['alpha', 'Beta', 'gamma', 'delta', "don't", 'x1', 'é', 'me@example.com', ',', '!'];
const SPACES = [' ', '  ', '\t', '\n', ' \u00a0'];

const text = fc
  .array(fc.tuple(fc.constantFrom(...WORDS), fc.constantFrom(...SPACES), fc.boolean()), { maxLength: 12 })
  .map((parts) => parts.map(([word, space, upper]) => (upper ? word.toUpperCase() : word) + space).join(''));

const record = fc.record({ text, label: fc.constantFrom('a', 'b', 'c') });
const dataset = fc.array(record, { maxLength: 40 });

function run(records: DatasetRecord[]) {
  const profiler = new QualityProfiler({
    task: 'classification',
    schema: { inputFields: ['text'], labelField: 'label' },
    detectPersonalData: fakeDetector,
  });
  profiler.addRows(asRows(records));
  return profiler.finish();
}

describe('QualityProfiler properties', () => {
  it('counts rows, duplicates and conflicts like brute force', () => {
    fc.assert(
      fc.property(dataset, (records) => {
        const report = run(records);
        assert.equal(report.rows, records.length);
        const first = new Map<string, { label: unknown; count: number; conflicted: boolean }>();
        let duplicateRows = 0;
        let conflictRows = 0;
        let emptyRows = 0;
        for (const { text: value, label } of records) {
          const key = normaliseText(value);
          if (key === '') {
            emptyRows += 1;
            continue;
          }
          const seen = first.get(key);
          if (!seen) {
            first.set(key, { label, count: 1, conflicted: false });
            continue;
          }
          duplicateRows += 1;
          seen.count += 1;
          if (seen.label !== label) {
            conflictRows += 1;
            seen.conflicted = true;
          }
        }
        const groups = [...first.values()];
        assert.equal(report.completeness.emptyInputRows, emptyRows);
        assert.equal(report.duplicates.exact.duplicateRows, duplicateRows);
        assert.equal(report.duplicates.exact.groups, groups.filter((group) => group.count > 1).length);
        assert.ok(report.labels?.kind === 'categorical');
        assert.equal(report.labels.conflicts.rows, conflictRows);
        assert.equal(report.labels.conflicts.groups, groups.filter((group) => group.conflicted).length);
        const emails = records.filter((item) => item.text.toLowerCase().includes('me@example.com')).length;
        assert.equal(report.privacy.byType.email?.rows ?? 0, emails);
      }),
      { numRuns: 300 },
    );
  });

  it('finds the near-duplicates that a streaming brute-force dedupe would drop', () => {
    const hasher = new MinHasher();
    fc.assert(
      fc.property(dataset, (records) => {
        const report = run(records);
        const seen = new Set<string>();
        const kept: Uint32Array[] = [];
        let near = 0;
        for (const { text: value } of records) {
          const key = normaliseText(value);
          if (key === '' || seen.has(key)) {
            continue;
          }
          seen.add(key);
          const signature = hasher.signature(shingles(tokenize(key)));
          if (kept.some((other) => estimatedJaccard(signature, other) >= 0.8)) {
            near += 1;
          } else {
            kept.push(signature);
          }
        }
        assert.equal(report.duplicates.near.duplicateRows, near);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps ratios in range and token counts exact', () => {
    fc.assert(
      fc.property(dataset, (records) => {
        const report = run(records);
        const tokens = records.flatMap((item) => tokenize(normaliseText(item.text)));
        assert.equal(report.diversity.tokens, tokens.length);
        assert.equal(report.diversity.vocabularySize, new Set(tokens).size);
        for (const value of [report.diversity.distinct1, report.diversity.distinct2]) {
          assert.ok(value >= 0 && value <= 1, String(value));
        }
        assert.ok(report.diversity.tokenEntropy >= 0);
        assert.ok(report.overall.score >= 0 && report.overall.score <= 100);
      }),
      { numRuns: 200 },
    );
  });

  it('gives a JSON-serialisable, deterministic report', () => {
    fc.assert(
      fc.property(dataset, (records) => {
        const report = run(records);
        assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
        assert.deepEqual(run(records), report);
        const reference = new QualityProfiler({
          task: 'classification',
          schema: { inputFields: ['text'], labelField: 'label' },
        });
        reference.addRows(asRows(records));
        const exported = reference.exportReference();
        assert.deepEqual(JSON.parse(JSON.stringify(exported)), exported);
      }),
      { numRuns: 200 },
    );
  });
});
