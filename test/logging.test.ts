import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../src/platform/logging/logger.js';
import { startTestApp, type TestApp } from './support/test-app.js';

describe('structured logs', () => {
  let testApp: TestApp;
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });

  before(async () => {
    testApp = await startTestApp({}, { logger: createLogger('trace', sink) });
  });
  after(async () => {
    await testApp.close();
  });

  it('carry the request id and never a secret', async () => {
    const created = await fetch(`${testApp.baseUrl}/api/v1/api-keys`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${testApp.adminKey}`,
        'Content-Type': 'application/json',
        'X-Request-Id': 'log-test-1',
      },
      body: JSON.stringify({ name: 'logged', scopes: ['jobs:read'] }),
    });
    const { secret } = (await created.json()) as { secret: string };
    await fetch(`${testApp.baseUrl}/api/v1/me`, { headers: { Authorization: `Bearer ${secret}` } });
    await fetch(`${testApp.baseUrl}/api/v1/me`, { headers: { Authorization: `Bearer ${secret}x` } });
    await new Promise((resolve) => setImmediate(resolve));

    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const completed = records.find((record) => record.requestId === 'log-test-1' && record.msg === 'request completed');
    assert.ok(completed, 'access log line with the request id');
    assert.equal(completed.route, '/api/v1/api-keys');
    assert.equal(completed.status, 201);
    assert.ok(records.some((record) => record.requestId === 'log-test-1' && record.msg === 'API key created'));
    for (const line of lines) {
      assert.ok(!line.includes(secret.slice(3)), `a log line holds the new key: ${line}`);
      assert.ok(!line.includes(testApp.adminKey.slice(3)), `a log line holds the admin key: ${line}`);
    }
  });
});
