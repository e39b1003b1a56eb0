/**
 * The one forward pass of every model family, shared by training, evaluation and prediction: the
 * architecture a model version states, its parameter specs, a batch of examples as tensors, and
 * the output of that batch (LM logits, class logits or a standardised regression value).
 */
import * as tf from '@tensorflow/tfjs';
import { decodeSafetensors } from '../formats/safetensors.js';
import {
  gpt2HeadOutput,
  gpt2Hidden,
  gpt2LmLogits,
  gpt2ParameterSpecs,
  poolLastToken,
  type ForwardOptions,
  type Gpt2Config,
  type Gpt2Head,
} from '../models/gpt2.js';
import { mlpForward, mlpParameterSpecs, type MlpConfig } from '../models/mlp.js';
import type { ParameterMap, ParameterSpec } from '../models/parameters.js';
import type { ExampleSet } from '../runtime/examples.js';

/** A model's architecture: its family, that family's config and (gpt2) its head. */
export type ModelArchitecture =
  { family: 'gpt2'; config: Gpt2Config; head: Gpt2Head } | { family: 'mlp'; config: MlpConfig };

/**
 * Examples as tensors; which ones are present depends on the family and whether labels were read.
 * A type alias, not an interface, so tf.tidy accepts it as a tensor container.
 */
export type BatchTensors = {
  inputIds?: tf.Tensor2D;
  lengths?: tf.Tensor1D;
  lossMask?: tf.Tensor2D;
  features?: tf.Tensor2D;
  labels?: tf.Tensor1D;
  targets?: tf.Tensor2D;
};

export function architectureParameterSpecs(architecture: ModelArchitecture): ParameterSpec[] {
  switch (architecture.family) {
    case 'gpt2':
      return gpt2ParameterSpecs(architecture.config, architecture.head);
    case 'mlp':
      return mlpParameterSpecs(architecture.config);
    default: {
      const unreachable: never = architecture;
      throw new Error(`unknown model family ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The rows `indices` of an example set as tensors; token batches are trimmed to their longest example. */
export function batchTensors(set: ExampleSet, indices: ArrayLike<number>): BatchTensors {
  const size = indices.length;
  const T = set.sequenceLength;
  return tf.tidy(() => {
    const out: BatchTensors = {};
    if (set.inputIds) {
      // Trim the batch to its longest example: attention costs T^2.
      let width = 1;
      for (let i = 0; i < size; i += 1) {
        width = Math.max(width, set.lengths![indices[i]]);
      }
      const ids = new Int32Array(size * width);
      const lengths = new Int32Array(size);
      const mask = set.lossMask ? new Float32Array(size * width) : null;
      for (let i = 0; i < size; i += 1) {
        const row = indices[i];
        ids.set(set.inputIds.subarray(row * T, row * T + width), i * width);
        lengths[i] = set.lengths![row];
        if (mask) {
          mask.set(set.lossMask!.subarray(row * T, row * T + width), i * width);
        }
      }
      out.inputIds = tf.tensor2d(ids, [size, width], 'int32');
      out.lengths = tf.tensor1d(lengths, 'int32');
      if (mask) {
        out.lossMask = tf.tensor2d(mask, [size, width], 'float32');
      }
    }
    if (set.features) {
      const F = set.featureCount;
      const features = new Float32Array(size * F);
      for (let i = 0; i < size; i += 1) {
        features.set(set.features.subarray(indices[i] * F, indices[i] * F + F), i * F);
      }
      out.features = tf.tensor2d(features, [size, F], 'float32');
    }
    if (set.labels) {
      out.labels = tf.tensor1d(
        Int32Array.from(indices, (row) => set.labels![row]),
        'int32',
      );
    }
    if (set.targets) {
      out.targets = tf.tensor2d(
        Float32Array.from(indices, (row) => set.targets![row]),
        [size, 1],
        'float32',
      );
    }
    return out;
  });
}

export function disposeBatch(batch: BatchTensors): void {
  Object.values(batch).forEach((tensor) => (tensor as tf.Tensor | undefined)?.dispose());
}

/** The model's output for a batch: LM logits [B,T,V], class logits [B,C], or a standardised value [B,1]. */
export function modelForward(
  params: ParameterMap,
  architecture: ModelArchitecture,
  batch: BatchTensors,
  options: ForwardOptions,
): tf.Tensor {
  switch (architecture.family) {
    case 'gpt2': {
      const { config, head } = architecture;
      return tf.tidy(() => {
        const hidden = gpt2Hidden(params, config, requireInput(batch.inputIds, 'inputIds'), options);
        if (head.type === 'causal-lm') {
          return gpt2LmLogits(params, config, hidden);
        }
        return gpt2HeadOutput(params, config, head, poolLastToken(hidden, requireInput(batch.lengths, 'lengths')));
      });
    }
    case 'mlp':
      return mlpForward(params, architecture.config, requireInput(batch.features, 'features'), options);
    default: {
      const unreachable: never = architecture;
      throw new Error(`unknown model family ${JSON.stringify(unreachable)}`);
    }
  }
}

function requireInput<T>(value: T | undefined, name: string): T {
  if (value === undefined) {
    throw new Error(`forward: the batch has no ${name}`);
  }
  return value;
}

/** Weights from a safetensors file as float32 tensors, whatever dtype the file stores them in. */
export function readFloatTensors(
  bytes: Uint8Array,
): Map<string, { dtype: string; shape: number[]; data: Float32Array }> {
  const decoded = decodeSafetensors(bytes);
  const result = new Map<string, { dtype: string; shape: number[]; data: Float32Array }>();
  for (const [name, tensor] of decoded.tensors) {
    result.set(name, {
      dtype: 'F32',
      shape: tensor.shape,
      data: tensor.data instanceof Float32Array ? tensor.data : Float32Array.from(tensor.data),
    });
  }
  return result;
}
