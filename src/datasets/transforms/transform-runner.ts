import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../platform/config/config.js';
import { assertUnreachable } from '../../platform/errors/error-codes.js';
import type { DatasetFormat, DatasetSchema, DatasetTask } from '../dataset-types.js';
import type { FromTransformWorker, ToTransformWorker, TransformFailure, TransformJob } from './transform-protocol.js';
import type { TransformOp, TransformOutputName, TransformResult, TransformStep } from './transform-types.js';

/** Bytes sent to the worker and not yet read by it. */
const WORKER_WINDOW = 8 * 1024 * 1024;

export interface TransformRunRequest {
  /** The parent version's stored bytes. */
  source: Readable;
  format: DatasetFormat;
  compression: 'gzip' | 'none';
  steps: TransformStep[];
  task: DatasetTask;
  schema: DatasetSchema;
}

export interface TransformRunOutput {
  name: TransformOutputName;
  rows: number;
  bytes: number;
  /** The output as JSON Lines, from local disk. */
  open(): Readable;
}

export interface TransformRun {
  outputs: TransformRunOutput[];
  report: TransformResult['report'];
  statistics: TransformResult['statistics'];
  /** Removes the output files; call once they are stored. */
  dispose(): Promise<void>;
}

/** A transform that the worker refused or could not finish; nothing of it is kept. */
export class TransformRunError extends Error {
  constructor(readonly failure: TransformFailure | { kind: 'memory'; maximum: number }) {
    super(
      failure.kind === 'spec'
        ? failure.reason
        : failure.kind === 'limit'
          ? `step ${failure.step} (${failure.op}) would write more than ${failure.maximum} ${failure.limit}`
          : failure.kind === 'memory'
            ? `the transform needed more than ${failure.maximum} bytes of memory`
            : failure.message,
    );
    this.name = 'TransformRunError';
  }
}

export interface TransformHooks {
  /**
   * Awaited before each step starts, while the worker waits for it: lets a caller (a test) hold a
   * transform at a step and look at the service meanwhile.
   */
  beforeStep?: (step: number, info: { op: TransformOp; threadId: number }) => Promise<void>;
}

/**
 * Runs transforms in worker threads, one per transform: this thread only streams the parent's
 * bytes to the worker, and the worker's outputs from local disk to storage. Spools and outputs
 * live in DATA_DIR/tmp/transforms/<run>, removed when the run ends either way.
 */
@Injectable()
export class TransformRunner {
  readonly hooks: TransformHooks = {};

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async run(request: TransformRunRequest): Promise<TransformRun> {
    const directory = path.join(this.config.dataDir, 'tmp', 'transforms', randomUUID());
    await mkdir(directory, { recursive: true });
    const dispose = () => rm(directory, { recursive: true, force: true });
    const limits = this.config.transforms;
    const hold = this.hooks.beforeStep ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
    const job: TransformJob = {
      steps: request.steps,
      task: request.task,
      schema: request.schema,
      format: request.format,
      compression: request.compression,
      directory,
      limits: { rows: limits.maxOutputRows, bytes: limits.maxOutputBytes },
      hold,
      niceness: this.config.workerThreadNiceness,
    };
    const worker = new Worker(new URL('./transform-worker.js', import.meta.url), {
      workerData: job,
      resourceLimits: { maxOldGenerationSizeMb: Math.max(64, Math.floor(limits.workerMemoryBytes / 1024 ** 2)) },
    });
    let inFlight = 0;
    let released: (() => void) | undefined;
    let settled = false;
    const release = () => {
      released?.();
      released = undefined;
    };
    const outcome = new Promise<Extract<FromTransformWorker, { type: 'done' }>>((resolve, reject) => {
      worker.on('message', (message: FromTransformWorker) => {
        switch (message.type) {
          case 'consumed':
            inFlight -= message.bytes;
            if (inFlight <= WORKER_WINDOW) {
              release();
            }
            return;
          case 'step':
            void this.atStep(message.step, message.op, message.threadId, hold);
            return;
          case 'done':
            settled = true;
            resolve(message);
            return;
          case 'failed':
            settled = true;
            reject(new TransformRunError(message.failure));
            return;
          default:
            assertUnreachable(message);
        }
      });
      worker.on('error', (error: Error & { code?: string }) => {
        settled = true;
        reject(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new TransformRunError({ kind: 'memory', maximum: limits.workerMemoryBytes })
            : error,
        );
      });
      worker.on('exit', (code) => {
        if (!settled) {
          settled = true;
          reject(new Error(`the transform worker exited (code ${code}) before finishing`));
        }
        release();
      });
    });
    outcome.catch(() => undefined);

    const pump = (async () => {
      for await (const chunk of request.source as AsyncIterable<Uint8Array>) {
        if (settled) {
          break;
        }
        const copy = new Uint8Array(chunk);
        inFlight += copy.byteLength;
        worker.postMessage({ type: 'chunk', chunk: copy } satisfies ToTransformWorker, [copy.buffer]);
        if (inFlight > WORKER_WINDOW && !settled) {
          await new Promise<void>((resolve) => {
            released = resolve;
          });
        }
      }
      if (!settled) {
        worker.postMessage({ type: 'end' } satisfies ToTransformWorker);
      }
    })();
    // A pump cut short by the worker's failure is not an error of its own.
    pump.catch(() => undefined);

    try {
      const [, done] = await Promise.all([pump, outcome]);
      return {
        outputs: done.outputs.map((output) => ({
          name: output.name,
          rows: output.rows,
          bytes: output.bytes,
          open: () => createReadStream(output.path, { highWaterMark: 1 << 20 }),
        })),
        report: done.report,
        statistics: done.statistics,
        dispose,
      };
    } catch (error) {
      request.source.destroy();
      await dispose();
      throw error;
    } finally {
      await worker.terminate();
    }
  }

  private async atStep(step: number, op: TransformOp, threadId: number, hold: Int32Array | undefined): Promise<void> {
    if (!hold) {
      return;
    }
    try {
      await this.hooks.beforeStep?.(step, { op, threadId });
    } finally {
      Atomics.store(hold, 0, 1);
      Atomics.notify(hold, 0);
    }
  }
}
