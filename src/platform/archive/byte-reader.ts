/** A file inside an uploaded archive is malformed or unsafe; the message says which and why. */
export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
}

/**
 * Exact-length reads over a stream of chunks, for binary formats read front to back. Holds at most
 * one chunk beyond what the caller asked for.
 */
export class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Uint8Array = new Uint8Array(0);
  private ended = false;
  /** Bytes handed out or skipped so far. */
  position = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    while (this.pending.length === 0) {
      if (this.ended) {
        return false;
      }
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
        return false;
      }
      this.pending = next.value;
    }
    return true;
  }

  /** Exactly `length` bytes; with `allowEnd`, undefined when the stream ends before the first byte. */
  async readExactly(length: number): Promise<Uint8Array>;
  async readExactly(length: number, options: { allowEnd: true }): Promise<Uint8Array | undefined>;
  async readExactly(length: number, options: { allowEnd?: boolean } = {}): Promise<Uint8Array | undefined> {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      if (!(await this.fill())) {
        if (filled === 0 && options.allowEnd) {
          return undefined;
        }
        throw new ArchiveError(`the archive ends early (wanted ${length - filled} more bytes)`);
      }
      const take = Math.min(length - filled, this.pending.length);
      out.set(this.pending.subarray(0, take), filled);
      this.pending = this.pending.subarray(take);
      filled += take;
    }
    this.position += length;
    return out;
  }

  /** The next `length` bytes as chunks, without copying them into one buffer. */
  async *stream(length: number): AsyncGenerator<Uint8Array> {
    let left = length;
    while (left > 0) {
      if (!(await this.fill())) {
        throw new ArchiveError(`the archive ends early (wanted ${left} more bytes)`);
      }
      const take = Math.min(left, this.pending.length);
      const chunk = this.pending.subarray(0, take);
      this.pending = this.pending.subarray(take);
      left -= take;
      this.position += take;
      yield chunk;
    }
  }

  /** Stops the source (a Readable's iterator destroys it): for readers that stop before the end. */
  async close(): Promise<void> {
    this.ended = true;
    this.pending = new Uint8Array(0);
    await this.iterator.return?.();
  }

  async skip(length: number): Promise<void> {
    for await (const chunk of this.stream(length)) {
      void chunk;
    }
  }
}
