import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';
import { DomainError } from '../platform/errors/domain-error.js';
import { assertUnreachable, ErrorCode } from '../platform/errors/error-codes.js';
import { ArtifactStore, type StoredArtifact } from '../platform/storage/artifact-store.js';
import { ArtifactStoreError, ArtifactTooLargeError } from '../platform/storage/artifact-errors.js';
import { DatasetMetrics } from './dataset-metrics.js';
import type { DatasetFormat, DatasetSchema, DatasetTask, RowError } from './dataset-types.js';
import { DatasetReadError, type DatasetReadErrorCode, type ReadSummary } from './parsing/dataset-reader.js';
import type { FromWorker, ProfilingJob, ProfilingOutcome, ToWorker } from './profiling-protocol.js';
import type { QualityReport, ReferenceProfile } from './quality/quality-report.js';

/** Bytes sent to the profiling worker and not yet read by it. */
const PROFILING_WINDOW = 8 * 1024 * 1024;

/** Row errors kept in the report; the rest are counted. */
export const MAX_REPORTED_ROW_ERRORS = 100;

export interface IngestOptions {
  task: DatasetTask;
  schema: DatasetSchema;
  format?: DatasetFormat;
  /** The size the sender announced (Content-Length): beyond the limit, refused before any byte is read. */
  declaredBytes?: number;
  thresholds?: Record<string, unknown>;
  reference?: ReferenceProfile;
  /** Refuse (400 empty_file, nothing kept) a file without a single data row. */
  refuseEmpty?: boolean;
  /** Where to put the upload while it streams; moved to its content address when complete. */
  stagingPrefix: string;
}

export interface IngestResult {
  stored: StoredArtifact;
  summary: ReadSummary;
  /** Rows that parsed and passed validation (the summary's rows include those that failed validation). */
  validRows: number;
  report: QualityReport;
  referenceProfile: ReferenceProfile;
  errors: RowError[];
  totalErrors: number;
}

/**
 * One streaming pass over an upload: the bytes go to the artifact store (hashed on the way) while
 * the same bytes are decompressed, parsed, validated and profiled. Memory stays bounded by the
 * streams' buffers and the profiler's sketches, whatever the file's size.
 */
@Injectable()
export class DatasetIngestor {
  private readonly logger = new Logger(DatasetIngestor.name);
  private uploads = 0;
  private workers = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly store: ArtifactStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: DatasetMetrics,
  ) {}

  /** Uploads being ingested and profiling workers alive in this process. */
  activity(): { uploads: number; workers: number } {
    return { uploads: this.uploads, workers: this.workers };
  }

  /** Resolves once no upload is being ingested and every profiling worker has exited. */
  whenIdle(): Promise<void> {
    if (this.uploads === 0 && this.workers === 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async ingest(source: Readable | AsyncIterable<Uint8Array>, options: IngestOptions): Promise<IngestResult> {
    this.uploads += 1;
    try {
      return await this.ingestOnce(source, options);
    } finally {
      this.uploads -= 1;
      this.notifyIfIdle();
    }
  }

  private notifyIfIdle(): void {
    if (this.uploads === 0 && this.workers === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) {
        resolve();
      }
    }
  }

  private async ingestOnce(
    source: Readable | AsyncIterable<Uint8Array>,
    options: IngestOptions,
  ): Promise<IngestResult> {
    const limits = this.config.datasets;
    if (options.declaredBytes !== undefined && options.declaredBytes > limits.maxUploadBytes) {
      throw this.toDomainError({ source: new ArtifactTooLargeError(limits.maxUploadBytes) });
    }
    const stagingKey = `${options.stagingPrefix}/${randomUUID()}`;
    const toStore = new PassThrough({ highWaterMark: 1 << 22 });
    // `fail` may destroy this stream before the store has attached its own listeners (it may still
    // be opening its file): without a listener that error would be thrown as uncaught. The store's
    // put reports it anyway.
    toStore.on('error', () => undefined);
    const profiling = this.startProfiling({
      task: options.task,
      schema: options.schema,
      format: options.format,
      thresholds: options.thresholds,
      reference: options.reference,
      maxLineBytes: limits.maxLineBytes,
      maxInflatedBytes: limits.maxInflatedBytes,
      maxReportedErrors: MAX_REPORTED_ROW_ERRORS,
      niceness: this.config.workerThreadNiceness,
    });
    const abort = new AbortController();
    const fail = (error: unknown) => {
      const reason = error instanceof Error ? error : new Error('dataset upload failed');
      abort.abort(reason);
      toStore.destroy(reason);
      void profiling.stop();
    };

    // The source is iterated by hand and never destroyed here: when the file is refused early, the
    // caller can still answer (413, 400) on the same connection before it is closed.
    const pump = (async () => {
      const iterator = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
      let received = 0;
      for (;;) {
        const next = await unlessAborted(iterator.next(), abort.signal);
        if (next.done) {
          break;
        }
        const chunk = next.value;
        received += chunk.length;
        this.metrics.received(chunk.length);
        if (received > limits.maxUploadBytes) {
          throw new ArtifactTooLargeError(limits.maxUploadBytes);
        }
        const storeReady = toStore.write(chunk);
        await unlessAborted(profiling.write(chunk), abort.signal);
        if (!storeReady) {
          await unlessAborted(once(toStore, 'drain'), abort.signal);
        }
      }
      toStore.end();
      profiling.end();
    })().catch((error: unknown) => {
      fail(error);
      throw error;
    });

    const put = this.store.put(stagingKey, toStore, { maxBytes: limits.maxUploadBytes }).catch((error: unknown) => {
      fail(error);
      throw error;
    });

    const parse = profiling.outcome.catch((error: unknown) => {
      fail(error);
      throw error;
    });

    const [pumped, stored, parsed] = await Promise.allSettled([pump, put, parse]);
    // Settled means settled: the worker thread (and its file descriptors) is gone before this returns.
    await profiling.stop();
    if (stored.status === 'rejected' || parsed.status === 'rejected' || pumped.status === 'rejected') {
      if (stored.status === 'fulfilled') {
        await this.store.delete(stagingKey).catch(() => undefined);
      }
      throw this.toDomainError({
        source: pumped.status === 'rejected' ? (pumped.reason as unknown) : undefined,
        storage: stored.status === 'rejected' ? (stored.reason as unknown) : undefined,
        parser: parsed.status === 'rejected' ? (parsed.reason as unknown) : undefined,
      });
    }
    if (options.refuseEmpty && parsed.value.validRows + parsed.value.totalErrors === 0) {
      await this.store.delete(stagingKey).catch(() => undefined);
      throw new DomainError(ErrorCode.EmptyFile, 'The file has no data rows; nothing was stored', [
        { reason: parsed.value.summary.header ? 'only a header row' : 'no rows', bytes: stored.value.size },
      ]);
    }
    return { stored: stored.value, ...parsed.value };
  }

  /**
   * A worker thread that reads, validates and profiles the bytes it is sent. At most
   * PROFILING_WINDOW bytes are in flight: `write` waits for the worker to take earlier chunks.
   */
  private startProfiling(job: ProfilingJob): {
    write: (chunk: Uint8Array) => Promise<void>;
    end: () => void;
    stop: () => Promise<void>;
    outcome: Promise<ProfilingOutcome>;
  } {
    const worker = new Worker(new URL('./profiling-worker.js', import.meta.url), { workerData: job });
    this.workers += 1;
    const exited = new Promise<void>((resolve) => {
      worker.once('exit', () => {
        this.workers -= 1;
        this.notifyIfIdle();
        resolve();
      });
    });
    let inFlight = 0;
    let released: (() => void) | undefined;
    let settled = false;
    const outcome = new Promise<ProfilingOutcome>((resolve, reject) => {
      worker.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'consumed':
            inFlight -= message.bytes;
            if (inFlight <= PROFILING_WINDOW) {
              released?.();
              released = undefined;
            }
            return;
          case 'done':
            settled = true;
            resolve(message.outcome);
            return;
          case 'failed':
            settled = true;
            reject(
              message.readError
                ? new DatasetReadError(message.readError.code as DatasetReadErrorCode, message.readError.message)
                : new Error(`profiling failed: ${message.message}`),
            );
            return;
          default:
            assertUnreachable(message);
        }
      });
      worker.on('error', (error) => {
        settled = true;
        reject(error);
      });
      worker.on('exit', (code) => {
        if (!settled) {
          reject(new Error(`the profiling worker exited (code ${code}) before finishing`));
        }
        released?.();
      });
    });
    outcome.catch(() => undefined);
    return {
      write: async (chunk) => {
        // A copy: the request's buffers may share memory with others, and this one is transferred.
        const copy = new Uint8Array(chunk);
        inFlight += copy.byteLength;
        worker.postMessage({ type: 'chunk', chunk: copy } satisfies ToWorker, [copy.buffer]);
        if (inFlight > PROFILING_WINDOW && !settled) {
          await new Promise<void>((resolve) => {
            released = resolve;
          });
        }
      },
      end: () => worker.postMessage({ type: 'end' } satisfies ToWorker),
      stop: async () => {
        await worker.terminate().catch(() => undefined);
        await exited;
      },
      outcome,
    };
  }

  /** The most telling of the failures: the file's own fault, then the sender's, then storage's. */
  private toDomainError(failures: { source?: unknown; storage?: unknown; parser?: unknown }): Error {
    const reasons = [failures.parser, failures.source, failures.storage].filter((reason) => reason !== undefined);
    const readError = reasons.find((reason): reason is DatasetReadError => reason instanceof DatasetReadError);
    if (readError) {
      if (readError.code === 'inflated_too_large' || readError.code === 'input_too_large') {
        const limit = this.config.datasets.maxInflatedBytes;
        return new DomainError(
          ErrorCode.PayloadTooLarge,
          `The decompressed file is larger than the limit of ${limit} bytes`,
          [{ reason: readError.message, limit }],
        );
      }
      return new DomainError(ErrorCode.UnreadableFile, `The file cannot be read: ${readError.message}`, [
        { reason: readError.code },
      ]);
    }
    const tooLarge = reasons.find((reason): reason is ArtifactTooLargeError => reason instanceof ArtifactTooLargeError);
    if (tooLarge) {
      return new DomainError(
        ErrorCode.PayloadTooLarge,
        `The upload is larger than the limit of ${tooLarge.maxBytes} bytes`,
        [{ reason: 'upload too large', limit: tooLarge.maxBytes }],
      );
    }
    if (failures.source !== undefined && !(failures.source instanceof ArtifactStoreError)) {
      // The sender's stream broke (a cut connection): nothing was stored.
      return new DomainError(ErrorCode.UnreadableFile, 'The upload did not complete; nothing was stored', [
        { reason: failures.source instanceof Error ? failures.source.message : 'the request stream failed' },
      ]);
    }
    const storageError = reasons.find((reason): reason is ArtifactStoreError => reason instanceof ArtifactStoreError);
    if (storageError) {
      this.logger.error({ err: storageError }, 'dataset upload could not be stored');
      return storageError;
    }
    return reasons[0] instanceof Error ? reasons[0] : new Error('dataset upload failed');
  }
}

/**
 * `promise`, or a rejection as soon as `signal` aborts. Unlike Promise.race against one long-lived
 * promise, the abort listener is removed each time: racing every chunk against a never-settling
 * promise would keep every chunk reachable from it, holding the whole upload in memory.
 */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error('dataset upload failed'));
      },
    );
  });
}
