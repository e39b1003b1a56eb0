/**
 * A trainer worker thread: owns one tfjs backend and runs one job at a time. All tensor work of
 * the service happens here, never on the main thread that serves HTTP.
 */
import { parentPort } from 'node:worker_threads';
import { lowerThreadPriority } from '../../platform/thread-priority.js';
import { selectBackend, BackendUnavailableError } from './backend.js';
import type { FromWorker, StartTraining, ToWorker } from './protocol.js';
import { TrainingRun, type TrainerIo } from './train-loop.js';
import { EvaluationRun } from '../../evaluation/worker/evaluation-run.js';
import type { StartEvaluation } from '../../evaluation/worker/evaluation-protocol.js';
import { loadEvaluatedModel } from '../../evaluation/worker/evaluated-model.js';

const port = parentPort;
if (!port) {
  throw new Error('trainer-worker must run as a worker thread');
}
const send = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/** Transfer only buffers a file owns whole: a pooled Buffer shares its ArrayBuffer with others. */
function ownBuffers(files: Array<{ bytes: Uint8Array }>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const { bytes } of files) {
    if (bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) {
      buffers.add(bytes.buffer);
    }
  }
  return [...buffers];
}

let backendName = 'unknown';
let nextRequest = 1;
const pendingAcks = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
const pendingChunks = new Map<
  number,
  { resolve: (bytes: Uint8Array | null) => void; reject: (error: Error) => void }
>();

/** Waits for the main thread's answer to a request that carries `requestId`. */
function request(message: (requestId: number) => FromWorker): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const requestId = nextRequest++;
    pendingAcks.set(requestId, { resolve, reject });
    send(message(requestId));
  });
}

async function startEvaluation(start: StartEvaluation): Promise<void> {
  const control = new Int32Array(start.control);
  const outcome = await new EvaluationRun(start, {
    loadModel: (files) => loadEvaluatedModel(files, start.batchSize),
    pull: (stream) =>
      new Promise<Uint8Array | null>((resolve, reject) => {
        const requestId = nextRequest++;
        pendingChunks.set(requestId, { resolve, reject });
        send({ type: 'pull', requestId, stream });
      }),
    predictions: (text) => request((requestId) => ({ type: 'predictions', requestId, text })),
    progress: (rows) => send({ type: 'evaluation-progress', rows }),
    control: () => Atomics.load(control, 0),
    hold: (batches) => request((requestId) => ({ type: 'held', requestId, step: batches })),
  }).run();
  send({ type: 'evaluated', outcome });
}

async function startTraining(start: StartTraining): Promise<void> {
  const control = new Int32Array(start.control);
  const io: TrainerIo = {
    event: (level, kind, message, data) => send({ type: 'event', level, kind, message, data }),
    metrics: (step, epoch, split, values) => send({ type: 'metrics', step, epoch, split, values }),
    progress: (step, totalSteps, epoch) => send({ type: 'progress', step, totalSteps, epoch }),
    checkpoint: (checkpoint) =>
      new Promise<void>((resolve, reject) => {
        const requestId = nextRequest++;
        pendingAcks.set(requestId, { resolve, reject });
        send({ type: 'checkpoint', requestId, ...checkpoint }, ownBuffers(checkpoint.files));
      }),
    control: () => Atomics.load(control, 0),
    hold: (step) =>
      new Promise<void>((resolve, reject) => {
        const requestId = nextRequest++;
        pendingAcks.set(requestId, { resolve, reject });
        send({ type: 'held', requestId, step });
      }),
  };
  const outcome = await new TrainingRun(start, io, backendName).run();
  const transfer = outcome.status === 'succeeded' ? ownBuffers(outcome.result.files) : [];
  send({ type: 'done', outcome }, transfer);
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'init':
      // Training keeps a core busy for as long as it runs: below the main thread, which answers HTTP.
      lowerThreadPriority(message.niceness);
      selectBackend(message.backend).then(
        (choice) => {
          backendName = choice.backend;
          send({ type: 'ready', backend: choice.backend, devices: choice.devices, tried: choice.tried });
        },
        (error: unknown) =>
          send({ type: 'init-failed', tried: error instanceof BackendUnavailableError ? error.tried : [] }),
      );
      break;
    case 'start':
      startTraining(message).catch((error: unknown) => {
        const text = error instanceof Error ? error.message : String(error);
        send({ type: 'done', outcome: { status: 'failed', code: 'training_error', message: text } });
      });
      break;
    case 'evaluate':
      startEvaluation(message).catch((error: unknown) => {
        const text = error instanceof Error ? error.message : String(error);
        send({ type: 'evaluated', outcome: { status: 'failed', code: 'evaluation_error', message: text } });
      });
      break;
    case 'chunk': {
      const pending = pendingChunks.get(message.requestId);
      pendingChunks.delete(message.requestId);
      if (message.error) {
        pending?.reject(new Error(`The input could not be read: ${message.error}`));
      } else {
        pending?.resolve(message.bytes);
      }
      break;
    }
    case 'release':
      pendingAcks.get(message.requestId)?.resolve();
      pendingAcks.delete(message.requestId);
      break;
    case 'ack': {
      const pending = pendingAcks.get(message.requestId);
      pendingAcks.delete(message.requestId);
      if (message.error) {
        pending?.reject(new Error(`The main thread could not store the output: ${message.error}`));
      } else {
        pending?.resolve();
      }
      break;
    }
    default: {
      const unreachable: never = message;
      throw new Error(`unknown message ${JSON.stringify(unreachable)}`);
    }
  }
});
