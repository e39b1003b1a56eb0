import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DistinctCounter,
  ExactDuplicateIndex,
  ExtremeRows,
  HyperLogLog,
  keyLanes,
  LaneSet,
  laneKey,
  LengthHistogram,
  mix32,
  TokenCounter,
} from './sketches.js';

describe('sketches', () => {
  it('HyperLogLog estimates within a few percent', () => {
    for (const count of [10, 1000, 100_000]) {
      const sketch = new HyperLogLog();
      for (let value = 0; value < count; value += 1) {
        sketch.add(value, value * 7);
        sketch.add(value, value * 7);
      }
      const error = Math.abs(sketch.estimate() - count) / count;
      assert.ok(error < 0.03, `count ${count}: estimate ${sketch.estimate()}`);
    }
  });

  it('DistinctCounter is exact up to its cap, then estimates', () => {
    const counter = new DistinctCounter(1000);
    for (let value = 0; value < 1000; value += 1) {
      counter.add(mix32(value), mix32(value ^ 0x5555));
    }
    assert.equal(counter.exact, true);
    assert.equal(counter.estimate(), 1000);
    for (let value = 1000; value < 50_000; value += 1) {
      counter.add(mix32(value), mix32(value ^ 0x5555));
      counter.add(mix32(value), mix32(value ^ 0x5555));
    }
    assert.equal(counter.exact, false);
    assert.ok(Math.abs(counter.estimate() - 50_000) / 50_000 < 0.03, String(counter.estimate()));
  });

  it('LaneSet is a set', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer(), fc.integer())), (pairs) => {
        const set = new LaneSet(16);
        const expected = new Set<string>();
        for (const [high, low] of pairs) {
          assert.equal(set.add(high, low), !expected.has(`${high | 0},${low | 0}`));
          expected.add(`${high | 0},${low | 0}`);
        }
        assert.equal(set.size, expected.size);
        for (const [high, low] of pairs) {
          assert.ok(set.has(high, low));
        }
      }),
    );
  });

  it('lane keys round-trip', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), (high, low) => {
        const [keyHigh, keyLow] = keyLanes(laneKey(high, low));
        assert.equal(keyHigh, high >>> 0);
        assert.equal(keyLow, low & 0xfffff);
      }),
    );
  });

  it('ExactDuplicateIndex keeps first lines, labels and flags across growth', () => {
    const numeric = new ExactDuplicateIndex('number', 16);
    assert.equal(numeric.findOrInsert(1, 2, 3, -0.25), -1);
    assert.equal(numeric.firstLabel(numeric.findOrInsert(1, 2, 4, 9)), -0.25);
    const index = new ExactDuplicateIndex('class', 16);
    for (let row = 0; row < 5000; row += 1) {
      assert.equal(index.findOrInsert(mix32(row), mix32(row + 1), row + 1, (row * 37) % 131_072), -1);
    }
    const slot = index.findOrInsert(mix32(42), mix32(43), 9999, 0);
    assert.ok(slot >= 0);
    assert.equal(index.firstLine(slot), 43);
    assert.equal(index.firstLabel(slot), (42 * 37) % 131_072);
    assert.equal(index.markDuplicated(slot), true);
    assert.equal(index.markDuplicated(slot), false);
    assert.equal(index.markConflicted(slot), true);
    assert.equal(index.markConflicted(slot), false);
    assert.equal(index.firstLine(slot), 43);
    assert.equal(index.firstLabel(slot), (42 * 37) % 131_072);
    assert.equal(index.size, 5000);
    assert.ok(index.bytes / 5000 <= 43, `${index.bytes / 5000} bytes per row`);
  });

  it('TokenCounter counts exactly below its cap and keeps the frequent tokens when pruning', () => {
    const counter = new TokenCounter(64, 16);
    const count = (token: number) => {
      let slot = counter.find(mix32(token), token);
      if (slot < 0) {
        slot = counter.insert(mix32(token), token, `t${token}`, 0);
      }
      counter.table[(slot << 2) + 2] += 1;
    };
    for (let round = 0; round < 50; round += 1) {
      for (let token = 0; token < 10; token += 1) {
        count(token);
      }
      // A long tail of tokens seen once.
      for (let rare = 0; rare < 20; rare += 1) {
        count(1000 + round * 20 + rare);
      }
    }
    assert.equal(counter.pruned, true);
    for (let token = 0; token < 10; token += 1) {
      const counted = counter.countOf(mix32(token), token);
      assert.ok(counted <= 50 && counted >= 50 - counter.maxPrunedCount - 1, `token ${token}: ${counted}`);
    }
    let listed = 0;
    counter.forEach((_token, counted) => {
      listed += counted;
    });
    assert.equal(listed + counter.prunedOccurrences, 50 * 30);
  });

  it('LengthHistogram gives nearest-rank quantiles and counts outside a range', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (lengths, q) => {
          const histogram = new LengthHistogram(256);
          lengths.forEach((length) => histogram.add(length));
          const sorted = [...lengths].sort((left, right) => left - right);
          const expected = sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];
          assert.equal(histogram.quantile(q), expected >= 256 ? histogram.max : expected);
          assert.equal(histogram.countOutside(10, 100), lengths.filter((length) => length < 10 || length > 100).length);
        },
      ),
    );
  });

  it('ExtremeRows keeps the largest values, earliest lines first on ties', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 })), fc.integer({ min: 0, max: 8 }), (values, capacity) => {
        const rows = new ExtremeRows(capacity);
        values.forEach((value, index) => rows.offer(value, index + 1));
        const expected = values
          .map((value, index): [number, number] => [value, index + 1])
          .sort((left, right) => right[0] - left[0] || left[1] - right[1])
          .slice(0, capacity)
          .sort((left, right) => left[1] - right[1]);
        assert.deepEqual(rows.entries(), expected);
      }),
    );
  });
});
