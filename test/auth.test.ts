import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AuthService } from '../src/auth/auth.service.js';
import { Clock } from '../src/platform/clock.js';
import { buildOpenApiDocument } from '../src/platform/openapi.js';
import { startTestApp, type TestApp } from './support/test-app.js';

interface ErrorBody {
  status: number;
  code: string;
  message: string;
  details: { field?: string; reason: string }[];
  requestId: string;
}

describe('authentication, scopes and tenants', () => {
  let testApp: TestApp;
  const call = async (method: string, path: string, key?: string, body?: unknown) => {
    const response = await fetch(`${testApp.baseUrl}${path}`, {
      method,
      headers: {
        ...(key ? { Authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  };
  const createKey = async (key: string, request: Record<string, unknown>) => {
    const response = await call('POST', '/api/v1/api-keys', key, request);
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return response.body as { id: string; secret: string; projectId: string };
  };

  before(async () => {
    testApp = await startTestApp();
  });
  after(async () => {
    await testApp.close();
  });

  it('answers 401 on every /api/v1 operation without a key', async () => {
    const document = buildOpenApiDocument(testApp.app);
    let checked = 0;
    for (const [template, operations] of Object.entries(document.paths)) {
      if (!template.startsWith('/api/v1/')) {
        continue;
      }
      for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
        if (!operations[method]) {
          continue;
        }
        const path = template.replace(/\{[^}]+\}/g, randomUUID());
        const response = await call(
          method.toUpperCase(),
          path,
          undefined,
          method === 'get' || method === 'delete' ? undefined : {},
        );
        assert.equal(response.status, 401, `${method} ${template}`);
        assert.equal((response.body as unknown as ErrorBody).code, 'unauthenticated');
        assert.match(response.headers.get('www-authenticate') ?? '', /Bearer/);
        checked += 1;
      }
    }
    assert.ok(checked >= 8, `only ${checked} operations checked`);
  });

  it('answers 401 for malformed, unknown and revoked keys', async () => {
    assert.equal((await call('GET', '/api/v1/me', 'not-a-key')).status, 401);
    assert.equal((await call('GET', '/api/v1/me', `tf_${'x'.repeat(40)}`)).status, 401);
    const key = await createKey(testApp.adminKey, { name: 'short-lived', scopes: ['datasets:read'] });
    assert.equal((await call('GET', '/api/v1/me', key.secret)).status, 200);
    const revoked = await call('DELETE', `/api/v1/api-keys/${key.id}`, testApp.adminKey);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.state, 'revoked');
    const after = await call('GET', '/api/v1/me', key.secret);
    assert.equal(after.status, 401);
    assert.equal((after.body as unknown as ErrorBody).message, 'The API key has been revoked');
  });

  it('shows the caller its key and project, never a secret', async () => {
    const me = await call('GET', '/api/v1/me', testApp.adminKey);
    assert.equal(me.status, 200);
    const apiKey = me.body.apiKey as Record<string, unknown>;
    assert.deepEqual(apiKey.scopes, ['admin']);
    assert.equal(apiKey.secret, undefined);
    assert.equal(apiKey.displayPrefix, testApp.adminKey.slice(0, 11));
    assert.equal((me.body.project as Record<string, unknown>).isRoot, true);
    assert.doesNotMatch(JSON.stringify(me.body), new RegExp(testApp.adminKey));
  });

  it('answers 403 when the key lacks the scope, and audits the refusal', async () => {
    const reader = await createKey(testApp.adminKey, { name: 'reader', scopes: ['datasets:read'] });
    const response = await call('POST', '/api/v1/api-keys', reader.secret, { name: 'escalate', scopes: ['admin'] });
    assert.equal(response.status, 403);
    assert.equal((response.body as unknown as ErrorBody).code, 'insufficient_scope');
    const events = await call('GET', '/api/v1/audit-events?action=createApiKey', testApp.adminKey);
    const refused = (events.body.data as { apiKeyId: string; status: number }[]).find(
      (event) => event.apiKeyId === reader.id,
    );
    assert.equal(refused?.status, 403);
  });

  it('keeps projects apart: another project answers 404, not 403', async () => {
    const project = await call('POST', '/api/v1/projects', testApp.adminKey, { name: 'tenant-b' });
    assert.equal(project.status, 201);
    const tenantAdmin = await createKey(testApp.adminKey, {
      name: 'b-admin',
      scopes: ['admin'],
      projectId: project.body.id,
    });
    const me = await call('GET', '/api/v1/me', testApp.adminKey);
    const rootProjectId = (me.body.project as { id: string }).id;
    const rootKeyId = (me.body.apiKey as { id: string }).id;

    for (const path of [
      `/api/v1/projects/${rootProjectId}`,
      `/api/v1/api-keys/${rootKeyId}`,
      `/api/v1/api-keys?projectId=${rootProjectId}`,
      `/api/v1/audit-events?projectId=${rootProjectId}`,
    ]) {
      const response = await call('GET', path, tenantAdmin.secret);
      assert.equal(response.status, 404, path);
      assert.equal((response.body as unknown as ErrorBody).code, 'not_found');
    }
    const revoke = await call('DELETE', `/api/v1/api-keys/${rootKeyId}`, tenantAdmin.secret);
    assert.equal(revoke.status, 404);
    assert.equal((await call('GET', '/api/v1/me', testApp.adminKey)).status, 200, 'the root key still works');

    const listed = await call('GET', '/api/v1/projects', tenantAdmin.secret);
    assert.deepEqual(
      (listed.body.data as { name: string }[]).map((p) => p.name),
      ['tenant-b'],
    );
    const keys = await call('GET', '/api/v1/api-keys', tenantAdmin.secret);
    assert.ok((keys.body.data as { projectId: string }[]).every((key) => key.projectId === project.body.id));

    const projectCreation = await call('POST', '/api/v1/projects', tenantAdmin.secret, { name: 'tenant-c' });
    assert.equal(projectCreation.status, 403, 'only root-project admins create projects');
    const metricsKey = await call('POST', '/api/v1/api-keys', tenantAdmin.secret, {
      name: 'm',
      scopes: ['metrics:read'],
    });
    assert.equal(metricsKey.status, 400, 'instance scopes stay in the root project');
    const metrics = await fetch(`${testApp.baseUrl}/metrics`, {
      headers: { Authorization: `Bearer ${tenantAdmin.secret}` },
    });
    assert.equal(metrics.status, 403, 'a project admin does not read instance metrics');
  });

  it('writes an audit row for each mutating call with key, project, action, target and request id', async () => {
    const response = await fetch(`${testApp.baseUrl}/api/v1/api-keys`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${testApp.adminKey}`,
        'Content-Type': 'application/json',
        'X-Request-Id': 'audit-test-1',
      },
      body: JSON.stringify({ name: 'audited', scopes: ['jobs:read'] }),
    });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('x-request-id'), 'audit-test-1');
    const created = (await response.json()) as { id: string };
    const events = await call('GET', '/api/v1/audit-events', testApp.adminKey);
    const event = (events.body.data as Record<string, unknown>[]).find((row) => row.requestId === 'audit-test-1');
    assert.ok(event, 'audit row present');
    assert.equal(event.action, 'createApiKey');
    assert.equal(event.targetType, 'api-keys');
    assert.equal(event.targetId, created.id);
    assert.equal(event.status, 201);
    assert.equal(event.method, 'POST');
    assert.ok(event.apiKeyId);
  });

  it('paginates with cursors', async () => {
    for (let index = 0; index < 3; index += 1) {
      await createKey(testApp.adminKey, { name: `page-${index}`, scopes: ['models:read'] });
    }
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await call('GET', `/api/v1/api-keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`, testApp.adminKey);
      assert.equal(page.status, 200);
      for (const key of page.body.data as { id: string }[]) {
        assert.ok(!seen.has(key.id), 'no key twice');
        seen.add(key.id);
      }
      cursor = page.body.nextCursor as string | null;
      pages += 1;
    } while (cursor && pages < 50);
    const all = await call('GET', '/api/v1/api-keys?limit=200', testApp.adminKey);
    assert.equal(seen.size, (all.body.data as unknown[]).length);
    assert.ok(pages >= 3);
    const bad = await call('GET', '/api/v1/api-keys?cursor=bm9wZQ', testApp.adminKey);
    assert.equal(bad.status, 400);
  });
});

describe('rate limiting', () => {
  let testApp: TestApp;
  before(async () => {
    testApp = await startTestApp({ RATE_LIMIT_PER_MINUTE: '60', RATE_LIMIT_BURST: '3' });
  });
  after(async () => {
    await testApp.close();
  });

  it('answers 429 with Retry-After once a key spends its burst', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let index = 0; index < 5; index += 1) {
      last = await fetch(`${testApp.baseUrl}/api/v1/me`, { headers: { Authorization: `Bearer ${testApp.adminKey}` } });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses.slice(0, 3), [200, 200, 200]);
    assert.equal(statuses[4], 429);
    assert.ok(Number(last?.headers.get('retry-after')) >= 1);
    const body = (await last?.json()) as ErrorBody;
    assert.equal(body.code, 'rate_limited');
  });
});

describe('failed authentications per client address', () => {
  let testApp: TestApp;
  let lookups = 0;
  let nowMs = Date.parse('2026-12-01T10:00:00Z');
  const me = (key: string) => fetch(`${testApp.baseUrl}/api/v1/me`, { headers: { Authorization: `Bearer ${key}` } });
  const randomKey = () => `tf_${randomUUID().replaceAll('-', '')}abcdefgh`;

  before(async () => {
    testApp = await startTestApp({ AUTH_FAILURE_BURST: '4', AUTH_FAILURE_PER_MINUTE: '6' });
    // The test sets the time, so the refill is driven by the test rather than by waiting.
    testApp.app.get(Clock).now = () => new Date(nowMs);
    const auth = testApp.app.get(AuthService);
    const authenticate = auth.authenticate.bind(auth);
    auth.authenticate = (token: string) => {
      lookups += 1;
      return authenticate(token);
    };
  });
  after(async () => {
    await testApp.close();
  });

  it('refuses an address with 429 after its failures, before any key lookup, until the allowance refills', async () => {
    // Successful calls spend nothing.
    for (let index = 0; index < 6; index += 1) {
      assert.equal((await me(testApp.adminKey)).status, 200);
    }
    for (let index = 0; index < 4; index += 1) {
      assert.equal((await me(randomKey())).status, 401);
    }
    const before = lookups;
    const refused = await me(randomKey());
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '10');
    const body = (await refused.json()) as ErrorBody;
    assert.equal(body.code, 'rate_limited');
    assert.match(body.message, /failed authentications/);
    // A valid key (even one verified moments ago and cached) is refused too, without a lookup.
    assert.equal((await me(testApp.adminKey)).status, 429);
    assert.equal(lookups, before, 'a refused address still caused key lookups');

    // One token back after 10 s (6 a minute): the valid key works, and keeps working.
    nowMs += 10_000;
    assert.equal((await me(testApp.adminKey)).status, 200);
    assert.equal((await me(testApp.adminKey)).status, 200);
    // One more failure spends that token again.
    assert.equal((await me(randomKey())).status, 401);
    assert.equal((await me(testApp.adminKey)).status, 429);
  });
});
