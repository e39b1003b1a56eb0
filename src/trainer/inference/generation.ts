/**
 * Text generation with a loaded causal LM, one token at a time: sample, stop at the end-of-text
 * token, a stop sequence or `maxNewTokens`, and hand out text as soon as it can no longer change
 * (a tail that may still become a stop sequence, or a half-decoded character, waits).
 */
import type { DatasetRecord } from '../../datasets/dataset-types.js';
import { promptText, seededRandom } from '../runtime/examples.js';
import type { LoadedModel } from './loaded-model.js';
import { findStop, safePrefixLength, sampleToken, type SamplingOptions } from './sampling.js';

export interface GenerationOptions extends SamplingOptions {
  maxNewTokens: number;
  stopSequences: string[];
  /** The same seed, model and prompt give the same text; null draws a seed. */
  seed: number | null;
}

export interface GenerationResult {
  text: string;
  promptTokens: number;
  completionTokens: number;
  /** `stop`: the end-of-text token or a stop sequence; `length`: maxNewTokens reached. */
  finishReason: 'stop' | 'length';
}

export interface GenerationHooks {
  /** New text, in order; together the chunks are the result's text. */
  onText(text: string): void;
  /**
   * Awaited before each token (`generated` tokens so far): lets the worker take other messages
   * between tokens, and stop the generation by throwing.
   */
  beforeToken(generated: number): Promise<void>;
}

const REPLACEMENT = '\uFFFD';

export async function generate(
  model: LoadedModel,
  row: DatasetRecord,
  options: GenerationOptions,
  hooks: GenerationHooks,
): Promise<GenerationResult> {
  const tokenizer = model.tokenizer;
  if (tokenizer === null) {
    throw new Error('generation needs a tokenizer');
  }
  const prompt = tokenizer.encode(promptText(row, model.dataTask, model.schema), { allowSpecial: false });
  // An empty prompt starts from end-of-text, as every document in training did.
  const ids = prompt.length > 0 ? [...prompt] : [tokenizer.endOfTextId];
  const random = seededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const generated: number[] = [];
  let text = '';
  let emitted = 0;
  let finishReason: GenerationResult['finishReason'] = 'length';
  while (generated.length < options.maxNewTokens) {
    await hooks.beforeToken(generated.length);
    const token = sampleToken(model.nextTokenLogits(ids), options, random);
    if (token === tokenizer.endOfTextId) {
      finishReason = 'stop';
      break;
    }
    ids.push(token);
    generated.push(token);
    text = tokenizer.decode(generated);
    const stop = findStop(text, options.stopSequences, emitted);
    if (stop >= 0) {
      text = text.slice(0, stop);
      finishReason = 'stop';
      break;
    }
    let safe = safePrefixLength(text, options.stopSequences);
    // A multi-byte character split across tokens decodes as U+FFFD until its last byte arrives.
    while (safe > emitted && text[safe - 1] === REPLACEMENT) {
      safe -= 1;
    }
    if (safe > emitted) {
      hooks.onText(text.slice(emitted, safe));
      emitted = safe;
    }
  }
  if (text.length > emitted) {
    hooks.onText(text.slice(emitted));
  }
  return { text, promptTokens: prompt.length, completionTokens: generated.length, finishReason };
}
