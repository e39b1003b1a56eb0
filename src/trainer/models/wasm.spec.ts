import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  causalLmLoss,
  gpt2HeadOutput,
  gpt2Hidden,
  gpt2LmLogits,
  gpt2ParameterSpecs,
  poolLastToken,
  type Gpt2Config,
  type Gpt2Head,
} from './gpt2.js';
import { mlpForward, mlpParameterSpecs, type MlpConfig } from './mlp.js';
import { weightedCrossEntropy } from './ops.js';
import { exportParameters, importParameters, initializeParameters, type ExportedTensor } from './parameters.js';
import { registerMissingWasmKernels, useWasmBackend } from './wasm-kernels.js';

const config: Gpt2Config = {
  vocabSize: 50,
  nPositions: 16,
  nEmbd: 32,
  nLayer: 2,
  nHead: 2,
  layerNormEpsilon: 1e-5,
  dropout: 0.1,
};
const rows = Array.from({ length: 4 }, (_, b) => Array.from({ length: 12 }, (__, t) => (b * 5 + 7 * t) % 50));

/** Loss and every gradient of one seeded training step, as plain numbers, on the current backend. */
function gradientsOf(
  weights: Map<string, ExportedTensor>,
  head: Gpt2Head,
): { loss: number; grads: Map<string, Float32Array> } {
  const { params } = importParameters(gpt2ParameterSpecs(config, head), weights, { strict: true });
  const ids = tf.tensor2d(rows, undefined, 'int32');
  const names = [...params.keys()];
  const { value, grads } = tf.variableGrads(() => {
    const hidden = gpt2Hidden(params, config, ids, { training: true, seed: 3 });
    if (head.type === 'causal-lm') {
      return causalLmLoss(gpt2LmLogits(params, config, hidden), ids, { labelSmoothing: 0.1 });
    }
    const logits = gpt2HeadOutput(params, config, head, poolLastToken(hidden, tf.tensor1d([12, 5, 1, 9], 'int32')));
    return weightedCrossEntropy(logits, tf.tensor1d([0, 2, 1, 2], 'int32'), tf.ones<tf.Rank.R1>([4]));
  }, [...params.values()]);
  const byName = new Map(
    names.map((name) => [name, Float32Array.from(grads[params.get(name)?.name ?? ''].dataSync())]),
  );
  return { loss: value.dataSync()[0], grads: byName };
}

function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, tolerance: number, label: string): void {
  assert.equal(a.length, b.length, label);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
  assert.ok(worst < tolerance, `${label}: differs by ${worst}`);
}

describe('wasm backend', () => {
  before(async () => {
    await useWasmBackend();
  });

  it('is active, and registering the missing kernels again is harmless', () => {
    assert.equal(tf.getBackend(), 'wasm');
    registerMissingWasmKernels();
    registerMissingWasmKernels();
    assert.ok(tf.getKernelsForBackend('wasm').some((kernel) => kernel.kernelName === 'UnsortedSegmentSum'));
  });

  it('computes UnsortedSegmentSum like TensorFlow (inner dims, repeated ids, out-of-range ids dropped)', () => {
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ]);
    const sums = tf.unsortedSegmentSum(x, tf.tensor1d([2, 0, 2, 5], 'int32'), 3);
    assert.deepEqual(sums.arraySync(), [
      [3, 4],
      [0, 0],
      [6, 8],
    ]);
    const ints = tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3], 'int32'), tf.tensor1d([1, 1, 0], 'int32'), 2);
    assert.equal(ints.dtype, 'int32');
    assert.deepEqual(Array.from(ints.dataSync()), [3, 3]);
  });

  it('differentiates tf.gather (the embedding lookup)', () => {
    const table = tf.variable(
      tf.tensor2d([
        [1, 1],
        [2, 2],
        [3, 3],
      ]),
    );
    const { grads } = tf.variableGrads(() => tf.sum(tf.gather(table, tf.tensor1d([2, 0, 2], 'int32'))), [table]);
    assert.deepEqual(grads[table.name].arraySync(), [
      [1, 1],
      [0, 0],
      [2, 2],
    ]);
  });

  for (const head of [{ type: 'causal-lm' }, { type: 'classification', numLabels: 3 }] as Gpt2Head[]) {
    it(`gives the cpu backend's loss and gradients for a ${head.type} step with dropout`, async () => {
      const weights = exportParameters(initializeParameters(gpt2ParameterSpecs(config, head), 1));
      await tf.setBackend('cpu');
      const reference = gradientsOf(weights, head);
      await tf.setBackend('wasm');
      const ours = gradientsOf(weights, head);
      assert.ok(Math.abs(ours.loss - reference.loss) < 1e-4, `${ours.loss} vs ${reference.loss}`);
      for (const [name, grad] of reference.grads) {
        assertClose(ours.grads.get(name) ?? [], grad, 1e-4, name);
      }
    });
  }

  it('trains the causal LM (gather gradient included) and frees every step tensor', () => {
    const params = initializeParameters(gpt2ParameterSpecs(config, { type: 'causal-lm' }), 1);
    const ids = tf.tensor2d(rows, undefined, 'int32');
    const optimizer = tf.train.adam(1e-2);
    const variables = [...params.values()];
    const step = (seed: number) => {
      const cost = optimizer.minimize(
        () =>
          causalLmLoss(gpt2LmLogits(params, config, gpt2Hidden(params, config, ids, { training: true, seed })), ids),
        true,
        variables,
      );
      const loss = cost?.dataSync()[0] ?? NaN;
      cost?.dispose();
      return loss;
    };
    const first = step(0);
    const tensorsAfterFirst = tf.memory().numTensors;
    let last = first;
    for (let seed = 1; seed < 30; seed++) {
      last = step(seed);
    }
    assert.equal(tf.memory().numTensors, tensorsAfterFirst);
    assert.ok(last < first - 1.5, `${first} -> ${last}`);
  });

  it('gives the cpu backend MLP gradients', async () => {
    const mlp: MlpConfig = { inputSize: 3, hiddenSizes: [8, 8], outputSize: 2, activation: 'gelu', dropout: 0.2 };
    const weights = exportParameters(initializeParameters(mlpParameterSpecs(mlp), 4));
    const run = () => {
      const { params } = importParameters(mlpParameterSpecs(mlp), weights, { strict: true });
      const inputs = tf.tensor2d([
        [0.5, -1, 2],
        [1, 1, 0],
      ]);
      const variables = [...params.values()];
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.square(mlpForward(params, mlp, inputs, { training: true, seed: 8 }))),
        variables,
      );
      return { loss: value.dataSync()[0], grads: variables.map((v) => Float32Array.from(grads[v.name].dataSync())) };
    };
    await tf.setBackend('cpu');
    const reference = run();
    await tf.setBackend('wasm');
    const ours = run();
    assert.ok(Math.abs(ours.loss - reference.loss) < 1e-4);
    ours.grads.forEach((grad, i) => assertClose(grad, reference.grads[i], 1e-4, `layer grad ${i}`));
  });
});
