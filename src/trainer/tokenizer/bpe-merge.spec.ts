import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { applyMerges, applyMergesByHeap, applyMergesByScan, type MergeTable, pairKey } from './bpe-merge.js';
import { PairHeap } from './pair-heap.js';

/** Merge `rank` joins merges[rank] into id 100 + rank. */
function table(merges: [number, number][]): MergeTable {
  const ranks = new Map<number, number>();
  merges.forEach(([left, right], rank) => ranks.set(pairKey(left, right), rank));
  return { ranks, results: merges.map((_, rank) => 100 + rank) };
}

describe('bpe-merge', () => {
  it('merges by rank, leftmost first, one occurrence at a time', () => {
    // 0 1 = 100, 1 2 = 101, 100 100 = 102
    const merges = table([
      [0, 1],
      [1, 2],
      [100, 100],
    ]);
    for (const apply of [applyMergesByScan, applyMergesByHeap]) {
      assert.deepEqual(apply([0, 1, 2], merges), [100, 2]);
      assert.deepEqual(apply([2, 0, 1, 0, 1, 0], merges), [2, 102, 0]);
      assert.deepEqual(apply([1, 2, 1, 2], merges), [101, 101]);
      assert.deepEqual(apply([], merges), []);
      assert.deepEqual(apply([7], merges), [7]);
    }
    // Merging one at a time lets a new, better ranked pair beat the next occurrence of the same pair
    // (HF's order; GPT-2's merge-all would give [101, 101]): 101 0 = 100 ranks before 0 1 = 101, so
    // "0 1 0 1" -> "101 0 1" -> "100 1".
    const reordered = table([
      [101, 0],
      [0, 1],
    ]);
    assert.deepEqual(applyMergesByScan([0, 1, 0, 1], reordered), [100, 1]);
    assert.deepEqual(applyMergesByHeap([0, 1, 0, 1], reordered), [100, 1]);
  });

  it('gives the same result by scan and by heap, on any merge table', () => {
    const symbol = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 100, max: 108 }));
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(symbol, symbol), { maxLength: 9, selector: ([a, b]) => `${a},${b}` }),
        fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 80 }),
        (merges, word) => {
          const mergeTable = table(merges);
          const expected = applyMergesByScan([...word], mergeTable);
          assert.deepEqual(applyMergesByHeap([...word], mergeTable), expected);
          assert.deepEqual(applyMerges([...word], mergeTable), expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('PairHeap pops in (first, second) order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: -5, max: 5 }), fc.integer({ min: -5, max: 5 }))), (pairs) => {
        const heap = new PairHeap();
        for (const [first, second] of pairs) {
          heap.push(first, second);
        }
        const popped: [number, number][] = [];
        while (heap.size > 0) {
          popped.push([heap.first, heap.second]);
          heap.pop();
        }
        assert.deepEqual(
          popped,
          [...pairs].sort((a, b) => a[0] - b[0] || a[1] - b[1]),
        );
      }),
    );
  });
});
