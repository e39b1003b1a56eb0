import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ModelCache } from './model-cache.js';

class FakeModel {
  disposed = false;
  constructor(readonly sizeBytes: number) {}
  dispose(): void {
    this.disposed = true;
  }
}

describe('ModelCache', () => {
  it('evicts the least recently used models by bytes and disposes them', () => {
    const cache = new ModelCache<FakeModel>(100);
    const a = new FakeModel(40);
    const b = new FakeModel(40);
    const c = new FakeModel(40);
    assert.deepEqual(cache.set('a', a), []);
    assert.deepEqual(cache.set('b', b), []);
    assert.equal(cache.get('a'), a, 'a hit makes a the most recent');
    assert.deepEqual(cache.set('c', c), ['b']);
    assert.ok(b.disposed && !a.disposed && !c.disposed);
    assert.deepEqual(cache.keys(), ['a', 'c']);
    assert.equal(cache.sizeBytes, 80);
    const big = new FakeModel(150);
    assert.deepEqual(cache.set('big', big), ['a', 'c'], 'a model larger than the bound is served alone');
    assert.deepEqual(cache.keys(), ['big']);
    assert.equal(cache.get('a'), undefined);
  });

  it('makes room before a load, so the bound holds while the new model is in memory', () => {
    const cache = new ModelCache<FakeModel>(100);
    cache.set('a', new FakeModel(60));
    cache.set('b', new FakeModel(30));
    assert.deepEqual(cache.makeRoom(50), ['a']);
    assert.equal(cache.sizeBytes, 30);
  });

  it('never holds more than its bound unless one model alone exceeds it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.integer({ min: 1, max: 120 })), {
          maxLength: 40,
        }),
        (operations) => {
          const cache = new ModelCache<FakeModel>(100);
          const live = new Set<FakeModel>();
          for (const [key, size] of operations) {
            const model = new FakeModel(size);
            live.add(model);
            cache.set(key, model);
            const keys = cache.keys();
            assert.ok(cache.sizeBytes <= 100 || keys.length === 1);
            assert.equal(keys[keys.length - 1], key);
          }
          const kept = cache.keys().map((key) => cache.get(key)!);
          for (const model of live) {
            assert.equal(model.disposed, !kept.includes(model));
          }
        },
      ),
    );
  });
});
