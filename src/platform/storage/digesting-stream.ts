import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ArtifactTooLargeError } from './artifact-errors.js';

/**
 * Passes bytes through unchanged while counting them and computing their SHA-256; fails with
 * ArtifactTooLargeError as soon as more than `maxBytes` have gone through, so an oversized upload
 * stops at the limit instead of after the whole body.
 */
export class DigestingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private bytesSeen = 0;
  private digest?: string;

  constructor(private readonly maxBytes?: number) {
    super();
  }

  /**
   * Bytes seen so far. Not called `size` or `length`: lib-storage takes a body's `size`, `length` or
   * `byteLength` property as its total length, and would then reject the upload's part count.
   */
  get byteCount(): number {
    return this.bytesSeen;
  }

  /** The hex SHA-256 of everything that went through; only once the stream has ended. */
  get sha256(): string {
    if (this.digest === undefined) {
      throw new Error('DigestingStream: the digest is only known after the stream has ended');
    }
    return this.digest;
  }

  get finished(): boolean {
    return this.digest !== undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytesSeen += chunk.length;
    if (this.maxBytes !== undefined && this.bytesSeen > this.maxBytes) {
      callback(new ArtifactTooLargeError(this.maxBytes));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.digest = this.hash.digest('hex');
    callback();
  }
}
