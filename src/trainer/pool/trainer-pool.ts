import { execFile } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../platform/config/config.js';
import type { EvaluationOutcome, StartEvaluation } from '../../evaluation/worker/evaluation-protocol.js';
import type {
  BackendName,
  FromWorker,
  StartTraining,
  ToWorker,
  TrainingOutcome,
  WorkerCheckpoint,
  WorkerEvent,
  WorkerMetrics,
} from '../runtime/protocol.js';

export interface TrainerStatus {
  backend: BackendName | null;
  devices: string[];
  /** Backends tried before the chosen one, with why each failed. */
  unavailable: Array<{ backend: BackendName; error: string }>;
  slots: number;
  busySlots: number;
  gpus: string[];
}

/** What a running job hears from its worker. */
export interface TrainingHandlers {
  onEvent(event: WorkerEvent): void;
  onMetrics(metrics: WorkerMetrics): void;
  onProgress(step: number, totalSteps: number, epoch: number): void;
  /** Store the checkpoint; the worker continues once this resolves (throwing makes the worker fail the job). */
  onCheckpoint(checkpoint: WorkerCheckpoint): Promise<void>;
  /** The worker waits at `step` (a hold the job asked for) until this resolves. */
  onHeld(step: number): Promise<void>;
}

/** What a running evaluation hears from its worker. */
export interface EvaluationHandlers {
  /** The next chunk of an input stream; null at its end. */
  onPull(stream: 'training' | 'evaluation'): Promise<Uint8Array | null>;
  /** Append prediction lines; the worker continues once this resolves. */
  onPredictions(text: string): Promise<void>;
  onProgress(rows: number): void;
  /** The worker waits after `batches` batches (a hold the evaluation asked for) until this resolves. */
  onHeld(batches: number): Promise<void>;
}

/** The worker thread died (crash, out of memory, terminated) while it held a job. */
export class WorkerCrashedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerCrashedError';
  }
}

interface Slot {
  index: number;
  worker: Worker | null;
  ready: Promise<void> | null;
  jobId: string | null;
}

/** Lists NVIDIA GPUs with `nvidia-smi -L`; none when the tool is missing or fails. */
function detectGpus(): Promise<string[]> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['-L'], { timeout: 3000 }, (error, stdout) => {
      resolve(error ? [] : stdout.split('\n').filter((line) => line.startsWith('GPU ')));
    });
  });
}

/**
 * The in-process trainer pool: worker threads, each owning one tfjs backend and running one job at
 * a time. The first worker decides the backend (best that loads), the others are forced to the
 * same one so every slot behaves alike. A worker that dies is replaced before its slot is reused.
 */
@Injectable()
export class TrainerPool implements OnApplicationShutdown {
  private readonly logger = new Logger(TrainerPool.name);
  private slots: Slot[] = [];
  private backend: BackendName | null = null;
  private devices: string[] = [];
  private unavailable: TrainerStatus['unavailable'] = [];
  private gpus: string[] = [];
  private started: Promise<void> | null = null;
  private stopping = false;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Starts the workers; resolves once the backend is known. Idempotent. */
  start(): Promise<void> {
    this.started ??= this.startWorkers();
    return this.started;
  }

  private async startWorkers(): Promise<void> {
    if (this.config.trainerSlots === 0) {
      return;
    }
    this.gpus = await detectGpus();
    const first: Slot = { index: 0, worker: null, ready: null, jobId: null };
    this.slots = [first];
    await this.spawn(first, this.config.trainerBackend);
    const count = this.config.trainerSlots ?? (this.backend === 'tensorflow-gpu' ? Math.max(1, this.gpus.length) : 1);
    for (let index = 1; index < count; index += 1) {
      const slot: Slot = { index, worker: null, ready: null, jobId: null };
      this.slots.push(slot);
      await this.spawn(slot, this.backend ?? this.config.trainerBackend);
    }
    this.logger.log(
      `Trainer pool: ${this.slots.length} slot(s) on the ${this.backend} backend` +
        (this.unavailable.length > 0 ? ` (unavailable: ${this.unavailable.map((u) => u.backend).join(', ')})` : ''),
    );
  }

  private spawn(slot: Slot, backend: AppConfig['trainerBackend']): Promise<void> {
    const worker = new Worker(new URL('../runtime/trainer-worker.js', import.meta.url), {
      // GPU memory is shared by the slots' workers: grow on demand instead of each taking all of it.
      env: { ...process.env, TF_FORCE_GPU_ALLOW_GROWTH: 'true', TF_CPP_MIN_LOG_LEVEL: '2' },
    });
    slot.worker = worker;
    slot.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: FromWorker) => {
        if (message.type === 'ready') {
          worker.off('message', onMessage);
          if (slot.index === 0 || this.backend === null) {
            this.backend = message.backend;
            this.devices = message.devices;
            this.unavailable = message.tried;
          }
          resolve();
        } else if (message.type === 'init-failed') {
          worker.off('message', onMessage);
          reject(
            new Error(`No trainer backend loads: ${message.tried.map((t) => `${t.backend}: ${t.error}`).join('; ')}`),
          );
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
    worker.on('exit', (code) => {
      if (slot.worker === worker) {
        slot.worker = null;
        slot.ready = null;
        if (!this.stopping && slot.jobId === null) {
          this.logger.warn(`Trainer worker ${slot.index} exited (code ${code}); it is restarted when next needed`);
        }
      }
    });
    worker.postMessage({ type: 'init', backend, niceness: this.config.workerThreadNiceness } satisfies ToWorker);
    return slot.ready;
  }

  status(): TrainerStatus {
    return {
      backend: this.backend,
      devices: this.devices,
      unavailable: this.unavailable,
      slots: this.slots.length,
      busySlots: this.slots.filter((slot) => slot.jobId !== null).length,
      gpus: this.gpus,
    };
  }

  freeSlots(): number {
    return this.stopping ? 0 : this.slots.filter((slot) => slot.jobId === null).length;
  }

  /** Reserves a free slot for `jobId`; false when every slot is busy. */
  reserve(jobId: string): boolean {
    const slot = this.stopping ? undefined : this.slots.find((candidate) => candidate.jobId === null);
    if (!slot) {
      return false;
    }
    slot.jobId = jobId;
    return true;
  }

  /**
   * Hands a reserved slot from one key to another. Runners reserve a slot under a placeholder
   * before they claim work, so that jobs and evaluations never claim more work than there are slots.
   */
  transferReservation(from: string, to: string): void {
    const slot = this.slots.find((candidate) => candidate.jobId === from);
    if (!slot) {
      throw new Error(`no trainer slot is reserved for ${from}`);
    }
    slot.jobId = to;
  }

  release(jobId: string): void {
    const slot = this.slots.find((candidate) => candidate.jobId === jobId);
    if (slot) {
      slot.jobId = null;
    }
  }

  /**
   * Runs a job on its reserved slot. Resolves with the worker's outcome; rejects with
   * WorkerCrashedError when the worker dies, after which the slot gets a fresh worker.
   */
  async run(start: StartTraining, handlers: TrainingHandlers): Promise<TrainingOutcome> {
    const slot = this.slots.find((candidate) => candidate.jobId === start.jobId);
    if (!slot) {
      throw new Error(`job ${start.jobId} has no reserved trainer slot`);
    }
    if (!slot.worker) {
      await this.spawn(slot, this.backend ?? this.config.trainerBackend);
    }
    await slot.ready;
    const worker = slot.worker!;
    return new Promise<TrainingOutcome>((resolve, reject) => {
      let settled = false;
      const finish = (action: () => void) => {
        if (!settled) {
          settled = true;
          worker.off('message', onMessage);
          worker.off('exit', onExit);
          worker.off('error', onError);
          action();
        }
      };
      const onMessage = (message: FromWorker) => {
        switch (message.type) {
          case 'event':
            handlers.onEvent(message);
            break;
          case 'metrics':
            handlers.onMetrics(message);
            break;
          case 'progress':
            handlers.onProgress(message.step, message.totalSteps, message.epoch);
            break;
          case 'checkpoint':
            handlers.onCheckpoint(message).then(
              () => worker.postMessage({ type: 'ack', requestId: message.requestId } satisfies ToWorker),
              (error: unknown) =>
                worker.postMessage({
                  type: 'ack',
                  requestId: message.requestId,
                  error: error instanceof Error ? error.message : String(error),
                } satisfies ToWorker),
            );
            break;
          case 'held':
            handlers.onHeld(message.step).then(
              () => worker.postMessage({ type: 'release', requestId: message.requestId } satisfies ToWorker),
              (error: unknown) => {
                this.logger.warn(`Releasing a held job failed: ${String(error)}`);
                worker.postMessage({ type: 'release', requestId: message.requestId } satisfies ToWorker);
              },
            );
            break;
          case 'done':
            finish(() => resolve(message.outcome));
            break;
          case 'ready':
          case 'init-failed':
          case 'pull':
          case 'predictions':
          case 'evaluation-progress':
          case 'evaluated':
            break;
          default: {
            const unreachable: never = message;
            this.logger.warn(`unexpected worker message ${JSON.stringify(unreachable)}`);
          }
        }
      };
      let lastError: Error | undefined;
      const onError = (error: Error) => {
        lastError = error;
      };
      const onExit = (code: number) =>
        finish(() =>
          reject(
            new WorkerCrashedError(
              `The trainer worker stopped (exit code ${code})${lastError ? `: ${lastError.message}` : ''}`,
            ),
          ),
        );
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(start satisfies ToWorker);
    });
  }

  /**
   * Runs an evaluation on its reserved slot (reserved under the evaluation's id). Resolves with the
   * worker's outcome; rejects with WorkerCrashedError when the worker dies.
   */
  async evaluate(start: StartEvaluation, handlers: EvaluationHandlers): Promise<EvaluationOutcome> {
    const slot = this.slots.find((candidate) => candidate.jobId === start.evaluationId);
    if (!slot) {
      throw new Error(`evaluation ${start.evaluationId} has no reserved trainer slot`);
    }
    if (!slot.worker) {
      await this.spawn(slot, this.backend ?? this.config.trainerBackend);
    }
    await slot.ready;
    const worker = slot.worker!;
    const answer = (requestId: number, work: Promise<void>, reply: 'ack' | 'release') =>
      work.then(
        () => worker.postMessage({ type: reply, requestId } satisfies ToWorker),
        (error: unknown) =>
          worker.postMessage(
            reply === 'ack'
              ? { type: 'ack', requestId, error: error instanceof Error ? error.message : String(error) }
              : { type: 'release', requestId },
          ),
      );
    return new Promise<EvaluationOutcome>((resolve, reject) => {
      let settled = false;
      const finish = (action: () => void) => {
        if (!settled) {
          settled = true;
          worker.off('message', onMessage);
          worker.off('exit', onExit);
          worker.off('error', onError);
          action();
        }
      };
      const onMessage = (message: FromWorker) => {
        switch (message.type) {
          case 'pull':
            handlers.onPull(message.stream).then(
              (bytes) =>
                worker.postMessage(
                  { type: 'chunk', requestId: message.requestId, bytes } satisfies ToWorker,
                  bytes &&
                    bytes.byteOffset === 0 &&
                    bytes.byteLength === bytes.buffer.byteLength &&
                    bytes.buffer instanceof ArrayBuffer
                    ? [bytes.buffer]
                    : [],
                ),
              (error: unknown) =>
                worker.postMessage({
                  type: 'chunk',
                  requestId: message.requestId,
                  bytes: null,
                  error: error instanceof Error ? error.message : String(error),
                } satisfies ToWorker),
            );
            break;
          case 'predictions':
            void answer(message.requestId, handlers.onPredictions(message.text), 'ack');
            break;
          case 'evaluation-progress':
            handlers.onProgress(message.rows);
            break;
          case 'held':
            void answer(message.requestId, handlers.onHeld(message.step), 'release');
            break;
          case 'evaluated':
            finish(() => resolve(message.outcome));
            break;
          case 'event':
          case 'metrics':
          case 'progress':
          case 'checkpoint':
          case 'done':
          case 'ready':
          case 'init-failed':
            break;
          default: {
            const unreachable: never = message;
            this.logger.warn(`unexpected worker message ${JSON.stringify(unreachable)}`);
          }
        }
      };
      let lastError: Error | undefined;
      const onError = (error: Error) => {
        lastError = error;
      };
      const onExit = (code: number) =>
        finish(() =>
          reject(
            new WorkerCrashedError(
              `The trainer worker stopped (exit code ${code})${lastError ? `: ${lastError.message}` : ''}`,
            ),
          ),
        );
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(start satisfies ToWorker);
    });
  }

  /** Stops the worker running `jobId` at once (lease lost, hard stop); its run() rejects. */
  async terminate(jobId: string): Promise<void> {
    const slot = this.slots.find((candidate) => candidate.jobId === jobId);
    await slot?.worker?.terminate();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        await slot.worker?.terminate();
      }),
    );
  }
}
