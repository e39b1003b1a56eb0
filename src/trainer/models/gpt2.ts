/**
 * GPT-2 as in Hugging Face `transformers` (GPT2Model, GPT2LMHeadModel, GPT2ForSequenceClassification):
 * same parameter names and layouts (Conv1D weights are [in, out]), pre-LayerNorm blocks, tanh GELU
 * ("gelu_new"), causal attention scaled by 1/sqrt(headDim), LM head tied to `wte`. Built from tfjs
 * ops with hand-written gradients (ops.ts), so it runs and differentiates on every backend.
 */
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
  matMul2d,
  mergeHeads,
  reshape,
  residualAdd,
  splitHeads,
  tiedOutput,
  weightedCrossEntropy,
} from './ops.js';
import { parameterSeed, requireParameter, type ParameterMap, type ParameterSpec } from './parameters.js';

export interface Gpt2Config {
  vocabSize: number;
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** 1e-5 in GPT-2. */
  layerNormEpsilon: number;
  /** Used for the embedding, attention and residual dropouts (HF's embd/attn/resid_pdrop), 0.1 in GPT-2. */
  dropout: number;
}

export type Gpt2Head = { type: 'causal-lm' } | { type: 'classification'; numLabels: number } | { type: 'regression' };

export interface ForwardOptions {
  training: boolean;
  /** Seed for this step's dropout masks: the same seed gives the same masks. Random when absent. */
  seed?: number;
}

export type Gpt2ParameterSpec = ParameterSpec & { init: 'normal' | 'zeros' | 'ones' };

const INITIALIZER_RANGE = 0.02;

export function validateGpt2Config(config: Gpt2Config): void {
  const positive: Array<keyof Gpt2Config> = ['vocabSize', 'nPositions', 'nEmbd', 'nLayer', 'nHead'];
  for (const key of positive) {
    const value = config[key];
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`GPT-2 config: ${key} must be a positive integer, got ${value}`);
    }
  }
  if (config.nEmbd % config.nHead !== 0) {
    throw new Error(`GPT-2 config: nEmbd ${config.nEmbd} is not divisible by nHead ${config.nHead}`);
  }
  if (!(config.layerNormEpsilon > 0)) {
    throw new Error(`GPT-2 config: layerNormEpsilon must be > 0, got ${config.layerNormEpsilon}`);
  }
  if (!(config.dropout >= 0 && config.dropout < 1)) {
    throw new Error(`GPT-2 config: dropout must be in [0, 1), got ${config.dropout}`);
  }
}

/**
 * Parameters in HF GPT2Model state-dict order, plus `score.weight` for the sequence heads. Init as
 * HF `_init_weights`: N(0, 0.02) for matrices and embeddings, N(0, 0.02/sqrt(2*nLayer)) for both
 * `c_proj` weights, zero biases, LayerNorm ones/zeros. Weight decay: matrices and embeddings yes;
 * biases and LayerNorm parameters no (the HF Trainer / nanoGPT convention).
 */
export function gpt2ParameterSpecs(config: Gpt2Config, head: Gpt2Head): Gpt2ParameterSpec[] {
  validateGpt2Config(config);
  const d = config.nEmbd;
  const projStd = INITIALIZER_RANGE / Math.sqrt(2 * config.nLayer);
  const matrix = (name: string, shape: number[], std = INITIALIZER_RANGE): Gpt2ParameterSpec => ({
    name,
    shape,
    init: 'normal',
    std,
    decay: true,
  });
  const zeros = (name: string, shape: number[]): Gpt2ParameterSpec => ({ name, shape, init: 'zeros', decay: false });
  const layerNormSpecs = (prefix: string): Gpt2ParameterSpec[] => [
    { name: `${prefix}.weight`, shape: [d], init: 'ones', decay: false },
    zeros(`${prefix}.bias`, [d]),
  ];

  const specs: Gpt2ParameterSpec[] = [
    matrix('wte.weight', [config.vocabSize, d]),
    matrix('wpe.weight', [config.nPositions, d]),
  ];
  for (let i = 0; i < config.nLayer; i++) {
    const p = `h.${i}`;
    specs.push(
      ...layerNormSpecs(`${p}.ln_1`),
      matrix(`${p}.attn.c_attn.weight`, [d, 3 * d]),
      zeros(`${p}.attn.c_attn.bias`, [3 * d]),
      matrix(`${p}.attn.c_proj.weight`, [d, d], projStd),
      zeros(`${p}.attn.c_proj.bias`, [d]),
      ...layerNormSpecs(`${p}.ln_2`),
      matrix(`${p}.mlp.c_fc.weight`, [d, 4 * d]),
      zeros(`${p}.mlp.c_fc.bias`, [4 * d]),
      matrix(`${p}.mlp.c_proj.weight`, [4 * d, d], projStd),
      zeros(`${p}.mlp.c_proj.bias`, [d]),
    );
  }
  specs.push(...layerNormSpecs('ln_f'));
  switch (head.type) {
    case 'causal-lm':
      break; // tied to wte.weight
    case 'classification':
      if (!Number.isInteger(head.numLabels) || head.numLabels < 1) {
        throw new Error(`GPT-2 classification head: numLabels must be a positive integer, got ${head.numLabels}`);
      }
      specs.push(matrix('score.weight', [head.numLabels, d]));
      break;
    case 'regression':
      specs.push(matrix('score.weight', [1, d]));
      break;
  }
  return specs;
}

const BLOCK_NAME = /^h\.(\d+)\./;
const DROPPED_BUFFER = /^h\.\d+\.attn\.(bias|masked_bias)$/;

export interface NormalizedGpt2Names {
  /** Checkpoint name -> our parameter name, for every kept tensor. */
  renamed: Map<string, string>;
  /** Checkpoint names without a parameter: the tied `lm_head.weight` and the attention-mask buffers. */
  dropped: string[];
}

/**
 * Maps Hugging Face GPT-2 checkpoint names to ours: strips `transformer.` (GPT2LMHeadModel and
 * GPT2ForSequenceClassification), drops `lm_head.weight` (tied to `wte.weight`) and the
 * `attn.bias`/`attn.masked_bias` causal-mask buffers that older checkpoints store.
 */
export function normalizeGpt2StateDict(names: Iterable<string>): NormalizedGpt2Names {
  const renamed = new Map<string, string>();
  const dropped: string[] = [];
  const sources = new Map<string, string>();
  for (const original of names) {
    const name = original.startsWith('transformer.') ? original.slice('transformer.'.length) : original;
    if (name === 'lm_head.weight' || DROPPED_BUFFER.test(name)) {
      dropped.push(original);
      continue;
    }
    const previous = sources.get(name);
    if (previous !== undefined) {
      throw new Error(`GPT-2 checkpoint has both ${previous} and ${original}`);
    }
    sources.set(name, original);
    renamed.set(original, name);
  }
  return { renamed, dropped };
}

/** `normalizeGpt2StateDict` applied to a checkpoint's tensors. */
export function normalizeGpt2Tensors<T>(tensors: ReadonlyMap<string, T>): Map<string, T> {
  const { renamed } = normalizeGpt2StateDict(tensors.keys());
  const normalized = new Map<string, T>();
  for (const [original, name] of renamed) {
    normalized.set(name, tensors.get(original) as T);
  }
  return normalized;
}

type ShapeLike = readonly number[] | { shape: readonly number[] };

/**
 * Reads vocab size, positions, width and depth off a checkpoint's shapes (names as in the checkpoint
 * or already normalised). The head count is not in the shapes: pass it, or it defaults to nEmbd/64
 * (true of every released GPT-2 size).
 */
export function inferGpt2Config(
  shapes: ReadonlyMap<string, ShapeLike>,
  options: { nHead?: number; layerNormEpsilon?: number; dropout?: number } = {},
): Gpt2Config {
  const normalized = normalizeGpt2Tensors(shapes);
  const shapeOf = (name: string): readonly number[] => {
    const entry = normalized.get(name);
    if (entry === undefined) {
      throw new Error(`Cannot infer the GPT-2 config: the checkpoint has no ${name}`);
    }
    return 'shape' in entry ? entry.shape : entry;
  };
  const wte = shapeOf('wte.weight');
  const wpe = shapeOf('wpe.weight');
  if (wte.length !== 2 || wpe.length !== 2 || wte[1] !== wpe[1]) {
    throw new Error(
      `Cannot infer the GPT-2 config: wte.weight ${JSON.stringify(wte)}, wpe.weight ${JSON.stringify(wpe)}`,
    );
  }
  const blocks = new Set<number>();
  for (const name of normalized.keys()) {
    const match = BLOCK_NAME.exec(name);
    if (match) {
      blocks.add(Number(match[1]));
    }
  }
  const nLayer = blocks.size;
  for (let i = 0; i < nLayer; i++) {
    if (!blocks.has(i)) {
      throw new Error(`Cannot infer the GPT-2 config: blocks are not numbered 0..${nLayer - 1} (no h.${i})`);
    }
  }
  if (nLayer === 0) {
    throw new Error('Cannot infer the GPT-2 config: the checkpoint has no h.N blocks');
  }
  const nEmbd = wte[1];
  const nHead = options.nHead ?? nEmbd / 64;
  if (!Number.isInteger(nHead) || nHead < 1 || nEmbd % nHead !== 0) {
    throw new Error(`Cannot infer the GPT-2 config: ${nEmbd} wide needs an explicit nHead dividing it`);
  }
  const config: Gpt2Config = {
    vocabSize: wte[0],
    nPositions: wpe[0],
    nEmbd,
    nLayer,
    nHead,
    layerNormEpsilon: options.layerNormEpsilon ?? 1e-5,
    dropout: options.dropout ?? 0.1,
  };
  validateGpt2Config(config);
  return config;
}

/** Hands out a distinct, reproducible seed per dropout site in one forward pass (random without a step seed). */
class DropoutSeeds {
  private site = 0;

  constructor(private readonly seed: number | undefined) {}

  next(): number | undefined {
    this.site++;
    return this.seed === undefined ? undefined : parameterSeed(this.seed, `dropout.${this.site}`);
  }
}

function param1d(params: ParameterMap, name: string): tf.Tensor1D {
  return requireParameter(params, name) as tf.Tensor as tf.Tensor1D;
}

function param2d(params: ParameterMap, name: string): tf.Tensor2D {
  return requireParameter(params, name) as tf.Tensor as tf.Tensor2D;
}

/**
 * Final hidden states [B,T,nEmbd] (after ln_f) for int32 token ids [B,T]. No attention mask: with
 * right padding the causal mask already keeps real tokens from seeing the padding after them; leave
 * padded positions out of the loss instead.
 */
export function gpt2Hidden(
  params: ParameterMap,
  config: Gpt2Config,
  inputIds: tf.Tensor2D,
  options: ForwardOptions,
): tf.Tensor3D {
  const [b, t] = inputIds.shape;
  if (t < 1 || t > config.nPositions) {
    throw new Error(`GPT-2 forward: sequence length ${t} is outside 1..${config.nPositions}`);
  }
  if (inputIds.dtype !== 'int32') {
    throw new Error(`GPT-2 forward: inputIds must be int32, got ${inputIds.dtype}`);
  }
  const d = config.nEmbd;
  const rate = options.training ? config.dropout : 0;
  const seeds = new DropoutSeeds(options.seed);
  const drop = (x: tf.Tensor2D): tf.Tensor2D => (rate > 0 ? dropout(x, rate, seeds.next()) : x);
  const eps = config.layerNormEpsilon;
  return tf.tidy(() => {
    // The residual stream is 2-D [B*T, d] so every projection is one plain matmul.
    const tokens = embedding(param2d(params, 'wte.weight'), tf.reshape(inputIds, [b * t]));
    let h = drop(addPositions(tokens, param2d(params, 'wpe.weight'), t));
    for (let i = 0; i < config.nLayer; i++) {
      h = block(params, config, `h.${i}`, h, b, t, rate, seeds);
    }
    const out = layerNorm(h, param1d(params, 'ln_f.weight'), param1d(params, 'ln_f.bias'), eps);
    return reshape<tf.Rank.R3>(out, [b, t, d]);
  });
}

/**
 * One pre-LayerNorm block on the residual stream h [B*T, d]. Its own tidy frees each intermediate
 * as soon as the block is done: on wasm what backprop keeps are copies, so the originals would
 * otherwise double the forward's memory until the whole pass ends.
 */
function block(
  params: ParameterMap,
  config: Gpt2Config,
  p: string,
  input: tf.Tensor2D,
  b: number,
  t: number,
  rate: number,
  seeds: DropoutSeeds,
): tf.Tensor2D {
  const eps = config.layerNormEpsilon;
  const drop = (x: tf.Tensor2D): tf.Tensor2D => (rate > 0 ? dropout(x, rate, seeds.next()) : x);
  const headDim = config.nEmbd / config.nHead;
  return tf.tidy(() => {
    const ln1 = layerNorm(input, param1d(params, `${p}.ln_1.weight`), param1d(params, `${p}.ln_1.bias`), eps);
    const qkv = linear(ln1, param2d(params, `${p}.attn.c_attn.weight`), param1d(params, `${p}.attn.c_attn.bias`));
    const [q, k, v] = tf.unstack(splitHeads(qkv, b, t, config.nHead)) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const weights = causalAttentionWeights(tf.matMul(q, k, false, true), 1 / Math.sqrt(headDim), rate, seeds.next());
    const context = mergeHeads(tf.matMul(weights, v));
    const attnOut = linear(
      context,
      param2d(params, `${p}.attn.c_proj.weight`),
      param1d(params, `${p}.attn.c_proj.bias`),
    );
    const h = residualAdd(input, drop(attnOut));
    const ln2 = layerNorm(h, param1d(params, `${p}.ln_2.weight`), param1d(params, `${p}.ln_2.bias`), eps);
    const fc = geluNew(linear(ln2, param2d(params, `${p}.mlp.c_fc.weight`), param1d(params, `${p}.mlp.c_fc.bias`)));
    const mlpOut = linear(fc, param2d(params, `${p}.mlp.c_proj.weight`), param1d(params, `${p}.mlp.c_proj.bias`));
    return residualAdd(h, drop(mlpOut));
  });
}

/** Next-token logits [B,T,vocab]: hidden @ wte^T (the tied LM head). For training prefer gpt2LmLoss. */
export function gpt2LmLogits(params: ParameterMap, config: Gpt2Config, hidden: tf.Tensor3D): tf.Tensor3D {
  const [b, t, d] = hidden.shape;
  return tf.tidy(() => {
    const logits = tiedOutput(reshape<tf.Rank.R2>(hidden, [b * t, d]), param2d(params, 'wte.weight'));
    return reshape<tf.Rank.R3>(logits, [b, t, config.vocabSize]);
  });
}

/**
 * The hidden state of each row's last real token, for right-padded rows: position lengths[i]-1, like
 * GPT2ForSequenceClassification (which finds it from the pad token). lengths are int32, 1..T.
 */
export function poolLastToken(hidden: tf.Tensor3D, lengths: tf.Tensor1D): tf.Tensor2D {
  const [b, t, d] = hidden.shape;
  if (lengths.shape[0] !== b) {
    throw new Error(`poolLastToken: ${lengths.shape[0]} lengths for a batch of ${b}`);
  }
  const values = lengths.dataSync();
  const rows = new Int32Array(b);
  for (let i = 0; i < b; i++) {
    const length = values[i];
    if (!Number.isInteger(length) || length < 1 || length > t) {
      throw new Error(`poolLastToken: length ${length} of row ${i} is outside 1..${t}`);
    }
    rows[i] = i * t + length - 1;
  }
  return tf.tidy(() => tf.gather(reshape<tf.Rank.R2>(hidden, [b * t, d]), tf.tensor1d(rows, 'int32')));
}

export interface LmLossOptions {
  /** [B,T], 1 = learn this token, 0 = padding or prompt. Position 0 is never a target. */
  targetMask?: tf.Tensor2D;
  labelSmoothing?: number;
}

/** Targets shifted left by one, flattened to [B*T]; the last position has no target and weight 0. */
function nextTokenTargets(inputIds: tf.Tensor2D, targetMask: tf.Tensor2D | undefined): [tf.Tensor1D, tf.Tensor1D] {
  const [b, t] = inputIds.shape;
  if (t < 2) {
    throw new Error('Causal LM loss: sequences need at least 2 tokens');
  }
  return tf.tidy(() => {
    const targets = tf.concat([tf.slice(inputIds, [0, 1], [b, t - 1]), tf.zeros([b, 1], 'int32')], 1);
    const mask = targetMask === undefined ? tf.ones([b, t], 'float32') : tf.cast(targetMask, 'float32');
    const weights = tf.concat([tf.slice(mask, [0, 1], [b, t - 1]), tf.zeros([b, 1], 'float32')], 1);
    return [tf.reshape(targets, [b * t]), tf.reshape(weights, [b * t])];
  });
}

/**
 * Mean next-token cross-entropy from logits [B,T,V]: logits at position t predict inputIds at t+1,
 * weighted by `targetMask`. An all-zero mask gives 0.
 */
export function causalLmLoss(logits: tf.Tensor3D, inputIds: tf.Tensor2D, options: LmLossOptions = {}): tf.Scalar {
  const [b, t, v] = logits.shape;
  return tf.tidy(() => {
    const [targets, weights] = nextTokenTargets(inputIds, options.targetMask);
    return weightedCrossEntropy(reshape(logits, [b * t, v]), targets, weights, options.labelSmoothing ?? 0);
  });
}

/** Positions whose logits gpt2LmLoss holds at once: its memory is a few [256, V] tensors, at no measurable cost in speed. */
export const LM_LOSS_CHUNK_TOKENS = 256;

/**
 * causalLmLoss(gpt2LmLogits(hidden)) without materialising the [B,T,V] logits: the tied head and the
 * loss run LM_LOSS_CHUNK_TOKENS positions at a time and backprop recomputes each chunk's logits
 * (about 1/3 more LM-head compute). Use this for training; the logits of GPT-2's 50k vocabulary
 * would otherwise dominate memory.
 */
export function gpt2LmLoss(
  params: ParameterMap,
  config: Gpt2Config,
  hidden: tf.Tensor3D,
  inputIds: tf.Tensor2D,
  options: LmLossOptions & { chunkTokens?: number } = {},
): tf.Scalar {
  const [b, t, d] = hidden.shape;
  const chunk = options.chunkTokens ?? LM_LOSS_CHUNK_TOKENS;
  if (!Number.isInteger(chunk) || chunk < 1) {
    throw new Error(`gpt2LmLoss: chunkTokens must be a positive integer, got ${chunk}`);
  }
  return tf.tidy(() => {
    const [targets, weights] = nextTokenTargets(inputIds, options.targetMask);
    return chunkedTiedCrossEntropy(
      reshape<tf.Rank.R2>(hidden, [b * t, d]),
      param2d(params, 'wte.weight'),
      targets,
      weights,
      options.labelSmoothing ?? 0,
      chunk,
    );
  });
}

/** Sequence head on pooled states [B,nEmbd]: pooled @ score.weight^T (no bias) -> [B,numLabels] or [B,1]. */
export function gpt2HeadOutput(
  params: ParameterMap,
  config: Gpt2Config,
  head: Gpt2Head,
  pooled: tf.Tensor2D,
): tf.Tensor2D {
  if (head.type === 'causal-lm') {
    throw new Error('gpt2HeadOutput is for classification and regression heads; use gpt2LmLogits for causal-lm');
  }
  if (pooled.shape[1] !== config.nEmbd) {
    throw new Error(`gpt2HeadOutput: pooled width ${pooled.shape[1]}, expected ${config.nEmbd}`);
  }
  return matMul2d(pooled, requireParameter(params, 'score.weight'), false, true);
}

export type FreezeMethod =
  { type: 'full' } | { type: 'freeze'; trainableTopBlocks?: number; trainableLayers?: string[] };

function matchesLayer(name: string, entry: string): boolean {
  const prefix = entry.endsWith('.') ? entry : `${entry}.`;
  return name === entry || name.startsWith(prefix);
}

/**
 * Which parameters train. `full`: all. `freeze`: the top `trainableTopBlocks` blocks (default 0)
 * plus `ln_f` when that is > 0, the sequence head (`score.*`) always, and any `trainableLayers`
 * (exact names or dotted prefixes such as `h.3` or `h.3.attn`; a leading `transformer.` is accepted).
 * The causal-LM head is `wte` itself (tied): it stays frozen unless listed in `trainableLayers`,
 * because training it also moves the input embeddings and it is the largest matrix in the model.
 */
export function trainableParameterNames(allNames: string[], config: Gpt2Config, method: FreezeMethod): Set<string> {
  if (method.type === 'full') {
    return new Set(allNames);
  }
  const topBlocks = method.trainableTopBlocks ?? 0;
  if (!Number.isInteger(topBlocks) || topBlocks < 0 || topBlocks > config.nLayer) {
    throw new Error(`freeze: trainableTopBlocks must be an integer in 0..${config.nLayer}, got ${topBlocks}`);
  }
  const firstTrainable = config.nLayer - topBlocks;
  const trainable = new Set<string>();
  for (const name of allNames) {
    const block = BLOCK_NAME.exec(name);
    if (name.startsWith('score.')) {
      trainable.add(name);
    } else if (topBlocks > 0 && name.startsWith('ln_f.')) {
      trainable.add(name);
    } else if (block && Number(block[1]) >= firstTrainable) {
      trainable.add(name);
    }
  }
  const unknown: string[] = [];
  for (const raw of method.trainableLayers ?? []) {
    const entry = raw.startsWith('transformer.') ? raw.slice('transformer.'.length) : raw;
    const matched = allNames.filter((name) => matchesLayer(name, entry));
    if (entry === '' || matched.length === 0) {
      unknown.push(raw);
    }
    for (const name of matched) {
      trainable.add(name);
    }
  }
  if (unknown.length > 0) {
    throw new Error(`freeze: trainableLayers match no parameter: ${unknown.join(', ')}`);
  }
  if (trainable.size === 0) {
    throw new Error(
      'freeze: nothing would train (the causal-LM head is the tied wte.weight); set trainableTopBlocks > 0 or list trainableLayers',
    );
  }
  return trainable;
}
