/**
 * Worker thread that reads, validates and profiles an upload while the main thread stores it: the
 * two halves of the pipeline run on two cores, and the event loop that serves HTTP stays free.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ParsedRow, RowError } from './dataset-types.js';
import { DatasetReadError, readDatasetBatches, type DatasetReadErrorCode } from './parsing/dataset-reader.js';
import { findPersonalData, maskValue } from './privacy/personal-data.js';
import type { FromWorker, ProfilingJob } from './profiling-protocol.js';
import { lowerThreadPriority } from '../platform/thread-priority.js';
import { QualityProfiler } from './quality/quality-profiler.js';
import { RowValidator } from './quality/row-validator.js';
import { receiveChunks } from './worker-chunks.js';

const port = parentPort;
if (!port) {
  throw new Error('profiling-worker must run as a worker thread');
}
const job = workerData as ProfilingJob;
// Parsing and profiling are CPU-bound: below the main thread, which answers HTTP and streams the upload.
lowerThreadPriority(job.niceness);
const send = (message: FromWorker) => port.postMessage(message);

/** Chunks as the main thread sends them, as an async iterable for the reader. */
function chunks(): AsyncGenerator<Uint8Array> {
  return receiveChunks(port!, (bytes) => send({ type: 'consumed', bytes }));
}

async function run(): Promise<void> {
  const profiler = new QualityProfiler({
    task: job.task,
    schema: job.schema,
    thresholds: job.thresholds,
    reference: job.reference,
    detectPersonalData: findPersonalData,
    maskValue,
  });
  const errors: RowError[] = [];
  let totalErrors = 0;
  let validRows = 0;
  const recordError = (error: RowError) => {
    totalErrors += 1;
    if (errors.length < job.maxReportedErrors) {
      errors.push(error);
    }
    profiler.addError(error);
  };
  const reader = readDatasetBatches(chunks(), {
    format: job.format ?? 'auto',
    compression: 'auto',
    maxLineBytes: job.maxLineBytes,
    maxInflatedBytes: job.maxInflatedBytes,
  });
  const validator = new RowValidator(job.task, job.schema);
  const valid: ParsedRow[] = [];
  for (;;) {
    const next = await reader.next();
    if (next.done) {
      send({
        type: 'done',
        outcome: {
          summary: next.value,
          report: profiler.finish(),
          referenceProfile: profiler.exportReference(),
          errors,
          totalErrors,
          validRows,
        },
      });
      return;
    }
    valid.length = 0;
    for (const item of next.value) {
      if (item.kind === 'error') {
        recordError(item.error);
        continue;
      }
      const problem = validator.validate(item.row.record, item.row.line);
      if (problem) {
        recordError(problem);
      } else {
        valid.push(item.row);
      }
    }
    validRows += valid.length;
    profiler.addRows(valid);
  }
}

// The main thread terminates this worker once it has the final message.
run().catch((error: unknown) => {
  send({
    type: 'failed',
    readError:
      error instanceof DatasetReadError
        ? { code: error.code satisfies DatasetReadErrorCode, message: error.message }
        : undefined,
    message: error instanceof Error ? error.message : 'profiling failed',
  });
});
