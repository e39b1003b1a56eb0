/**
 * Picks the tfjs backend a trainer worker runs on, best first: TensorFlow with CUDA
 * (`@tensorflow/tfjs-node-gpu`), TensorFlow on the CPU (`@tensorflow/tfjs-node`), WebAssembly with
 * SIMD, then plain JavaScript. The two native packages are optional dependencies: their install
 * downloads libtensorflow, and where that fails npm leaves them out, so loading them may fail.
 */
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../models/wasm-kernels.js';
import type { BackendName, BackendSetting } from './protocol.js';

export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendChoice {
  backend: BackendName;
  devices: string[];
  tried: Array<{ backend: BackendName; error: string }>;
}

const NATIVE_PACKAGES: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

async function tryBackend(backend: BackendName): Promise<string[]> {
  switch (backend) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      // A variable specifier keeps TypeScript from resolving a package that may not be installed.
      const specifier = NATIVE_PACKAGES[backend];
      await import(specifier);
      if (!(await tf.setBackend('tensorflow'))) {
        throw new Error(`${specifier} loaded but the tensorflow backend did not initialise`);
      }
      return backend === 'tensorflow-gpu' ? ['gpu:0'] : ['cpu:0'];
    }
    case 'wasm':
      await useWasmBackend();
      return [`wasm:simd=${String(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))}`];
    case 'cpu':
      if (!(await tf.setBackend('cpu'))) {
        throw new Error('the cpu backend did not initialise');
      }
      return ['cpu:0'];
    default: {
      const unreachable: never = backend;
      throw new Error(`unknown backend ${String(unreachable)}`);
    }
  }
}

/** `auto` tries every backend in order; a forced backend is the only one tried. */
export async function selectBackend(setting: BackendSetting): Promise<BackendChoice> {
  // Production mode skips per-op NaN checks and the "install tfjs-node" console banner.
  tf.enableProdMode();
  const candidates = setting === 'auto' ? BACKEND_ORDER : [setting];
  const tried: BackendChoice['tried'] = [];
  for (const backend of candidates) {
    try {
      const devices = await tryBackend(backend);
      await tf.ready();
      return { backend, devices, tried };
    } catch (error) {
      tried.push({ backend, error: error instanceof Error ? error.message.split('\n')[0] : String(error) });
    }
  }
  throw new BackendUnavailableError(tried);
}

export class BackendUnavailableError extends Error {
  constructor(readonly tried: BackendChoice['tried']) {
    super(`No trainer backend could be loaded: ${tried.map((t) => `${t.backend}: ${t.error}`).join('; ')}`);
    this.name = 'BackendUnavailableError';
  }
}
