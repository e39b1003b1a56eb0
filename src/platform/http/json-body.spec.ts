import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonNestingDepth } from './json-body.js';

const depth = (text: string, stopAbove?: number) => jsonNestingDepth(Buffer.from(text, 'utf8'), stopAbove);

describe('jsonNestingDepth', () => {
  it('counts nested objects and arrays', () => {
    assert.equal(depth('1'), 0);
    assert.equal(depth('{}'), 1);
    assert.equal(depth('{"a":[1,{"b":[]}],"c":{}}'), 4);
    assert.equal(depth('[[[]],[]]'), 3);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    assert.equal(depth('{"a":"[[[{{{"}'), 1);
    assert.equal(depth('{"a":"\\"[[[","b":["\\\\"]}'), 2);
    assert.equal(depth('["é[", "💥{"]'), 1);
  });

  it('stops scanning once past the bound', () => {
    const deep = '['.repeat(400_000) + ']'.repeat(400_000);
    assert.equal(depth(deep, 64), 65);
    assert.equal(depth(deep), 400_000);
  });
});
