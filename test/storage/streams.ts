import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';

export const MiB = 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;

export function sha256Of(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Reads a whole (small) stream; for tests of small objects only. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export interface DigestResult {
  size: number;
  sha256: string;
}

/** Hashes a stream chunk by chunk, calling `onProgress` every `every` bytes. */
export async function digestStream(stream: Readable, onProgress?: () => void, every = 2 * MiB): Promise<DigestResult> {
  const hash = createHash('sha256');
  let size = 0;
  let nextReport = every;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    if (onProgress && size >= nextReport) {
      onProgress();
      nextReport += every;
    }
  }
  return { size, sha256: hash.digest('hex') };
}

/**
 * `size` deterministic pseudo-random bytes (AES-CTR keystream from `seed`), generated chunk by chunk
 * and never held whole. `expected` holds the size and SHA-256 of what was produced once it has ended.
 */
export class GeneratedBody {
  readonly expected: DigestResult = { size: 0, sha256: '' };

  constructor(
    private readonly size: number,
    private readonly seed: string,
    private readonly options: { failAfter?: number; onProgress?: () => void; progressEvery?: number } = {},
  ) {}

  stream(): Readable {
    return Readable.from(this.chunks(), { objectMode: false });
  }

  async *chunks(): AsyncGenerator<Buffer> {
    const key = createHash('sha256').update(this.seed).digest().subarray(0, 16);
    const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
    const zeros = Buffer.alloc(CHUNK_BYTES);
    const hash = createHash('sha256');
    const every = this.options.progressEvery ?? 2 * MiB;
    let produced = 0;
    let nextReport = every;
    while (produced < this.size) {
      if (this.options.failAfter !== undefined && produced >= this.options.failAfter) {
        throw new SourceFailure(produced);
      }
      const length = Math.min(CHUNK_BYTES, this.size - produced);
      const chunk = cipher.update(length === CHUNK_BYTES ? zeros : zeros.subarray(0, length));
      hash.update(chunk);
      produced += chunk.length;
      if (this.options.onProgress && produced >= nextReport) {
        this.options.onProgress();
        nextReport += every;
      }
      yield chunk;
      if (produced % MiB === 0) {
        await setImmediate(); // let I/O run now and then, as a network source would
      }
    }
    this.expected.size = produced;
    this.expected.sha256 = hash.digest('hex');
  }
}

/** The error a GeneratedBody with `failAfter` throws, so tests can tell it from anything else. */
export class SourceFailure extends Error {
  constructor(readonly after: number) {
    super(`source stream failed after ${after} bytes`);
    this.name = 'SourceFailure';
  }
}

const gc: () => void = (() => {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) {
    return exposed;
  }
  // Not started with --expose-gc (the test runner does not pass it): expose it at run time.
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

/**
 * Full garbage collection, twice: the memory behind freed Buffers is only released (and taken off
 * `process.memoryUsage().external`) by the collection after the one that found them unreachable.
 */
export function collectGarbage(): void {
  gc();
  gc();
}

export interface MemoryGrowth {
  /** Peak growth of reachable memory (V8 heap + Buffers) over the start, sampled after full GCs. */
  live: number;
  /** The same peak over the first and the second half of the samples: flat when memory is bounded. */
  firstHalf: number;
  secondHalf: number;
  /** Peak RSS growth without forcing GC, for the report only (allocator behaviour makes it noisy). */
  rss: number;
  samples: number;
}

/**
 * Tracks how much memory stays reachable during a transfer: after full GCs at each sample, so
 * garbage waiting to be collected does not count, only what the code under test holds on to.
 */
export class MemoryProbe {
  private baselineLive = 0;
  private baselineRss = 0;
  private peakRss = 0;
  private growth: number[] = [];

  start(): void {
    collectGarbage();
    const usage = process.memoryUsage();
    this.baselineLive = usage.heapUsed + usage.external;
    this.baselineRss = usage.rss;
    this.peakRss = this.baselineRss;
    this.growth = [];
  }

  readonly sample = (): void => {
    this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss());
    collectGarbage();
    const usage = process.memoryUsage();
    this.growth.push(usage.heapUsed + usage.external - this.baselineLive);
  };

  result(): MemoryGrowth {
    const half = Math.floor(this.growth.length / 2);
    const peak = (values: number[]) => Math.max(0, ...values);
    return {
      live: peak(this.growth),
      firstHalf: peak(this.growth.slice(0, half)),
      secondHalf: peak(this.growth.slice(half)),
      rss: this.peakRss - this.baselineRss,
      samples: this.growth.length,
    };
  }
}

export function mb(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}
