import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OpenAPIObject } from '@nestjs/swagger';
import { jsonNestingDepth, rawBodyRoutesOf } from './json-body.js';

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

describe('rawBodyRoutesOf', () => {
  it('finds the operations whose body cannot be JSON, with their path templates', () => {
    const body = (...types: string[]) => ({
      requestBody: { content: Object.fromEntries(types.map((type) => [type, {}])) },
      responses: {},
    });
    const document = {
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: {
        '/api/v1/datasets/{datasetId}/versions': {
          post: body('application/x-ndjson', 'text/csv'),
          get: { responses: {} },
        },
        '/api/v1/jobs': { post: body('application/json') },
        '/api/v1/both': { put: body('application/json', 'text/plain') },
      },
    } as unknown as OpenAPIObject;
    const routes = rawBodyRoutesOf(document);
    assert.deepEqual(
      routes.map((route) => route.method),
      ['POST'],
    );
    assert.ok(routes[0].path.test('/api/v1/datasets/abc/versions'));
    assert.ok(!routes[0].path.test('/api/v1/datasets/abc/versions/1'));
  });
});
