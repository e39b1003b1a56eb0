import { Readable } from 'node:stream';
import { validateArtifactKey } from './artifact-key.js';

/** What `put` stored: the key, and the size and hex SHA-256 measured while streaming. */
export interface StoredArtifact {
  key: string;
  size: number;
  sha256: string;
}

export interface ArtifactStat {
  key: string;
  size: number;
  lastModified: Date;
}

export interface ArtifactListing {
  key: string;
  size: number;
}

export interface PutArtifactOptions {
  /** Stored as the S3 Content-Type; the folder store ignores it. */
  contentType?: string;
  /** More bytes than this fails the put with ArtifactTooLargeError as soon as the limit is passed. */
  maxBytes?: number;
  /**
   * Aborting fails the put with the signal's AbortError and stores nothing, unless the whole body
   * has already been read and the store is committing it (S3 completing the upload): then the put
   * may still succeed.
   */
  signal?: AbortSignal;
}

/** A byte range; `end` is inclusive, as in HTTP `Range` and `fs.createReadStream`. */
export interface ArtifactRange {
  start: number;
  end?: number;
}

export type ArtifactBody = Readable | AsyncIterable<Uint8Array>;

/**
 * Where artifacts (dataset files, model weights, reports) live: a local folder or an S3 bucket.
 * Also the Nest injection token.
 *
 * Every method validates its key (see artifact-key.ts) and throws InvalidArtifactKeyError before
 * touching the backend. Bodies stream in and out: no method holds a whole object in memory.
 */
export abstract class ArtifactStore {
  /**
   * Streams `body` into `key`, measuring its size and SHA-256 on the way. Nothing is visible under
   * `key` until the whole body has been stored; on any failure (the body's stream fails, the signal
   * aborts, `maxBytes` is passed, the backend fails) nothing is left behind and an existing object
   * under `key` is unchanged. Overwriting replaces the object atomically.
   *
   * The body is always used up: read to the end, or (a Readable) destroyed when the put fails. An
   * HTTP request destroyed this way takes its socket with it, so a handler that wants to answer a
   * failed upload (413 for ArtifactTooLargeError) should respond with `Connection: close` rather
   * than expect the connection to stay usable.
   */
  async put(key: string, body: ArtifactBody, options: PutArtifactOptions = {}): Promise<StoredArtifact> {
    try {
      validateArtifactKey(key);
      validatePutOptions(options);
      options.signal?.throwIfAborted();
      return await this.write(key, body, options);
    } catch (error) {
      if (body instanceof Readable && !body.destroyed) {
        body.destroy();
      }
      throw error;
    }
  }

  /** `put` after validation: the key, options and signal have been checked. */
  protected abstract write(key: string, body: ArtifactBody, options: PutArtifactOptions): Promise<StoredArtifact>;

  /**
   * A stream of the object (or of `range` of it). Throws ArtifactNotFoundError when there is no such
   * object. A range starting at or past the end gives an empty stream. The caller must consume or
   * destroy the stream.
   */
  abstract get(key: string, range?: ArtifactRange): Promise<Readable>;

  abstract stat(key: string): Promise<ArtifactStat | undefined>;

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== undefined;
  }

  /** Removes the object; does nothing when there is none. */
  abstract delete(key: string): Promise<void>;

  /** Removes every object whose key starts with `prefix` (`''` removes everything in the store). */
  abstract deletePrefix(prefix: string): Promise<void>;

  /** Objects whose key starts with `prefix`, in ascending key order (plain string prefix, as in S3). */
  abstract list(prefix: string): AsyncIterable<ArtifactListing>;

  /** Copies an object to another key, replacing whatever `toKey` held. */
  abstract copy(fromKey: string, toKey: string): Promise<void>;

  /** Readiness: resolves when the store can be used, throws an ArtifactStoreError saying why not. */
  abstract check(): Promise<void>;

  /** Where the artifacts are, for logs and health output; never includes credentials. */
  abstract describe(): string;

  /**
   * Removes what uploads of crashed processes left behind (partial files, unfinished S3 multipart
   * uploads), never touching an upload still in progress. Called once at start-up; returns how many
   * were removed.
   */
  abstract removeAbandonedUploads(): Promise<number>;

  /** Releases connections; the store is not used afterwards. */
  async close(): Promise<void> {}
}

function validatePutOptions(options: PutArtifactOptions): void {
  const { maxBytes } = options;
  if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) {
    throw new RangeError(`maxBytes must be a non-negative integer (got ${maxBytes})`);
  }
}

export function validateRange(range: ArtifactRange | undefined): void {
  if (range === undefined) {
    return;
  }
  const { start, end } = range;
  if (!(Number.isSafeInteger(start) && start >= 0)) {
    throw new RangeError(`range.start must be a non-negative integer (got ${start})`);
  }
  if (end !== undefined && !(Number.isSafeInteger(end) && end >= start)) {
    throw new RangeError(`range.end must be an integer no smaller than range.start (got ${end})`);
  }
}
