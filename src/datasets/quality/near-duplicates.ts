/**
 * Near-duplicate detection for the profiler: text.ts's MinHash signatures over word 3-shingles,
 * banded like its LshIndex, confirmed with estimatedJaccard's formula. Two changes for speed and
 * memory, neither changing the result:
 * - FastMinHasher computes MinHasher's exact signatures from the shingles' hash values, with a
 *   Mersenne-prime reduction instead of floating-point `%` (about 10× faster);
 * - NearDuplicateIndex keeps signatures in one typed array and bands in an open-addressing table
 *   (about 0.6 KB per kept row, against ~2 KB in LshIndex's string-keyed maps).
 */
import { hash52, MinHasher } from '../text/text.js';
import { mix32, nextPowerOfTwo } from './sketches.js';

const MERSENNE = 2 ** 31 - 1;
const MERSENNE_BIG = BigInt(MERSENNE);
const TWO_POW_31 = 2 ** 31;
const INVERSE_TWO_POW_31 = 2 ** -31;

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let power = base % modulus;
  let remaining = exponent;
  while (remaining > 0n) {
    if (remaining & 1n) {
      result = (result * power) % modulus;
    }
    power = (power * power) % modulus;
    remaining >>= 1n;
  }
  return result;
}

function modulo(value: bigint): bigint {
  const remainder = value % MERSENNE_BIG;
  return remainder < 0n ? remainder + MERSENNE_BIG : remainder;
}

/**
 * MinHasher's signatures from item values (`hash52(item) % (2^31 - 1)`). The coefficients are
 * recovered from the MinHasher's own signatures of single items, (a·x + b) mod p, and checked on
 * further items; should text.ts's formula ever change, `exact` is false and callers use the
 * MinHasher itself.
 */
export class FastMinHasher {
  readonly permutations: number;
  readonly exact: boolean;
  private readonly multipliers: Float64Array;
  /** a·2^16 mod p. */
  private readonly shifted: Float64Array;
  private readonly b: Float64Array;
  private highs = new Float64Array(256);
  private lows = new Float64Array(256);

  constructor(readonly hasher: MinHasher = new MinHasher()) {
    const permutations = hasher.permutations;
    this.permutations = permutations;
    this.multipliers = new Float64Array(permutations);
    this.shifted = new Float64Array(permutations);
    this.b = new Float64Array(permutations);
    const probes = ['tuneforge', 'quality', 'profiler', 'near duplicate check'];
    const values = Float64Array.from(probes, (probe) => hash52(probe) % MERSENNE);
    const first = hasher.signature([probes[0]]);
    const second = hasher.signature([probes[1]]);
    const inverse = modPow(modulo(BigInt(values[0] - values[1])), MERSENNE_BIG - 2n, MERSENNE_BIG);
    for (let index = 0; index < permutations; index += 1) {
      const a = modulo(BigInt(first[index] - second[index]) * inverse);
      const b = modulo(BigInt(first[index]) - a * BigInt(values[0]));
      this.multipliers[index] = Number(a);
      this.shifted[index] = Number((a << 16n) % MERSENNE_BIG);
      this.b[index] = Number(b);
    }
    let exact = values[0] !== values[1];
    const check = new Uint32Array(permutations);
    for (let probe = 2; probe < probes.length && exact; probe += 1) {
      this.signature(values.slice(probe, probe + 1), 1, check);
      const expected = hasher.signature([probes[probe]]);
      exact = check.every((value, index) => value === expected[index]);
    }
    const pair = hasher.signature(probes.slice(0, 3));
    this.signature(values.slice(0, 3), 3, check);
    this.exact = exact && check.every((value, index) => value === pair[index]);
  }

  /** The signature of the items with these values (the first `count`), into `out`. */
  signature(values: Float64Array, count: number, out: Uint32Array): void {
    // x = high·2^16 + low, so a·x ≡ (a·2^16 mod p)·high + a·low (mod p): both products and their sum
    // stay below 2^48, exact in a double, and one Mersenne fold (2^31 ≡ 1) brings them below 2^31.
    if (this.highs.length < count) {
      this.highs = new Float64Array(count * 2);
      this.lows = new Float64Array(count * 2);
    }
    if (count === 0) {
      out.fill(0xffffffff);
      return;
    }
    const { highs, lows, multipliers, shifted, b } = this;
    for (let item = 0; item < count; item += 1) {
      const high = Math.floor(values[item] / 65536);
      highs[item] = high;
      lows[item] = values[item] - high * 65536;
    }
    for (let index = 0; index < this.permutations; index += 1) {
      const a = multipliers[index];
      const aShifted = shifted[index];
      const offset = b[index];
      // Hashes are below 2^31 - 1, so that start is never the result of a non-empty set.
      let minimum = 0x7fffffff;
      for (let item = 0; item < count; item += 1) {
        let hashed = aShifted * highs[item] + a * lows[item];
        let carry = Math.floor(hashed * INVERSE_TWO_POW_31);
        hashed = hashed - carry * TWO_POW_31 + carry + offset;
        // A second fold rather than "subtract p while above": those branches would go either way at
        // random, and mispredicting them cost more than all the arithmetic.
        carry = Math.floor(hashed * INVERSE_TWO_POW_31);
        hashed = hashed - carry * TWO_POW_31 + carry;
        if (hashed >= MERSENNE) {
          hashed -= MERSENNE;
        }
        // A branchless int32 minimum: "if smaller" mispredicts too often on real data.
        const difference = (hashed | 0) - minimum;
        minimum += difference & (difference >> 31);
      }
      out[index] = minimum;
    }
  }
}

/**
 * Rows kept so far (their signatures), banded: `bands` bands of `permutations / bands` rows, like
 * LshIndex. A band's key is a 32-bit hash of the band (a collision only adds a candidate, which the
 * similarity check then rejects), in an open-addressing table of [key, chain head] pairs, so that a
 * probe touches one cache line. Memory per kept row: 4·permutations bytes of signature, plus per
 * band a chain link (4 bytes) and 1.3–2.7 table slots of 8 bytes: about 0.6 KB with 64 permutations.
 */
export class NearDuplicateIndex {
  readonly rowsPerBand: number;
  size = 0;
  /** After a search: the similarity of the match. */
  similarity = 0;
  private signatures: Uint32Array;
  private lines: Uint32Array;
  private stamps: Uint32Array;
  private links: Int32Array;
  /** Pairs [band key, first entry + 1 (0: free slot)]. */
  private table: Int32Array;
  private used = 0;
  private mask: number;
  private stamp = 0;
  private readonly bandKeys: Int32Array;
  /** Per band of the last search: the slot holding its key, or the free slot where it would go. */
  private readonly bandSlots: Int32Array;

  constructor(
    readonly permutations = 64,
    readonly bands = 16,
  ) {
    this.rowsPerBand = Math.floor(permutations / bands);
    this.bandKeys = new Int32Array(bands);
    this.bandSlots = new Int32Array(bands);
    const rows = 256;
    this.signatures = new Uint32Array(rows * permutations);
    this.lines = new Uint32Array(rows);
    this.stamps = new Uint32Array(rows);
    this.links = new Int32Array(rows * bands);
    this.allocateTable(nextPowerOfTwo(rows * bands * 2));
  }

  /**
   * The earliest kept row sharing a band with `signature` whose estimated Jaccard similarity is at
   * least `threshold` (as the dedupe transform picks): its line (and `similarity` set). Without one,
   * the row is kept (added with `line`) and the result is -1: a streaming near-dedupe.
   */
  findOrAdd(signature: Uint32Array, threshold: number, line: number): number {
    const similarTo = this.search(signature, threshold);
    if (similarTo === -1) {
      this.keep(signature, line);
    }
    return similarTo;
  }

  /** Like findOrAdd, but never adds. */
  find(signature: Uint32Array, threshold: number): number {
    return this.search(signature, threshold);
  }

  get bytes(): number {
    return (
      this.signatures.byteLength +
      this.lines.byteLength +
      this.stamps.byteLength +
      this.links.byteLength +
      this.table.byteLength
    );
  }

  private search(signature: Uint32Array, threshold: number): number {
    const { table, mask, bands } = this;
    this.stamp += 1;
    let bestRow = -1;
    let best = 0;
    for (let band = 0; band < bands; band += 1) {
      const key = this.bandKey(signature, band);
      this.bandKeys[band] = key;
      let slot = mix32(key) & mask;
      while (table[(slot << 1) + 1] !== 0 && table[slot << 1] !== key) {
        slot = (slot + 1) & mask;
      }
      this.bandSlots[band] = slot;
      for (let entry = table[(slot << 1) + 1] - 1; entry !== -1; entry = this.links[entry]) {
        const row = (entry / bands) | 0;
        if (this.stamps[row] === this.stamp) {
          continue;
        }
        this.stamps[row] = this.stamp;
        if (bestRow !== -1 && row > bestRow) {
          continue;
        }
        const similarity = this.similarityTo(signature, row);
        if (similarity >= threshold) {
          best = similarity;
          bestRow = row;
        }
      }
    }
    this.similarity = best;
    return bestRow === -1 ? -1 : this.lines[bestRow];
  }

  /** Adds the row of the last search. */
  private keep(signature: Uint32Array, line: number): void {
    const row = this.size;
    if (row === this.lines.length) {
      this.growRows();
    }
    const offset = row * this.permutations;
    for (let index = 0; index < this.permutations; index += 1) {
      this.signatures[offset + index] = signature[index];
    }
    this.lines[row] = line;
    this.size += 1;
    const { table, mask } = this;
    for (let band = 0; band < this.bands; band += 1) {
      const key = this.bandKeys[band];
      // From the slot the search stopped at: an earlier band may have taken it since.
      let slot = this.bandSlots[band];
      while (table[(slot << 1) + 1] !== 0 && table[slot << 1] !== key) {
        slot = (slot + 1) & mask;
      }
      const entry = row * this.bands + band;
      if (table[(slot << 1) + 1] === 0) {
        table[slot << 1] = key;
        this.used += 1;
      }
      this.links[entry] = table[(slot << 1) + 1] - 1;
      table[(slot << 1) + 1] = entry + 1;
    }
    if (this.used * 4 > (table.length >> 1) * 3) {
      this.growTable();
    }
  }

  /** estimatedJaccard of text.ts, against a kept row. */
  private similarityTo(signature: Uint32Array, row: number): number {
    const offset = row * this.permutations;
    let equal = 0;
    for (let index = 0; index < this.permutations; index += 1) {
      if (this.signatures[offset + index] === signature[index]) {
        equal += 1;
      }
    }
    return equal / this.permutations;
  }

  /** A 32-bit hash of the band's values and of the band (keys of different bands never meet). */
  private bandKey(signature: Uint32Array, band: number): number {
    let hash = Math.imul(band + 1, 0x9e3779b1);
    const start = band * this.rowsPerBand;
    for (let index = start; index < start + this.rowsPerBand; index += 1) {
      hash = Math.imul(hash ^ signature[index], 0x01000193);
      hash ^= hash >>> 15;
    }
    return mix32(hash);
  }

  private allocateTable(capacity: number): void {
    this.table = new Int32Array(capacity * 2);
    this.mask = capacity - 1;
  }

  private growTable(): void {
    const old = this.table;
    this.allocateTable(old.length);
    const { table, mask } = this;
    for (let index = 0; index < old.length; index += 2) {
      if (old[index + 1] === 0) {
        continue;
      }
      let slot = mix32(old[index]) & mask;
      while (table[(slot << 1) + 1] !== 0) {
        slot = (slot + 1) & mask;
      }
      table[slot << 1] = old[index];
      table[(slot << 1) + 1] = old[index + 1];
    }
  }

  private growRows(): void {
    const rows = this.lines.length * 2;
    const grow = <T extends Uint32Array | Int32Array>(old: T, make: (length: number) => T, length: number): T => {
      const grown = make(length);
      grown.set(old);
      return grown;
    };
    this.signatures = grow(this.signatures, (length) => new Uint32Array(length), rows * this.permutations);
    this.lines = grow(this.lines, (length) => new Uint32Array(length), rows);
    this.stamps = grow(this.stamps, (length) => new Uint32Array(length), rows);
    this.links = grow(this.links, (length) => new Int32Array(length), rows * this.bands);
  }
}
