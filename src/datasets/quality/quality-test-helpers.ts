/** Deterministic data for the quality specs: seeded words and sentences, rows, a fake detector. */
import type { DatasetRecord, ParsedRow } from '../dataset-types.js';
import type { PersonalDataMatch } from './quality-profiler.js';

/** mulberry32. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** Distinct lowercase pseudo-words. */
export function wordList(count: number, random: () => number): string[] {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const words = new Set<string>();
  while (words.size < count) {
    const length = 4 + Math.floor(random() * 6);
    let word = '';
    for (let index = 0; index < length; index += 1) {
      word += letters[Math.floor(random() * letters.length)];
    }
    words.add(word);
  }
  return [...words];
}

export function sentence(random: () => number, words: string[], length: number): string {
  return Array.from({ length }, () => words[Math.floor(random() * words.length)]).join(' ');
}

/** Rows numbered from line 1. */
export function asRows(records: DatasetRecord[]): ParsedRow[] {
  return records.map((record, index) => ({ line: index + 1, record, bytes: JSON.stringify(record).length }));
}

const EMAIL = /[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/gi;
const SECRET = /\bsk-[A-Za-z0-9]{16,}/g;

/** A small stand-in for findPersonalData: e-mail addresses and `sk-…` API keys. */
export function fakeDetector(text: string): PersonalDataMatch<'email' | 'secret'>[] {
  const matches: PersonalDataMatch<'email' | 'secret'>[] = [];
  for (const [pattern, type] of [
    [EMAIL, 'email'],
    [SECRET, 'secret'],
  ] as const) {
    for (const match of text.matchAll(pattern)) {
      matches.push({ type, start: match.index, end: match.index + match[0].length });
    }
  }
  return matches.sort((left, right) => left.start - right.start);
}
