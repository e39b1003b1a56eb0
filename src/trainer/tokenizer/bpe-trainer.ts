/**
 * Byte-level BPE training, the algorithm of HF tokenizers' BpeTrainer: count the pre-tokenised words,
 * then repeatedly merge the most frequent adjacent pair. Pair counts and the words each pair occurs in
 * are updated incrementally, so a merge costs time in the words it touches, not in the corpus.
 */
import { BYTE_ALPHABET, CHAR_TO_BYTE, literalAlternation, preTokenize } from './byte-level.js';
import { PairHeap } from './pair-heap.js';

export interface BpeTrainingOptions {
  /** Specials + 256 bytes + merged tokens. */
  vocabSize: number;
  specialTokens: readonly string[];
  /** Pairs seen fewer times than this are never merged. */
  minFrequency: number;
}

export interface TrainedBpe {
  /** Token text by id: the special tokens (as written), then the 256 byte symbols, then merged tokens. */
  tokens: string[];
  /** In rank order, as byte-level token texts. */
  merges: [string, string][];
}

const encoder = new TextEncoder();

/** Unique words of the corpus with their counts; special tokens are cut out, never merged into words. */
function countWords(texts: Iterable<string>, specialTokens: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  const specials = literalAlternation(specialTokens);
  const add = (segment: string): void => {
    for (const word of preTokenize(segment)) {
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  };
  for (const text of texts) {
    if (specials === null) {
      add(text);
      continue;
    }
    let last = 0;
    for (const match of text.matchAll(specials)) {
      add(text.slice(last, match.index));
      last = match.index + match[0].length;
    }
    add(text.slice(last));
  }
  return counts;
}

export function trainBpe(texts: Iterable<string>, options: BpeTrainingOptions): TrainedBpe {
  const { vocabSize, specialTokens, minFrequency } = options;
  const tokens: string[] = [...specialTokens, ...BYTE_ALPHABET];
  const idOf = new Map<string, number>(tokens.map((token, id) => [token, id]));
  // BYTE_ALPHABET is in code point order, not byte order: map each byte through its character.
  const byteIds = new Int32Array(256);
  for (const [index, char] of BYTE_ALPHABET.entries()) {
    byteIds[CHAR_TO_BYTE.get(char) as number] = specialTokens.length + index;
  }

  const wordCounts = countWords(texts, specialTokens);
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [word, count] of wordCounts) {
    const bytes = encoder.encode(word);
    if (bytes.length < 2) {
      continue; // a single byte has no pair to merge
    }
    words.push(Array.from(bytes, (byte) => byteIds[byte]));
    counts.push(count);
  }
  wordCounts.clear();

  // Pair keys pack two ids; vocabSize bounds every id, so the key is exact (and a small integer for
  // vocabularies under 2^15, which V8 stores unboxed).
  const base = vocabSize;
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const increased = new Set<number>();
  const noteWord = (key: number, word: number): void => {
    const list = pairWords.get(key);
    if (list === undefined) {
      pairWords.set(key, [word]);
    } else if (list[list.length - 1] !== word) {
      list.push(word);
    }
  };
  const add = (left: number, right: number, amount: number, word: number): void => {
    const key = left * base + right;
    pairCounts.set(key, (pairCounts.get(key) ?? 0) + amount);
    noteWord(key, word);
    increased.add(key);
  };
  const remove = (left: number, right: number, amount: number): void => {
    const key = left * base + right;
    const count = (pairCounts.get(key) ?? 0) - amount;
    if (count > 0) {
      pairCounts.set(key, count);
    } else {
      pairCounts.delete(key);
      pairWords.delete(key);
    }
  };

  for (const [index, word] of words.entries()) {
    for (let position = 0; position + 1 < word.length; position += 1) {
      add(word[position], word[position + 1], counts[index], index);
    }
  }

  // Max-heap on (count, then smaller pair first): stored as a min-heap on (-count, key). Invariant:
  // every live pair has an entry whose stored count is >= its current count, so stale entries are
  // re-pushed with their current count on the way out, and the top is exact when it matches.
  const heap = new PairHeap();
  for (const key of increased) {
    heap.push(-(pairCounts.get(key) as number), key);
  }
  increased.clear();

  const merges: [string, string][] = [];
  const visited = new Int32Array(words.length).fill(-1);
  const specialTexts = new Set(specialTokens);
  while (tokens.length < vocabSize && heap.size > 0) {
    const stored = -heap.first;
    const key = heap.second;
    heap.pop();
    const count = pairCounts.get(key) ?? 0;
    if (count !== stored) {
      if (count > 0 && count < stored) {
        heap.push(-count, key);
      }
      continue;
    }
    if (count < minFrequency) {
      break;
    }
    const left = Math.floor(key / base);
    const right = key - left * base;
    const merged = tokens[left] + tokens[right];
    if (specialTexts.has(merged)) {
      continue; // a merged token may not pose as a special token: leave this pair unmerged
    }
    // Two merges can spell the same token ("ab"+"c", "a"+"bc"): the second reuses the first's id.
    let mergedId = idOf.get(merged);
    if (mergedId === undefined) {
      mergedId = tokens.length;
      tokens.push(merged);
      idOf.set(merged, mergedId);
    }
    merges.push([tokens[left], tokens[right]]);

    const stamp = merges.length;
    for (const wordIndex of pairWords.get(key) ?? []) {
      if (visited[wordIndex] === stamp) {
        continue;
      }
      visited[wordIndex] = stamp;
      mergeWord(words[wordIndex], left, right, mergedId, counts[wordIndex], wordIndex, add, remove);
    }
    pairCounts.delete(key);
    pairWords.delete(key);
    for (const changed of increased) {
      const current = pairCounts.get(changed);
      if (current !== undefined) {
        heap.push(-current, changed);
      }
    }
    increased.clear();
  }
  return { tokens, merges };
}

/** Merges every (left, right) in `word` in place, left to right, moving the pair counts along. */
function mergeWord(
  word: number[],
  left: number,
  right: number,
  merged: number,
  count: number,
  wordIndex: number,
  add: (left: number, right: number, amount: number, word: number) => void,
  remove: (left: number, right: number, amount: number) => void,
): void {
  const length = word.length;
  let write = 0;
  let read = 0;
  while (read < length) {
    if (read + 1 < length && word[read] === left && word[read + 1] === right) {
      if (write > 0) {
        // The symbol before may itself be a merge made a moment ago in this same word.
        remove(word[write - 1], left, count);
        add(word[write - 1], merged, count, wordIndex);
      }
      if (read + 2 < length) {
        remove(right, word[read + 2], count);
        add(merged, word[read + 2], count, wordIndex);
      }
      remove(left, right, count);
      word[write] = merged;
      write += 1;
      read += 2;
    } else {
      word[write] = word[read];
      write += 1;
      read += 1;
    }
  }
  word.length = write;
}
