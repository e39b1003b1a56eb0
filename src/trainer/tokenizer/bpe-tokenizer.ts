/**
 * A byte-level BPE tokenizer (GPT-2's scheme) that reads and writes Hugging Face `tokenizer.json`.
 *
 * Text is first split on added tokens (special tokens such as <|endoftext|>), then into GPT-2 words,
 * then each word's UTF-8 bytes are merged by rank. The base vocab holds all 256 byte symbols, so every
 * string encodes and decode(encode(text)) === text for any well-formed string.
 */
import { applyMerges, MAX_TOKEN_ID, type MergeTable, pairKey } from './bpe-merge.js';
import { trainBpe } from './bpe-trainer.js';
import { BYTE_TO_CHAR, CHAR_TO_BYTE, literalAlternation, preTokenize } from './byte-level.js';
import { TokenizerError } from './tokenizer-error.js';

export { TokenizerError } from './tokenizer-error.js';

export const END_OF_TEXT = '<|endoftext|>';
export const PAD = '<|pad|>';

/** An entry of tokenizer.json's `added_tokens`. lstrip, rstrip and single_word are kept, not applied. */
export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
}

export interface TokenizerJson {
  version: '1.0';
  truncation: null;
  padding: null;
  added_tokens: {
    id: number;
    content: string;
    single_word: boolean;
    lstrip: boolean;
    rstrip: boolean;
    normalized: boolean;
    special: boolean;
  }[];
  normalizer: null;
  pre_tokenizer: ByteLevelJson;
  post_processor: ByteLevelJson;
  decoder: ByteLevelJson;
  model: {
    type: 'BPE';
    dropout: null;
    unk_token: null;
    continuing_subword_prefix: null;
    end_of_word_suffix: null;
    fuse_unk: false;
    byte_fallback: false;
    ignore_merges?: true;
    vocab: Record<string, number>;
    merges: string[] | [string, string][];
  };
}

interface ByteLevelJson {
  type: 'ByteLevel';
  add_prefix_space: false;
  trim_offsets: true;
  use_regex: true;
}

interface BpeModel {
  /** Byte-level token text -> id. */
  vocab: Map<string, number>;
  merges: [string, string][];
  addedTokens: AddedToken[];
  ignoreMerges: boolean;
}

export const BYTE_LEVEL: ByteLevelJson = {
  type: 'ByteLevel',
  add_prefix_space: false,
  trim_offsets: true,
  use_regex: true,
};
/** Like HF tokenizers' word cache: bounded, and long words (rarely repeated) stay out of it. */
const CACHE_ENTRIES = 10_000;
const CACHE_WORD_LENGTH = 256;

const utf8 = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF: it is text like any other here.
const utf8Lossy = new TextDecoder('utf-8', { ignoreBOM: true });

export class BpeTokenizer {
  readonly endOfTextId: number;
  /** <|pad|> when the tokenizer has one, else <|endoftext|> (GPT-2 has no pad token). */
  readonly padId: number;

  private readonly vocab: Map<string, number>;
  private readonly vocabTokens = new Map<number, string>();
  private readonly merges: [string, string][];
  private readonly mergeTable: MergeTable;
  private readonly ignoreMerges: boolean;
  private readonly byteIds = new Int32Array(256);
  private readonly addedTokens: AddedToken[];
  private readonly addedById = new Map<number, AddedToken>();
  private readonly addedByContent = new Map<string, AddedToken>();
  private readonly allAddedPattern: RegExp | null;
  private readonly ordinaryAddedPattern: RegExp | null;
  private readonly size: number;
  private readonly cache = new Map<string, readonly number[]>();
  private readonly tokenBytes = new Map<number, Uint8Array>();

  private constructor(model: BpeModel) {
    this.vocab = model.vocab;
    this.merges = model.merges;
    this.ignoreMerges = model.ignoreMerges;
    let maxId = -1;
    for (const [token, id] of model.vocab) {
      if (!Number.isInteger(id) || id < 0 || id >= MAX_TOKEN_ID) {
        throw new TokenizerError(`vocab token ${describe(token)} has id ${id}, not an integer in [0, ${MAX_TOKEN_ID})`);
      }
      const other = this.vocabTokens.get(id);
      if (other !== undefined) {
        throw new TokenizerError(`vocab tokens ${describe(other)} and ${describe(token)} share id ${id}`);
      }
      this.vocabTokens.set(id, token);
      maxId = Math.max(maxId, id);
    }
    for (let byte = 0; byte < 256; byte += 1) {
      const id = model.vocab.get(BYTE_TO_CHAR[byte]);
      if (id === undefined) {
        throw new TokenizerError(
          `the vocab lacks the byte symbol ${describe(BYTE_TO_CHAR[byte])} (byte ${byte}): not a byte-level vocab`,
        );
      }
      this.byteIds[byte] = id;
    }

    const ranks = new Map<number, number>();
    const results: number[] = [];
    for (let rank = 0; rank < model.merges.length; rank += 1) {
      const [left, right] = model.merges[rank];
      const leftId = model.vocab.get(left);
      const rightId = model.vocab.get(right);
      const mergedId = model.vocab.get(left + right);
      if (leftId === undefined || rightId === undefined || mergedId === undefined) {
        const missing = leftId === undefined ? left : rightId === undefined ? right : left + right;
        throw new TokenizerError(
          `merge ${rank} (${describe(left)} ${describe(right)}): ${describe(missing)} is not in the vocab`,
        );
      }
      // A repeated pair takes its last rank, as in HF tokenizers.
      ranks.set(pairKey(leftId, rightId), rank);
      results.push(mergedId);
    }
    this.mergeTable = { ranks, results };

    this.addedTokens = [...model.addedTokens].sort((a, b) => a.id - b.id);
    for (const token of this.addedTokens) {
      if (!Number.isInteger(token.id) || token.id < 0 || token.id >= MAX_TOKEN_ID) {
        throw new TokenizerError(
          `added token ${describe(token.content)} has id ${token.id}, not an integer in [0, ${MAX_TOKEN_ID})`,
        );
      }
      if (token.content.length === 0) {
        throw new TokenizerError(`added token ${token.id} has empty content`);
      }
      const sameId = this.addedById.get(token.id);
      if (sameId !== undefined) {
        throw new TokenizerError(
          `added tokens ${describe(sameId.content)} and ${describe(token.content)} share id ${token.id}`,
        );
      }
      if (this.addedByContent.has(token.content)) {
        throw new TokenizerError(`added token ${describe(token.content)} appears twice`);
      }
      const vocabId = model.vocab.get(token.content);
      const vocabToken = this.vocabTokens.get(token.id);
      if (
        (vocabId !== undefined && vocabId !== token.id) ||
        (vocabToken !== undefined && vocabToken !== token.content)
      ) {
        throw new TokenizerError(
          `added token ${describe(token.content)} (id ${token.id}) conflicts with the vocab entry ` +
            (vocabId !== undefined && vocabId !== token.id
              ? `${describe(token.content)} = ${vocabId}`
              : `${describe(vocabToken ?? '')} = ${token.id}`),
        );
      }
      this.addedById.set(token.id, token);
      this.addedByContent.set(token.content, token);
      maxId = Math.max(maxId, token.id);
    }
    this.allAddedPattern = literalAlternation(this.addedTokens.map((token) => token.content));
    this.ordinaryAddedPattern = literalAlternation(
      this.addedTokens.filter((token) => !token.special).map((token) => token.content),
    );
    this.size = maxId + 1;

    const endOfText = this.tokenId(END_OF_TEXT);
    if (endOfText === undefined) {
      throw new TokenizerError(`the tokenizer has no ${END_OF_TEXT} token`);
    }
    this.endOfTextId = endOfText;
    this.padId = this.tokenId(PAD) ?? endOfText;
  }

  /**
   * Trains on `texts` (iterated once). The vocab is the special tokens (ids 0..), the 256 byte symbols,
   * then one token per merge, as HF tokenizers' BpeTrainer lays it out. Fewer tokens than `vocabSize`
   * when the corpus runs out of pairs (or of pairs seen `minFrequency` times).
   */
  static train(
    texts: Iterable<string>,
    options: { vocabSize: number; specialTokens?: string[]; minFrequency?: number },
  ): BpeTokenizer {
    const { vocabSize, specialTokens = [END_OF_TEXT, PAD], minFrequency = 0 } = options;
    if (!Array.isArray(specialTokens) || !specialTokens.every((token) => typeof token === 'string' && token !== '')) {
      throw new TokenizerError('specialTokens must be non-empty strings');
    }
    if (new Set(specialTokens).size !== specialTokens.length) {
      throw new TokenizerError('specialTokens has duplicates');
    }
    if (!specialTokens.includes(END_OF_TEXT)) {
      throw new TokenizerError(`specialTokens must include ${END_OF_TEXT}`);
    }
    const byteSymbol = specialTokens.find((token) => CHAR_TO_BYTE.has(token));
    if (byteSymbol !== undefined) {
      throw new TokenizerError(`special token ${describe(byteSymbol)} is also a byte symbol`);
    }
    const least = 256 + specialTokens.length;
    if (!Number.isInteger(vocabSize) || vocabSize < least || vocabSize > MAX_TOKEN_ID) {
      throw new TokenizerError(
        `vocabSize must be an integer from ${least} (256 bytes + special tokens) to ${MAX_TOKEN_ID}`,
      );
    }
    if (typeof minFrequency !== 'number' || Number.isNaN(minFrequency) || minFrequency < 0) {
      throw new TokenizerError('minFrequency must be a non-negative number');
    }
    const trained = trainBpe(texts, { vocabSize, specialTokens, minFrequency });
    return new BpeTokenizer({
      vocab: new Map(trained.tokens.map((token, id) => [token, id])),
      merges: trained.merges,
      addedTokens: specialTokens.map((content, id) => ({
        id,
        content,
        special: true,
        singleWord: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
      })),
      ignoreMerges: false,
    });
  }

  /**
   * Reads a HF tokenizer.json (the parsed object, or its text): a BPE model with a ByteLevel
   * pre-tokenizer, merges as "a b" strings or [a, b] pairs. Whatever else it is, TokenizerError.
   */
  static fromJSON(json: unknown): BpeTokenizer {
    if (typeof json === 'string') {
      try {
        json = JSON.parse(json) as unknown;
      } catch (error) {
        throw new TokenizerError(
          `tokenizer.json is not JSON: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    return new BpeTokenizer(parseTokenizerJson(json));
  }

  /** The number of embedding rows the ids need: the highest id + 1. */
  get vocabSize(): number {
    return this.size;
  }

  /** The id of an added token (by its content) or of a vocab token (by its byte-level text, e.g. "Ġthe"). */
  tokenId(token: string): number | undefined {
    return this.addedByContent.get(token)?.id ?? this.vocab.get(token);
  }

  /**
   * Token ids of `text`. With allowSpecial (the default) special tokens written in the text become
   * their ids; without, they are encoded as the plain text they are (non-special added tokens still
   * match, as in HF tokenizers).
   */
  encode(text: string, options: { allowSpecial?: boolean } = {}): number[] {
    const pattern = options.allowSpecial === false ? this.ordinaryAddedPattern : this.allAddedPattern;
    const ids: number[] = [];
    if (pattern === null) {
      this.encodeOrdinary(text, ids);
      return ids;
    }
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      this.encodeOrdinary(text.slice(last, match.index), ids);
      ids.push((this.addedByContent.get(match[0]) as AddedToken).id);
      last = match.index + match[0].length;
    }
    this.encodeOrdinary(text.slice(last), ids);
    return ids;
  }

  /**
   * The text of `ids`. Bytes of consecutive tokens are joined before UTF-8 decoding (a character may
   * span tokens); bytes that are not valid UTF-8 become U+FFFD. An id the tokenizer lacks is an error.
   */
  decode(ids: ArrayLike<number>, options: { skipSpecial?: boolean } = {}): string {
    const skipSpecial = options.skipSpecial === true;
    let text = '';
    let bytes = new Uint8Array(64);
    let length = 0;
    const flush = (): void => {
      if (length > 0) {
        text += utf8Lossy.decode(bytes.subarray(0, length));
        length = 0;
      }
    };
    for (let index = 0; index < ids.length; index += 1) {
      const id = ids[index];
      const added = this.addedById.get(id);
      if (added !== undefined) {
        flush();
        if (!(skipSpecial && added.special)) {
          text += added.content;
        }
        continue;
      }
      const tokenBytes = this.bytesOf(id);
      if (length + tokenBytes.length > bytes.length) {
        const grown = new Uint8Array(Math.max(2 * bytes.length, length + tokenBytes.length));
        grown.set(bytes.subarray(0, length));
        bytes = grown;
      }
      bytes.set(tokenBytes, length);
      length += tokenBytes.length;
    }
    flush();
    return text;
  }

  toJSON(): TokenizerJson {
    const vocab = [...this.vocab].sort(([, a], [, b]) => a - b);
    // Byte-level tokens never hold a space, so "a b" is unambiguous; a loaded vocab might, then pairs.
    const spaced = this.merges.some(([left, right]) => left.includes(' ') || right.includes(' '));
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: this.addedTokens.map((token) => ({
        id: token.id,
        content: token.content,
        single_word: token.singleWord,
        lstrip: token.lstrip,
        rstrip: token.rstrip,
        normalized: token.normalized,
        special: token.special,
      })),
      normalizer: null,
      pre_tokenizer: { ...BYTE_LEVEL },
      post_processor: { ...BYTE_LEVEL },
      decoder: { ...BYTE_LEVEL },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ...(this.ignoreMerges ? { ignore_merges: true as const } : {}),
        // fromEntries defines own properties: a token spelt "__proto__" stays a key.
        vocab: Object.fromEntries(vocab),
        merges: spaced
          ? this.merges.map(([left, right]): [string, string] => [left, right])
          : this.merges.map(([left, right]) => `${left} ${right}`),
      },
    };
  }

  private encodeOrdinary(text: string, out: number[]): void {
    if (text.length === 0) {
      return;
    }
    for (const word of preTokenize(text)) {
      const cached = this.cache.get(word);
      if (cached !== undefined) {
        for (const id of cached) {
          out.push(id);
        }
        continue;
      }
      const ids = this.encodeWord(word);
      if (word.length <= CACHE_WORD_LENGTH) {
        if (this.cache.size >= CACHE_ENTRIES) {
          this.cache.clear();
        }
        this.cache.set(word, ids);
      }
      for (const id of ids) {
        out.push(id);
      }
    }
  }

  private encodeWord(word: string): number[] {
    const bytes = utf8.encode(word);
    if (this.ignoreMerges) {
      let byteLevel = '';
      for (const byte of bytes) {
        byteLevel += BYTE_TO_CHAR[byte];
      }
      const whole = this.vocab.get(byteLevel);
      if (whole !== undefined) {
        return [whole];
      }
    }
    const symbols = new Array<number>(bytes.length);
    for (let index = 0; index < bytes.length; index += 1) {
      symbols[index] = this.byteIds[bytes[index]];
    }
    return applyMerges(symbols, this.mergeTable);
  }

  /** A vocab token's bytes; like HF's ByteLevel decoder, a token with a non-byte symbol is its UTF-8. */
  private bytesOf(id: number): Uint8Array {
    const known = this.tokenBytes.get(id);
    if (known !== undefined) {
      return known;
    }
    const token = this.vocabTokens.get(id);
    if (token === undefined) {
      throw new TokenizerError(`token id ${String(id)} is not in the vocab (size ${this.size})`);
    }
    let bytes: Uint8Array = new Uint8Array(token.length);
    for (let index = 0; index < token.length; index += 1) {
      const byte = CHAR_TO_BYTE.get(token[index]);
      if (byte === undefined) {
        bytes = utf8.encode(token);
        break;
      }
      bytes[index] = byte;
    }
    this.tokenBytes.set(id, bytes);
    return bytes;
  }
}

// ---------------------------------------------------------------------------------------------
// tokenizer.json validation

/** A short description of an untrusted value: never JSON.stringify it (deep nesting overflows the stack). */
function describe(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 80 ? `${JSON.stringify(value.slice(0, 80))}...` : JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `an array of ${value.length}`;
  }
  if (value === null || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function optionalBoolean(object: Record<string, unknown>, key: string, what: string, fallback: boolean): boolean {
  const value = field(object, key);
  if (value === undefined || value === null) {
    return fallback;
  }
  if (typeof value !== 'boolean') {
    throw new TokenizerError(`${what}.${key} must be a boolean, not ${describe(value)}`);
  }
  return value;
}

/** Checks a ByteLevel component: the decoder's options change nothing, the pre-tokenizer's must be GPT-2's. */
function checkByteLevel(value: unknown, what: string, required: boolean): void {
  if (value === undefined || value === null) {
    if (required) {
      throw new TokenizerError(`${what} must be ByteLevel, not ${describe(value)}`);
    }
    return;
  }
  if (!isObject(value) || field(value, 'type') !== 'ByteLevel') {
    const type = isObject(value) ? field(value, 'type') : value;
    throw new TokenizerError(`${what} must be ByteLevel, not ${describe(type)}`);
  }
  const addPrefixSpace = optionalBoolean(value, 'add_prefix_space', what, false);
  const useRegex = optionalBoolean(value, 'use_regex', what, true);
  optionalBoolean(value, 'trim_offsets', what, true);
  if (what !== 'pre_tokenizer') {
    return;
  }
  if (addPrefixSpace) {
    throw new TokenizerError(`${what}.add_prefix_space true is not supported`);
  }
  if (!useRegex) {
    throw new TokenizerError(`${what}.use_regex false is not supported`);
  }
}

function parseMerge(value: unknown, index: number): [string, string] {
  if (typeof value === 'string') {
    const parts = value.split(' ');
    if (parts.length !== 2) {
      throw new TokenizerError(`model.merges[${index}] ${describe(value)} is not two tokens separated by one space`);
    }
    return [parts[0], parts[1]];
  }
  if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
    return [value[0], value[1]];
  }
  throw new TokenizerError(`model.merges[${index}] must be "a b" or ["a", "b"], not ${describe(value)}`);
}

function parseAddedToken(value: unknown, index: number): AddedToken {
  const what = `added_tokens[${index}]`;
  if (!isObject(value)) {
    throw new TokenizerError(`${what} must be an object, not ${describe(value)}`);
  }
  const id = field(value, 'id');
  const content = field(value, 'content');
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= MAX_TOKEN_ID) {
    throw new TokenizerError(`${what}.id must be an integer in [0, ${MAX_TOKEN_ID}), not ${describe(id)}`);
  }
  if (typeof content !== 'string' || content.length === 0) {
    throw new TokenizerError(`${what}.content must be a non-empty string, not ${describe(content)}`);
  }
  return {
    id,
    content,
    special: optionalBoolean(value, 'special', what, false),
    singleWord: optionalBoolean(value, 'single_word', what, false),
    lstrip: optionalBoolean(value, 'lstrip', what, false),
    rstrip: optionalBoolean(value, 'rstrip', what, false),
    normalized: optionalBoolean(value, 'normalized', what, true),
  };
}

function parseTokenizerJson(json: unknown): BpeModel {
  if (!isObject(json)) {
    throw new TokenizerError(`tokenizer.json must be an object, not ${describe(json)}`);
  }
  const model = field(json, 'model');
  if (!isObject(model)) {
    throw new TokenizerError(`tokenizer.json model must be an object, not ${describe(model)}`);
  }
  const type = field(model, 'type');
  if (type !== undefined && type !== 'BPE') {
    throw new TokenizerError(`model.type must be BPE, not ${describe(type)}`);
  }
  const normalizer = field(json, 'normalizer');
  if (normalizer !== undefined && normalizer !== null) {
    throw new TokenizerError('a normalizer is not supported (byte-level BPE needs none)');
  }
  checkByteLevel(field(json, 'pre_tokenizer'), 'pre_tokenizer', true);
  checkByteLevel(field(json, 'decoder'), 'decoder', false);
  // The post-processor adds template tokens (BOS, EOS) or fixes offsets; encode() adds none anyway.

  const dropout = field(model, 'dropout');
  if (dropout !== undefined && dropout !== null && dropout !== 0) {
    throw new TokenizerError(`model.dropout ${describe(dropout)} is not supported`);
  }
  for (const key of ['continuing_subword_prefix', 'end_of_word_suffix']) {
    const value = field(model, key);
    if (value !== undefined && value !== null && value !== '') {
      throw new TokenizerError(`model.${key} ${describe(value)} is not supported`);
    }
  }
  const ignoreMerges = optionalBoolean(model, 'ignore_merges', 'model', false);

  const rawVocab = field(model, 'vocab');
  if (!isObject(rawVocab)) {
    throw new TokenizerError(`model.vocab must be an object of token ids, not ${describe(rawVocab)}`);
  }
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(rawVocab)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= MAX_TOKEN_ID) {
      throw new TokenizerError(
        `model.vocab ${describe(token)} must be an integer id in [0, ${MAX_TOKEN_ID}), not ${describe(id)}`,
      );
    }
    vocab.set(token, id);
  }

  const rawMerges = field(model, 'merges') ?? [];
  if (!Array.isArray(rawMerges)) {
    throw new TokenizerError(`model.merges must be an array, not ${describe(rawMerges)}`);
  }
  const merges = (rawMerges as unknown[]).map(parseMerge);

  const rawAdded = field(json, 'added_tokens') ?? [];
  if (!Array.isArray(rawAdded)) {
    throw new TokenizerError(`added_tokens must be an array, not ${describe(rawAdded)}`);
  }
  const addedTokens = (rawAdded as unknown[]).map(parseAddedToken);
  return { vocab, merges, addedTokens, ignoreMerges };
}
