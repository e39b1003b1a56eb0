import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classificationMetrics,
  EarlyStopping,
  languageModelMetrics,
  majorityBaseline,
  OverfittingDetector,
  regressionMetrics,
} from './metrics.js';

function close(actual: number, expected: number, tolerance = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `got ${actual}, expected ${expected}`);
}

describe('classificationMetrics', () => {
  // actual    0 0 1 1 2 2 2
  // predicted 0 1 1 1 2 0 1
  // class 0: tp 1, predicted 2, support 2 → P 1/2, R 1/2, F1 1/2
  // class 1: tp 2, predicted 4, support 2 → P 1/2, R 1,   F1 2/3
  // class 2: tp 1, predicted 1, support 3 → P 1,   R 1/3, F1 1/2
  const actual = [0, 0, 1, 1, 2, 2, 2];
  const predicted = [0, 1, 1, 1, 2, 0, 1];

  it('matches sklearn precision_recall_fscore_support', () => {
    const m = classificationMetrics(predicted, actual, ['a', 'b', 'c']);
    close(m.accuracy, 4 / 7);
    close(m.precisionMacro, (0.5 + 0.5 + 1) / 3);
    close(m.recallMacro, (0.5 + 1 + 1 / 3) / 3);
    close(m.f1Macro, (0.5 + 2 / 3 + 0.5) / 3);
    const expected = [
      { label: 'a', precision: 0.5, recall: 0.5, f1: 0.5, support: 2 },
      { label: 'b', precision: 0.5, recall: 1, f1: 2 / 3, support: 2 },
      { label: 'c', precision: 1, recall: 1 / 3, f1: 0.5, support: 3 },
    ];
    m.perClass.forEach((c, i) => {
      assert.equal(c.label, expected[i].label);
      assert.equal(c.support, expected[i].support);
      close(c.precision, expected[i].precision);
      close(c.recall, expected[i].recall);
      close(c.f1, expected[i].f1);
    });
  });

  it('counts a label that never occurs as 0 in the macro average (zero_division=0)', () => {
    const m = classificationMetrics(predicted, actual, ['a', 'b', 'c', 'd']);
    assert.deepEqual(m.perClass[3], { label: 'd', precision: 0, recall: 0, f1: 0, support: 0 });
    close(m.precisionMacro, 2 / 4);
    close(m.recallMacro, (0.5 + 1 + 1 / 3) / 4);
    close(m.f1Macro, (0.5 + 2 / 3 + 0.5) / 4);
  });

  it('accepts typed arrays and rejects bad input', () => {
    const m = classificationMetrics(Int32Array.from(predicted), Float32Array.from(actual), ['a', 'b', 'c']);
    close(m.accuracy, 4 / 7);
    assert.throws(() => classificationMetrics([0], [0, 1], ['a', 'b']), /1 predictions for 2/);
    assert.throws(() => classificationMetrics([2], [0], ['a', 'b']), /predicted\[0\] = 2/);
    assert.equal(classificationMetrics([], [], ['a']).accuracy, 0);
  });

  it('keeps every metric in [0, 1] and f1 the harmonic mean of precision and recall', () => {
    const arbitrary = fc.integer({ min: 1, max: 6 }).chain((classes) =>
      fc.record({
        classes: fc.constant(classes),
        pairs: fc.array(fc.tuple(fc.nat({ max: classes - 1 }), fc.nat({ max: classes - 1 })), { maxLength: 60 }),
      }),
    );
    fc.assert(
      fc.property(arbitrary, ({ classes, pairs }) => {
        const labels = Array.from({ length: classes }, (_, i) => `l${i}`);
        const m = classificationMetrics(
          pairs.map(([p]) => p),
          pairs.map(([, a]) => a),
          labels,
        );
        const unit = (x: number): boolean => x >= 0 && x <= 1;
        assert.ok([m.accuracy, m.precisionMacro, m.recallMacro, m.f1Macro].every(unit));
        let support = 0;
        for (const c of m.perClass) {
          assert.ok(unit(c.precision) && unit(c.recall) && unit(c.f1));
          const harmonic = c.precision + c.recall === 0 ? 0 : (2 * c.precision * c.recall) / (c.precision + c.recall);
          assert.ok(Math.abs(c.f1 - harmonic) < 1e-12, `f1 ${c.f1} vs harmonic mean ${harmonic}`);
          support += c.support;
        }
        assert.equal(support, pairs.length);
      }),
    );
  });
});

describe('majorityBaseline', () => {
  it('always predicts the most frequent class', () => {
    // predicts 2 everywhere: accuracy 3/7; class 2: P 3/7, R 1, F1 2*(3/7)/(3/7 + 1) = 0.6
    const m = majorityBaseline([0, 0, 1, 1, 2, 2, 2], ['a', 'b', 'c']);
    close(m.accuracy, 3 / 7);
    close(m.precisionMacro, 3 / 7 / 3);
    close(m.recallMacro, 1 / 3);
    close(m.f1Macro, 0.6 / 3);
  });

  it('breaks ties towards the lowest class index', () => {
    const m = majorityBaseline([1, 0, 0, 1], ['a', 'b']);
    assert.equal(m.perClass[0].recall, 1);
    assert.equal(m.perClass[1].recall, 0);
  });
});

describe('regressionMetrics', () => {
  it('matches the sklearn documentation example', () => {
    // y_true = [3, -0.5, 2, 7], y_pred = [2.5, 0.0, 2, 8]: MAE 0.5, MSE 0.375, R² 0.948...
    const m = regressionMetrics([2.5, 0.0, 2, 8], [3, -0.5, 2, 7]);
    close(m.mae, 0.5);
    close(m.rmse, Math.sqrt(0.375));
    close(m.r2, 0.9486081370449679);
  });

  it('handles constant targets like sklearn (force_finite)', () => {
    assert.equal(regressionMetrics([1, 1], [1, 1]).r2, 1);
    assert.equal(regressionMetrics([1, 2], [1, 1]).r2, 0);
    assert.throws(() => regressionMetrics([], []), /at least one/);
  });
});

describe('languageModelMetrics', () => {
  it('derives loss, perplexity and token accuracy from sums', () => {
    const m = languageModelMetrics(6, 3, 2);
    close(m.loss, 2);
    close(m.perplexity, Math.exp(2));
    close(m.tokenAccuracy, 2 / 3);
    assert.throws(() => languageModelMetrics(0, 0, 0), /at least one counted/);
  });
});

describe('EarlyStopping', () => {
  it('min mode with minDelta and patience', () => {
    const es = new EarlyStopping({ monitor: 'val_loss', mode: 'min', patience: 2, minDelta: 0.01 });
    assert.deepEqual(es.update(1.0, 10), { improved: true, stop: false });
    assert.deepEqual(es.update(0.995, 20), { improved: false, stop: false }); // not below 1.0 - 0.01
    assert.deepEqual(es.update(0.98, 30), { improved: true, stop: false });
    assert.deepEqual(es.update(0.975, 40), { improved: false, stop: false });
    assert.deepEqual(es.update(0.99, 50), { improved: false, stop: true });
    assert.deepEqual(es.best, { value: 0.98, step: 30 });
  });

  it('max mode; patience 0 stops at the first non-improvement', () => {
    const es = new EarlyStopping({ monitor: 'accuracy', mode: 'max', patience: 0, minDelta: 0 });
    assert.deepEqual(es.update(0.5, 1), { improved: true, stop: false });
    assert.deepEqual(es.update(0.6, 2), { improved: true, stop: false });
    assert.deepEqual(es.update(0.6, 3), { improved: false, stop: true });
  });

  it('stops on a non-finite value', () => {
    const es = new EarlyStopping({ monitor: 'val_loss', mode: 'min', patience: 5, minDelta: 0 });
    es.update(1, 1);
    assert.deepEqual(es.update(NaN, 2), { improved: false, stop: true });
    assert.deepEqual(es.best, { value: 1, step: 1 });
  });

  it('resumes from JSON exactly where it was', () => {
    const es = new EarlyStopping({ monitor: 'val_loss', mode: 'min', patience: 2, minDelta: 0 });
    es.update(1.0, 1);
    es.update(1.1, 2);
    const restored = EarlyStopping.fromJSON(JSON.parse(JSON.stringify(es)));
    assert.deepEqual(restored.toJSON(), es.toJSON());
    assert.deepEqual(restored.update(1.2, 3), { improved: false, stop: true });
    const fresh = EarlyStopping.fromJSON(
      JSON.parse(JSON.stringify(new EarlyStopping({ monitor: 'f1', mode: 'max', patience: 1, minDelta: 0 }))),
    );
    assert.equal(fresh.best, undefined);
    assert.throws(() => EarlyStopping.fromJSON({ monitor: 'x', mode: 'up', patience: 1, minDelta: 0 }), /mode/);
    assert.throws(() => new EarlyStopping({ monitor: 'x', mode: 'min', patience: -1, minDelta: 0 }), /patience/);
  });
});

describe('OverfittingDetector', () => {
  it('warns once when validation rose over the window while training fell, and re-arms', () => {
    const d = new OverfittingDetector({ window: 2 });
    assert.equal(d.update(1.0, 0.9), undefined);
    assert.equal(d.update(0.8, 0.7), undefined);
    assert.equal(d.update(0.6, 0.75), undefined); // validation fell, then rose: not yet
    const message = d.update(0.5, 0.8); // 0.7 → 0.75 → 0.8 while training 0.8 → 0.5
    assert.match(message ?? '', /Validation loss rose from 0\.7 to 0\.8 over the last 2 evaluations/);
    assert.match(message ?? '', /training loss fell from 0\.8 to 0\.5/);
    assert.equal(d.update(0.4, 0.85), undefined); // still overfitting, already warned
    assert.equal(d.update(0.35, 0.6), undefined); // pattern broken: re-arms
    assert.equal(d.update(0.3, 0.65), undefined);
    assert.match(d.update(0.25, 0.7) ?? '', /rose from 0\.6 to 0\.7/);
  });

  it('stays quiet when both losses rise (divergence, not overfitting) or validation is flat', () => {
    const d = new OverfittingDetector({ window: 2 });
    for (const [t, v] of [
      [1, 1],
      [1.1, 1.1],
      [1.2, 1.2],
      [1.3, 1.3],
    ]) {
      assert.equal(d.update(t, v), undefined);
    }
    const flat = new OverfittingDetector();
    for (const t of [1, 0.9, 0.8, 0.7, 0.6]) {
      assert.equal(flat.update(t, 0.5), undefined);
    }
  });

  it('round-trips through JSON, NaN included', () => {
    const d = new OverfittingDetector({ window: 2 });
    d.update(NaN, NaN);
    d.update(0.8, 0.7);
    d.update(0.6, 0.75);
    const restored = OverfittingDetector.fromJSON(JSON.parse(JSON.stringify(d)));
    assert.equal(restored.window, 2);
    assert.match(restored.update(0.5, 0.8) ?? '', /rose from 0\.7 to 0\.8/);
    assert.throws(() => OverfittingDetector.fromJSON({ window: 2, history: [[1]] }), /history entries/);
  });
});
