/**
 * Memory and compute estimates for a training step, for admission control and for telling a user
 * why a job will not fit. All float32 (4 bytes). Activation figures are for this package's GPT-2
 * implementation on tfjs, calibrated against the wasm backend's measured peak (the cpu backend
 * shares buffers that wasm copies, so it peaks a little lower).
 */
import type { Gpt2Config, Gpt2Head } from './gpt2.js';
import { mlpLayerSizes, type MlpConfig } from './mlp.js';

const F32 = 4;

export interface MemoryEstimate {
  /** Every parameter, trainable or not. */
  parameters: number;
  /** One float per trainable parameter. */
  gradients: number;
  /** optimizerStateSlots floats per trainable parameter (Adam: 2, SGD with momentum: 1). */
  optimizerState: number;
  /** Backprop's working set for one batch (see estimateGpt2TrainingMemory). */
  activations: number;
  total: number;
}

export interface TrainingMemoryOptions {
  batchSize: number;
  sequenceLength: number;
  trainableParameters: number;
  optimizerStateSlots: number;
  /**
   * Blocks that backprop passes through: nLayer minus the index of the lowest trainable block
   * (nLayer when wte/wpe train, 0 when only ln_f and the head do). Defaults to nLayer.
   */
  backpropBlocks?: number;
}

function nonEmbeddingParameters(config: Gpt2Config): number {
  const d = config.nEmbd;
  return config.nLayer * (12 * d * d + 13 * d) + 2 * d;
}

function headParameters(config: Gpt2Config, head: Gpt2Head): number {
  switch (head.type) {
    case 'causal-lm':
      return 0; // tied to wte
    case 'classification':
      return head.numLabels * config.nEmbd;
    case 'regression':
      return config.nEmbd;
  }
}

/** Closed form of gpt2ParameterSpecs' total: V d + P d + L (12 d^2 + 13 d) + 2 d + head (124,439,808 for GPT-2 small's body). */
export function gpt2ParameterCount(config: Gpt2Config, head: Gpt2Head): number {
  const d = config.nEmbd;
  return config.vocabSize * d + config.nPositions * d + nonEmbeddingParameters(config) + headParameters(config, head);
}

/**
 * Blocks backprop runs through for a set of trainable names (see TrainingMemoryOptions.backpropBlocks):
 * gradients flow from the loss down to the lowest trainable parameter.
 */
export function gpt2BackpropBlocks(config: Gpt2Config, trainableNames: Iterable<string>): number {
  let lowest = config.nLayer;
  for (const name of trainableNames) {
    if (name.startsWith('wte.') || name.startsWith('wpe.')) {
      return config.nLayer;
    }
    const match = /^h\.(\d+)\./.exec(name);
    if (match) {
      lowest = Math.min(lowest, Number(match[1]));
    }
  }
  return config.nLayer - lowest;
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`Memory estimate: ${name} must be a positive integer, got ${value}`);
  }
}

function totalOf(estimate: Omit<MemoryEstimate, 'total'>): MemoryEstimate {
  const total = estimate.parameters + estimate.gradients + estimate.optimizerState + estimate.activations;
  return { ...estimate, total };
}

/**
 * Peak memory of one GPT-2 training step (forward + backward; the optimizer's own temporaries are
 * not counted). Activations, with n = B*T tokens, d = nEmbd, a = B*nHead*T^2 attention entries:
 * - per block, what the backward pass needs kept: n (66 d + 8) + 9 a bytes (Korthikanti et al.
 *   2022's 34 d + 5 a/n in fp16, counted in fp32 with 1-byte dropout masks; n (64 d + 8) + 4 a
 *   without dropout). Frozen blocks keep it too: their forward still runs on the gradient tape;
 * - per block backprop runs through, the gradients of its intermediate tensors, which tfjs holds
 *   until backprop ends: about n (116 d) + 8 a;
 * - embeddings, ln_f and the sequence head: about n (36 d) + 10 a (measured);
 * - when backprop runs through few blocks the peak is instead the end of the forward pass, with
 *   the last block's attention temporaries (about 40 a) alive;
 * - causal LM: n * 18 V: the logits, their gradient and the loss gradient's temporaries (logits +
 *   gradient alone would be 8 V).
 * Measured on the wasm backend within about 15% for d 64-512, T 32-128, B 1-8.
 */
export function estimateGpt2TrainingMemory(
  config: Gpt2Config,
  head: Gpt2Head,
  options: TrainingMemoryOptions,
): MemoryEstimate {
  positiveInteger('batchSize', options.batchSize);
  positiveInteger('sequenceLength', options.sequenceLength);
  const backpropBlocks = options.backpropBlocks ?? config.nLayer;
  if (!Number.isInteger(backpropBlocks) || backpropBlocks < 0 || backpropBlocks > config.nLayer) {
    throw new Error(`Memory estimate: backpropBlocks must be an integer in 0..${config.nLayer}, got ${backpropBlocks}`);
  }
  const d = config.nEmbd;
  const tokens = options.batchSize * options.sequenceLength;
  const attention = options.batchSize * config.nHead * options.sequenceLength * options.sequenceLength;
  const withDropout = config.dropout > 0;
  const kept = tokens * ((withDropout ? 66 : 64) * d + 8) + (withDropout ? 9 : 4) * attention;
  const intermediateGradients = tokens * 116 * d + 8 * attention;
  const outer = tokens * 36 * d;
  // The peak is at the end of backprop, or, when it runs through few blocks, at the end of the
  // forward pass while the last block's attention temporaries are alive.
  const backwardPeak = config.nLayer * kept + backpropBlocks * intermediateGradients + outer + 10 * attention;
  const forwardPeak = config.nLayer * kept + outer + 40 * attention;
  const lmHead = head.type === 'causal-lm' ? tokens * 18 * config.vocabSize : 0;
  return totalOf({
    parameters: gpt2ParameterCount(config, head) * F32,
    gradients: options.trainableParameters * F32,
    optimizerState: options.trainableParameters * options.optimizerStateSlots * F32,
    activations: Math.max(backwardPeak, forwardPeak) + lmHead,
  });
}

export function mlpParameterCount(config: MlpConfig): number {
  return mlpLayerSizes(config).reduce((total, [inSize, outSize]) => total + inSize * outSize + outSize, 0);
}

/**
 * One MLP training step. Activations per layer: the input, the pre-activation output and the
 * activation kept for backprop, their gradients, the dropout mask, and on wasm a copy of the weight
 * matrix the matmul gradient keeps: about B (2 in + 4 out) floats + in*out floats.
 */
export function estimateMlpTrainingMemory(
  config: MlpConfig,
  options: { batchSize: number; trainableParameters: number; optimizerStateSlots: number },
): MemoryEstimate {
  positiveInteger('batchSize', options.batchSize);
  const activations = mlpLayerSizes(config).reduce(
    (total, [inSize, outSize]) => total + (options.batchSize * (2 * inSize + 4 * outSize) + inSize * outSize) * F32,
    0,
  );
  return totalOf({
    parameters: mlpParameterCount(config) * F32,
    gradients: options.trainableParameters * F32,
    optimizerState: options.trainableParameters * options.optimizerStateSlots * F32,
    activations,
  });
}

/**
 * Training FLOPs per token (forward + backward = 3x forward): 6 N for the non-embedding weights,
 * 12 nLayer T d for attention scores and their use (PaLM appendix B, no causal halving), plus the
 * head: 6 d V for the tied LM head, or 6 d numLabels once per sequence for a sequence head.
 */
export function gpt2TrainingFlopsPerToken(config: Gpt2Config, sequenceLength: number, head: Gpt2Head): number {
  const d = config.nEmbd;
  const body = 6 * nonEmbeddingParameters(config) + 12 * config.nLayer * sequenceLength * d;
  switch (head.type) {
    case 'causal-lm':
      return body + 6 * d * config.vocabSize;
    case 'classification':
      return body + (6 * d * head.numLabels) / sequenceLength;
    case 'regression':
      return body + (6 * d) / sequenceLength;
  }
}
