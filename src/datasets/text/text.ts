/**
 * Text primitives shared by the profiler and the transforms, so that "duplicate", "token" and
 * "near-duplicate" mean the same thing in the quality report and in dedupe.
 */

/** Canonical form for exact-duplicate and conflict detection: NFKC, lowercase, collapsed whitespace. */
export function normaliseText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

const TOKEN = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?|[^\s\p{L}\p{N}]/gu;

/** Word-level tokens (letters/digits runs, and single punctuation marks), lowercased. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(TOKEN) ?? [];
}

/** 64-bit FNV-1a of a string, as a bigint-free pair folded into a float-safe 52-bit number. */
export function hash52(text: string, seed = 0): number {
  let h1 = 0x811c9dc5 ^ seed;
  let h2 = 0x01000193 ^ (seed * 31);
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    h1 = Math.imul(h1 ^ code, 0x01000193);
    h2 = Math.imul(h2 ^ code, 0x5bd1e995);
  }
  return (h1 >>> 0) * 0x100000 + ((h2 >>> 0) & 0xfffff);
}

/** Word shingles of `size` words (the whole text when shorter). */
export function shingles(tokens: string[], size = 3): string[] {
  if (tokens.length <= size) {
    return tokens.length ? [tokens.join(' ')] : [];
  }
  const result: string[] = [];
  for (let index = 0; index + size <= tokens.length; index += 1) {
    result.push(tokens.slice(index, index + size).join(' '));
  }
  return result;
}

const MERSENNE = 2 ** 31 - 1;

/** MinHash over shingles with `permutations` universal hash functions (seeded, deterministic). */
export class MinHasher {
  private readonly a: Uint32Array;
  private readonly b: Uint32Array;

  constructor(
    readonly permutations = 64,
    seed = 42,
  ) {
    this.a = new Uint32Array(permutations);
    this.b = new Uint32Array(permutations);
    let state = seed >>> 0 || 1;
    const next = () => {
      // xorshift32: a fixed, seeded sequence of coefficients.
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      return state;
    };
    for (let index = 0; index < permutations; index += 1) {
      this.a[index] = (next() % (MERSENNE - 1)) + 1;
      this.b[index] = next() % MERSENNE;
    }
  }

  signature(items: string[]): Uint32Array {
    const signature = new Uint32Array(this.permutations).fill(0xffffffff);
    for (const item of items) {
      const value = hash52(item) % MERSENNE;
      for (let index = 0; index < this.permutations; index += 1) {
        // (a * x + b) mod p, in float-safe pieces (a, x < 2^31).
        const hashed = (mulMod(this.a[index], value, MERSENNE) + this.b[index]) % MERSENNE;
        if (hashed < signature[index]) {
          signature[index] = hashed;
        }
      }
    }
    return signature;
  }
}

function mulMod(a: number, b: number, modulus: number): number {
  const high = Math.floor(a / 65536);
  const low = a % 65536;
  return (((high * b) % modulus) * 65536 + low * b) % modulus;
}

/** Estimated Jaccard similarity of two signatures. */
export function estimatedJaccard(left: Uint32Array, right: Uint32Array): number {
  let equal = 0;
  for (let index = 0; index < left.length; index += 1) {
    if (left[index] === right[index]) {
      equal += 1;
    }
  }
  return left.length ? equal / left.length : 0;
}

/**
 * Locality-sensitive hashing index over MinHash signatures: `bands` bands of `rows` rows
 * (bands * rows = permutations). Candidates share at least one band; callers confirm with
 * estimatedJaccard against a threshold (0.8 by default for near-duplicates).
 */
export class LshIndex<T> {
  private readonly buckets: Map<string, T[]>[];

  constructor(
    readonly bands = 16,
    readonly rows = 4,
  ) {
    this.buckets = Array.from({ length: bands }, () => new Map<string, T[]>());
  }

  /** Items already indexed that share a band with `signature`. */
  candidates(signature: Uint32Array): Set<T> {
    const found = new Set<T>();
    for (let band = 0; band < this.bands; band += 1) {
      const hits = this.buckets[band].get(this.bandKey(signature, band));
      for (const hit of hits ?? []) {
        found.add(hit);
      }
    }
    return found;
  }

  add(signature: Uint32Array, item: T): void {
    for (let band = 0; band < this.bands; band += 1) {
      const key = this.bandKey(signature, band);
      const bucket = this.buckets[band].get(key);
      if (bucket) {
        bucket.push(item);
      } else {
        this.buckets[band].set(key, [item]);
      }
    }
  }

  private bandKey(signature: Uint32Array, band: number): string {
    return Array.from(signature.subarray(band * this.rows, (band + 1) * this.rows)).join(',');
  }
}

/** The text of a record's input fields, joined (chat: the messages' contents). */
export function inputText(record: Record<string, unknown>, inputFields: string[]): string {
  const parts: string[] = [];
  for (const field of inputFields) {
    const value = record[field];
    if (typeof value === 'string') {
      parts.push(value);
    } else if (Array.isArray(value)) {
      for (const item of value) {
        if (item && typeof item === 'object' && typeof (item as { content?: unknown }).content === 'string') {
          parts.push((item as { content: string }).content);
        }
      }
    } else if (typeof value === 'number' || typeof value === 'boolean') {
      parts.push(String(value));
    }
  }
  return parts.join('\n');
}
