/**
 * Where rows wait between transform steps. A step reads its input spool (once or several times,
 * in order, or one row by index) and writes its output to a new sink, so no step needs the whole
 * dataset in memory: a file spool keeps the rows as JSON Lines on local disk and only a few bytes
 * of bookkeeping per row in memory (its offset, source index and synthetic flag).
 *
 * Synchronous on purpose: spools are used inside the transform worker thread, where blocking file
 * calls cost nothing and keep the step code a plain loop. The memory spool backs the in-process
 * `applyTransforms` used by tests and small callers.
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import type { DatasetRecord } from '../dataset-types.js';
import type { TrackedRow } from './transform-rows.js';

/** Rows written by one step, readable in order any number of times. */
export interface RowSpool {
  readonly count: number;
  /** Bytes of the rows as JSON Lines (the record's JSON plus a newline each). */
  readonly bytes: number;
  rows(): Iterable<TrackedRow>;
  rowAt(index: number): TrackedRow;
  /** Where each row comes from, without reading the rows. */
  origins(): Iterable<{ source: number; synthetic: boolean }>;
  /** Frees the rows (deletes the file); the spool must not be read afterwards. */
  release(): void;
}

export interface RowSink {
  write(row: TrackedRow): void;
  finish(): RowSpool;
  /** Discards what was written. */
  abort(): void;
}

/** Called before each row is written with the counts it would reach; throws to stop the step. */
export type WriteGuard = (rows: number, bytes: number) => void;

export interface SpoolFactory {
  create(guard?: WriteGuard): RowSink;
}

/** A record as one JSON Lines line, and its size in bytes. */
function encode(record: DatasetRecord): { line: string; bytes: number } {
  const line = `${JSON.stringify(record)}\n`;
  return { line, bytes: Buffer.byteLength(line, 'utf8') };
}

export class MemorySpoolFactory implements SpoolFactory {
  create(guard?: WriteGuard): RowSink {
    const rows: TrackedRow[] = [];
    let bytes = 0;
    return {
      write: (row) => {
        const size = encode(row.record).bytes;
        guard?.(rows.length + 1, bytes + size);
        rows.push(row);
        bytes += size;
      },
      finish: () => memorySpool(rows, bytes),
      abort: () => {
        rows.length = 0;
      },
    };
  }
}

export function memorySpool(rows: TrackedRow[], bytes?: number): RowSpool {
  return {
    count: rows.length,
    bytes: bytes ?? rows.reduce((sum, row) => sum + encode(row.record).bytes, 0),
    rows: () => rows,
    rowAt: (index) => rows[index],
    origins: () => rows,
    release: () => undefined,
  };
}

/** A growable typed array: amortised O(1) appends, 1 to 8 bytes per element. */
class Growable<T extends Float64Array | Uint32Array | Uint8Array> {
  private data: T;
  length = 0;

  constructor(private readonly make: (size: number) => T) {
    this.data = make(1024);
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const larger = this.make(this.data.length * 2);
      larger.set(this.data);
      this.data = larger;
    }
    this.data[this.length] = value;
    this.length += 1;
  }

  at(index: number): number {
    return this.data[index];
  }
}

const WRITE_BUFFER_CHARS = 1 << 20;
const READ_CHUNK_BYTES = 1 << 20;

/** Spools as files in one folder, which the caller creates and removes. */
export class FileSpoolFactory implements SpoolFactory {
  private next = 0;

  constructor(private readonly directory: string) {}

  /** The path the next sink will write, for outputs that outlive the worker. */
  create(guard?: WriteGuard): FileRowSink {
    this.next += 1;
    return new FileRowSink(`${this.directory}/spool-${this.next}.jsonl`, guard);
  }
}

export class FileRowSink implements RowSink {
  private readonly fd: number;
  private readonly offsets = new Growable((size) => new Float64Array(size));
  private readonly sources = new Growable((size) => new Uint32Array(size));
  private readonly synthetic = new Growable((size) => new Uint8Array(size));
  private buffer = '';
  private bytes = 0;

  constructor(
    readonly path: string,
    private readonly guard?: WriteGuard,
  ) {
    this.fd = openSync(path, 'w');
  }

  write(row: TrackedRow): void {
    const { line, bytes } = encode(row.record);
    this.guard?.(this.offsets.length + 1, this.bytes + bytes);
    this.offsets.push(this.bytes);
    this.sources.push(row.source);
    this.synthetic.push(row.synthetic ? 1 : 0);
    this.bytes += bytes;
    this.buffer += line;
    if (this.buffer.length >= WRITE_BUFFER_CHARS) {
      this.flush();
    }
  }

  finish(): FileSpool {
    this.flush();
    closeSync(this.fd);
    return new FileSpool(this.path, this.bytes, this.offsets, this.sources, this.synthetic);
  }

  abort(): void {
    this.buffer = '';
    closeSync(this.fd);
    rmSync(this.path, { force: true });
  }

  private flush(): void {
    if (this.buffer) {
      writeSync(this.fd, this.buffer);
      this.buffer = '';
    }
  }
}

export class FileSpool implements RowSpool {
  readonly count: number;
  /** Kept open for rowAt, which oversampling calls once per copy. */
  private randomAccess: number | undefined;

  constructor(
    readonly path: string,
    readonly bytes: number,
    private readonly offsets: Growable<Float64Array>,
    private readonly sources: Growable<Uint32Array>,
    private readonly synthetic: Growable<Uint8Array>,
  ) {
    this.count = offsets.length;
  }

  *rows(): Generator<TrackedRow> {
    const fd = openSync(this.path, 'r');
    try {
      const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
      let carry: Buffer | undefined;
      let position = 0;
      let index = 0;
      for (;;) {
        const read = readSync(fd, chunk, 0, chunk.length, position);
        if (read === 0) {
          break;
        }
        position += read;
        let data = chunk.subarray(0, read);
        if (carry) {
          data = Buffer.concat([carry, data]);
          carry = undefined;
        }
        let start = 0;
        for (let end = data.indexOf(0x0a, start); end !== -1; end = data.indexOf(0x0a, start)) {
          yield this.row(index, data.toString('utf8', start, end));
          index += 1;
          start = end + 1;
        }
        if (start < data.length) {
          // Copied: the chunk buffer is reused by the next read.
          carry = Buffer.from(data.subarray(start));
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  *origins(): Generator<{ source: number; synthetic: boolean }> {
    for (let index = 0; index < this.count; index += 1) {
      yield { source: this.sources.at(index), synthetic: this.synthetic.at(index) === 1 };
    }
  }

  rowAt(index: number): TrackedRow {
    const start = this.offsets.at(index);
    const end = index + 1 < this.count ? this.offsets.at(index + 1) : this.bytes;
    const buffer = Buffer.allocUnsafe(end - start);
    this.randomAccess ??= openSync(this.path, 'r');
    readSync(this.randomAccess, buffer, 0, buffer.length, start);
    return this.row(index, buffer.toString('utf8', 0, buffer.length - 1));
  }

  release(): void {
    if (this.randomAccess !== undefined) {
      closeSync(this.randomAccess);
      this.randomAccess = undefined;
    }
    rmSync(this.path, { force: true });
  }

  private row(index: number, line: string): TrackedRow {
    return {
      record: JSON.parse(line) as DatasetRecord,
      source: this.sources.at(index),
      synthetic: this.synthetic.at(index) === 1,
    };
  }
}
