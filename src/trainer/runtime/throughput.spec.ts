import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ThroughputWindow } from './throughput.js';

describe('ThroughputWindow', () => {
  it('reports gpt2 throughput in tokens, with tokensPerSecond kept', () => {
    let clock = 1000;
    const window = new ThroughputWindow(() => clock);
    window.add(2, 8, 100);
    window.add(4, 8, 60);
    clock += 2000;
    assert.deepEqual(window.take('tokens', 10), {
      loss: 3,
      examplesPerSecond: 8,
      unit: 'tokens',
      unitsPerSecond: 80,
      tokensPerSecond: 80,
      flopsPerSecond: 80,
    });
  });

  it('reports mlp throughput in examples, without a tokens figure', () => {
    let clock = 0;
    const window = new ThroughputWindow(() => clock);
    // An mlp batch of 16 rows with 5 features: rows are the unit, features are not tokens.
    window.add(1, 16, 16);
    clock += 500;
    const values = window.take('examples', 6);
    assert.equal(values.unit, 'examples');
    assert.equal(values.unitsPerSecond, 32);
    assert.equal(values.examplesPerSecond, 32);
    assert.equal('tokensPerSecond' in values, false);
  });

  it('starts a new window after each report', () => {
    let clock = 0;
    const window = new ThroughputWindow(() => clock);
    window.add(5, 4, 4);
    clock += 1000;
    window.take('examples', 1);
    window.add(1, 2, 2);
    clock += 1000;
    const second = window.take('examples', 1);
    assert.equal(second.loss, 1);
    assert.equal(second.examplesPerSecond, 2);
  });
});
