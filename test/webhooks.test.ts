/**
 * Webhooks end to end, with a real HTTP receiver on loopback: subscriptions and their validation,
 * secrets shown once, signed deliveries the exported helper verifies, retries after a receiver was
 * down (driven by the worker's "run due deliveries" hook, not by waiting), redelivery, ping,
 * rotation, tenancy, the transactional outbox, a job's events in order, and the metrics.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { AppConfig } from '../src/platform/config/config.js';
import { createLogger } from '../src/platform/logging/logger.js';
import { WebhookDeliveryWorker } from '../src/webhooks/webhook-delivery-worker.js';
import { WebhookPublisher } from '../src/webhooks/webhook-publisher.js';
import { WebhookSender } from '../src/webhooks/webhook-sender.js';
import { verifyWebhookSignature } from '../src/webhooks/webhook-signature.js';
import { apiClient, expectStatus } from './support/api.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { ended, jobEvents, sentimentRows, uploadDataset, waitForJob, type JobView } from './support/training-data.js';

interface Received {
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: { id: string; type: string; createdAt: string; projectId: string; data: Record<string, unknown> };
}

/** A webhook receiver: records every request; answers `status` with `body` (or never, when hanging). */
class Receiver {
  readonly received: Received[] = [];
  status = 200;
  body = 'ok';
  headers: Record<string, string> = {};
  hang = false;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        this.received.push({ headers: request.headers, rawBody, body: JSON.parse(rawBody) as Received['body'] });
        if (!this.hang) {
          response.writeHead(this.status, this.headers).end(this.body);
        }
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

interface WebhookView {
  id: string;
  url: string;
  eventTypes: string[] | null;
  active: boolean;
  secret?: string;
  previousSecretExpiresAt: string | null;
}
interface DeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  attemptCount: number;
  nextAttemptAt: string | null;
  lastResponseStatus: number | null;
  lastError: string | null;
  redeliveryOf: string | null;
  payload?: Received['body'];
  attempts?: Array<{
    attempt: number;
    responseStatus: number | null;
    responseExcerpt: string | null;
    error: string | null;
  }>;
}

const HOUR_MS = 3_600_000;

describe('webhooks', () => {
  let testApp: TestApp;
  let api: ReturnType<typeof apiClient>;
  let worker: WebhookDeliveryWorker;
  const receiver = new Receiver();
  let receiverUrl: string;
  const logLines: string[] = [];
  const logSink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(chunk.toString('utf8'));
      callback();
    },
  });

  const createWebhook = async (body: Record<string, unknown> = {}) => {
    const created = await api<WebhookView>('POST', '/api/v1/webhooks', { url: receiverUrl, ...body });
    expectStatus(created, 201);
    return created.body as WebhookView & { secret: string };
  };
  const deliveries = async (webhookId: string) => {
    const list = await api<{ data: DeliveryView[] }>('GET', `/api/v1/webhooks/${webhookId}/deliveries?limit=200`);
    expectStatus(list, 200);
    return list.body.data;
  };
  const delivery = async (webhookId: string, deliveryId: string) => {
    const detail = await api<DeliveryView>('GET', `/api/v1/webhooks/${webhookId}/deliveries/${deliveryId}`);
    expectStatus(detail, 200);
    return detail.body;
  };
  const ping = async (webhookId: string) => {
    const queued = await api<DeliveryView>('POST', `/api/v1/webhooks/${webhookId}/ping`);
    expectStatus(queued, 202);
    return queued.body;
  };
  const webhookCount = async () =>
    (await testApp.dataSource.query<Array<{ n: number }>>('SELECT count(*)::int AS n FROM webhooks'))[0].n;

  before(async () => {
    receiverUrl = await receiver.start();
    testApp = await startTestApp(
      {
        // Deliveries go out only when a test runs them, so nothing here depends on timing.
        WEBHOOK_DELIVERY_CONCURRENCY: '0',
        WEBHOOK_MAX_ATTEMPTS: '3',
        TRAINER_SLOTS: '1',
        TRAINER_BACKEND: 'wasm',
        JOB_POLL_MS: '100',
      },
      { logger: createLogger('debug', logSink) },
    );
    api = apiClient(testApp.baseUrl, testApp.adminKey);
    worker = testApp.app.get(WebhookDeliveryWorker);
  });
  after(async () => {
    await testApp?.close();
    await receiver.stop();
  });

  it('shows the secret once: at creation, never in reads, never in an idempotent replay', async () => {
    const first = await api<WebhookView>(
      'POST',
      '/api/v1/webhooks',
      { url: receiverUrl, eventTypes: ['job.succeeded'], description: 'once' },
      { 'Idempotency-Key': 'webhook-once' },
    );
    expectStatus(first, 201);
    assert.match(String(first.body.secret), /^whsec_/);
    assert.deepEqual(first.body.eventTypes, ['job.succeeded']);
    const replay = await api<WebhookView>(
      'POST',
      '/api/v1/webhooks',
      { url: receiverUrl, eventTypes: ['job.succeeded'], description: 'once' },
      { 'Idempotency-Key': 'webhook-once' },
    );
    expectStatus(replay, 201);
    assert.equal(replay.headers.get('idempotent-redacted'), 'secret');
    assert.equal(replay.body.id, first.body.id);
    assert.equal(replay.body.secret, undefined);
    const read = await api<WebhookView>('GET', `/api/v1/webhooks/${first.body.id}`);
    expectStatus(read, 200);
    assert.equal(read.body.secret, undefined);
    const list = await api<{ data: WebhookView[] }>('GET', '/api/v1/webhooks');
    assert.ok(list.body.data.some((webhook) => webhook.id === first.body.id));
    assert.ok(list.body.data.every((webhook) => webhook.secret === undefined));
    const stored = await testApp.dataSource.query<Array<{ sealed_secret: string }>>(
      'SELECT sealed_secret FROM webhooks WHERE id = $1',
      [first.body.id],
    );
    assert.ok(!stored[0].sealed_secret.includes(String(first.body.secret).slice(6)), 'stored encrypted');
    assert.ok(!logLines.join('').includes(String(first.body.secret).slice(6)), 'never logged');
    expectStatus(await api('DELETE', `/api/v1/webhooks/${first.body.id}`), 200);
    expectStatus(await api('GET', `/api/v1/webhooks/${first.body.id}`), 404);
  });

  it('refuses bad subscriptions with 400 validation_failed and creates nothing', async () => {
    const before = await webhookCount();
    const bad: Array<Record<string, unknown>> = [
      { url: 'not a url' },
      { url: 'ftp://ci.example.invalid/hook' },
      { url: 'https://user:password@ci.example.invalid/hook' },
      { url: 'http://169.254.169.254/latest/meta-data' },
      { url: 'http://[fe80::1]/hook' },
      { url: receiverUrl, eventTypes: [] },
      { url: receiverUrl, eventTypes: ['job.exploded'] },
      { url: receiverUrl, eventTypes: ['job.failed', 'job.failed'] },
      { url: receiverUrl, active: 'yes' },
      { url: `https://ci.example.invalid/${'a'.repeat(2000)}` },
      {},
    ];
    for (const body of bad) {
      const response = await api<{ code: string; details: Array<{ field?: string }> }>(
        'POST',
        '/api/v1/webhooks',
        body,
      );
      expectStatus(response, 400);
      assert.equal(response.body.code, 'validation_failed', JSON.stringify(body));
    }
    const credentials = await api<{ details: Array<{ field?: string; reason: string }> }>('POST', '/api/v1/webhooks', {
      url: 'https://user:password@ci.example.invalid/hook',
    });
    assert.equal(credentials.body.details[0].field, 'url');
    assert.match(credentials.body.details[0].reason, /credentials/);
    const webhook = await createWebhook();
    const patch = await api<{ code: string }>('PATCH', `/api/v1/webhooks/${webhook.id}`, {
      url: 'http://a:b@x.invalid/',
    });
    expectStatus(patch, 400);
    assert.equal((await api<WebhookView>('GET', `/api/v1/webhooks/${webhook.id}`)).body.url, receiverUrl);
    assert.equal(await webhookCount(), before + 1);
    expectStatus(await api('DELETE', `/api/v1/webhooks/${webhook.id}`), 200);
  });

  it('pings with a signature the helper verifies, and refuses a replay outside the tolerance', async () => {
    const webhook = await createWebhook();
    const queued = await ping(webhook.id);
    assert.equal(queued.status, 'pending');
    receiver.received.length = 0;
    assert.equal(await worker.runDueDeliveries(), 1);
    assert.equal(receiver.received.length, 1);
    const [request] = receiver.received;
    assert.equal(request.headers['tuneforge-event'], 'ping');
    assert.equal(request.headers['tuneforge-delivery'], queued.id);
    assert.equal(request.headers['content-type'], 'application/json');
    assert.deepEqual(Object.keys(request.body).sort(), ['createdAt', 'data', 'id', 'projectId', 'type']);
    assert.equal(request.body.type, 'ping');
    assert.equal(request.body.id, queued.eventId);
    const header = String(request.headers['tuneforge-signature']);
    assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);
    const signedAt = Number(/t=(\d+)/.exec(header)?.[1]) * 1000;
    assert.equal(
      verifyWebhookSignature(webhook.secret, header, request.rawBody, 300, new Date(signedAt + 1000)).valid,
      true,
    );
    assert.deepEqual(
      verifyWebhookSignature(webhook.secret, header, request.rawBody, 300, new Date(signedAt + 301_000)),
      {
        valid: false,
        reason: 'timestamp_outside_tolerance',
      },
    );
    assert.equal(verifyWebhookSignature('whsec_wrong', header, request.rawBody, 300, new Date(signedAt)).valid, false);
    const detail = await delivery(webhook.id, queued.id);
    assert.equal(detail.status, 'delivered');
    assert.equal(detail.attempts?.length, 1);
    assert.equal(detail.attempts?.[0].responseStatus, 200);
    assert.equal(detail.attempts?.[0].responseExcerpt, 'ok');
    assert.equal(detail.payload?.id, queued.eventId);
    expectStatus(await api('DELETE', `/api/v1/webhooks/${webhook.id}`), 200);
  });

  it('keeps a delivery while the receiver is down and delivers it after retries; gives up after the last attempt', async () => {
    const webhook = await createWebhook();
    receiver.status = 503;
    receiver.body = 'down for maintenance';
    try {
      const queued = await ping(webhook.id);
      assert.equal(await worker.runDueDeliveries(), 1);
      let state = await delivery(webhook.id, queued.id);
      assert.equal(state.status, 'pending');
      assert.equal(state.lastResponseStatus, 503);
      assert.match(String(state.lastError), /only 2xx/);
      assert.equal(state.attempts?.[0].responseExcerpt, 'down for maintenance');
      const retryAt = new Date(String(state.nextAttemptAt)).getTime();
      // Base 10 s with jitter: between 5 and 10 s from now.
      assert.ok(retryAt > Date.now() + 3_000 && retryAt < Date.now() + 11_000, String(state.nextAttemptAt));
      assert.equal(await worker.runDueDeliveries(), 0, 'not due yet');

      receiver.status = 200;
      receiver.body = 'back';
      assert.equal(await worker.runDueDeliveries({ asOf: new Date(Date.now() + HOUR_MS) }), 1);
      state = await delivery(webhook.id, queued.id);
      assert.equal(state.status, 'delivered');
      assert.deepEqual(
        state.attempts?.map((attempt) => attempt.responseStatus),
        [503, 200],
      );

      receiver.status = 500;
      const doomed = await ping(webhook.id);
      // Due by `asOf` after each failure: one call makes all three attempts.
      assert.equal(await worker.runDueDeliveries({ asOf: new Date(Date.now() + 24 * HOUR_MS) }), 3);
      state = await delivery(webhook.id, doomed.id);
      assert.equal(state.status, 'failed');
      assert.equal(state.attemptCount, 3);
      assert.equal(state.nextAttemptAt, null);
      assert.equal(await worker.runDueDeliveries({ asOf: new Date(Date.now() + 24 * HOUR_MS) }), 0);
      const failed = await api<{ data: DeliveryView[] }>(
        'GET',
        `/api/v1/webhooks/${webhook.id}/deliveries?status=failed`,
      );
      assert.deepEqual(
        failed.body.data.map((item) => item.id),
        [doomed.id],
      );
    } finally {
      receiver.status = 200;
      receiver.body = 'ok';
    }
    expectStatus(await api('DELETE', `/api/v1/webhooks/${webhook.id}`), 200);
  });

  it('records a refused connection and keeps the delivery for later', async () => {
    const closed = new Receiver();
    const url = await closed.start();
    await closed.stop();
    const created = await api<WebhookView>('POST', '/api/v1/webhooks', { url });
    expectStatus(created, 201);
    const queued = await ping(created.body.id);
    assert.equal(await worker.runDueDeliveries(), 1);
    const state = await delivery(created.body.id, queued.id);
    assert.equal(state.status, 'pending');
    assert.equal(state.attempts?.[0].responseStatus, null);
    assert.match(String(state.attempts?.[0].error), /ECONNREFUSED/);
    expectStatus(await api('DELETE', `/api/v1/webhooks/${created.body.id}`), 200);
  });

  it('redelivers an event with the same event id as a new delivery', async () => {
    const webhook = await createWebhook();
    const queued = await ping(webhook.id);
    await worker.runDueDeliveries();
    receiver.received.length = 0;
    const again = await api<DeliveryView>('POST', `/api/v1/webhooks/${webhook.id}/deliveries/${queued.id}/redeliver`);
    expectStatus(again, 202);
    assert.notEqual(again.body.id, queued.id);
    assert.equal(again.body.eventId, queued.eventId);
    assert.equal(again.body.redeliveryOf, queued.id);
    assert.equal(await worker.runDueDeliveries(), 1);
    assert.equal(receiver.received[0].body.id, queued.eventId);
    assert.equal(receiver.received[0].headers['tuneforge-delivery'], again.body.id);
    assert.equal((await delivery(webhook.id, again.body.id)).status, 'delivered');

    expectStatus(await api('PATCH', `/api/v1/webhooks/${webhook.id}`, { active: false }), 200);
    const inactive = await api<{ code: string }>('POST', `/api/v1/webhooks/${webhook.id}/ping`);
    expectStatus(inactive, 409);
    assert.equal(inactive.body.code, 'invalid_state');
    expectStatus(await api('DELETE', `/api/v1/webhooks/${webhook.id}`), 200);
  });

  it('rotates the secret: shown once, and both secrets sign during the grace period', async () => {
    const webhook = await createWebhook();
    const rotated = await api<WebhookView>('POST', `/api/v1/webhooks/${webhook.id}/rotate-secret`, {
      previousSecretValidSeconds: 3600,
    });
    expectStatus(rotated, 200);
    const newSecret = String(rotated.body.secret);
    assert.match(newSecret, /^whsec_/);
    assert.notEqual(newSecret, webhook.secret);
    assert.ok(rotated.body.previousSecretExpiresAt);
    receiver.received.length = 0;
    await ping(webhook.id);
    await worker.runDueDeliveries();
    const [graceful] = receiver.received;
    const header = String(graceful.headers['tuneforge-signature']);
    assert.match(header, /^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature(newSecret, header, graceful.rawBody).valid, true);
    assert.equal(verifyWebhookSignature(webhook.secret, header, graceful.rawBody).valid, true);

    const final = await api<WebhookView>('POST', `/api/v1/webhooks/${webhook.id}/rotate-secret`, {
      previousSecretValidSeconds: 0,
    });
    expectStatus(final, 200);
    assert.equal(final.body.previousSecretExpiresAt, null);
    receiver.received.length = 0;
    await ping(webhook.id);
    await worker.runDueDeliveries();
    const [after] = receiver.received;
    const afterHeader = String(after.headers['tuneforge-signature']);
    assert.equal(verifyWebhookSignature(String(final.body.secret), afterHeader, after.rawBody).valid, true);
    assert.equal(verifyWebhookSignature(newSecret, afterHeader, after.rawBody).valid, false);
    const bad = await api('POST', `/api/v1/webhooks/${webhook.id}/rotate-secret`, { previousSecretValidSeconds: -1 });
    expectStatus(bad, 400);
    expectStatus(await api('DELETE', `/api/v1/webhooks/${webhook.id}`), 200);
  });

  it("keeps projects apart: another project's webhooks answer 404, and scopes are enforced", async () => {
    const webhook = await createWebhook();
    const queued = await ping(webhook.id);
    const project = await api<{ id: string }>('POST', '/api/v1/projects', { name: 'webhook-outsiders' });
    const outsiderKey = await api<{ secret: string }>('POST', '/api/v1/api-keys', {
      projectId: project.body.id,
      name: 'outsider',
      scopes: ['admin'],
    });
    const outsider = apiClient(testApp.baseUrl, outsiderKey.body.secret);
    for (const [method, path, body] of [
      ['GET', `/api/v1/webhooks/${webhook.id}`],
      ['PATCH', `/api/v1/webhooks/${webhook.id}`, { active: false }],
      ['DELETE', `/api/v1/webhooks/${webhook.id}`],
      ['POST', `/api/v1/webhooks/${webhook.id}/ping`],
      ['POST', `/api/v1/webhooks/${webhook.id}/rotate-secret`, {}],
      ['GET', `/api/v1/webhooks/${webhook.id}/deliveries`],
      ['GET', `/api/v1/webhooks/${webhook.id}/deliveries/${queued.id}`],
      ['POST', `/api/v1/webhooks/${webhook.id}/deliveries/${queued.id}/redeliver`],
    ] as const) {
      const response = await outsider<{ code: string }>(method, path, body);
      expectStatus(response, 404);
      assert.equal(response.body.code, 'not_found');
    }
    const theirs = await outsider<{ data: WebhookView[] }>('GET', '/api/v1/webhooks');
    assert.deepEqual(theirs.body.data, []);

    const readerKey = await api<{ secret: string }>('POST', '/api/v1/api-keys', {
      name: 'webhook-reader',
      scopes: ['webhooks:read'],
    });
    const reader = apiClient(testApp.baseUrl, readerKey.body.secret);
    expectStatus(await reader('GET', `/api/v1/webhooks/${webhook.id}`), 200);
    const refused = await reader<{ code: string }>('POST', '/api/v1/webhooks', { url: receiverUrl });
    expectStatus(refused, 403);
    assert.equal(refused.body.code, 'insufficient_scope');
    const datasetsOnly = await api<{ secret: string }>('POST', '/api/v1/api-keys', {
      name: 'datasets-only',
      scopes: ['datasets:read'],
    });
    expectStatus(await apiClient(testApp.baseUrl, datasetsOnly.body.secret)('GET', '/api/v1/webhooks'), 403);
    await worker.runDueDeliveries();
    expectStatus(await api('DELETE', `/api/v1/webhooks/${webhook.id}`), 200);
  });

  it('writes deliveries in the transaction of the change: a rolled-back change sends nothing', async () => {
    const webhook = await createWebhook();
    const publisher = testApp.app.get(WebhookPublisher);
    const projectId = (await api<{ project: { id: string } }>('GET', '/api/v1/me')).body.project.id;
    const data = {
      evaluationId: crypto.randomUUID(),
      modelVersionId: crypto.randomUUID(),
      datasetVersionId: crypto.randomUUID(),
      status: 'succeeded' as const,
      metrics: { accuracy: 0.9 },
    };
    await assert.rejects(
      testApp.dataSource.transaction(async (manager) => {
        assert.equal(await publisher.publish(projectId, 'evaluation.completed', data, { manager }), 1);
        throw new Error('the change fails');
      }),
    );
    assert.deepEqual(await deliveries(webhook.id), []);
    await testApp.dataSource.transaction(async (manager) => {
      await publisher.publish(projectId, 'evaluation.completed', data, { manager });
    });
    assert.deepEqual(
      (await deliveries(webhook.id)).map((item) => item.eventType),
      ['evaluation.completed'],
    );
    await worker.runDueDeliveries();
    expectStatus(await api('DELETE', `/api/v1/webhooks/${webhook.id}`), 200);
  });

  it("delivers a dataset's and a job's events in the order they happened, filtered by type", async () => {
    const all = await createWebhook({ description: 'everything' });
    const jobsOnly = await createWebhook({ eventTypes: ['job.started', 'job.succeeded', 'job.cancelled'] });
    receiver.received.length = 0;
    const datasetId = await uploadDataset(api, 'webhook-data', 'classification', sentimentRows(60, 3));
    const created = await api<JobView>('POST', '/api/v1/jobs', {
      model: { family: 'mlp', hiddenSizes: [8] },
      trainingData: { datasetId, version: 1 },
      hyperparameters: { epochs: 1, batchSize: 16 },
      outputModelName: 'webhook-model',
    });
    expectStatus(created, 201);
    const job = await waitForJob(api, created.body.id, ended);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    const cancelled = await api<JobView>('POST', '/api/v1/jobs', {
      model: { family: 'mlp', hiddenSizes: [8] },
      trainingData: { datasetId, version: 1 },
      outputModelName: 'webhook-model-2',
      resources: { priority: 0 },
    });
    expectStatus(cancelled, 201);
    const cancel = await api<JobView>('POST', `/api/v1/jobs/${cancelled.body.id}/cancel`);
    assert.ok([200, 409].includes(cancel.status), JSON.stringify(cancel.body));
    const second = await waitForJob(api, cancelled.body.id, ended);
    // Cancelled while queued, after it started, or (tiny job, fast trainer) finished first: its events say which.
    const secondStarted = (await jobEvents(api, cancelled.body.id)).some((event) => event.kind === 'started');
    const secondJob = (all: boolean) => [
      ...(secondStarted ? ['job.started'] : []),
      ...(second.status === 'cancelled'
        ? ['job.cancelled']
        : [...(all ? ['model.version.created'] : []), 'job.succeeded']),
    ];

    // Each round sends at most one delivery per subscription, the oldest first.
    while ((await worker.runDueDeliveries()) > 0) {
      // until nothing is due
    }
    const webhookOf = new Map<string, string>();
    for (const webhook of [all, jobsOnly]) {
      for (const item of await deliveries(webhook.id)) {
        webhookOf.set(item.id, webhook.id);
        assert.equal(item.status, 'delivered', `${item.eventType}: ${item.lastError}`);
      }
    }
    const sentTo = (webhookId: string) =>
      receiver.received.filter((request) => webhookOf.get(String(request.headers['tuneforge-delivery'])) === webhookId);
    assert.deepEqual(
      sentTo(all.id).map((request) => request.body.type),
      ['dataset.version.created', 'job.started', 'model.version.created', 'job.succeeded', ...secondJob(true)],
    );
    assert.deepEqual(
      sentTo(jobsOnly.id).map((request) => request.body.type),
      ['job.started', 'job.succeeded', ...secondJob(false)],
    );
    const succeeded = sentTo(all.id).find((request) => request.body.type === 'job.succeeded');
    assert.equal(succeeded?.body.data.jobId, job.id);
    assert.equal(succeeded?.body.data.modelVersionId, job.resultModelVersionId);
    const modelCreated = sentTo(all.id).find((request) => request.body.type === 'model.version.created');
    assert.equal(modelCreated?.body.data.sourceJobId, job.id);
    assert.equal(modelCreated?.body.data.modelName, 'webhook-model');
    const datasetCreated = sentTo(all.id)[0];
    assert.equal(datasetCreated.body.data.datasetId, datasetId);
    assert.equal(datasetCreated.body.data.version, 1);
    for (const webhook of [all, jobsOnly]) {
      expectStatus(await api('DELETE', `/api/v1/webhooks/${webhook.id}`), 200);
    }
  });
  it('counts deliveries by outcome in /metrics', async () => {
    const metrics = await fetch(`${testApp.baseUrl}/metrics`, {
      headers: { Authorization: `Bearer ${testApp.adminKey}` },
    });
    const text = await metrics.text();
    assert.equal(metrics.status, 200, text);
    const count = (outcome: string) =>
      Number(new RegExp(`tuneforge_webhook_deliveries_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1]);
    assert.ok(count('delivered') >= 5, text);
    assert.ok(count('retrying') >= 1);
    assert.ok(count('failed') >= 1);
  });
});

describe('webhook sender', () => {
  const receiver = new Receiver();
  let url: string;
  const sender = (allowPrivateAddresses: boolean, timeoutMs = 10_000) =>
    new WebhookSender({ webhooks: { allowPrivateAddresses, timeoutMs } } as unknown as AppConfig);
  const send = (allowPrivate: boolean, timeoutMs?: number, target = url) =>
    sender(allowPrivate, timeoutMs).send({
      url: target,
      headers: { 'Content-Type': 'application/json' },
      body: '{"id":"x"}',
    });

  before(async () => {
    url = await receiver.start();
  });
  after(async () => {
    await receiver.stop();
  });

  it('does not connect to loopback when private addresses are refused', async () => {
    receiver.received.length = 0;
    const refused = await send(false);
    assert.equal(refused.kind, 'error');
    assert.match(String(refused.error), /may not reach/);
    const byName = await send(false, undefined, url.replace('127.0.0.1', 'localhost'));
    assert.match(String(byName.error), /localhost resolves to/);
    assert.equal(receiver.received.length, 0);
    assert.equal((await send(true)).status, 200);
  });

  it('does not follow redirects and keeps only the start of a long answer', async () => {
    receiver.status = 302;
    receiver.headers = { Location: 'http://169.254.169.254/' };
    const redirect = await send(true);
    assert.equal(redirect.status, 302);
    receiver.status = 200;
    receiver.headers = {};
    receiver.body = 'x'.repeat(100_000);
    const long = await send(true);
    assert.equal(long.kind, 'response');
    assert.equal(long.excerpt?.length, 1024);
    receiver.body = 'ok';
  });

  it('gives up on a receiver that does not answer in time', async () => {
    receiver.hang = true;
    try {
      const result = await send(true, 200);
      assert.equal(result.kind, 'error');
      assert.match(String(result.error), /no answer within 200 ms/);
    } finally {
      receiver.hang = false;
    }
  });
});
