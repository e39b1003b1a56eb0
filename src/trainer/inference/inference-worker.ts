/**
 * An inference worker thread: owns one tfjs backend and the loaded models it keeps in an LRU
 * bounded by bytes. Requests interleave: a generation yields between tokens, so a long one does
 * not hold up a short classification on the same worker. Models arrive as byte chunks from the
 * main thread, which reads them from the artifact store on a miss.
 */
import { parentPort } from 'node:worker_threads';
import { BackendUnavailableError, selectBackend } from '../runtime/backend.js';
import { generate, type GenerationResult } from './generation.js';
import type { FromInferenceWorker, PredictRequest, PredictionResult, ToInferenceWorker } from './inference-protocol.js';
import { LoadedModel, ModelLoadError } from './loaded-model.js';
import { ModelCache } from './model-cache.js';

const port = parentPort;
if (!port) {
  throw new Error('inference-worker must run as a worker thread');
}
const send = (message: FromInferenceWorker) => port.postMessage(message);

class Cancelled extends Error {}

interface Incoming {
  manifest: Record<string, unknown>;
  buffers: Map<string, { bytes: Uint8Array; filled: number }>;
  waiting: Array<{ resolve: (model: LoadedModel) => void; reject: (error: Error) => void }>;
}

let cache = new ModelCache<LoadedModel>(0);
let holdAtTokens = new Set<number>();
const incoming = new Map<string, Incoming>();
const cancelled = new Set<number>();
const releases = new Map<number, () => void>();
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The cached model, or one loaded from files the main thread is asked for. Concurrent misses share a load. */
function model(versionId: string): Promise<LoadedModel> {
  const cached = cache.get(versionId);
  if (cached) {
    return Promise.resolve(cached);
  }
  return new Promise((resolve, reject) => {
    const pending = incoming.get(versionId);
    if (pending) {
      pending.waiting.push({ resolve, reject });
      return;
    }
    incoming.set(versionId, { manifest: {}, buffers: new Map(), waiting: [{ resolve, reject }] });
    send({ type: 'need-files', versionId });
  });
}

function finishLoad(versionId: string, load: () => LoadedModel): void {
  const pending = incoming.get(versionId);
  incoming.delete(versionId);
  if (!pending) {
    return;
  }
  try {
    const loaded = load();
    const evicted = cache.set(versionId, loaded);
    send({ type: 'loaded', versionId, sizeBytes: loaded.sizeBytes, evicted });
    pending.waiting.forEach((waiter) => waiter.resolve(loaded));
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    pending.waiting.forEach((waiter) => waiter.reject(failure));
  }
}

async function predict(request: PredictRequest): Promise<PredictionResult> {
  const loaded = await model(request.versionId);
  switch (request.task) {
    case 'classify': {
      const predictions = loaded.classify(request.inputs).map(({ label, probabilities }) => ({ label, probabilities }));
      return { task: 'classify', labels: loaded.labels ?? [], predictions };
    }
    case 'regress':
      return { task: 'regress', values: loaded.regress(request.inputs) };
    case 'generate': {
      const generations: GenerationResult[] = [];
      for (let index = 0; index < request.inputs.length; index += 1) {
        const result = await generate(loaded, request.inputs[index], request.generation!, {
          onText: (text) => {
            if (request.stream) {
              send({ type: 'text', requestId: request.requestId, index, text });
            }
          },
          beforeToken: async (generated) => {
            if (holdAtTokens.has(generated) && index === 0) {
              await new Promise<void>((resolve) => {
                releases.set(request.requestId, resolve);
                send({ type: 'held', requestId: request.requestId, tokens: generated });
              });
            }
            // Let other requests and a cancel in between tokens.
            await nextTurn();
            if (cancelled.has(request.requestId)) {
              throw new Cancelled('cancelled');
            }
          },
        });
        generations.push(result);
      }
      return { task: 'generate', generations };
    }
    default: {
      const unreachable: never = request.task;
      throw new Error(`unknown task ${String(unreachable)}`);
    }
  }
}

function run(request: PredictRequest): void {
  predict(request).then(
    (result) => {
      cancelled.delete(request.requestId);
      send({ type: 'result', requestId: request.requestId, result });
    },
    (error: unknown) => {
      cancelled.delete(request.requestId);
      const message = error instanceof Error ? error.message : String(error);
      const code =
        error instanceof ModelLoadError ? 'model_unloadable' : error instanceof Cancelled ? 'cancelled' : 'internal';
      send({ type: 'error', requestId: request.requestId, code, message });
    },
  );
}

port.on('message', (message: ToInferenceWorker) => {
  switch (message.type) {
    case 'init':
      cache = new ModelCache<LoadedModel>(message.cacheBytes);
      holdAtTokens = new Set(message.holdAtTokens);
      selectBackend(message.backend).then(
        (choice) => send({ type: 'ready', backend: choice.backend, devices: choice.devices, tried: choice.tried }),
        (error: unknown) =>
          send({ type: 'init-failed', tried: error instanceof BackendUnavailableError ? error.tried : [] }),
      );
      break;
    case 'predict':
      run(message);
      break;
    case 'cancel':
      cancelled.add(message.requestId);
      releases.get(message.requestId)?.();
      releases.delete(message.requestId);
      break;
    case 'release':
      releases.get(message.requestId)?.();
      releases.delete(message.requestId);
      break;
    case 'files-start': {
      const pending = incoming.get(message.versionId);
      if (pending) {
        // Room first, so the bound holds while the new model's bytes are in memory.
        cache.makeRoom(message.files.reduce((sum, file) => sum + file.size, 0));
        pending.manifest = message.manifest;
        for (const file of message.files) {
          pending.buffers.set(file.name, { bytes: new Uint8Array(file.size), filled: 0 });
        }
      }
      break;
    }
    case 'file-chunk': {
      const buffer = incoming.get(message.versionId)?.buffers.get(message.name);
      if (buffer) {
        if (buffer.filled + message.chunk.byteLength > buffer.bytes.byteLength) {
          finishLoad(message.versionId, () => {
            throw new ModelLoadError(`${message.name} is larger than the version records`);
          });
        } else {
          buffer.bytes.set(message.chunk, buffer.filled);
          buffer.filled += message.chunk.byteLength;
        }
      }
      break;
    }
    case 'files-end': {
      const pending = incoming.get(message.versionId);
      if (pending) {
        finishLoad(message.versionId, () => {
          const weights = pending.buffers.get('weights');
          const tokenizer = pending.buffers.get('tokenizer');
          if (!weights || weights.filled !== weights.bytes.byteLength) {
            throw new ModelLoadError('the weights file is shorter than the version records');
          }
          return LoadedModel.fromFiles({
            manifest: pending.manifest,
            weights: weights.bytes,
            tokenizer: tokenizer ? new TextDecoder().decode(tokenizer.bytes.subarray(0, tokenizer.filled)) : null,
          });
        });
      }
      break;
    }
    case 'files-failed':
      finishLoad(message.versionId, () => {
        throw new ModelLoadError(message.message);
      });
      break;
    default: {
      const unreachable: never = message;
      throw new Error(`unknown message ${JSON.stringify(unreachable)}`);
    }
  }
});
