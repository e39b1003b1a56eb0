import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from '../clients/typescript/src/client/index.js';
import {
  createApiKey,
  createProject,
  getApiKey,
  getMe,
  getReadiness,
  listApiKeys,
  listAuditEvents,
  revokeApiKey,
} from '../clients/typescript/src/sdk.gen.js';
import { startTestApp, type TestApp } from './support/test-app.js';

/** The generated SDK against the real app: a broken spec or client fails here. */
describe('generated TypeScript SDK', () => {
  let testApp: TestApp;
  const clientFor = (key?: string) => createClient({ baseUrl: testApp.baseUrl, auth: key });

  before(async () => {
    testApp = await startTestApp();
  });
  after(async () => {
    await testApp.close();
  });

  it('drives projects and keys end to end', async () => {
    const admin = clientFor(testApp.adminKey);
    const me = await getMe({ client: admin, throwOnError: true });
    assert.equal(me.data.project.isRoot, true);

    const project = await createProject({
      client: admin,
      body: { name: 'sdk-team', description: 'made by the SDK' },
      throwOnError: true,
    });
    assert.equal(project.response.status, 201);
    const key = await createApiKey({
      client: admin,
      body: { name: 'sdk-ci', scopes: ['datasets:read', 'jobs:write'], projectId: project.data.id },
      throwOnError: true,
    });
    // Optional in the type: a replayed (Idempotency-Key) creation leaves the secret out.
    const secret = key.data.secret ?? '';
    assert.match(secret, /^tf_[A-Za-z0-9]{40}$/);
    assert.equal(key.data.state, 'active');

    const teamMe = await getMe({ client: clientFor(secret), throwOnError: true });
    assert.equal(teamMe.data.project.id, project.data.id);
    assert.deepEqual(teamMe.data.apiKey.scopes, ['datasets:read', 'jobs:write']);

    const listed = await listApiKeys({ client: admin, query: { projectId: project.data.id }, throwOnError: true });
    assert.deepEqual(
      listed.data.data.map((item) => item.id),
      [key.data.id],
    );
    assert.equal((listed.data.data[0] as Record<string, unknown>).secret, undefined);

    const revoked = await revokeApiKey({ client: admin, path: { apiKeyId: key.data.id }, throwOnError: true });
    assert.equal(revoked.data.state, 'revoked');
    const fetched = await getApiKey({ client: admin, path: { apiKeyId: key.data.id }, throwOnError: true });
    assert.ok(fetched.data.revokedAt);

    const audit = await listAuditEvents({ client: admin, throwOnError: true });
    const actions = audit.data.data.map((event) => event.action);
    for (const action of ['createProject', 'createApiKey', 'revokeApiKey']) {
      assert.ok(actions.includes(action), `${action} audited`);
    }
  });

  it('returns typed errors', async () => {
    const anonymous = await getMe({ client: clientFor() });
    assert.equal(anonymous.response.status, 401);
    assert.equal(anonymous.error?.code, 'unauthenticated');

    const invalid = await createApiKey({
      client: clientFor(testApp.adminKey),
      body: { name: '', scopes: [] },
    });
    assert.equal(invalid.response.status, 400);
    assert.equal(invalid.error?.code, 'validation_failed');
    assert.ok(invalid.error?.details.some((detail) => detail.field === 'scopes'));
  });

  it('reads readiness without a key', async () => {
    const ready = await getReadiness({ client: clientFor(), throwOnError: true });
    assert.equal(ready.data.status, 'ok');
  });
});
