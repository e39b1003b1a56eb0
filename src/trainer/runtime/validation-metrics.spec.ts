import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationMetrics } from './validation-metrics.js';

describe('ValidationMetrics', () => {
  it('takes the arg-max class of each row across batches, and weights losses by batch size', () => {
    const metrics = new ValidationMetrics('classification', ['neg', 'pos'], null);
    metrics.addBatch(0.5, 2, [2, 1, 0, 3]); // neg, pos
    metrics.addBatch(2, 1, [5, 4]); // neg
    const values = metrics.result({ labels: Int32Array.of(0, 1, 1), targets: null });
    assert.equal(values.loss, (0.5 * 2 + 2) / 3);
    assert.equal(values.accuracy, 2 / 3);
    assert.equal(values['recall.pos'], 0.5);
    assert.equal(values['precision.neg'], 0.5);
  });

  it('reports regression errors in the target units', () => {
    const metrics = new ValidationMetrics('regression', null, { mean: 10, std: 2 });
    metrics.addBatch(0.25, 2, [0, 1]); // 10, 12
    const values = metrics.result({ labels: null, targets: Float32Array.of(0.5, 1) }); // 11, 12
    assert.equal(values.loss, 0.25);
    assert.equal(values.mae, 0.5);
    assert.ok(Math.abs(values.rmse - Math.sqrt(0.5)) < 1e-9);
  });

  it('reports a causal LM by its summed token loss', () => {
    const metrics = new ValidationMetrics('causal-lm', null, null);
    metrics.addLanguageModelBatch({ lossSum: 6, tokens: 4, correct: 1 });
    metrics.addLanguageModelBatch({ lossSum: 2, tokens: 4, correct: 3 });
    const values = metrics.result({ labels: null, targets: null });
    assert.equal(values.loss, 1);
    assert.ok(Math.abs(values.perplexity - Math.E) < 1e-9);
    assert.equal(values.tokenAccuracy, 0.5);
  });
});
