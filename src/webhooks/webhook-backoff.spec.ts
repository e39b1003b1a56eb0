import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryDelaySeconds } from './webhook-backoff.js';

const policy = { baseSeconds: 10, capSeconds: 3600 };

describe('webhook retry backoff', () => {
  it('doubles per attempt, between half and all of the delay', () => {
    for (const [attempt, delay] of [
      [1, 10],
      [2, 20],
      [3, 40],
      [6, 320],
    ]) {
      assert.equal(retryDelaySeconds(attempt, policy, 0), delay / 2);
      assert.equal(retryDelaySeconds(attempt, policy, 0.999999), delay / 2 + (delay / 2) * 0.999999);
    }
  });

  it('never waits longer than the cap, however many attempts', () => {
    for (const attempt of [10, 11, 50, 1000]) {
      const delay = retryDelaySeconds(attempt, policy, 0.999999);
      assert.ok(delay <= 3600 && delay >= 1800, `attempt ${attempt}: ${delay}`);
    }
  });

  it('spreads retries with the random draw and keeps them finite for odd inputs', () => {
    assert.notEqual(retryDelaySeconds(3, policy, 0.1), retryDelaySeconds(3, policy, 0.9));
    assert.equal(retryDelaySeconds(0, policy, 0), 5);
    assert.equal(retryDelaySeconds(2, policy, 7), 20);
    assert.ok(Number.isFinite(retryDelaySeconds(Number.MAX_SAFE_INTEGER, policy, 0.5)));
  });
});
