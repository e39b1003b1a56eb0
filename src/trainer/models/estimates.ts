/**
 * Memory and compute estimates for a training step, for admission control and for telling a user
 * why a job will not fit. All float32 (4 bytes). Activation figures are for this package's GPT-2
 * implementation on tfjs, calibrated against the wasm backend's measured peak (the cpu backend
 * shares buffers that wasm copies, so it peaks a little lower).
 */
import { LM_LOSS_CHUNK_TOKENS, type Gpt2Config, type Gpt2Head } from './gpt2.js';
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
  /** gpt2LmLoss's chunkTokens (default LM_LOSS_CHUNK_TOKENS); 0 for causalLmLoss on full logits. */
  lmLossChunkTokens?: number;
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
 * Peak memory of one GPT-2 training step: forward and backward. Not the optimizer update's own
 * temporaries: tf.train.adam computes every variable's update in one tidy and so holds about 11
 * floats per trainable parameter until it ends.
 *
 * Activations, with n = B*T tokens, d = nEmbd, a = B*nHead*T^2 attention entries:
 * - per block, what the backward pass needs kept: n (66 d + 8) + 9 a bytes (Korthikanti et al.
 *   2022's 34 d + 5 a/n in fp16, counted in fp32 with 1-byte dropout masks; n (64 d + 8) + 4 a
 *   without dropout). Frozen blocks keep it too: their forward still runs on the gradient tape;
 * - per block backprop runs through, the gradients of its intermediate tensors, which tfjs holds
 *   until backprop ends: about n (116 d) + 8 a;
 * - embeddings, ln_f and the sequence head: about n (36 d) + 10 a (measured);
 * - the peak is the largest of: the end of backprop; the end of the forward pass (about 40 a of
 *   attention temporaries), which wins when backprop runs through few blocks; and, for the causal
 *   LM, the head's working set on top of everything kept (lmHeadBytes), which wins for large
 *   vocabularies. The tied wte also gets two partial gradients before tfjs sums them (2 V d).
 * Checked against the wasm backend's measured peak: within about 10% for d 64-768, T 32-128,
 * B 1-8, V 256-50257.
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
  const allKept = config.nLayer * kept + outer;
  // The peak is the end of backprop; or, when it runs through few blocks, the end of the forward
  // pass while the last block's attention temporaries are alive; or the LM head's temporaries.
  const backwardPeak = allKept + backpropBlocks * intermediateGradients + 10 * attention;
  const forwardPeak = allKept + 40 * attention;
  let activations = Math.max(backwardPeak, forwardPeak);
  if (head.type === 'causal-lm') {
    const wteGradient = config.vocabSize * d * F32;
    const headPeak = allKept + lmHeadBytes(config, tokens, options.lmLossChunkTokens ?? LM_LOSS_CHUNK_TOKENS);
    activations = Math.max(backwardPeak + 2 * wteGradient, forwardPeak, headPeak);
  }
  return totalOf({
    parameters: gpt2ParameterCount(config, head) * F32,
    gradients: options.trainableParameters * F32,
    optimizerState: options.trainableParameters * options.optimizerStateSlots * F32,
    activations,
  });
}

/**
 * The tied LM head's working set. gpt2LmLoss: two [rows, V] float tensors (a chunk's logits, then
 * the loss or its gradient), rows = min(chunk, tokens), and about two [V, d] (the transposed
 * weight, the running gradient). Full logits (chunk 0): about four [tokens, V] (logits, their saved
 * copy, gradient, temporaries) and one [V, d].
 */
function lmHeadBytes(config: Gpt2Config, tokens: number, chunk: number): number {
  const weightSize = config.vocabSize * config.nEmbd;
  if (chunk > 0) {
    return (2 * Math.min(chunk, tokens) * config.vocabSize + 2 * weightSize) * F32;
  }
  return (4 * tokens * config.vocabSize + weightSize) * F32;
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
