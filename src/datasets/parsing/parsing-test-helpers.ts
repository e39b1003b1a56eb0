/** Helpers for the parsing specs (not used by the service). */
import assert from 'node:assert/strict';
import type { ParsedRow, RowError } from '../dataset-types.js';
import { DatasetReadError, readDatasetBatches, type ReadOptions, type ReadSummary } from './dataset-reader.js';
import type { ReadItem } from './read-items.js';

export interface ReadResult {
  items: ReadItem[];
  rows: ParsedRow[];
  errors: RowError[];
  summary: ReadSummary;
  batches: number;
}

/** `data` as an async iterable of chunks: all of `size` bytes, or cycling through `sizes`. */
export async function* chunked(data: Buffer | string, sizes: number | readonly number[] = 64 * 1024) {
  const buffer = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const cycle = typeof sizes === 'number' ? [sizes] : sizes.length > 0 ? sizes : [buffer.length || 1];
  let offset = 0;
  let index = 0;
  while (offset < buffer.length) {
    const size = Math.max(1, cycle[index % cycle.length]);
    index += 1;
    // A copy, so that no test passes because the reader kept a view of the caller's buffer.
    yield Uint8Array.prototype.slice.call(buffer, offset, offset + size);
    offset += size;
    await Promise.resolve();
  }
}

export async function readAll(
  data: Buffer | string | AsyncIterable<Uint8Array>,
  options: ReadOptions,
  sizes: number | readonly number[] = 64 * 1024,
): Promise<ReadResult> {
  const source = typeof data === 'string' || Buffer.isBuffer(data) ? chunked(data, sizes) : data;
  const reader = readDatasetBatches(source, options);
  const items: ReadItem[] = [];
  let batches = 0;
  for (;;) {
    const next = await reader.next();
    if (next.done) {
      return {
        items,
        rows: items.flatMap((item) => (item.kind === 'row' ? [item.row] : [])),
        errors: items.flatMap((item) => (item.kind === 'error' ? [item.error] : [])),
        summary: next.value,
        batches,
      };
    }
    assert.ok(next.value.length > 0, 'empty batches are not yielded');
    batches += 1;
    items.push(...next.value);
  }
}

/** Reads to the end and returns the DatasetReadError it must throw. */
export async function readFailure(
  data: Buffer | string | AsyncIterable<Uint8Array>,
  options: ReadOptions,
  sizes?: number | readonly number[],
): Promise<DatasetReadError> {
  try {
    await readAll(data, options, sizes);
  } catch (error) {
    assert.ok(error instanceof DatasetReadError, `expected a DatasetReadError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the read to fail');
}
