import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { mlpForward, mlpParameterSpecs, type MlpConfig } from './mlp.js';
import { exportParameters, initializeParameters } from './parameters.js';

const xorConfig: MlpConfig = { inputSize: 2, hiddenSizes: [8], outputSize: 2, activation: 'tanh', dropout: 0 };

describe('MLP', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('lays parameters out like PyTorch nn.Linear with its default uniform init', () => {
    const config: MlpConfig = { inputSize: 5, hiddenSizes: [16, 4], outputSize: 3, activation: 'relu', dropout: 0.1 };
    const specs = mlpParameterSpecs(config);
    assert.deepEqual(
      specs.map((spec) => [spec.name, spec.shape, spec.decay]),
      [
        ['layers.0.weight', [16, 5], true],
        ['layers.0.bias', [16], false],
        ['layers.1.weight', [4, 16], true],
        ['layers.1.bias', [4], false],
        ['layers.2.weight', [3, 4], true],
        ['layers.2.bias', [3], false],
      ],
    );
    const params = exportParameters(initializeParameters(specs, 1));
    const first = params.get('layers.0.weight')?.data ?? new Float32Array();
    const bound = 1 / Math.sqrt(5);
    assert.ok(first.every((value) => Math.abs(value) <= bound));
    assert.ok(Math.max(...first.map(Math.abs)) > 0.8 * bound);
    const second = params.get('layers.1.bias')?.data ?? new Float32Array();
    assert.ok(second.every((value) => Math.abs(value) <= 0.25));
    assert.throws(() => mlpParameterSpecs({ ...config, hiddenSizes: [0] }), /positive integers/);
  });

  it('computes x W^T + b through the activations', () => {
    const config: MlpConfig = { inputSize: 2, hiddenSizes: [2], outputSize: 1, activation: 'relu', dropout: 0 };
    const params = initializeParameters(mlpParameterSpecs(config), 1);
    params.get('layers.0.weight')?.assign(
      tf.tensor2d([
        [1, -1],
        [2, 0.5],
      ]),
    );
    params.get('layers.0.bias')?.assign(tf.tensor1d([0.5, -10]));
    params.get('layers.1.weight')?.assign(tf.tensor2d([[3, 1]]));
    params.get('layers.1.bias')?.assign(tf.tensor1d([0.25]));
    // hidden = relu([3 - 1 + 0.5, 6 + 0.5 - 10]) = [2.5, 0]; out = 7.5 + 0.25
    const out = mlpForward(params, config, tf.tensor2d([[3, 1]]), { training: false });
    assert.deepEqual(Array.from(out.dataSync()), [7.75]);
    const gelu = mlpForward(params, { ...config, activation: 'gelu' }, tf.tensor2d([[3, 1]]), { training: false });
    // exact GELU(2.5) = 2.5 * Phi(2.5) = 2.48447..., GELU(-3.5) = -0.000814...
    assert.ok(Math.abs(gelu.dataSync()[0] - (3 * 2.4844702 + -0.00081395 + 0.25)) < 1e-4);
    assert.throws(() => mlpForward(params, config, tf.ones<tf.Rank.R2>([1, 3]), { training: false }), /3 features/);
  });

  it('learns XOR', () => {
    const params = initializeParameters(mlpParameterSpecs(xorConfig), 3);
    const inputs = tf.tensor2d([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 1, 0], 'int32'), 2);
    const optimizer = tf.train.adam(0.05);
    const variables = [...params.values()];
    for (let step = 0; step < 200; step++) {
      optimizer.minimize(
        () =>
          tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(
            labels,
            mlpForward(params, xorConfig, inputs, { training: true }),
          ),
        false,
        variables,
      );
    }
    const predicted = tf.argMax(mlpForward(params, xorConfig, inputs, { training: false }), 1);
    assert.deepEqual(Array.from(predicted.dataSync()), [0, 1, 1, 0]);
  });

  it('applies seeded dropout only in training', () => {
    const config: MlpConfig = { inputSize: 4, hiddenSizes: [64], outputSize: 2, activation: 'gelu', dropout: 0.5 };
    const params = initializeParameters(mlpParameterSpecs(config), 1);
    const x = tf.randomNormal<tf.Rank.R2>([3, 4], 0, 1, 'float32', 2);
    const evalOut = Array.from(mlpForward(params, config, x, { training: false, seed: 1 }).dataSync());
    assert.deepEqual(Array.from(mlpForward(params, config, x, { training: false }).dataSync()), evalOut);
    const a = Array.from(mlpForward(params, config, x, { training: true, seed: 1 }).dataSync());
    const b = Array.from(mlpForward(params, config, x, { training: true, seed: 1 }).dataSync());
    const c = Array.from(mlpForward(params, config, x, { training: true, seed: 2 }).dataSync());
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.notDeepEqual(a, evalOut);
  });
});
