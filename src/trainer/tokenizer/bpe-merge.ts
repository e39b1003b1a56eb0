/**
 * Applying BPE merges to one word, with the semantics of HF tokenizers' `Word::merge_all`: repeatedly
 * merge the pair of lowest rank, leftmost first, one occurrence at a time. (GPT-2's Python merges all
 * occurrences of the best pair at once; the two agree whenever every merge's parts come from earlier
 * merges, as in any trained merge list.)
 */
import { PairHeap } from './pair-heap.js';

/** Token ids must stay below this so that a pair of ids packs into one exact double. */
export const MAX_TOKEN_ID = 2 ** 26;

export function pairKey(left: number, right: number): number {
  return left * MAX_TOKEN_ID + right;
}

export interface MergeTable {
  /** pairKey(left, right) -> rank (its index in the merge list). */
  ranks: Map<number, number>;
  /** The id of the token that merge `rank` makes. */
  results: ArrayLike<number>;
}

/** Words up to this long use the quadratic scan: for short words it beats the heap's bookkeeping. */
const SHORT_WORD = 24;

export function applyMerges(symbols: number[], table: MergeTable): number[] {
  return symbols.length <= SHORT_WORD ? applyMergesByScan(symbols, table) : applyMergesByHeap(symbols, table);
}

/** O(n^2): rescans the word after each merge. Merges `symbols` in place. */
export function applyMergesByScan(symbols: number[], { ranks, results }: MergeTable): number[] {
  while (symbols.length > 1) {
    let bestRank = Infinity;
    let bestIndex = -1;
    for (let index = 0; index + 1 < symbols.length; index += 1) {
      const rank = ranks.get(pairKey(symbols[index], symbols[index + 1]));
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        bestIndex = index;
      }
    }
    if (bestIndex < 0) {
      break;
    }
    symbols.splice(bestIndex, 2, results[bestRank]);
  }
  return symbols;
}

/** O(n log n): a linked list of symbols and a heap of candidate merges keyed (rank, position). */
export function applyMergesByHeap(symbols: number[], { ranks, results }: MergeTable): number[] {
  const length = symbols.length;
  if (length < 2) {
    return symbols;
  }
  const ids = Int32Array.from(symbols);
  const previous = new Int32Array(length);
  const next = new Int32Array(length);
  const alive = new Uint8Array(length).fill(1);
  const heap = new PairHeap();
  for (let index = 0; index < length; index += 1) {
    previous[index] = index - 1;
    next[index] = index + 1 < length ? index + 1 : -1;
    if (index + 1 < length) {
      const rank = ranks.get(pairKey(ids[index], ids[index + 1]));
      if (rank !== undefined) {
        heap.push(rank, index);
      }
    }
  }
  while (heap.size > 0) {
    const rank = heap.first;
    const position = heap.second;
    heap.pop();
    const right = next[position];
    // Entries go stale as neighbours merge; ranks are unique per pair, so the rank identifies it.
    if (alive[position] === 0 || right < 0 || ranks.get(pairKey(ids[position], ids[right])) !== rank) {
      continue;
    }
    ids[position] = results[rank];
    alive[right] = 0;
    const after = next[right];
    next[position] = after;
    if (after >= 0) {
      previous[after] = position;
      const afterRank = ranks.get(pairKey(ids[position], ids[after]));
      if (afterRank !== undefined) {
        heap.push(afterRank, position);
      }
    }
    const before = previous[position];
    if (before >= 0) {
      const beforeRank = ranks.get(pairKey(ids[before], ids[position]));
      if (beforeRank !== undefined) {
        heap.push(beforeRank, before);
      }
    }
  }
  const out: number[] = [];
  for (let index = 0; index >= 0; index = next[index]) {
    out.push(ids[index]);
  }
  return out;
}
