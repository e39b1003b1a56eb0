import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppConfig } from '../platform/config/config.js';
import { TrainingStepGate } from './training-step-gate.js';

const gateWith = (trainerHoldAtSteps: number[] = []) =>
  new TrainingStepGate({ trainerHoldAtSteps } as unknown as AppConfig);

/** Whether `promise` has settled once pending callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('TrainingStepGate', () => {
  it('holds nothing unless asked: a job gets no steps to check', () => {
    assert.equal(gateWith().stepsFor({ id: 'a', outputModelName: 'm' }), null);
  });

  it('holds the first matching job at its step until released', async () => {
    const gate = gateWith();
    const hold = gate.hold(3, { outputModelName: 'wanted' });
    assert.equal(gate.stepsFor({ id: 'other', outputModelName: 'not-wanted' }), null);
    assert.deepEqual(gate.stepsFor({ id: 'job-1', outputModelName: 'wanted' }), [3]);
    // Bound to job-1: a second job of the same name is not held.
    assert.equal(gate.stepsFor({ id: 'job-2', outputModelName: 'wanted' }), null);
    const waiting = gate.atStep('job-1', 3);
    assert.deepEqual(await hold.reached, { jobId: 'job-1', step: 3 });
    assert.equal(await settled(waiting), false);
    hold.release();
    assert.equal(await settled(waiting), true);
  });

  it('holds once: a retry of the same job runs through', async () => {
    const gate = gateWith();
    const hold = gate.hold(2, { jobId: 'job-1' });
    assert.deepEqual(gate.stepsFor({ id: 'job-1', outputModelName: 'm' }), [2]);
    const waiting = gate.atStep('job-1', 2);
    hold.release();
    await waiting;
    assert.equal(gate.stepsFor({ id: 'job-1', outputModelName: 'm' }), null);
    await gate.atStep('job-1', 2);
  });

  it('holds every job at configured steps until the replica stops', async () => {
    const gate = gateWith([6]);
    assert.deepEqual(gate.stepsFor({ id: 'job-1', outputModelName: 'm' }), [6]);
    await gate.atStep('job-1', 5);
    const waiting = gate.atStep('job-1', 6);
    assert.equal(await settled(waiting), false);
    gate.releaseAll();
    assert.equal(await settled(waiting), true);
    assert.equal(gate.stepsFor({ id: 'job-2', outputModelName: 'm' }), null);
  });

  it('refuses a step that is not a whole number of steps', () => {
    assert.throws(() => gateWith().hold(-1, {}), /step >= 0/);
    assert.throws(() => gateWith().hold(1.5, {}), /step >= 0/);
  });
});
