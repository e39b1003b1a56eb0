import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  addPositions,
  causalAttentionWeights,
  chunkedTiedCrossEntropy,
  dropout,
  embedding,
  geluNew,
  layerNorm,
  linear,
  mergeHeads,
  reshape,
  residualAdd,
  splitHeads,
  tiedOutput,
  weightedCrossEntropy,
} from './ops.js';

/** Largest absolute difference between two tensors' values. */
function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/**
 * Checks a custom-gradient op against the same maths from plain tfjs ops: equal values and equal
 * gradients of sum(output * r) (a random projection, so every output element matters).
 */
function assertSameAsPlain(
  inputs: tf.Tensor[],
  custom: (...xs: tf.Tensor[]) => tf.Tensor,
  plain: (...xs: tf.Tensor[]) => tf.Tensor,
  tolerance = 1e-5,
): void {
  tf.tidy(() => {
    const probe = tf.randomNormal(custom(...inputs).shape, 0, 1, 'float32', 7);
    const project =
      (f: (...xs: tf.Tensor[]) => tf.Tensor) =>
      (...xs: tf.Tensor[]) =>
        tf.sum(tf.mul(f(...xs), probe));
    const ours = tf.valueAndGrads(project(custom))(inputs);
    const reference = tf.valueAndGrads(project(plain))(inputs);
    assert.ok(maxDiff(custom(...inputs), plain(...inputs)) < tolerance, 'values differ');
    ours.grads.forEach((grad, i) => {
      const diff = maxDiff(grad, reference.grads[i]);
      assert.ok(diff < tolerance, `gradient of input ${i} differs by ${diff}`);
    });
  });
}

function plainLayerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const variance = tf.mean(tf.square(tf.sub(x, mean)), -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), w), b);
}

function plainGelu(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

function causalMask(t: number): tf.Tensor {
  const upper = tf.sub(tf.ones([t, t]), tf.linalg.bandPart(tf.ones([t, t]), -1, 0));
  return tf.mul(upper, -1e9);
}

describe('custom-gradient ops match plain tfjs ops', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('linear', () => {
    const x = tf.randomNormal([6, 4], 0, 1, 'float32', 1);
    const w = tf.randomNormal([4, 5], 0, 1, 'float32', 2);
    const b = tf.randomNormal([5], 0, 1, 'float32', 3);
    assertSameAsPlain(
      [x, w, b],
      (xs, ws, bs) => linear(xs as tf.Tensor2D, ws as tf.Tensor2D, bs as tf.Tensor1D),
      (xs, ws, bs) => tf.add(tf.matMul(xs as tf.Tensor2D, ws as tf.Tensor2D), bs),
    );
  });

  it('linear keeps using a Variable weight without saving a copy', () => {
    const w = tf.variable(tf.tensor2d([1, -2, 3, 0.5, 4, -1, 2, 2, 0, 1, 1, -3], [4, 3]));
    const b = tf.variable(tf.tensor1d([0, 0, 0]));
    const x = tf.tensor2d([1, 2, 3, 4, -1, 0.5, 2, 0], [2, 4]);
    const { grads } = tf.variableGrads(() => tf.sum(linear(x, w, b)), [w, b]);
    const expected = tf.matMul(x, tf.ones([2, 3]), true, false);
    assert.ok(maxDiff(grads[w.name], expected) < 1e-6);
  });

  it('tiedOutput', () => {
    const x = tf.randomNormal([6, 4], 0, 1, 'float32', 1);
    const w = tf.randomNormal([9, 4], 0, 1, 'float32', 2);
    assertSameAsPlain(
      [x, w],
      (xs, ws) => tiedOutput(xs as tf.Tensor2D, ws as tf.Tensor2D),
      (xs, ws) => tf.matMul(xs, ws, false, true),
    );
  });

  it('embedding (repeated ids accumulate)', () => {
    const w = tf.randomNormal([7, 3], 0, 1, 'float32', 1);
    const ids = tf.tensor1d([2, 5, 2, 0, 6], 'int32');
    assertSameAsPlain(
      [w],
      (ws) => embedding(ws as tf.Tensor2D, ids),
      (ws) => tf.gather(ws, ids),
    );
  });

  it('addPositions', () => {
    const tokens = tf.randomNormal([6, 4], 0, 1, 'float32', 1);
    const positions = tf.randomNormal([5, 4], 0, 1, 'float32', 2);
    assertSameAsPlain(
      [tokens, positions],
      (a, p) => addPositions(a as tf.Tensor2D, p as tf.Tensor2D, 3),
      (a, p) => tf.reshape(tf.add(tf.reshape(a, [2, 3, 4]), tf.slice(p, [0, 0], [3, 4])), [6, 4]),
    );
  });

  it('layerNorm', () => {
    const x = tf.randomNormal([5, 8], 1, 3, 'float32', 1);
    const w = tf.randomNormal([8], 1, 0.5, 'float32', 2);
    const b = tf.randomNormal([8], 0, 0.5, 'float32', 3);
    assertSameAsPlain(
      [x, w, b],
      (xs, ws, bs) => layerNorm(xs as tf.Tensor2D, ws as tf.Tensor1D, bs as tf.Tensor1D, 1e-5),
      plainLayerNorm,
      1e-4,
    );
  });

  it('geluNew', () => {
    const x = tf.randomNormal([4, 16], 0, 2, 'float32', 1);
    assertSameAsPlain([x], (xs) => geluNew(xs), plainGelu);
  });

  it('residualAdd', () => {
    const a = tf.randomNormal([3, 4], 0, 1, 'float32', 1);
    const b = tf.randomNormal([3, 4], 0, 1, 'float32', 2);
    assertSameAsPlain(
      [a, b],
      (x, y) => residualAdd(x, y),
      (x, y) => tf.add(x, y),
    );
  });

  it('splitHeads and mergeHeads', () => {
    const qkv = tf.randomNormal([2 * 3, 3 * 8], 0, 1, 'float32', 1);
    assertSameAsPlain(
      [qkv],
      (x) => splitHeads(x as tf.Tensor2D, 2, 3, 2),
      (x) => tf.stack(tf.split(x, 3, 1).map((part) => tf.transpose(tf.reshape(part, [2, 3, 2, 4]), [0, 2, 1, 3]))),
    );
    const context = tf.randomNormal([2, 2, 3, 4], 0, 1, 'float32', 2);
    assertSameAsPlain(
      [context],
      (x) => mergeHeads(x as tf.Tensor4D),
      (x) => tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [6, 8]),
    );
  });

  it('causalAttentionWeights without dropout', () => {
    const scores = tf.randomNormal([2, 2, 5, 5], 0, 3, 'float32', 1);
    assertSameAsPlain(
      [scores],
      (s) => causalAttentionWeights(s as tf.Tensor4D, 0.5, 0, undefined),
      (s) => tf.softmax(tf.add(tf.mul(s, 0.5), causalMask(5)), -1),
    );
  });

  it('causalAttentionWeights with seeded dropout equals softmax times the same mask', () => {
    const scores = tf.randomNormal([2, 2, 5, 5], 0, 3, 'float32', 1);
    const keep = tf.greaterEqual(tf.randomUniform([2, 2, 5, 5], 0, 1, 'float32', 11), 0.25);
    assertSameAsPlain(
      [scores],
      (s) => causalAttentionWeights(s as tf.Tensor4D, 0.5, 0.25, 11),
      (s) => tf.div(tf.mul(tf.softmax(tf.add(tf.mul(s, 0.5), causalMask(5)), -1), tf.cast(keep, 'float32')), 0.75),
    );
  });

  it('dropout is inverted dropout with a seeded mask', () => {
    const x = tf.randomNormal([50, 40], 0, 1, 'float32', 1);
    const keep = tf.greaterEqual(tf.randomUniform([50, 40], 0, 1, 'float32', 5), 0.3);
    assertSameAsPlain(
      [x],
      (xs) => dropout(xs, 0.3, 5),
      (xs) => tf.div(tf.mul(xs, tf.cast(keep, 'float32')), 0.7),
    );
    const kept = tf.mean(tf.cast(keep, 'float32')).dataSync()[0];
    assert.ok(Math.abs(kept - 0.7) < 0.03, `kept fraction ${kept}`);
  });

  it('weightedCrossEntropy, with weights and label smoothing', () => {
    const logits = tf.randomNormal([6, 5], 0, 2, 'float32', 1);
    const targets = tf.tensor1d([0, 4, 2, 2, 1, 3], 'int32');
    const weights = tf.tensor1d([1, 0, 1, 1, 0, 1]);
    for (const smoothing of [0, 0.1]) {
      assertSameAsPlain(
        [logits],
        (z) => weightedCrossEntropy(z as tf.Tensor2D, targets, weights, smoothing),
        (z) =>
          tf.losses.softmaxCrossEntropy(
            tf.oneHot(targets, 5),
            z,
            weights,
            smoothing,
            tf.Reduction.SUM_BY_NONZERO_WEIGHTS,
          ),
      );
    }
  });

  it('chunkedTiedCrossEntropy equals the cross-entropy of the full tied logits, for any chunk size', () => {
    const hidden = tf.randomNormal([7, 4], 0, 1, 'float32', 1);
    const weight = tf.randomNormal([11, 4], 0, 1, 'float32', 2);
    const targets = tf.tensor1d([0, 10, 3, 3, 7, 1, 5], 'int32');
    const weights = tf.tensor1d([1, 1, 0, 1, 1, 0, 1]);
    for (const chunk of [1, 3, 7, 100]) {
      for (const smoothing of [0, 0.2]) {
        assertSameAsPlain(
          [hidden, weight],
          (h, w) => chunkedTiedCrossEntropy(h as tf.Tensor2D, w as tf.Tensor2D, targets, weights, smoothing, chunk),
          (h, w) => weightedCrossEntropy(tf.matMul(h, w, false, true), targets, weights, smoothing),
        );
      }
    }
  });

  it('reshape', () => {
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1);
    assertSameAsPlain(
      [x],
      (xs) => reshape(xs, [6, 4]),
      (xs) => tf.reshape(xs, [6, 4]),
    );
  });

  it('weightedCrossEntropy is 0 with all-zero weights and a known value otherwise', () => {
    const logits = tf.tensor2d([[0, Math.log(3)]]);
    const zero = weightedCrossEntropy(logits, tf.tensor1d([1], 'int32'), tf.tensor1d([0]));
    assert.equal(zero.dataSync()[0], 0);
    // p(target) = 3/4
    const loss = weightedCrossEntropy(logits, tf.tensor1d([1], 'int32'), tf.tensor1d([1]));
    assert.ok(Math.abs(loss.dataSync()[0] + Math.log(0.75)) < 1e-6);
  });
});
