/**
 * Idle keep-alive connections. A client reusing an idle connection races the server's close of
 * it; an event loop stalled (by load) at that moment turns the race into a loss: when the loop
 * resumes, the expired close timer runs before the waiting request is read. These tests stall the
 * event loop on purpose (Atomics.wait blocks the thread without using the CPU) with a request
 * already sent on an idle connection, so the outcome does not depend on the machine's speed.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './support/test-app.js';

/** Blocks this thread (and so the server's event loop) for `ms`. */
function stallEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Reads from `socket` until `received` holds a complete response without a body, or the socket ends. */
function nextResponse(socket: net.Socket): Promise<{ head: string; closed: boolean }> {
  return new Promise((resolve) => {
    let received = '';
    const onData = (data: Buffer) => {
      received += data.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(received);
      if (end >= 0 && length && received.length >= end + 4 + Number(length[1])) {
        done(false);
      }
    };
    const onClose = () => done(true);
    const done = (closed: boolean) => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onClose);
      resolve({ head: received.slice(0, Math.max(0, received.indexOf('\r\n\r\n'))), closed });
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onClose);
  });
}

const request = 'GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n';

/**
 * Sends one request on a new connection, waits until the server has finished its response (its
 * idle timer now runs), then sends a second request and stalls the event loop for `stallMs` before
 * the server can read it.
 */
async function secondRequestAfterStall(testApp: TestApp, stallMs: number) {
  const server = testApp.app.getHttpServer();
  const finished = new Promise<void>((resolve) => {
    const onRequest = (_request: IncomingMessage, response: ServerResponse) => {
      server.off('request', onRequest);
      // Node sets the connection's idle timer in its own 'finish' listener, added before this one.
      response.once('finish', () => setImmediate(resolve));
    };
    server.on('request', onRequest);
  });
  const { port } = new URL(testApp.baseUrl);
  const socket = net.connect(Number(port), '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  const firstResponse = nextResponse(socket);
  socket.write(request);
  const first = await firstResponse;
  await finished;
  const secondResponse = nextResponse(socket);
  socket.write(request);
  stallEventLoop(stallMs);
  const second = await secondResponse;
  socket.destroy();
  return { first, second };
}

describe('idle keep-alive connections', () => {
  const apps: TestApp[] = [];
  after(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  it('keeps idle connections longer than common client and load balancer idle timeouts, and says so', async () => {
    const testApp = await startTestApp();
    apps.push(testApp);
    // Idle for longer than Node's default keep-alive timeout (5 s, closed at 6 s) while the event loop
    // is stalled: the request that was waiting is served on the same connection.
    const { first, second } = await secondRequestAfterStall(testApp, 6_500);
    assert.equal(second.closed, false, 'the connection was closed under the waiting request');
    assert.match(second.head, /^HTTP\/1\.1 200 /);
    assert.match(first.head, /\r\nKeep-Alive: timeout=65(\r\n|$)/i);
    const server = testApp.app.getHttpServer();
    assert.equal(server.keepAliveTimeout, 65_000);
    assert.ok(server.headersTimeout > server.keepAliveTimeout, 'the headers timer outlasts the keep-alive timer');
    assert.equal(server.requestTimeout, 3_600_000, "a long upload is not cut off after Node's default 300 s");
  });

  it('closes connections idle past HTTP_KEEP_ALIVE_SECONDS (which is why it must be long)', async () => {
    const testApp = await startTestApp({ HTTP_KEEP_ALIVE_SECONDS: '1' });
    apps.push(testApp);
    const { first, second } = await secondRequestAfterStall(testApp, 2_500);
    assert.equal(second.closed, true);
    assert.equal(second.head, '', 'the request sent into the closing connection got no answer');
    assert.match(first.head, /\r\nKeep-Alive: timeout=1(\r\n|$)/i);
  });
});
