import { DatasetReadError } from './dataset-read-error.js';

/** What an upload can arrive as: a Node stream (request, file, S3 body) or any async iterable of bytes. */
export type DatasetSource = AsyncIterable<Uint8Array> | NodeJS.ReadableStream;

/**
 * Pulls raw chunks from the caller's source as Buffers, counts them against `maxInputBytes`, lets
 * the reader peek at the first bytes, and remembers which error came from the source itself (so a
 * client disconnect is rethrown as it is rather than mistaken for corrupt gzip).
 *
 * `return()` stops the source at once, even while a `next()` is pending: Node streams are destroyed,
 * other iterables get `return()`.
 */
export class SourceReader implements AsyncIterableIterator<Buffer> {
  bytesRead = 0;
  /** The error this reader threw, from the source or for `input_too_large`. */
  failure: unknown;
  private readonly iterator: AsyncIterator<Uint8Array | string>;
  private readonly pending: Buffer[] = [];
  private done = false;
  private closed = false;

  constructor(
    private readonly source: DatasetSource,
    /** May be changed once the reader knows what the input is. */
    public maxInputBytes: number,
  ) {
    this.iterator = (source as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** At least `count` bytes from the start (fewer if the source ends sooner), without consuming them. */
  async peek(count: number): Promise<Buffer> {
    let available = this.pending.reduce((sum, chunk) => sum + chunk.length, 0);
    while (available < count) {
      const chunk = await this.pull();
      if (chunk === undefined) {
        break;
      }
      this.pending.push(chunk);
      available += chunk.length;
    }
    return Buffer.concat(this.pending);
  }

  async next(): Promise<IteratorResult<Buffer, undefined>> {
    const queued = this.pending.shift();
    if (queued !== undefined) {
      return { done: false, value: queued };
    }
    const chunk = await this.pull();
    return chunk === undefined ? { done: true, value: undefined } : { done: false, value: chunk };
  }

  return(): Promise<IteratorResult<Buffer, undefined>> {
    this.close();
    return Promise.resolve({ done: true, value: undefined });
  }

  close(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.pending.length = 0;
    const destroy = (this.source as { destroy?: unknown }).destroy;
    if (!this.done && typeof destroy === 'function') {
      (destroy as (this: DatasetSource) => void).call(this.source);
    } else if (!this.done) {
      // Not awaited: an async generator runs return() only after a pending next() settles.
      this.iterator.return?.().catch(() => undefined);
    }
  }

  private async pull(): Promise<Buffer | undefined> {
    if (this.done || this.closed) {
      return undefined;
    }
    let result: IteratorResult<Uint8Array | string>;
    try {
      result = await this.iterator.next();
    } catch (error) {
      this.done = true;
      this.failure = error;
      throw error;
    }
    if (result.done === true) {
      this.done = true;
      return undefined;
    }
    const chunk = toBuffer(result.value);
    this.bytesRead += chunk.length;
    if (this.bytesRead > this.maxInputBytes) {
      const error = new DatasetReadError('input_too_large', `The upload is larger than ${this.maxInputBytes} bytes`);
      this.failure = error;
      this.close();
      throw error;
    }
    return chunk;
  }
}

function toBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') {
    return Buffer.from(chunk, 'utf8');
  }
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
