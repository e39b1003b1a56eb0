/**
 * A multilayer perceptron for tabular classification and regression, laid out like a stack of
 * PyTorch nn.Linear layers (weight [out, in], bias [out]) so checkpoints map one to one.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardOptions } from './gpt2.js';
import { dropout, matMul2d } from './ops.js';
import { parameterSeed, requireParameter, type ParameterMap, type ParameterSpec } from './parameters.js';

export interface MlpConfig {
  inputSize: number;
  hiddenSizes: number[];
  outputSize: number;
  activation: 'relu' | 'gelu' | 'tanh';
  /** Applied after every hidden activation while training. */
  dropout: number;
}

export function validateMlpConfig(config: MlpConfig): void {
  const sizes = [config.inputSize, ...config.hiddenSizes, config.outputSize];
  for (const size of sizes) {
    if (!Number.isInteger(size) || size < 1) {
      throw new Error(`MLP config: layer sizes must be positive integers, got ${JSON.stringify(sizes)}`);
    }
  }
  if (!(config.dropout >= 0 && config.dropout < 1)) {
    throw new Error(`MLP config: dropout must be in [0, 1), got ${config.dropout}`);
  }
}

/** [in, out] of every layer, input to output. */
export function mlpLayerSizes(config: MlpConfig): Array<[number, number]> {
  const sizes = [config.inputSize, ...config.hiddenSizes, config.outputSize];
  return sizes.slice(1).map((out, i) => [sizes[i], out]);
}

/**
 * `layers.{i}.weight` [out,in] and `layers.{i}.bias` [out], both U(-1/sqrt(in), 1/sqrt(in)): what
 * nn.Linear's default kaiming_uniform_(a=sqrt(5)) works out to. Decay on weights, not biases.
 */
export function mlpParameterSpecs(config: MlpConfig): ParameterSpec[] {
  validateMlpConfig(config);
  return mlpLayerSizes(config).flatMap(([inSize, outSize], i): ParameterSpec[] => {
    const bound = 1 / Math.sqrt(inSize);
    return [
      { name: `layers.${i}.weight`, shape: [outSize, inSize], init: 'uniform', bound, decay: true },
      { name: `layers.${i}.bias`, shape: [outSize], init: 'uniform', bound, decay: false },
    ];
  });
}

function activate(x: tf.Tensor2D, activation: MlpConfig['activation']): tf.Tensor2D {
  switch (activation) {
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'gelu':
      // Exact (erf) GELU, PyTorch nn.GELU's default.
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
  }
}

/** Logits (classification) or outputs (regression) [B,outputSize] for float inputs [B,inputSize]. */
export function mlpForward(
  params: ParameterMap,
  config: MlpConfig,
  inputs: tf.Tensor2D,
  options: ForwardOptions,
): tf.Tensor2D {
  if (inputs.shape[1] !== config.inputSize) {
    throw new Error(`MLP forward: inputs have ${inputs.shape[1]} features, expected ${config.inputSize}`);
  }
  const layers = mlpLayerSizes(config);
  return tf.tidy(() => {
    let x: tf.Tensor2D = tf.cast(inputs, 'float32');
    layers.forEach((_, i) => {
      // Not tf.fused.matMul: the wasm backend's fused kernel adds the bias wrongly with transposeB (tfjs 4.22).
      x = tf.add(
        matMul2d(x, requireParameter(params, `layers.${i}.weight`), false, true),
        requireParameter(params, `layers.${i}.bias`),
      );
      if (i < layers.length - 1) {
        x = activate(x, config.activation);
        if (options.training && config.dropout > 0) {
          const seed = options.seed === undefined ? undefined : parameterSeed(options.seed, `dropout.${i}`);
          x = dropout(x, config.dropout, seed);
        }
      }
    });
    return x;
  });
}
