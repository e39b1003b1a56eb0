/**
 * Worker thread that runs a dataset transform: it reads the parent version's bytes as the main
 * thread streams them from storage, spools the rows to local disk, runs the steps spool to spool,
 * and leaves the outputs as JSON Lines files for the main thread to store. The event loop that
 * serves HTTP never runs a step.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import type { RowError } from '../dataset-types.js';
import { DatasetReadError, readDatasetBatches, STORED_FILE_LIMITS } from '../parsing/dataset-reader.js';
import { lowerThreadPriority } from '../../platform/thread-priority.js';
import { redactPersonalData } from '../privacy/personal-data.js';
import { FileSpoolFactory, type FileSpool } from './row-spool.js';
import { runTransforms } from './transform-engine.js';
import type { FromTransformWorker, TransformJob } from './transform-protocol.js';
import { TransformError, TransformLimitError } from './transform-types.js';
import { receiveChunks } from '../worker-chunks.js';

const port = parentPort;
if (!port) {
  throw new Error('transform-worker must run as a worker thread');
}
const job = workerData as TransformJob;
// Transform steps are CPU-bound: below the main thread, which answers HTTP.
lowerThreadPriority(job.niceness);
const send = (message: FromTransformWorker) => port.postMessage(message);

/** Unreadable lines listed in drop_invalid's report; the rest are counted. */
const MAX_REPORTED_UNREADABLE = 100;

function chunks(): AsyncGenerator<Uint8Array> {
  return receiveChunks(port!, (bytes) => send({ type: 'consumed', bytes }));
}

/** A growable array of line numbers, four bytes a row. */
class Lines {
  private data = new Uint32Array(1024);
  length = 0;

  push(line: number): void {
    if (this.length === this.data.length) {
      const larger = new Uint32Array(this.data.length * 2);
      larger.set(this.data);
      this.data = larger;
    }
    this.data[this.length] = line;
    this.length += 1;
  }

  at(index: number): number | undefined {
    return index < this.length ? this.data[index] : undefined;
  }
}

async function run(): Promise<void> {
  const spools = new FileSpoolFactory(job.directory);
  const input = spools.create();
  const lines = new Lines();
  const unreadable: { count: number; errors: RowError[] } = { count: 0, errors: [] };
  let source = 0;
  for await (const batch of readDatasetBatches(chunks(), {
    format: job.format,
    compression: job.compression,
    ...STORED_FILE_LIMITS,
  })) {
    for (const item of batch) {
      if (item.kind === 'error') {
        unreadable.count += 1;
        if (unreadable.errors.length < MAX_REPORTED_UNREADABLE) {
          unreadable.errors.push(item.error);
        }
        continue;
      }
      input.write({ record: item.row.record, source, synthetic: false });
      lines.push(item.row.line);
      source += 1;
    }
  }
  const parent = input.finish();
  const result = runTransforms(
    parent,
    job.steps,
    {
      task: job.task,
      schema: job.schema,
      redact: redactPersonalData,
      lineOf: (row) => lines.at(row),
      unreadable,
    },
    {
      spools,
      limits: job.limits,
      beforeStep: (step, spec) => {
        send({ type: 'step', step, op: spec.op, threadId });
        if (job.hold) {
          Atomics.wait(job.hold, 0, 0);
          Atomics.store(job.hold, 0, 0);
        }
      },
    },
  );
  parent.release();
  send({
    type: 'done',
    outputs: result.outputs.map((output) => ({
      name: output.name,
      path: (output.spool as FileSpool).path,
      rows: output.spool.count,
      bytes: output.spool.bytes,
    })),
    report: result.report,
    statistics: result.statistics,
  });
}

// The main thread terminates this worker once it has the final message, and removes its folder.
run().catch((error: unknown) => {
  if (error instanceof TransformError) {
    send({
      type: 'failed',
      failure: { kind: 'spec', step: error.step, op: error.op, reason: error.reason, rows: error.rows },
    });
  } else if (error instanceof TransformLimitError) {
    send({
      type: 'failed',
      failure: {
        kind: 'limit',
        step: error.step,
        op: error.op,
        limit: error.limit,
        maximum: error.maximum,
      },
    });
  } else if (error instanceof DatasetReadError) {
    send({ type: 'failed', failure: { kind: 'read', code: error.code, message: error.message } });
  } else {
    send({
      type: 'failed',
      failure: { kind: 'internal', message: error instanceof Error ? error.message : 'transform failed' },
    });
  }
});
