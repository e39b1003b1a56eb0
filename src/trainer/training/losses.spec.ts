import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  binaryCrossEntropyLoss,
  causalLmLoss,
  causalLmStats,
  crossEntropyLoss,
  huberLoss,
  l1l2Penalty,
  maeLoss,
  mseLoss,
} from './losses.js';

function close(actual: number, expected: number, tolerance = 1e-5): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)),
    `got ${actual}, expected ${expected}`,
  );
}

function closeAll(actual: ArrayLike<number>, expected: number[], tolerance = 1e-5): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    close(actual[i], expected[i], tolerance);
  }
}

/** Evaluates a scalar loss and frees it. */
function value(loss: tf.Scalar): number {
  const v = loss.dataSync()[0];
  loss.dispose();
  return v;
}

/** log Σ exp(z), by hand. */
const lse = (row: number[]): number => Math.log(row.reduce((sum, z) => sum + Math.exp(z), 0));
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

describe('losses', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  describe('crossEntropyLoss', () => {
    // Two rows over three classes, labels [0, 2].
    const rows = [
      [2, 1, 0],
      [0.5, -1, 1],
    ];
    const lse1 = lse(rows[0]);
    const lse2 = lse(rows[1]);
    // -log p(label) = lse - z_label
    const nll1 = lse1 - 2;
    const nll2 = lse2 - 1;

    function loss(options?: Parameters<typeof crossEntropyLoss>[2]): number {
      const logits = tf.tensor2d(rows);
      const labels = tf.tensor1d([0, 2], 'int32');
      const result = value(crossEntropyLoss(logits, labels, options));
      tf.dispose([logits, labels]);
      return result;
    }

    it('is the mean negative log-softmax of the label', () => {
      close(loss(), (nll1 + nll2) / 2);
    });

    it('label smoothing: (1-e)*nll + e/C * sum over classes of -log p', () => {
      // Σ_c -log p_c = C*lse - Σ_c z_c: row 1 → 3*lse1 - 3, row 2 → 3*lse2 - 0.5
      const smooth = (3 * lse1 - 3 + (3 * lse2 - 0.5)) / 2;
      close(loss({ labelSmoothing: 0.1 }), 0.9 * ((nll1 + nll2) / 2) + (0.1 / 3) * smooth);
    });

    it('class weights: sum(w_y * nll) / sum(w_y)', () => {
      // w = [1, 2, 0.5]; label weights [1, 0.5]
      close(loss({ classWeights: [1, 2, 0.5] }), (1 * nll1 + 0.5 * nll2) / 1.5);
    });

    it('class weights with label smoothing: torch divides the smoothing term by sum(w_y) too', () => {
      // Σ_c w_c*(-log p_c) = lse*Σw - Σ w_c z_c with Σw = 3.5:
      // row 1: Σ w_c z_c = 2 + 2 + 0 = 4; row 2: 0.5 - 2 + 0.5 = -1
      const smooth = (3.5 * lse1 - 4 + (3.5 * lse2 + 1)) / 1.5;
      const hard = (1 * nll1 + 0.5 * nll2) / 1.5;
      close(loss({ classWeights: [1, 2, 0.5], labelSmoothing: 0.1 }), 0.9 * hard + (0.1 / 3) * smooth);
    });

    it('has gradient (softmax - one-hot) / N inside tf.variableGrads', () => {
      const logits = tf.variable(tf.tensor2d(rows));
      const labels = tf.tensor1d([0, 2], 'int32');
      const { value: l, grads } = tf.variableGrads(() => crossEntropyLoss(logits, labels), [logits]);
      const g = grads[logits.name].dataSync();
      const softmax = rows.map((row, i) => row.map((z) => Math.exp(z - (i === 0 ? lse1 : lse2))));
      closeAll(g, [
        (softmax[0][0] - 1) / 2,
        softmax[0][1] / 2,
        softmax[0][2] / 2,
        softmax[1][0] / 2,
        softmax[1][1] / 2,
        (softmax[1][2] - 1) / 2,
      ]);
      tf.dispose([logits, labels, l, ...Object.values(grads)]);
    });

    it('rejects out-of-range labels and mismatched weights', () => {
      const logits = tf.tensor2d(rows);
      const bad = tf.tensor1d([0, 3], 'int32');
      const good = tf.tensor1d([0, 1], 'int32');
      assert.throws(() => crossEntropyLoss(logits, bad), /label 3 is outside \[0, 3\)/);
      assert.throws(() => crossEntropyLoss(logits, good, { classWeights: [1, 2] }), /2 entries for 3 classes/);
      assert.throws(() => crossEntropyLoss(logits, good, { labelSmoothing: 1.5 }), /labelSmoothing/);
      tf.dispose([logits, bad, good]);
    });
  });

  describe('binaryCrossEntropyLoss', () => {
    const x = [0.5, -2, 3];
    const y = [1, 0, 1];
    function loss(logits: number[], targets: number[], positiveWeight?: number): number {
      const a = tf.tensor1d(logits);
      const b = tf.tensor1d(targets);
      const result = value(binaryCrossEntropyLoss(a, b, positiveWeight === undefined ? {} : { positiveWeight }));
      tf.dispose([a, b]);
      return result;
    }

    it('is -[y log σ(x) + (1-y) log(1-σ(x))] averaged', () => {
      const expected = (-Math.log(sigmoid(0.5)) - Math.log(1 - sigmoid(-2)) - Math.log(sigmoid(3))) / 3;
      close(loss(x, y), expected);
    });

    it('positive weight multiplies the positive term', () => {
      const expected = (-3 * Math.log(sigmoid(0.5)) - Math.log(1 - sigmoid(-2)) - 3 * Math.log(sigmoid(3))) / 3;
      close(loss(x, y, 3), expected);
    });

    it('stays finite for huge logits', () => {
      // Wrong with confidence 100 each way: -log σ(-100) = 100
      close(loss([100, -100], [0, 1]), 100);
      close(loss([100, -100], [1, 0]), 0, 1e-6);
    });

    it('has gradient (σ(x) - y) / N, also at x = 0', () => {
      const logits = tf.variable(tf.tensor1d([0, 0, 2]));
      const targets = tf.tensor1d([1, 0, 0]);
      const { value: l, grads } = tf.variableGrads(() => binaryCrossEntropyLoss(logits, targets), [logits]);
      closeAll(grads[logits.name].dataSync(), [(0.5 - 1) / 3, 0.5 / 3, sigmoid(2) / 3]);
      tf.dispose([logits, targets, l, ...Object.values(grads)]);
    });

    it('rejects mismatched shapes instead of broadcasting', () => {
      const a = tf.zeros([3, 1]);
      const b = tf.zeros([3]);
      assert.throws(() => binaryCrossEntropyLoss(a, b), /shape \[3,1\].*\[3\]/);
      tf.dispose([a, b]);
    });
  });

  describe('regression losses', () => {
    // differences p - t = [-0.5, 0, 2]
    const p = [1, 2, 3];
    const t = [1.5, 2, 1];
    function loss(fn: (a: tf.Tensor, b: tf.Tensor) => tf.Scalar): number {
      const a = tf.tensor1d(p);
      const b = tf.tensor1d(t);
      const result = value(fn(a, b));
      tf.dispose([a, b]);
      return result;
    }

    it('mse', () => {
      close(loss(mseLoss), (0.25 + 0 + 4) / 3);
    });

    it('mae', () => {
      close(loss(maeLoss), (0.5 + 0 + 2) / 3);
    });

    it('huber, delta 1: quadratic below delta, linear above', () => {
      // [0.5*0.25, 0, 1*(2 - 0.5)]
      close(
        loss((a, b) => huberLoss(a, b)),
        (0.125 + 0 + 1.5) / 3,
      );
    });

    it('huber, delta 2.5: all quadratic', () => {
      close(
        loss((a, b) => huberLoss(a, b, 2.5)),
        (0.125 + 0 + 0.5 * 4) / 3,
      );
    });

    it('huber, delta 0.25: all linear', () => {
      // 0.25*(0.5 - 0.125), 0, 0.25*(2 - 0.125)
      close(
        loss((a, b) => huberLoss(a, b, 0.25)),
        (0.25 * 0.375 + 0 + 0.25 * 1.875) / 3,
      );
    });
  });

  describe('l1l2Penalty', () => {
    it('sums l1*|w| + l2*w^2 over all tensors', () => {
      const a = tf.tensor1d([1, -2]);
      const b = tf.tensor2d([[3]]);
      // 0.1*(1 + 2 + 3) + 0.01*(1 + 4 + 9) = 0.6 + 0.14
      close(value(l1l2Penalty([a, b], 0.1, 0.01)), 0.74);
      close(value(l1l2Penalty([a, b], 0, 0)), 0);
      close(value(l1l2Penalty([], 0.1, 0.1)), 0);
      tf.dispose([a, b]);
    });
  });

  describe('causalLmLoss', () => {
    // B = 2, T = 3, V = 3. Position t predicts token t+1; mask marks the target tokens that count.
    const logitRows = [
      [
        [0, 1, 2], // predicts ids[0][1] = 2 (counted), argmax 2: hit
        [1, 0.5, -1], // predicts ids[0][2] = 1 (counted), argmax 0: miss
        [9, 9, 9], // last position: no target
      ],
      [
        [0, 3, 0], // predicts ids[1][1] = 1, masked out (prompt)
        [2, 0, 1], // predicts ids[1][2] = 0 (counted), argmax 0: hit
        [-9, 9, 0], // no target
      ],
    ];
    const ids = [
      [0, 2, 1],
      [1, 1, 0],
    ];
    const mask = [
      [0, 1, 1],
      [0, 0, 1],
    ];
    const nll = [
      lse([0, 1, 2]) - 2, // token 2
      lse([1, 0.5, -1]) - 0.5, // token 1
      lse([2, 0, 1]) - 2, // token 0
    ];

    function tensors(m: number[][] = mask): [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D] {
      return [tf.tensor3d(logitRows), tf.tensor2d(ids, undefined, 'int32'), tf.tensor2d(m)];
    }

    it('averages -log p(next token) over the counted targets only', () => {
      const [l, i, m] = tensors();
      close(value(causalLmLoss(l, i, m)), (nll[0] + nll[1] + nll[2]) / 3);
      tf.dispose([l, i, m]);
    });

    it('gives 0 when nothing is counted', () => {
      const [l, i, m] = tensors([
        [1, 0, 0],
        [1, 0, 0],
      ]);
      close(value(causalLmLoss(l, i, m)), 0);
      tf.dispose([l, i, m]);
    });

    it('gives 0 and zero gradients for one-token sequences', () => {
      const logits = tf.variable(tf.tensor3d([[[1, 2, 3]]]));
      const ids = tf.tensor2d([[1]], undefined, 'int32');
      const m = tf.tensor2d([[1]]);
      const { value: l, grads } = tf.variableGrads(() => causalLmLoss(logits, ids, m), [logits]);
      assert.equal(l.dataSync()[0], 0);
      closeAll(grads[logits.name].dataSync(), [0, 0, 0]);
      assert.deepEqual(causalLmStats(logits, ids, m), { lossSum: 0, tokens: 0, correct: 0 });
      tf.dispose([logits, ids, m, l, ...Object.values(grads)]);
    });

    it('puts gradient only on positions with a counted target', () => {
      const logits = tf.variable(tf.tensor3d(logitRows));
      const [, i, m] = tensors();
      const { value: l, grads } = tf.variableGrads(() => causalLmLoss(logits, i, m), [logits]);
      const g = grads[logits.name].arraySync() as number[][][];
      // counted position: (softmax - one-hot) / 3
      const p = [0, 1, 2].map((z) => Math.exp(z - lse([0, 1, 2])));
      closeAll(g[0][0], [p[0] / 3, p[1] / 3, (p[2] - 1) / 3]);
      closeAll(g[0][2], [0, 0, 0]);
      closeAll(g[1][0], [0, 0, 0]);
      closeAll(g[1][2], [0, 0, 0]);
      tf.dispose([logits, i, m, l, ...Object.values(grads)]);
    });

    it('causalLmStats returns sums for perplexity and token accuracy', () => {
      const [l, i, m] = tensors();
      const stats = causalLmStats(l, i, m);
      close(stats.lossSum, nll[0] + nll[1] + nll[2]);
      assert.equal(stats.tokens, 3);
      assert.equal(stats.correct, 2);
      tf.dispose([l, i, m]);
    });

    it('rejects token ids outside the vocabulary and mismatched shapes', () => {
      const [l, , m] = tensors();
      const badIds = tf.tensor2d(
        [
          [0, 3, 1],
          [1, 1, 0],
        ],
        undefined,
        'int32',
      );
      assert.throws(() => causalLmLoss(l, badIds, m), /token id 3 is outside \[0, 3\)/);
      const shortMask = tf.ones<tf.Rank.R2>([2, 2]);
      assert.throws(() => causalLmStats(l, badIds, shortMask), /need inputIds and lossMask of \[2,3\]/);
      tf.dispose([l, m, badIds, shortMask]);
    });

    it('does not leak tensors', () => {
      const [l, i, m] = tensors();
      const before = tf.memory().numTensors;
      value(causalLmLoss(l, i, m));
      causalLmStats(l, i, m);
      assert.equal(tf.memory().numTensors, before);
      tf.dispose([l, i, m]);
    });
  });
});
