import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';
import { DomainError } from '../platform/errors/domain-error.js';
import { ErrorCode } from '../platform/errors/error-codes.js';
import { ArtifactStore, type StoredArtifact } from '../platform/storage/artifact-store.js';
import { ArtifactStoreError, ArtifactTooLargeError } from '../platform/storage/artifact-errors.js';
import type { DatasetFormat, DatasetSchema, DatasetTask, ParsedRow, RowError } from './dataset-types.js';
import { DatasetReadError, readDatasetBatches, type ReadSummary } from './parsing/dataset-reader.js';
import { findPersonalData, maskValue } from './privacy/personal-data.js';
import { QualityProfiler } from './quality/quality-profiler.js';
import type { QualityReport, ReferenceProfile } from './quality/quality-report.js';
import { validateRow } from './quality/row-validator.js';

/** Row errors kept in the report; the rest are counted. */
export const MAX_REPORTED_ROW_ERRORS = 100;

export interface IngestOptions {
  task: DatasetTask;
  schema: DatasetSchema;
  format?: DatasetFormat;
  thresholds?: Record<string, unknown>;
  reference?: ReferenceProfile;
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

  constructor(
    private readonly store: ArtifactStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async ingest(source: Readable | AsyncIterable<Uint8Array>, options: IngestOptions): Promise<IngestResult> {
    const limits = this.config.datasets;
    const stagingKey = `${options.stagingPrefix}/${randomUUID()}`;
    const toStore = new PassThrough({ highWaterMark: 1 << 22 });
    const toParse = new PassThrough({ highWaterMark: 1 << 22 });
    let abort: (reason: Error) => void = () => undefined;
    const aborted = new Promise<never>((_resolve, reject) => {
      abort = reject;
    });
    aborted.catch(() => undefined);
    const fail = (error: unknown) => {
      const reason = error instanceof Error ? error : new Error(String(error));
      abort(reason);
      toStore.destroy(reason);
      toParse.destroy(reason);
    };

    // The source is iterated by hand and never destroyed here: when the file is refused early, the
    // caller can still answer (413, 400) on the same connection before it is closed.
    const pump = (async () => {
      const iterator = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
      let received = 0;
      for (;;) {
        const next = await Promise.race([iterator.next(), aborted]);
        if (next.done) {
          break;
        }
        const chunk = next.value;
        received += chunk.length;
        if (received > limits.maxUploadBytes) {
          throw new ArtifactTooLargeError(limits.maxUploadBytes);
        }
        const storeReady = toStore.write(chunk);
        const parseReady = toParse.write(chunk);
        if (!storeReady) {
          await Promise.race([once(toStore, 'drain'), aborted]);
        }
        if (!parseReady) {
          await Promise.race([once(toParse, 'drain'), aborted]);
        }
      }
      toStore.end();
      toParse.end();
    })().catch((error: unknown) => {
      fail(error);
      throw error;
    });

    const put = this.store.put(stagingKey, toStore, { maxBytes: limits.maxUploadBytes }).catch((error: unknown) => {
      fail(error);
      throw error;
    });

    const profiler = new QualityProfiler({
      task: options.task,
      schema: options.schema,
      thresholds: options.thresholds,
      reference: options.reference,
      detectPersonalData: findPersonalData,
      maskValue,
    });
    const errors: RowError[] = [];
    let totalErrors = 0;
    const recordError = (error: RowError) => {
      totalErrors += 1;
      if (errors.length < MAX_REPORTED_ROW_ERRORS) {
        errors.push(error);
      }
      profiler.addError(error);
    };
    let validRows = 0;
    const parse = (async () => {
      const reader = readDatasetBatches(toParse, {
        format: options.format ?? 'auto',
        compression: 'auto',
        maxLineBytes: limits.maxLineBytes,
        maxInflatedBytes: limits.maxInflatedBytes,
      });
      const valid: ParsedRow[] = [];
      for (;;) {
        const next = await reader.next();
        if (next.done) {
          return next.value;
        }
        valid.length = 0;
        for (const item of next.value) {
          if (item.kind === 'error') {
            recordError(item.error);
            continue;
          }
          const problem = validateRow(item.row.record, options.task, options.schema);
          if (problem) {
            recordError({ ...problem, line: item.row.line });
          } else {
            valid.push(item.row);
          }
        }
        validRows += valid.length;
        profiler.addRows(valid);
      }
    })().catch((error: unknown) => {
      fail(error);
      throw error;
    });

    const [pumped, stored, parsed] = await Promise.allSettled([pump, put, parse]);
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
    const report = profiler.finish();
    return {
      stored: stored.value,
      summary: parsed.value,
      validRows,
      report,
      referenceProfile: profiler.exportReference(),
      errors,
      totalErrors,
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
