import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BpeTokenizer, END_OF_TEXT, PAD } from './bpe-tokenizer.js';
import { BYTE_ALPHABET, BYTE_TO_CHAR, preTokenize } from './byte-level.js';
import { trainBpe } from './bpe-trainer.js';

/**
 * The textbook algorithm, slow and obviously right: recount every pair before every merge. The
 * incremental trainer must produce exactly its merges.
 */
function naiveTrain(texts: string[], vocabSize: number, specialTokens: string[], minFrequency: number): string[] {
  const tokens = [...specialTokens, ...BYTE_ALPHABET];
  const idOf = new Map(tokens.map((token, id) => [token, id]));
  const words: { symbols: string[]; count: number }[] = [];
  for (const text of texts) {
    let segments = [text];
    for (const special of specialTokens) {
      segments = segments.flatMap((segment) => segment.split(special));
    }
    for (const word of segments.flatMap(preTokenize)) {
      words.push({ symbols: Array.from(new TextEncoder().encode(word), (byte) => BYTE_TO_CHAR[byte]), count: 1 });
    }
  }
  const merges: string[] = [];
  const refused = new Set<string>();
  while (tokens.length < vocabSize) {
    const counts = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let index = 0; index + 1 < symbols.length; index += 1) {
        const pair = `${symbols[index]} ${symbols[index + 1]}`;
        counts.set(pair, (counts.get(pair) ?? 0) + count);
      }
    }
    let best: [string, string] | undefined;
    let bestCount = 0;
    for (const [pair, count] of counts) {
      if (refused.has(pair)) {
        continue;
      }
      const [left, right] = pair.split(' ');
      const better =
        best === undefined ||
        count > bestCount ||
        (count === bestCount &&
          ((idOf.get(left) as number) < (idOf.get(best[0]) as number) ||
            (left === best[0] && (idOf.get(right) as number) < (idOf.get(best[1]) as number))));
      if (better) {
        best = [left, right];
        bestCount = count;
      }
    }
    if (best === undefined || bestCount < minFrequency) {
      break;
    }
    const [left, right] = best;
    if (specialTokens.includes(left + right)) {
      refused.add(`${left} ${right}`);
      continue;
    }
    if (!idOf.has(left + right)) {
      idOf.set(left + right, tokens.length);
      tokens.push(left + right);
    }
    merges.push(`${left} ${right}`);
    for (const word of words) {
      const merged: string[] = [];
      for (let index = 0; index < word.symbols.length; index += 1) {
        if (word.symbols[index] === left && word.symbols[index + 1] === right) {
          merged.push(left + right);
          index += 1;
        } else {
          merged.push(word.symbols[index]);
        }
      }
      word.symbols = merged;
    }
  }
  return merges;
}

describe('bpe-trainer', () => {
  it('merges the most frequent pair first (hand-counted)', () => {
    // Words: "ab" x2, " ab" x2, " cd" x1. Pairs: a b = 4, Ġ a = 2, Ġ c = 1, c d = 1.
    const texts = ['ab ab ab cd', 'ab'];
    const tokenizer = BpeTokenizer.train(texts, { vocabSize: 1000 });
    const json = tokenizer.toJSON();
    // Then Ġ ab = 2; then the 1-1 tie goes to the smaller ids: "c" (2 + 66) before "Ġ" (2 + 220).
    assert.deepEqual(json.model.merges, ['a b', 'Ġ ab', 'c d', 'Ġ cd']);
    assert.equal(tokenizer.vocabSize, 262); // ran out of pairs before 1000
    assert.deepEqual(
      Object.entries(json.model.vocab).filter(([, id]) => id < 2 || id >= 258),
      [
        [END_OF_TEXT, 0],
        [PAD, 1],
        ['ab', 258],
        ['Ġab', 259],
        ['cd', 260],
        ['Ġcd', 261],
      ],
    );
    assert.equal(json.model.vocab.a, 2 + 64); // bytes follow the special tokens, in GPT-2's order
    assert.deepEqual(tokenizer.encode('ab cd ab'), [258, 261, 259]);
    assert.deepEqual(BpeTokenizer.train(texts, { vocabSize: 1000, minFrequency: 2 }).toJSON().model.merges, [
      'a b',
      'Ġ ab',
    ]);
    assert.deepEqual(BpeTokenizer.train(texts, { vocabSize: 259 }).toJSON().model.merges, ['a b']);
  });

  it('keeps special tokens whole and out of the merges', () => {
    const tokenizer = BpeTokenizer.train([`aa${END_OF_TEXT}aa${END_OF_TEXT}${END_OF_TEXT}`], { vocabSize: 300 });
    assert.deepEqual(tokenizer.toJSON().model.merges, ['a a']);
    // A special token spelt like a merge ("Ġa" is what " a" looks like byte-level) never becomes one.
    const trained = trainBpe([' a a a'], { vocabSize: 300, specialTokens: [END_OF_TEXT, 'Ġa'], minFrequency: 0 });
    assert.deepEqual(trained.merges, []);
  });

  it('produces the merges of the textbook algorithm', () => {
    const corpus = fc.array(
      fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'ab', ' ', ' a', 'é', '\n', "'s", END_OF_TEXT), maxLength: 30 }),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(
        corpus,
        fc.integer({ min: 258, max: 330 }),
        fc.integer({ min: 0, max: 3 }),
        (texts, vocabSize, minFrequency) => {
          const specials = [END_OF_TEXT, PAD];
          const { merges } = trainBpe(texts, { vocabSize, specialTokens: specials, minFrequency });
          assert.deepEqual(
            merges.map(([left, right]) => `${left} ${right}`),
            naiveTrain(texts, vocabSize, specials, minFrequency),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is deterministic', () => {
    const texts = Array.from({ length: 200 }, (_, index) => `line ${index % 17} of ${'ab'.repeat(index % 5)} text`);
    const first = BpeTokenizer.train(texts, { vocabSize: 500 });
    const second = BpeTokenizer.train(
      (function* () {
        yield* texts;
      })(),
      { vocabSize: 500 },
    ); // any iterable
    assert.deepEqual(second.toJSON(), first.toJSON());
    assert.equal(JSON.stringify(second), JSON.stringify(first));
  });
});
