import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_QUALITY_THRESHOLDS,
  InvalidQualityThresholdsError,
  qualityAllowsUse,
  resolveThresholds,
  thresholdProblems,
  worstVerdict,
} from './quality-report.js';
import { check, describeCheck, dimension } from './quality-scoring.js';

describe('quality thresholds', () => {
  it('resolves to the defaults without overrides', () => {
    assert.deepEqual(resolveThresholds(), DEFAULT_QUALITY_THRESHOLDS);
    assert.deepEqual(resolveThresholds({}), DEFAULT_QUALITY_THRESHOLDS);
    assert.deepEqual(resolveThresholds(null), DEFAULT_QUALITY_THRESHOLDS);
  });

  it('overrides single bounds, and null disables one', () => {
    const resolved = resolveThresholds({
      maxExactDuplicateRatio: { warn: 0.02 },
      minRows: { fail: null },
      secretTypes: ['secret', 'iban'],
    });
    assert.deepEqual(resolved.maxExactDuplicateRatio, { warn: 0.02, fail: 0.1 });
    assert.deepEqual(resolved.minRows, { warn: 100, fail: null });
    assert.deepEqual(resolved.secretTypes, ['secret', 'iban']);
    assert.deepEqual(resolved.maxNearDuplicateRatio, DEFAULT_QUALITY_THRESHOLDS.maxNearDuplicateRatio);
  });

  it('accepts the untyped object a project stores', () => {
    const stored: Record<string, unknown> = { maxMissingRatio: { warn: 0.5, fail: 0.9 } };
    assert.deepEqual(resolveThresholds(stored).maxMissingRatio, { warn: 0.5, fail: 0.9 });
  });

  it('reports every problem of unusable thresholds', () => {
    assert.deepEqual(
      thresholdProblems({ nope: {}, maxMissingRatio: { warn: -1, maybe: 2 }, minRows: 5, secretTypes: [1] }),
      [
        'unknown threshold "nope"',
        'maxMissingRatio.warn must be a non-negative number or null',
        'maxMissingRatio.maybe is not a bound (use "warn" or "fail")',
        'minRows must be an object with "warn" and/or "fail"',
        'secretTypes must be an array of strings',
      ],
    );
    assert.deepEqual(thresholdProblems([]), ['thresholds must be an object']);
    assert.throws(() => resolveThresholds({ maxOovRate: { fail: Number.NaN } }), InvalidQualityThresholdsError);
  });

  it('keeps the defaults immutable', () => {
    assert.throws(() => {
      (DEFAULT_QUALITY_THRESHOLDS.maxOovRate as { warn: number }).warn = 1;
    }, TypeError);
  });
});

describe('quality scoring', () => {
  const thresholds = resolveThresholds({
    maxExactDuplicateRatio: { warn: 0.01, fail: 0.1 },
    minRows: { warn: 100, fail: 10 },
  });

  it('passes at or below a max bound, warns above warn, fails above fail', () => {
    assert.equal(check(thresholds, 'maxExactDuplicateRatio', 0).verdict, 'pass');
    assert.equal(check(thresholds, 'maxExactDuplicateRatio', 0).score, 100);
    assert.equal(check(thresholds, 'maxExactDuplicateRatio', 0.01).verdict, 'pass');
    assert.equal(check(thresholds, 'maxExactDuplicateRatio', 0.05).verdict, 'warn');
    assert.equal(check(thresholds, 'maxExactDuplicateRatio', 0.1).verdict, 'warn');
    assert.equal(check(thresholds, 'maxExactDuplicateRatio', 0.11).verdict, 'fail');
  });

  it('mirrors min bounds', () => {
    assert.equal(check(thresholds, 'minRows', 100).verdict, 'pass');
    assert.equal(check(thresholds, 'minRows', 99).verdict, 'warn');
    assert.equal(check(thresholds, 'minRows', 9).verdict, 'fail');
  });

  it('keeps scores inside their verdict band and monotone', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 2, noNaN: true }),
        fc.double({ min: 0, max: 2, noNaN: true }),
        (left, right) => {
          const [low, high] = left <= right ? [left, right] : [right, left];
          const lower = check(thresholds, 'maxExactDuplicateRatio', low);
          const higher = check(thresholds, 'maxExactDuplicateRatio', high);
          assert.ok(lower.score >= higher.score);
          for (const item of [lower, higher]) {
            const [min, max] = item.verdict === 'pass' ? [80, 100] : item.verdict === 'warn' ? [50, 79] : [0, 49];
            assert.ok(item.score >= min && item.score <= max, JSON.stringify(item));
          }
        },
      ),
    );
  });

  it('rolls checks up into the worst verdict and lowest score', () => {
    const rolled = dimension([check(thresholds, 'maxExactDuplicateRatio', 0.05), check(thresholds, 'minRows', 5)]);
    assert.equal(rolled.verdict, 'fail');
    assert.equal(rolled.score, Math.min(...rolled.checks.map((item) => item.score)));
    assert.deepEqual(dimension([]), { score: 100, verdict: 'pass', checks: [] });
    assert.equal(
      describeCheck('duplicates', check(thresholds, 'maxExactDuplicateRatio', 0.2)),
      'fail: duplicates: maxExactDuplicateRatio is 0.2 (warn above 0.01, fail above 0.1)',
    );
  });

  it('orders verdicts and gates jobs', () => {
    assert.equal(worstVerdict('pass', 'warn'), 'warn');
    assert.equal(worstVerdict('fail', 'warn'), 'fail');
    assert.equal(qualityAllowsUse({ overall: { verdict: 'warn', score: 70, reasons: [] } }), true);
    assert.equal(qualityAllowsUse({ overall: { verdict: 'fail', score: 20, reasons: [] } }), false);
    assert.equal(qualityAllowsUse({ overall: { verdict: 'fail', score: 20, reasons: [] } }, true), true);
  });
});
