/**
 * Losing the database: the embedded server is supervised (killed -> 503 with Retry-After while it
 * restarts, then the same data again; a server that cannot come back fails liveness), and an external
 * server's connection errors answer 503 too. Health probes never show internals.
 *
 * The restart pauses are held by the test (a gate), so each state is asserted while it holds, not
 * after a guessed sleep.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';
import { createApp } from '../src/app.js';
import { AuthService } from '../src/auth/auth.service.js';
import { generateApiKeySecret } from '../src/auth/api-key-secret.js';
import { loadConfig } from '../src/platform/config/config.js';
import { runMigrations } from '../src/platform/database/data-source.js';
import { EmbeddedDatabase } from '../src/platform/database/embedded-database.js';
import { createLogger } from '../src/platform/logging/logger.js';
import { apiClient, expectStatus } from './support/api.js';

interface Started {
  app: NestExpressApplication;
  baseUrl: string;
  adminKey: string;
}

async function startApp(dataDir: string, databaseUrl: string, embedded?: EmbeddedDatabase): Promise<Started> {
  const adminKey = generateApiKeySecret();
  const config = loadConfig({
    DATA_DIR: dataDir,
    TUNEFORGE_BOOTSTRAP_KEY: adminKey,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    TRAINER_SLOTS: '0',
  });
  const app = await createApp({
    config,
    databaseUrl,
    embeddedDatabase: embedded,
    logger: createLogger(config.logLevel),
  });
  await runMigrations(app.get(DataSource));
  await app.get(AuthService).ensureBootstrapKey();
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as AddressInfo;
  return { app, baseUrl: `http://127.0.0.1:${address.port}`, adminKey };
}

/** Text that would tell an unauthenticated caller how the database is reached. */
const INTERNALS = /ECONN|127\.0\.0\.1|:\d{4,5}\b|postgres|terminated|timeout/i;

describe('embedded database supervision', () => {
  let dataDir: string;
  let embedded: EmbeddedDatabase;
  let started: Started;
  let openGate: () => void = () => undefined;
  let gate = Promise.resolve();
  const closeGate = () => {
    gate = new Promise((resolve) => {
      openGate = resolve;
    });
  };

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-supervised-'));
    embedded = new EmbeddedDatabase(path.join(dataDir, 'postgres'), () => undefined, {
      restartAttempts: 2,
      restartDelay: () => gate,
    });
    const url = await embedded.start();
    started = await startApp(dataDir, url, embedded);
  });
  after(async () => {
    await started?.app.close();
    await embedded?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After while a killed server restarts, then serves the same data again', async () => {
    const api = apiClient(started.baseUrl, started.adminKey);
    const project = await api<{ id: string }>('POST', '/api/v1/projects', { name: 'survives-a-crash' });
    expectStatus(project, 201);

    closeGate();
    const restarting = embedded.waitFor('restarting');
    const oldPid = embedded.pid;
    assert.ok(oldPid);
    process.kill(oldPid, 'SIGKILL');
    await restarting;

    for (const [method, route, body] of [
      ['GET', `/api/v1/projects/${project.body.id}`, undefined],
      ['POST', '/api/v1/projects', { name: 'while-down' }],
      ['GET', '/api/v1/me', undefined],
    ] as const) {
      const response = await api<{ code: string }>(method, route, body);
      expectStatus(response, 503);
      assert.equal(response.body.code, 'service_unavailable');
      assert.equal(response.headers.get('retry-after'), '5');
    }
    const ready = await fetch(`${started.baseUrl}/health/ready`);
    assert.equal(ready.status, 503);
    const readyText = await ready.text();
    assert.equal((JSON.parse(readyText) as { database: { status: string } }).database.status, 'restarting');
    assert.doesNotMatch(readyText, INTERNALS);
    assert.equal((await fetch(`${started.baseUrl}/health/live`)).status, 200, 'restarting is not dead');

    const running = embedded.waitFor('running');
    openGate();
    await running;
    assert.notEqual(embedded.pid, oldPid);

    const kept = await api<{ name: string }>('GET', `/api/v1/projects/${project.body.id}`);
    expectStatus(kept, 200);
    assert.equal(kept.body.name, 'survives-a-crash');
    expectStatus(await api('POST', '/api/v1/projects', { name: 'after-restart' }), 201);
    assert.equal((await fetch(`${started.baseUrl}/health/ready`)).status, 200);
  });

  it('fails liveness once the server cannot be restarted', async () => {
    const api = apiClient(started.baseUrl, started.adminKey);
    const directory = path.join(dataDir, 'postgres');
    const moved = `${directory}-moved`;
    closeGate();
    const restarting = embedded.waitFor('restarting');
    process.kill(embedded.pid!, 'SIGKILL');
    await restarting;
    // Without its data directory the server cannot start: every attempt fails.
    await rename(directory, moved);
    const failed = embedded.waitFor('failed');
    openGate();
    await failed;
    try {
      const live = await fetch(`${started.baseUrl}/health/live`);
      assert.equal(live.status, 503);
      const liveText = await live.text();
      assert.equal((JSON.parse(liveText) as { status: string }).status, 'failing');
      assert.doesNotMatch(liveText, INTERNALS);
      const response = await api<{ code: string }>('GET', '/api/v1/me');
      expectStatus(response, 503);
      assert.equal(response.headers.get('retry-after'), '5');
      const ready = await fetch(`${started.baseUrl}/health/ready`);
      assert.equal(ready.status, 503);
      assert.doesNotMatch(await ready.text(), INTERNALS);
    } finally {
      await rename(moved, directory);
    }
  });
});

describe('external database outage', () => {
  let dataDir: string;
  let server: EmbeddedDatabase;
  let started: Started;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-external-'));
    // A server the app does not supervise: to the app it is any DATABASE_URL.
    server = new EmbeddedDatabase(path.join(dataDir, 'postgres'));
    started = await startApp(dataDir, await server.start());
  });
  after(async () => {
    await started?.app.close();
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After on connection errors, and readiness shows no internals', async () => {
    const api = apiClient(started.baseUrl, started.adminKey);
    const created = await api<{ secret: string }>('POST', '/api/v1/api-keys', { name: 'k', scopes: ['admin'] });
    expectStatus(created, 201);
    expectStatus(await api('GET', '/api/v1/me'), 200);
    await server.stop();

    // A key verified moments ago (cached), one never verified, and an unknown one: all need the database.
    for (const key of [started.adminKey, created.body.secret, generateApiKeySecret()]) {
      const response = await apiClient(started.baseUrl, key)<{ code: string; message: string }>(
        'GET',
        '/api/v1/projects',
      );
      expectStatus(response, 503);
      assert.equal(response.body.code, 'service_unavailable');
      assert.equal(response.headers.get('retry-after'), '5');
      assert.doesNotMatch(response.body.message, INTERNALS);
    }
    const ready = await fetch(`${started.baseUrl}/health/ready`);
    assert.equal(ready.status, 503);
    const text = await ready.text();
    assert.equal((JSON.parse(text) as { database: { status: string } }).database.status, 'unavailable');
    assert.doesNotMatch(text, INTERNALS);
    // Restarting TuneForge would not bring an external server back: liveness stays up.
    assert.equal((await fetch(`${started.baseUrl}/health/live`)).status, 200);
  });
});
