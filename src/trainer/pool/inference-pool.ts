import { Worker } from 'node:worker_threads';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../platform/config/config.js';
import type {
  FromInferenceWorker,
  PredictionErrorCode,
  PredictionResult,
  PredictRequest,
  ToInferenceWorker,
} from '../inference/inference-protocol.js';

/** Where a model version's files come from on a cache miss: its manifest and its files, streamed. */
export interface ModelSource {
  manifest: Record<string, unknown>;
  files: Array<{ name: 'weights' | 'tokenizer'; size: number; open(): Promise<AsyncIterable<Uint8Array>> }>;
}

export interface PredictCall {
  versionId: string;
  task: PredictRequest['task'];
  inputs: PredictRequest['inputs'];
  generation: PredictRequest['generation'];
  /** Read only on a miss. */
  source: () => Promise<ModelSource>;
  /** Streamed generation text, per input. */
  onText?: (index: number, text: string) => void;
  /** Aborting (the client went away) stops a generation between tokens. */
  signal?: AbortSignal;
}

/** A prediction the worker could not make; `code` says why. */
export class PredictionFailedError extends Error {
  constructor(
    readonly code: PredictionErrorCode | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'PredictionFailedError';
  }
}

interface Pending {
  resolve: (result: PredictionResult) => void;
  reject: (error: Error) => void;
  onText?: (index: number, text: string) => void;
}

interface InferenceWorker {
  worker: Worker;
  ready: Promise<void>;
  pending: Map<number, Pending>;
  /** The latest source of each version this worker was asked for: read when it needs the files. */
  sources: Map<string, () => Promise<ModelSource>>;
}

/** Chunks posted to a worker: big enough to be few, small enough not to double a model in memory at once. */
const CHUNK_BYTES = 1 << 20;

/**
 * Inference worker threads on the trainer's backend selection. Each keeps its loaded models in an
 * LRU bounded by INFERENCE_CACHE_BYTES; requests for one version always go to the same worker, so
 * a model is loaded once per replica, not once per worker. Started on the first prediction.
 */
@Injectable()
export class InferencePool implements OnApplicationShutdown {
  private readonly logger = new Logger(InferencePool.name);
  private readonly workers: Array<InferenceWorker | null> = [];
  private nextRequest = 1;
  private stopping = false;
  private readonly holdWaiters: Array<(requestId: number) => void> = [];
  private readonly held: number[] = [];

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get enabled(): boolean {
    return this.config.inference.workers > 0 && !this.stopping;
  }

  async predict(call: PredictCall): Promise<PredictionResult> {
    if (!this.enabled) {
      throw new PredictionFailedError('unavailable', 'This replica runs no inference workers (INFERENCE_WORKERS=0)');
    }
    call.signal?.throwIfAborted();
    const slot = this.slotFor(call.versionId);
    const worker = this.workers[slot] ?? this.spawn(slot);
    await worker.ready;
    const requestId = this.nextRequest++;
    worker.sources.set(call.versionId, call.source);
    return new Promise<PredictionResult>((resolve, reject) => {
      const onAbort = () => worker.worker.postMessage({ type: 'cancel', requestId } satisfies ToInferenceWorker);
      call.signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => call.signal?.removeEventListener('abort', onAbort);
      worker.pending.set(requestId, {
        resolve: (result) => {
          done();
          resolve(result);
        },
        reject: (error) => {
          done();
          reject(error);
        },
        onText: call.onText,
      });
      worker.worker.postMessage({
        type: 'predict',
        requestId,
        versionId: call.versionId,
        task: call.task,
        inputs: call.inputs,
        generation: call.generation,
        stream: call.onText !== undefined,
      } satisfies ToInferenceWorker);
    });
  }

  /** Tests (INFERENCE_HOLD_AT_TOKENS): resolves with the id of the next generation that waits at a hold. */
  nextHold(): Promise<number> {
    const waiting = this.held.shift();
    if (waiting !== undefined) {
      return Promise.resolve(waiting);
    }
    return new Promise((resolve) => this.holdWaiters.push(resolve));
  }

  /** Tests: lets a held generation go on. */
  release(requestId: number): void {
    for (const worker of this.workers) {
      if (worker?.pending.has(requestId)) {
        worker.worker.postMessage({ type: 'release', requestId } satisfies ToInferenceWorker);
      }
    }
  }

  private slotFor(versionId: string): number {
    let hash = 0;
    for (let index = 0; index < versionId.length; index += 1) {
      hash = (Math.imul(hash, 31) + versionId.charCodeAt(index)) >>> 0;
    }
    return hash % this.config.inference.workers;
  }

  private spawn(slot: number): InferenceWorker {
    const worker = new Worker(new URL('../inference/inference-worker.js', import.meta.url), {
      env: { ...process.env, TF_FORCE_GPU_ALLOW_GROWTH: 'true', TF_CPP_MIN_LOG_LEVEL: '2' },
    });
    const entry: InferenceWorker = {
      worker,
      pending: new Map(),
      sources: new Map(),
      ready: new Promise<void>((resolve, reject) => {
        const onReady = (message: FromInferenceWorker) => {
          if (message.type === 'ready') {
            worker.off('message', onReady);
            this.logger.log(`Inference worker ${slot} ready on the ${message.backend} backend`);
            resolve();
          } else if (message.type === 'init-failed') {
            worker.off('message', onReady);
            reject(
              new PredictionFailedError(
                'unavailable',
                `No inference backend loads: ${message.tried.map((t) => `${t.backend}: ${t.error}`).join('; ')}`,
              ),
            );
          }
        };
        worker.on('message', onReady);
      }),
    };
    // A failed start is reported to the requests waiting on it; keep it from being an unhandled rejection.
    entry.ready.catch(() => undefined);
    this.workers[slot] = entry;
    worker.on('message', (message: FromInferenceWorker) => this.onMessage(entry, message));
    let lastError: Error | undefined;
    worker.on('error', (error) => {
      lastError = error;
    });
    worker.on('exit', (code) => {
      if (this.workers[slot] === entry) {
        this.workers[slot] = null;
      }
      const failure = new PredictionFailedError(
        'internal',
        `The inference worker stopped (exit code ${code})${lastError ? `: ${lastError.message}` : ''}`,
      );
      entry.pending.forEach((pending) => pending.reject(failure));
      entry.pending.clear();
      if (!this.stopping) {
        this.logger.warn(failure.message);
      }
    });
    worker.postMessage({
      type: 'init',
      backend: this.config.trainerBackend,
      cacheBytes: this.config.inference.cacheBytes,
      holdAtTokens: this.config.inference.holdAtTokens,
    } satisfies ToInferenceWorker);
    return entry;
  }

  private onMessage(entry: InferenceWorker, message: FromInferenceWorker): void {
    switch (message.type) {
      case 'ready':
      case 'init-failed':
        break;
      case 'need-files':
        void this.sendFiles(entry, message.versionId);
        break;
      case 'loaded':
        this.logger.debug(
          `Loaded model version ${message.versionId} (${message.sizeBytes} bytes)` +
            (message.evicted.length > 0 ? `; evicted ${message.evicted.join(', ')}` : ''),
        );
        break;
      case 'text':
        entry.pending.get(message.requestId)?.onText?.(message.index, message.text);
        break;
      case 'held': {
        const waiter = this.holdWaiters.shift();
        if (waiter) {
          waiter(message.requestId);
        } else {
          this.held.push(message.requestId);
        }
        break;
      }
      case 'result':
        entry.pending.get(message.requestId)?.resolve(message.result);
        entry.pending.delete(message.requestId);
        break;
      case 'error':
        entry.pending.get(message.requestId)?.reject(new PredictionFailedError(message.code, message.message));
        entry.pending.delete(message.requestId);
        break;
      default: {
        const unreachable: never = message;
        this.logger.warn(`unexpected inference worker message ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** Streams a version's files to the worker in chunks; the worker assembles and loads them. */
  private async sendFiles(entry: InferenceWorker, versionId: string): Promise<void> {
    const post = (message: ToInferenceWorker, transfer: ArrayBuffer[] = []) =>
      entry.worker.postMessage(message, transfer);
    try {
      const source = entry.sources.get(versionId);
      if (!source) {
        throw new Error(`no source for model version ${versionId}`);
      }
      const { manifest, files } = await source();
      post({ type: 'files-start', versionId, manifest, files: files.map(({ name, size }) => ({ name, size })) });
      for (const file of files) {
        for await (const piece of await file.open()) {
          for (let at = 0; at < piece.byteLength; at += CHUNK_BYTES) {
            // A copy the worker owns: stream chunks may share a pooled buffer.
            const chunk = new Uint8Array(piece.subarray(at, Math.min(piece.byteLength, at + CHUNK_BYTES)));
            post({ type: 'file-chunk', versionId, name: file.name, chunk }, [chunk.buffer]);
          }
        }
      }
      post({ type: 'files-end', versionId });
    } catch (error) {
      post({ type: 'files-failed', versionId, message: error instanceof Error ? error.message : String(error) });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.workers.map(async (entry) => {
        await entry?.worker.terminate();
      }),
    );
  }
}
