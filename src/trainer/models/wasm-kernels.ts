/**
 * Kernels the tfjs wasm backend (4.22) lacks but our models' gradients need, computed on the JS
 * side of the wasm heap. Only `UnsortedSegmentSum` is missing for GPT-2 and the MLP: it is the
 * gradient of `tf.gather` (the embedding lookup and last-token pooling).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths, type BackendWasm } from '@tensorflow/tfjs-backend-wasm';

function requireInput(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const input = inputs[name];
  if (input === undefined) {
    throw new Error(`UnsortedSegmentSum (wasm): missing input ${name}`);
  }
  return input;
}

/** out[segmentIds[i], ...] += x[i, ...]; ids outside [0, numSegments) are dropped, as in TensorFlow. */
const unsortedSegmentSum: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm;
  const x = requireInput(inputs, 'x');
  const segmentIds = requireInput(inputs, 'segmentIds');
  const numSegments = Number(attrs?.numSegments);
  const idCount = segmentIds.shape.reduce((product, dim) => product * dim, 1);
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = innerShape.reduce((product, dim) => product * dim, 1);
  // readSync copies out of the heap, so the views stay valid when makeOutput grows it.
  const values = wasm.readSync(x.dataId);
  const ids = wasm.readSync(segmentIds.dataId);
  const output = wasm.makeOutput([numSegments, ...innerShape], x.dtype);
  const out = wasm.typedArrayFromHeap(output);
  out.fill(0); // the heap allocation is not zeroed
  for (let i = 0; i < idCount; i++) {
    const segment = Number(ids[i]);
    if (segment < 0 || segment >= numSegments) {
      continue;
    }
    const from = i * inner;
    const to = segment * inner;
    for (let j = 0; j < inner; j++) {
      out[to + j] += Number(values[from + j]);
    }
  }
  return output;
};

const MISSING_KERNELS: tf.KernelConfig[] = [
  { kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSum },
];

/** Registers the kernels above for 'wasm' unless already there (ours or a future tfjs's). Safe to call repeatedly. */
export function registerMissingWasmKernels(): void {
  const registered = new Set(tf.getKernelsForBackend('wasm').map((kernel) => kernel.kernelName));
  for (const config of MISSING_KERNELS) {
    if (!registered.has(config.kernelName)) {
      tf.registerKernel(config);
    }
  }
}

/**
 * Makes wasm the active backend in Node: points it at the .wasm binaries inside the installed
 * package (Node has no page to fetch them from) and registers the missing kernels.
 */
export async function useWasmBackend(): Promise<void> {
  const require = createRequire(import.meta.url);
  setWasmPaths(`${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`);
  registerMissingWasmKernels();
  if (!(await tf.setBackend('wasm'))) {
    throw new Error('The tfjs wasm backend failed to initialise');
  }
}
