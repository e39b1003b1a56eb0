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

/**
 * Memory grows with the kept rows only: exact mode keeps a 16-byte digest prefix and an index per
 * distinct row; near mode keeps each kept row's signature (64 × 4 bytes) and its 16 LSH band keys.
 */
export const dedupeStep: StepFunction<DedupeStep> = (input, step, context) => {
  const inputFields = context.schema.inputFields;
  const removed = new RowList<Removed>();
  const output = context.newSink();
  // Step-input index -> engine-input index of kept rows that later rows may duplicate.
  const sourceOfKept = new Map<number, number>();
  const describe = (row: TrackedRow, index: number, keptIndex: number, similarity?: number): Removed => ({
    ...rowReference(row, index),
    duplicateOf: keptIndex,
    duplicateOfSource: sourceOfKept.get(keptIndex) as number,
    ...(similarity === undefined ? {} : { similarity }),
  });

  switch (step.mode) {
    case 'exact': {
      const firstByKey = new Map<string, number>();
      let index = 0;
      for (const row of input.rows()) {
        // 128 bits of the digest as a short string: collision-free in practice, a third of the base64 size.
        const key = createHash('sha256')
          .update(normaliseText(inputText(row.record, inputFields)))
          .digest()
          .toString('latin1', 0, 16);
        const first = firstByKey.get(key);
        if (first === undefined) {
          firstByKey.set(key, index);
          sourceOfKept.set(index, row.source);
          output.write(row);
        } else {
          const at = index;
          removed.add(() => describe(row, at, first));
        }
        index += 1;
      }
      break;
    }
    case 'near': {
      const threshold = step.threshold ?? DEFAULT_NEAR_DUPLICATE_THRESHOLD;
      const hasher = new MinHasher(MINHASH_PERMUTATIONS);
      const lsh = new LshIndex<number>(LSH_BANDS, LSH_ROWS);
      const signatures = new Map<number, Uint32Array>();
      let rowIndex = 0;
      for (const row of input.rows()) {
        const signature = nearDuplicateSignature(hasher, row.record, inputFields);
        // Only kept rows are indexed, so a chain a~b~c with a≁c keeps a and c.
        let best: { index: number; similarity: number } | undefined;
        for (const candidate of lsh.candidates(signature)) {
          const similarity = estimatedJaccard(signature, signatures.get(candidate) as Uint32Array);
          if (similarity >= threshold && (!best || candidate < best.index)) {
            best = { index: candidate, similarity };
          }
        }
        if (best) {
          const match = best;
          const at = rowIndex;
          removed.add(() => describe(row, at, match.index, match.similarity));
        } else {
          lsh.add(signature, rowIndex);
          signatures.set(rowIndex, signature);
          sourceOfKept.set(rowIndex, row.source);
          output.write(row);
        }
        rowIndex += 1;
      }
      break;
    }
    default:
      return assertUnreachable(step.mode);
  }
  return {
    output: output.finish(),
    details: {
      mode: step.mode,
      ...(step.mode === 'near' ? { threshold: step.threshold ?? DEFAULT_NEAR_DUPLICATE_THRESHOLD } : {}),
      removedCount: removed.count,
      removed: removed.items,
      removedTruncated: removed.truncated,
    },
  };
};
