import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './support/test-app.js';

interface ErrorBody {
  status: number;
  code: string;
  message: string;
  details: { field?: string; reason: string }[];
  requestId: string;
}

function assertErrorShape(body: unknown, status: number, code: string): ErrorBody {
  const error = body as ErrorBody;
  assert.equal(error.status, status);
  assert.equal(error.code, code);
  assert.equal(typeof error.message, 'string');
  assert.ok(Array.isArray(error.details));
  assert.match(error.requestId, /^[A-Za-z0-9._-]+$/);
  assert.deepEqual(Object.keys(error).sort(), ['code', 'details', 'message', 'requestId', 'status']);
  return error;
}

describe('bad input gets a clear 4xx in the error shape and changes nothing', () => {
  let testApp: TestApp;
  const keyCount = async () => {
    const rows: { n: string }[] = await testApp.dataSource.query('SELECT count(*) AS n FROM api_keys');
    return Number(rows[0].n);
  };
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${testApp.baseUrl}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${testApp.adminKey}`, 'Content-Type': 'application/json', ...headers },
      body,
    });

  before(async () => {
    testApp = await startTestApp({ JSON_BODY_LIMIT: '4kb' });
  });
  after(async () => {
    await testApp.close();
  });

  it('malformed JSON: 400 malformed_json', async () => {
    const before = await keyCount();
    const response = await post('/api/v1/api-keys', '{"name": "x", "scopes": [');
    assertErrorShape(await response.json(), 400, 'malformed_json');
    assert.equal(await keyCount(), before);
  });

  it('unknown fields: 400 validation_failed naming the field', async () => {
    const before = await keyCount();
    const response = await post('/api/v1/api-keys', JSON.stringify({ name: 'x', scopes: ['admin'], superuser: true }));
    const error = assertErrorShape(await response.json(), 400, 'validation_failed');
    assert.ok(
      error.details.some((detail) => detail.field === 'superuser'),
      JSON.stringify(error.details),
    );
    assert.equal(await keyCount(), before);
  });

  it('wrong types and values: 400 with every failing field', async () => {
    const before = await keyCount();
    const response = await post(
      '/api/v1/api-keys',
      JSON.stringify({ name: 42, scopes: ['root', 'admin'], expiresAt: 'soon' }),
    );
    const error = assertErrorShape(await response.json(), 400, 'validation_failed');
    const fields = new Set(error.details.map((detail) => detail.field));
    assert.ok(fields.has('name') && fields.has('scopes') && fields.has('expiresAt'), JSON.stringify(error.details));
    assert.equal(await keyCount(), before);
  });

  it('a JSON array or scalar instead of an object: 400', async () => {
    for (const body of ['[]', '"text"', 'null']) {
      const response = await post('/api/v1/api-keys', body);
      assert.equal(response.status, 400, body);
      assert.equal(((await response.json()) as ErrorBody).status, 400);
    }
  });

  it('oversized bodies: 413 payload_too_large', async () => {
    const before = await keyCount();
    const response = await post('/api/v1/api-keys', JSON.stringify({ name: 'x'.repeat(10_000), scopes: ['admin'] }));
    assertErrorShape(await response.json(), 413, 'payload_too_large');
    assert.equal(await keyCount(), before);
  });

  it('bad path parameters: 400 naming the parameter, not a database error', async () => {
    const response = await fetch(`${testApp.baseUrl}/api/v1/api-keys/not-a-uuid`, {
      headers: { Authorization: `Bearer ${testApp.adminKey}` },
    });
    const error = assertErrorShape(await response.json(), 400, 'validation_failed');
    assert.deepEqual(error.details, [{ field: 'apiKeyId', reason: 'must be a UUID' }]);
  });

  it('unknown routes: 404 route_not_found in the same shape', async () => {
    for (const path of ['/api/v1/nothing-here', '/nope', '/api/v2/me']) {
      const response = await fetch(`${testApp.baseUrl}${path}`);
      const error = assertErrorShape(await response.json(), 404, 'route_not_found');
      assert.equal(response.headers.get('x-request-id'), error.requestId);
    }
  });

  it('echoes a sane X-Request-Id and replaces an unsafe one', async () => {
    const kept = await fetch(`${testApp.baseUrl}/nope`, { headers: { 'X-Request-Id': 'my-trace-123' } });
    assert.equal(((await kept.json()) as ErrorBody).requestId, 'my-trace-123');
    const replaced = await fetch(`${testApp.baseUrl}/nope`, { headers: { 'X-Request-Id': 'bad id with spaces' } });
    assert.notEqual(((await replaced.json()) as ErrorBody).requestId, 'bad id with spaces');
  });
});

describe('health, metrics and docs', () => {
  let testApp: TestApp;
  before(async () => {
    testApp = await startTestApp();
  });
  after(async () => {
    await testApp.close();
  });

  it('serves liveness and readiness without a key', async () => {
    const live = await fetch(`${testApp.baseUrl}/health/live`);
    assert.equal(live.status, 200);
    const ready = await fetch(`${testApp.baseUrl}/health/ready`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { status: string; database: { status: string }; storage: { status: string } };
    assert.equal(body.status, 'ok');
    assert.equal(body.database.status, 'ok');
    assert.equal(body.storage.status, 'ok');
  });

  it('serves the OpenAPI document and Swagger UI without a key', async () => {
    const spec = await fetch(`${testApp.baseUrl}/openapi.json`);
    assert.equal(spec.status, 200);
    const document = (await spec.json()) as { openapi: string; paths: Record<string, unknown> };
    assert.match(document.openapi, /^3\./);
    assert.ok(document.paths['/api/v1/me']);
    const ui = await fetch(`${testApp.baseUrl}/docs`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /swagger/i);
  });

  it('exports Prometheus metrics by route template and status, to metrics:read keys', async () => {
    await fetch(`${testApp.baseUrl}/api/v1/me`, { headers: { Authorization: `Bearer ${testApp.adminKey}` } });
    assert.equal((await fetch(`${testApp.baseUrl}/metrics`)).status, 401);
    const created = await fetch(`${testApp.baseUrl}/api/v1/api-keys`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${testApp.adminKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'prometheus', scopes: ['metrics:read'] }),
    });
    const { secret } = (await created.json()) as { secret: string };
    const response = await fetch(`${testApp.baseUrl}/metrics`, { headers: { Authorization: `Bearer ${secret}` } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
    const text = await response.text();
    assert.match(
      text,
      /tuneforge_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/me",status="200"\} \d+/,
    );
    assert.match(text, /route="\/api\/v1\/api-keys",status="201"/);
  });
});
