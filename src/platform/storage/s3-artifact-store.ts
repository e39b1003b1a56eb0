import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  paginateListObjectsV2,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Settings } from '../config/config.js';
import { ArtifactNotFoundError, ArtifactStoreError, ArtifactStoreErrorCode } from './artifact-errors.js';
import { isValidArtifactKey, validateArtifactKey, validateArtifactPrefix } from './artifact-key.js';
import {
  type ArtifactBody,
  type ArtifactListing,
  type ArtifactRange,
  type ArtifactStat,
  ArtifactStore,
  type PutArtifactOptions,
  type StoredArtifact,
  validateRange,
} from './artifact-store.js';
import { DigestingStream } from './digesting-stream.js';

/** Multipart part size: memory per upload is about (queue size + 1) parts. */
export const S3_PART_SIZE = 8 * 1024 * 1024;
export const S3_UPLOAD_QUEUE_SIZE = 2;
const S3_MAX_PARTS = 10_000;
const DELETE_BATCH_SIZE = 1000;
/**
 * Unfinished multipart uploads started longer ago than this are abandoned (their process crashed)
 * and are aborted at start-up. Replicas share the bucket and cannot tell whose upload is alive, so
 * age decides: no dataset upload is expected to stream for a whole day.
 */
export const S3_ABANDONED_UPLOAD_AGE_MS = 24 * 60 * 60 * 1000;

/**
 * Artifacts as objects in an S3 bucket (AWS, MinIO, moto), key `a/b` at `<prefix>a/b`.
 *
 * Puts stream through `@aws-sdk/lib-storage` (multipart, 8 MiB parts, two in flight): an object
 * becomes visible only when the upload completes, and a failed upload is aborted so no parts are
 * left. Objects larger than 10,000 parts (80 GiB, more when `maxBytes` is given) cannot be stored;
 * `copy` is a server-side CopyObject, limited to 5 GiB.
 */
export class S3ArtifactStore extends ArtifactStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly location: string;

  /** `client` is for tests; by default one is built from the settings and the default credential chain. */
  constructor(settings: S3Settings, client?: S3Client) {
    super();
    if (settings.prefix !== '' && (!settings.prefix.endsWith('/') || settings.prefix.startsWith('/'))) {
      throw new Error(`S3 prefix must be empty or end with "/" and not start with "/" (got ${settings.prefix})`);
    }
    this.bucket = settings.bucket;
    this.prefix = settings.prefix;
    this.location = `s3://${settings.bucket}/${settings.prefix} @ ${describeEndpoint(settings)}`;
    this.client =
      client ??
      new S3Client({
        region: settings.region,
        endpoint: settings.endpoint,
        forcePathStyle: settings.forcePathStyle,
        // Since 3.729 the SDK defaults to WHEN_SUPPORTED: a CRC32 checksum on every upload (a full-object
        // checksum on multipart uploads) and checksum mode on every download, which not every
        // S3-compatible server (older MinIO, Ceph, moto releases) accepts. We compute our own SHA-256,
        // so send checksums only where an operation requires one (DeleteObjects still gets CRC32).
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
  }

  describe(): string {
    return this.location;
  }

  protected async write(key: string, body: ArtifactBody, options: PutArtifactOptions): Promise<StoredArtifact> {
    const digest = new DigestingStream(options.maxBytes);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.objectKey(key), Body: digest, ContentType: options.contentType },
      partSize: partSizeFor(options.maxBytes),
      queueSize: S3_UPLOAD_QUEUE_SIZE,
      leavePartsOnError: false,
    });
    // We never call upload.abort(): it rejects done() at once while parts are still in flight, and a
    // PutObject already sent would still land. Failing the stream instead makes lib-storage stop
    // reading, wait for its requests and abort the multipart upload before done() rejects.
    const [piped, uploaded] = await Promise.allSettled([
      pipeline(body, digest, { signal: options.signal }),
      upload.done().catch((error: unknown) => {
        digest.destroy(); // if lib-storage stopped reading, let the pipeline finish too
        throw error;
      }),
    ]);
    if (uploaded.status === 'fulfilled' && digest.finished) {
      return { key, size: digest.byteCount, sha256: digest.sha256 };
    }
    if (piped.status === 'rejected' && !isPrematureClose(piped.reason)) {
      throw piped.reason; // the body failed, the signal aborted or maxBytes was passed
    }
    throw this.backendFailure('put', key, uploaded.status === 'rejected' ? uploaded.reason : undefined);
  }

  async get(key: string, range?: ArtifactRange): Promise<Readable> {
    validateArtifactKey(key);
    validateRange(range);
    try {
      const output = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined,
        }),
      );
      if (output.Body === undefined) {
        return emptyStream();
      }
      if (output.Body instanceof Readable) {
        return output.Body;
      }
      throw new Error('the S3 client returned a body that is not a Node.js stream');
    } catch (error) {
      if (s3ErrorName(error) === 'NoSuchKey') {
        throw new ArtifactNotFoundError(key);
      }
      // S3 answers 416 for a range starting at or past the end (and for any range of an empty object).
      if (s3ErrorName(error) === 'InvalidRange' || s3Status(error) === 416) {
        return emptyStream();
      }
      throw this.backendFailure('get', key, error);
    }
  }

  async stat(key: string): Promise<ArtifactStat | undefined> {
    validateArtifactKey(key);
    try {
      const output = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return { key, size: output.ContentLength ?? 0, lastModified: output.LastModified ?? new Date(0) };
    } catch (error) {
      if (s3ErrorName(error) === 'NotFound' || s3ErrorName(error) === 'NoSuchKey') {
        return undefined;
      }
      throw this.backendFailure('stat', key, error);
    }
  }

  async delete(key: string): Promise<void> {
    validateArtifactKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    } catch (error) {
      if (s3ErrorName(error) === 'NoSuchKey') {
        return;
      }
      throw this.backendFailure('delete', key, error);
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    validateArtifactPrefix(prefix);
    let batch: string[] = [];
    // Everything under the prefix goes, including objects other tools wrote with keys we would reject.
    for await (const object of this.listObjects(prefix)) {
      batch.push(object.objectKey);
      if (batch.length === DELETE_BATCH_SIZE) {
        await this.deleteObjects(prefix, batch);
        batch = [];
      }
    }
    if (batch.length > 0) {
      await this.deleteObjects(prefix, batch);
    }
  }

  async *list(prefix: string): AsyncIterable<ArtifactListing> {
    validateArtifactPrefix(prefix);
    for await (const object of this.listObjects(prefix)) {
      // Objects other tools wrote under our prefix with keys we would reject are not artifacts.
      if (isValidArtifactKey(object.key)) {
        yield { key: object.key, size: object.size };
      }
    }
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    validateArtifactKey(fromKey);
    validateArtifactKey(toKey);
    const source = `${this.bucket}/${this.objectKey(fromKey).split('/').map(encodeURIComponent).join('/')}`;
    try {
      await this.client.send(
        new CopyObjectCommand({ Bucket: this.bucket, Key: this.objectKey(toKey), CopySource: source }),
      );
    } catch (error) {
      if (s3ErrorName(error) === 'NoSuchKey') {
        throw new ArtifactNotFoundError(fromKey);
      }
      throw this.backendFailure('copy', fromKey, error);
    }
  }

  async removeAbandonedUploads(now = new Date()): Promise<number> {
    const cutoff = now.getTime() - S3_ABANDONED_UPLOAD_AGE_MS;
    let removed = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    try {
      for (;;) {
        const page = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: this.prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        );
        for (const upload of page.Uploads ?? []) {
          if (upload.Key && upload.UploadId && upload.Initiated && upload.Initiated.getTime() < cutoff) {
            await this.client.send(
              new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId }),
            );
            removed++;
          }
        }
        if (!page.IsTruncated) {
          return removed;
        }
        keyMarker = page.NextKeyMarker;
        uploadIdMarker = page.NextUploadIdMarker;
      }
    } catch (error) {
      throw this.backendFailure('removeAbandonedUploads', this.prefix, error);
    }
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      const reason = s3Status(error) === 404 ? 'the bucket does not exist' : describeError(error);
      throw new ArtifactStoreError(
        ArtifactStoreErrorCode.BackendFailure,
        `S3 bucket for artifacts is not usable (${this.location}): ${reason}`,
        { cause: error },
      );
    }
  }

  override async close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }

  private objectKey(key: string): string {
    return this.prefix + key;
  }

  private async *listObjects(prefix: string): AsyncGenerator<{ objectKey: string; key: string; size: number }> {
    try {
      const pages = paginateListObjectsV2(
        { client: this.client, pageSize: 1000 },
        { Bucket: this.bucket, Prefix: this.prefix + prefix },
      );
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          if (object.Key !== undefined && object.Key.startsWith(this.prefix)) {
            yield { objectKey: object.Key, key: object.Key.slice(this.prefix.length), size: object.Size ?? 0 };
          }
        }
      }
    } catch (error) {
      throw this.backendFailure('list', prefix, error);
    }
  }

  private async deleteObjects(prefix: string, objectKeys: string[]): Promise<void> {
    let failed: { Key?: string; Code?: string; Message?: string } | undefined;
    try {
      const output = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: objectKeys.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      failed = output.Errors?.[0];
    } catch (error) {
      throw this.backendFailure('deletePrefix', prefix, error);
    }
    if (failed !== undefined) {
      throw this.backendFailure(
        'deletePrefix',
        prefix,
        new Error(`${failed.Key ?? '?'}: ${failed.Code ?? 'error'} ${failed.Message ?? ''}`.trim()),
      );
    }
  }

  private backendFailure(operation: string, key: string, error: unknown): ArtifactStoreError {
    if (error instanceof ArtifactStoreError) {
      return error;
    }
    return new ArtifactStoreError(
      ArtifactStoreErrorCode.BackendFailure,
      `Artifact ${operation} of ${JSON.stringify(key)} in ${this.location} failed: ${describeError(error)}`,
      { cause: error },
    );
  }
}

/**
 * lib-storage allows 10,000 parts: grow the part size when the caller says the body may be larger
 * than 10,000 x 8 MiB. Memory per upload grows with it (about three parts).
 */
function partSizeFor(maxBytes: number | undefined): number {
  if (maxBytes === undefined) {
    return S3_PART_SIZE;
  }
  return Math.max(S3_PART_SIZE, Math.ceil(maxBytes / S3_MAX_PARTS));
}

function describeEndpoint(settings: S3Settings): string {
  if (settings.endpoint === undefined) {
    return `AWS ${settings.region}`;
  }
  try {
    const url = new URL(settings.endpoint);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(invalid endpoint)';
  }
}

function s3ErrorName(error: unknown): string | undefined {
  return error instanceof S3ServiceException ? error.name : undefined;
}

function s3Status(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

function isPrematureClose(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ERR_STREAM_PREMATURE_CLOSE';
}

function describeError(error: unknown): string {
  if (error instanceof S3ServiceException) {
    return `${error.name} (HTTP ${error.$metadata.httpStatusCode ?? '?'}): ${error.message}`;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function emptyStream(): Readable {
  const stream = new PassThrough();
  stream.end();
  return stream;
}
