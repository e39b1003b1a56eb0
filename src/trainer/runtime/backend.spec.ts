import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError, selectBackend } from './backend.js';

describe('trainer backend selection', () => {
  it('refuses a forced native backend that is not installed, saying why', async () => {
    await assert.rejects(selectBackend('tensorflow-gpu'), (error: unknown) => {
      assert.ok(error instanceof BackendUnavailableError);
      assert.equal(error.tried.length, 1);
      assert.equal(error.tried[0].backend, 'tensorflow-gpu');
      assert.match(error.tried[0].error, /tfjs-node-gpu|Cannot find/);
      return true;
    });
  });

  it('falls back best first and reports what it skipped', async () => {
    const choice = await selectBackend('auto');
    // This machine has no libtensorflow: the native backends are skipped, wasm loads.
    assert.deepEqual(
      choice.tried.map((attempt) => attempt.backend),
      ['tensorflow-gpu', 'tensorflow'],
    );
    assert.equal(choice.backend, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.match(choice.devices[0], /^wasm:simd=/);
  });

  it('runs on the plain cpu backend when forced', async () => {
    const choice = await selectBackend('cpu');
    assert.equal(choice.backend, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.deepEqual(choice.tried, []);
  });
});
