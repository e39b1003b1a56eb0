import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { estimatedJaccard, hash52, LshIndex, MinHasher } from '../text/text.js';
import { FastMinHasher, NearDuplicateIndex } from './near-duplicates.js';

const MERSENNE = 2 ** 31 - 1;

function values(items: string[]): Float64Array {
  return Float64Array.from(items, (item) => hash52(item) % MERSENNE);
}

describe('FastMinHasher', () => {
  it("computes MinHasher's exact signatures", () => {
    for (const hasher of [new MinHasher(), new MinHasher(64, 7), new MinHasher(32, 1234)]) {
      const fast = new FastMinHasher(hasher);
      assert.equal(fast.exact, true);
      fc.assert(
        fc.property(fc.array(fc.string(), { maxLength: 60 }), (items) => {
          const out = new Uint32Array(hasher.permutations);
          fast.signature(values(items), items.length, out);
          assert.deepEqual(out, hasher.signature(items));
        }),
        { numRuns: 300 },
      );
    }
  });
});

describe('NearDuplicateIndex', () => {
  /** Signatures of random sets over a small universe, so that many pairs are similar. */
  const sets = fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 30 }), {
    minLength: 1,
    maxLength: 60,
  });

  it('finds the same matches as LshIndex with estimatedJaccard (the earliest, as dedupe)', () => {
    const hasher = new MinHasher();
    fc.assert(
      fc.property(sets, fc.constantFrom(0.5, 0.7, 0.8, 0.9), (rows, threshold) => {
        const index = new NearDuplicateIndex();
        const reference = new LshIndex<number>();
        const kept: Uint32Array[] = [];
        const keptLines: number[] = [];
        rows.forEach((row, position) => {
          const line = position + 1;
          const signature = hasher.signature(row.map((item) => `item ${item}`));
          let best = -1;
          let bestSimilarity = 0;
          for (const candidate of reference.candidates(signature)) {
            const similarity = estimatedJaccard(signature, kept[candidate]);
            if (similarity >= threshold && (best === -1 || candidate < best)) {
              best = candidate;
              bestSimilarity = similarity;
            }
          }
          assert.equal(index.find(signature, threshold), best === -1 ? -1 : keptLines[best]);
          assert.equal(index.findOrAdd(signature, threshold, line), best === -1 ? -1 : keptLines[best]);
          assert.equal(index.similarity, bestSimilarity);
          if (best === -1) {
            reference.add(signature, kept.length);
            kept.push(signature);
            keptLines.push(line);
          }
        });
      }),
      { numRuns: 200 },
    );
  });

  it('grows past its initial capacity', () => {
    const hasher = new MinHasher();
    const index = new NearDuplicateIndex();
    for (let row = 0; row < 1000; row += 1) {
      const signature = hasher.signature([`row ${row} a`, `row ${row} b`]);
      assert.equal(index.findOrAdd(signature, 0.8, row + 1), -1);
    }
    assert.equal(index.size, 1000);
    assert.equal(index.find(hasher.signature(['row 500 a', 'row 500 b']), 0.8), 501);
    assert.equal(index.similarity, 1);
  });
});
