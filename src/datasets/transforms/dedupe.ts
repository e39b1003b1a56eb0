/**
 * dedupe: exact (equal normalised input text) or near (MinHash + LSH, confirmed by estimated
 * Jaccard). Both keep the first occurrence and look at the input fields only, not the label, with
 * the same primitives as the quality report (src/datasets/text/text.ts).
 */
import { createHash } from 'node:crypto';
import { assertUnreachable } from '../../platform/errors/error-codes.js';
import type { DatasetRecord } from '../dataset-types.js';
import { estimatedJaccard, inputText, LshIndex, MinHasher, normaliseText, shingles, tokenize } from '../text/text.js';
import { DEFAULT_NEAR_DUPLICATE_THRESHOLD, type DedupeStep } from './transform-types.js';
import { rowReference, RowList, type StepFunction, type TrackedRow } from './transform-rows.js';

export const MINHASH_PERMUTATIONS = 64;
export const SHINGLE_SIZE = 3;
export const LSH_BANDS = 16;
export const LSH_ROWS = 4;

/** Exact-duplicate key: sha256 of the normalised input text (collision-free in practice, 32 bytes a row). */
export function exactDuplicateKey(record: DatasetRecord, inputFields: string[]): string {
  return createHash('sha256')
    .update(normaliseText(inputText(record, inputFields)))
    .digest('base64');
}

/** MinHash signature of the input text's word 3-shingles. */
export function nearDuplicateSignature(hasher: MinHasher, record: DatasetRecord, inputFields: string[]): Uint32Array {
  return hasher.signature(shingles(tokenize(normaliseText(inputText(record, inputFields))), SHINGLE_SIZE));
}

interface Removed {
  index: number;
  source: number;
  synthetic?: true;
  duplicateOf: number;
  duplicateOfSource: number;
  similarity?: number;
}

export const dedupeStep: StepFunction<DedupeStep> = (rows, step, context) => {
  const inputFields = context.schema.inputFields;
  const removed = new RowList<Removed>();
  const kept: TrackedRow[] = [];
  const describe = (index: number, keptIndex: number, similarity?: number): Removed => ({
    ...rowReference(rows, index),
    duplicateOf: keptIndex,
    duplicateOfSource: rows[keptIndex].source,
    ...(similarity === undefined ? {} : { similarity }),
  });

  switch (step.mode) {
    case 'exact': {
      const firstByKey = new Map<string, number>();
      rows.forEach((row, index) => {
        const key = exactDuplicateKey(row.record, inputFields);
        const first = firstByKey.get(key);
        if (first === undefined) {
          firstByKey.set(key, index);
          kept.push(row);
        } else {
          removed.add(() => describe(index, first));
        }
      });
      break;
    }
    case 'near': {
      const threshold = step.threshold ?? DEFAULT_NEAR_DUPLICATE_THRESHOLD;
      const hasher = new MinHasher(MINHASH_PERMUTATIONS);
      const index = new LshIndex<number>(LSH_BANDS, LSH_ROWS);
      const signatures: Uint32Array[] = [];
      rows.forEach((row, rowIndex) => {
        const signature = nearDuplicateSignature(hasher, row.record, inputFields);
        signatures[rowIndex] = signature;
        // Only kept rows are indexed, so a chain a~b~c with a≁c keeps a and c.
        let best: { index: number; similarity: number } | undefined;
        for (const candidate of index.candidates(signature)) {
          const similarity = estimatedJaccard(signature, signatures[candidate]);
          if (similarity >= threshold && (!best || candidate < best.index)) {
            best = { index: candidate, similarity };
          }
        }
        if (best) {
          const match = best;
          removed.add(() => describe(rowIndex, match.index, match.similarity));
        } else {
          index.add(signature, rowIndex);
          kept.push(row);
        }
      });
      break;
    }
    default:
      return assertUnreachable(step.mode);
  }
  return {
    rows: kept,
    details: {
      mode: step.mode,
      ...(step.mode === 'near' ? { threshold: step.threshold ?? DEFAULT_NEAR_DUPLICATE_THRESHOLD } : {}),
      removedCount: removed.count,
      removed: removed.items,
      removedTruncated: removed.truncated,
    },
  };
};
