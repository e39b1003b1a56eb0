/**
 * Hugging Face GPT-2 files: `config.json` to and from our GPT-2 config and head, and the older
 * `vocab.json` + `merges.txt` tokenizer pair to `tokenizer.json`. What `transformers` would refuse
 * or compute differently (another activation, a non-standard MLP width, cross-attention) is refused
 * here with the field named, so an imported model behaves as it did where it came from.
 */
import type { Gpt2Config, Gpt2Head } from '../models/gpt2.js';
import { BYTE_LEVEL, END_OF_TEXT, type TokenizerJson } from '../tokenizer/bpe-tokenizer.js';

export class HuggingFaceFormatError extends Error {
  override readonly name = 'HuggingFaceFormatError';
  constructor(
    readonly file: string,
    readonly field: string | undefined,
    message: string,
  ) {
    super(`${file}${field ? ` ${field}` : ''}: ${message}`);
  }
}

export interface ImportedGpt2Config {
  config: Gpt2Config;
  head: Gpt2Head;
  /** Class labels in index order (sequence classification). */
  labels?: string[];
  architecture: string;
  bosTokenId?: number;
  eosTokenId?: number;
  padTokenId?: number;
}

const CONFIG = 'config.json';
const LM_ARCHITECTURES = new Set(['GPT2LMHeadModel', 'GPT2Model', 'GPT2DoubleHeadsModel']);
const CLASSIFICATION_ARCHITECTURE = 'GPT2ForSequenceClassification';

type Json = Record<string, unknown>;

function integer(json: Json, key: string, options: { optional?: boolean; min?: number } = {}): number | undefined {
  const value = json[key];
  if (value === undefined || value === null) {
    if (options.optional) {
      return undefined;
    }
    throw new HuggingFaceFormatError(CONFIG, key, 'is missing');
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (options.min ?? 0)) {
    throw new HuggingFaceFormatError(CONFIG, key, `must be an integer of at least ${options.min ?? 0}`);
  }
  return value;
}

function probability(json: Json, key: string, fallback: number): number {
  const value = json[key] ?? fallback;
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new HuggingFaceFormatError(CONFIG, key, 'must be a number in [0, 1)');
  }
  return value;
}

/** Reads a GPT-2 `config.json` (already parsed) into our config, head and labels. */
export function readHuggingFaceGpt2Config(parsed: unknown): ImportedGpt2Config {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HuggingFaceFormatError(CONFIG, undefined, 'must be a JSON object');
  }
  const json = parsed as Json;
  if (json.model_type !== 'gpt2') {
    throw new HuggingFaceFormatError(CONFIG, 'model_type', `is ${JSON.stringify(json.model_type)}, not "gpt2"`);
  }
  const activation = json.activation_function ?? 'gelu_new';
  if (activation !== 'gelu_new') {
    throw new HuggingFaceFormatError(
      CONFIG,
      'activation_function',
      `${JSON.stringify(activation)} is not supported (gelu_new)`,
    );
  }
  const nEmbd = integer(json, 'n_embd', { min: 1 })!;
  const nInner = integer(json, 'n_inner', { optional: true, min: 1 });
  if (nInner !== undefined && nInner !== 4 * nEmbd) {
    throw new HuggingFaceFormatError(CONFIG, 'n_inner', `must be null or 4 * n_embd (${4 * nEmbd})`);
  }
  for (const flag of ['add_cross_attention', 'scale_attn_by_inverse_layer_idx', 'reorder_and_upcast_attn']) {
    if (json[flag] === true) {
      throw new HuggingFaceFormatError(CONFIG, flag, 'is not supported');
    }
  }
  if (json.scale_attn_weights === false) {
    throw new HuggingFaceFormatError(CONFIG, 'scale_attn_weights', 'false is not supported');
  }
  const epsilon = json.layer_norm_epsilon ?? 1e-5;
  if (typeof epsilon !== 'number' || !(epsilon > 0)) {
    throw new HuggingFaceFormatError(CONFIG, 'layer_norm_epsilon', 'must be a positive number');
  }
  const nHead = integer(json, 'n_head', { min: 1 })!;
  if (nEmbd % nHead !== 0) {
    throw new HuggingFaceFormatError(CONFIG, 'n_head', `must divide n_embd (${nEmbd})`);
  }
  const config: Gpt2Config = {
    vocabSize: integer(json, 'vocab_size', { min: 1 })!,
    nPositions: integer(json, 'n_positions', { min: 1 })!,
    nEmbd,
    nLayer: integer(json, 'n_layer', { min: 1 })!,
    nHead,
    layerNormEpsilon: epsilon,
    // One dropout rate drives the three sites; the residual rate is GPT-2's headline figure.
    dropout: probability(json, 'resid_pdrop', 0.1),
  };
  const architectures = Array.isArray(json.architectures) ? json.architectures : ['GPT2LMHeadModel'];
  const architecture = String(architectures[0] ?? 'GPT2LMHeadModel');
  const special = {
    bosTokenId: integer(json, 'bos_token_id', { optional: true }),
    eosTokenId: integer(json, 'eos_token_id', { optional: true }),
    padTokenId: integer(json, 'pad_token_id', { optional: true }),
  };
  if (LM_ARCHITECTURES.has(architecture)) {
    return { config, head: { type: 'causal-lm' }, architecture, ...special };
  }
  if (architecture !== CLASSIFICATION_ARCHITECTURE) {
    throw new HuggingFaceFormatError(
      CONFIG,
      'architectures',
      `${JSON.stringify(architecture)} is not a GPT-2 model we can load`,
    );
  }
  if (json.problem_type === 'regression') {
    return { config, head: { type: 'regression' }, architecture, ...special };
  }
  const labels = readLabels(json);
  return { config, head: { type: 'classification', numLabels: labels.length }, labels, architecture, ...special };
}

function readLabels(json: Json): string[] {
  const id2label = json.id2label;
  if (typeof id2label !== 'object' || id2label === null || Array.isArray(id2label)) {
    const count = integer(json, 'num_labels', { min: 1 })!;
    return Array.from({ length: count }, (_, index) => `LABEL_${index}`);
  }
  const entries = Object.entries(id2label as Json);
  const labels = new Array<string>(entries.length);
  for (const [key, value] of entries) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index >= entries.length || typeof value !== 'string') {
      throw new HuggingFaceFormatError(CONFIG, 'id2label', 'must map 0..n-1 to label strings');
    }
    labels[index] = value;
  }
  if (new Set(labels).size !== labels.length) {
    throw new HuggingFaceFormatError(CONFIG, 'id2label', 'has a label twice');
  }
  return labels;
}

/**
 * The `config.json` that makes `transformers` load an exported model unchanged: GPT2LMHeadModel
 * for language models, GPT2ForSequenceClassification (with labels, or `problem_type: regression`)
 * for the sequence heads.
 */
export function writeHuggingFaceGpt2Config(
  config: Gpt2Config,
  head: Gpt2Head,
  options: { labels?: string[]; endOfTextId?: number; padId?: number } = {},
): Json {
  const base: Json = {
    activation_function: 'gelu_new',
    attn_pdrop: config.dropout,
    embd_pdrop: config.dropout,
    resid_pdrop: config.dropout,
    initializer_range: 0.02,
    layer_norm_epsilon: config.layerNormEpsilon,
    model_type: 'gpt2',
    n_ctx: config.nPositions,
    n_embd: config.nEmbd,
    n_head: config.nHead,
    n_inner: null,
    n_layer: config.nLayer,
    n_positions: config.nPositions,
    scale_attn_weights: true,
    torch_dtype: 'float32',
    use_cache: true,
    vocab_size: config.vocabSize,
    ...(options.endOfTextId !== undefined
      ? { bos_token_id: options.endOfTextId, eos_token_id: options.endOfTextId }
      : {}),
  };
  switch (head.type) {
    case 'causal-lm':
      return { architectures: ['GPT2LMHeadModel'], ...base };
    case 'classification': {
      const labels = options.labels ?? Array.from({ length: head.numLabels }, (_, index) => `LABEL_${index}`);
      return {
        architectures: [CLASSIFICATION_ARCHITECTURE],
        ...base,
        // Sequence classification pools the last token that is not padding: it needs the pad id.
        pad_token_id: options.padId ?? options.endOfTextId ?? null,
        id2label: Object.fromEntries(labels.map((label, index) => [String(index), label])),
        label2id: Object.fromEntries(labels.map((label, index) => [label, index])),
      };
    }
    case 'regression':
      return {
        architectures: [CLASSIFICATION_ARCHITECTURE],
        ...base,
        pad_token_id: options.padId ?? options.endOfTextId ?? null,
        num_labels: 1,
        problem_type: 'regression',
        id2label: { '0': 'LABEL_0' },
        label2id: { LABEL_0: 0 },
      };
  }
}

/** GPT-2's original tokenizer files (`vocab.json` parsed, `merges.txt` as text) as a `tokenizer.json`. */
export function tokenizerJsonFromVocabAndMerges(vocabJson: unknown, mergesText: string): TokenizerJson {
  if (typeof vocabJson !== 'object' || vocabJson === null || Array.isArray(vocabJson)) {
    throw new HuggingFaceFormatError('vocab.json', undefined, 'must be a JSON object of token -> id');
  }
  const vocab: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [token, id] of Object.entries(vocabJson as Json)) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      throw new HuggingFaceFormatError('vocab.json', JSON.stringify(token.slice(0, 40)), 'must map to an integer id');
    }
    vocab[token] = id;
  }
  const merges: [string, string][] = [];
  const lines = mergesText.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line === '' || (index === 0 && line.startsWith('#version'))) {
      return;
    }
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new HuggingFaceFormatError('merges.txt', `line ${index + 1}`, 'must be two symbols separated by one space');
    }
    merges.push([parts[0], parts[1]]);
  });
  const endOfText = vocab[END_OF_TEXT];
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens:
      endOfText === undefined
        ? []
        : [
            {
              id: endOfText,
              content: END_OF_TEXT,
              single_word: false,
              lstrip: false,
              rstrip: false,
              normalized: true,
              special: true,
            },
          ],
    normalizer: null,
    pre_tokenizer: BYTE_LEVEL,
    post_processor: BYTE_LEVEL,
    decoder: BYTE_LEVEL,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}
