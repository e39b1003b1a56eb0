import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelSelection, type Weights } from './model-selection.js';
import { TrainingError } from './training-error.js';

const weights = (value: number): Weights => new Map([['w', Float32Array.of(value)]]);

describe('ModelSelection', () => {
  it('tracks the best evaluation by validation loss without early stopping, and keeps the last weights', () => {
    const selection = new ModelSelection(null);
    let snapshots = 0;
    const snapshot = () => {
      snapshots += 1;
      return weights(0);
    };
    assert.deepEqual(selection.update(5, { loss: 2 }, snapshot), { improved: true, stop: false });
    assert.deepEqual(selection.update(10, { loss: 1 }, snapshot), { improved: true, stop: false });
    assert.deepEqual(selection.update(15, { loss: 1.5 }, snapshot), { improved: false, stop: false });
    assert.deepEqual(selection.best, { step: 10, value: 1, metrics: { loss: 1 } });
    // Nothing restores them: no copies are made, and the model keeps the last step's weights.
    assert.equal(snapshots, 0);
    assert.equal(selection.keptStep(15), 15);
    assert.equal(selection.keptWeights(15), null);
  });

  it('never takes a non-finite loss as the best', () => {
    const selection = new ModelSelection(null);
    assert.equal(selection.update(1, { loss: Number.NaN }, () => weights(0)).improved, false);
    assert.equal(selection.best, null);
  });

  it('with early stopping: follows the monitor, stops after patience, keeps the best weights', () => {
    const selection = new ModelSelection({ monitor: 'accuracy', mode: 'max', patience: 2, minDelta: 0 });
    selection.update(5, { loss: 1, accuracy: 0.5 }, () => weights(5));
    selection.update(10, { loss: 0.9, accuracy: 0.7 }, () => weights(10));
    assert.deepEqual(
      selection.update(15, { loss: 0.8, accuracy: 0.6 }, () => weights(15)),
      {
        improved: false,
        stop: false,
      },
    );
    assert.deepEqual(
      selection.update(20, { loss: 0.7, accuracy: 0.6 }, () => weights(20)),
      {
        improved: false,
        stop: true,
      },
    );
    assert.equal(selection.best?.step, 10);
    assert.deepEqual(selection.best?.metrics, { loss: 0.9, accuracy: 0.7 });
    assert.equal(selection.keptStep(20), 10);
    assert.deepEqual(selection.keptWeights(20), weights(10));
  });

  it('refuses a monitor the task does not report, with a code', () => {
    const selection = new ModelSelection({ monitor: 'f1Macro', mode: 'max', patience: 2, minDelta: 0 });
    assert.throws(
      () => selection.update(5, { loss: 1, mae: 2 }, () => weights(0)),
      (error: unknown) => error instanceof TrainingError && error.code === 'invalid_monitor',
    );
  });

  it('continues from a checkpoint state, with the best weights only for early stopping', () => {
    const options = { monitor: 'loss', mode: 'min' as const, patience: 3, minDelta: 0 };
    const first = new ModelSelection(options);
    first.update(5, { loss: 1 }, () => weights(5));
    first.update(10, { loss: 2 }, () => weights(10));
    const state = JSON.parse(JSON.stringify(first.toState())) as ReturnType<ModelSelection['toState']>;

    const resumed = new ModelSelection(options);
    resumed.restore(state, weights(5));
    assert.deepEqual(resumed.best, { step: 5, value: 1, metrics: { loss: 1 } });
    assert.equal(resumed.keptStep(12), 5);
    // Patience carries over: two more evaluations without improvement stop (3 in all).
    assert.equal(resumed.update(15, { loss: 3 }, () => weights(15)).stop, false);
    assert.equal(resumed.update(20, { loss: 3 }, () => weights(20)).stop, true);

    // Early stopping switched off on resume: the best by loss starts again, and no weights are held.
    const withoutStopping = new ModelSelection(null);
    withoutStopping.restore(state, weights(5));
    assert.equal(withoutStopping.best, null);
    assert.equal(withoutStopping.keptWeights(12), null);
  });

  it('reads a checkpoint from before best metrics were kept', () => {
    const options = { monitor: 'loss', mode: 'min' as const, patience: 3, minDelta: 0 };
    const selection = new ModelSelection(options);
    selection.restore({ earlyStopping: { ...options, best: { step: 4, value: 0.5 }, wait: 1 } }, weights(4));
    assert.deepEqual(selection.best, { step: 4, value: 0.5, metrics: null });
  });
});
