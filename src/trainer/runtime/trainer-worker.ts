/**
 * A trainer worker thread: owns one tfjs backend and runs one job at a time. All tensor work of
 * the service happens here, never on the main thread that serves HTTP.
 */
import { parentPort } from 'node:worker_threads';
import { lowerThreadPriority } from '../../platform/thread-priority.js';
import { selectBackend, BackendUnavailableError } from './backend.js';
import type { FromWorker, StartTraining, ToWorker } from './protocol.js';
import { TrainingRun, type TrainerIo } from './train-loop.js';

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
    case 'release':
      pendingAcks.get(message.requestId)?.resolve();
      pendingAcks.delete(message.requestId);
      break;
    case 'ack': {
      const pending = pendingAcks.get(message.requestId);
      pendingAcks.delete(message.requestId);
      if (message.error) {
        pending?.reject(new Error(`The checkpoint could not be stored: ${message.error}`));
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
