import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { applyConnectionTimeouts } from './connection-timeouts.js';

describe('applyConnectionTimeouts', () => {
  it('keeps the headers timer above the keep-alive timer and the request timer above both', () => {
    const server = createServer();
    applyConnectionTimeouts(server, { keepAliveSeconds: 65, requestTimeoutSeconds: 3600 });
    assert.equal(server.keepAliveTimeout, 65_000);
    assert.equal(server.headersTimeout, 66_000);
    assert.equal(server.requestTimeout, 3_600_000);
  });

  it('raises a request timeout shorter than the headers timeout, and leaves 0 as no limit', () => {
    const server = createServer();
    applyConnectionTimeouts(server, { keepAliveSeconds: 600, requestTimeoutSeconds: 60 });
    assert.equal(server.requestTimeout, server.headersTimeout);
    applyConnectionTimeouts(server, { keepAliveSeconds: 65, requestTimeoutSeconds: 0 });
    assert.equal(server.requestTimeout, 0);
  });
});
