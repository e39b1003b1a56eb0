/**
 * Spec-driven fuzzing: for every operation in the app's own OpenAPI document, a bounded, seeded set
 * of valid and hostile requests (huge and signed integers, NUL characters, wrong types, unknown and
 * prototype keys, forged cursors, deep nesting, malformed JSON, wrong content types, no key). Every
 * response must be a declared status with its declared content type and schema, and none a 5xx.
 * Operations added later are covered without touching this file.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OpenAPIObject } from '@nestjs/swagger';
import { apiClient, expectStatus } from './support/api.js';
import {
  HOSTILE_STRINGS,
  hostileCursors,
  SpecFuzzer,
  type FuzzRequest,
  type Schema,
  type SpecOperation,
} from './support/spec-fuzzer.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { jsonl, sentimentRows, uploadDataset } from './support/training-data.js';

const SEED = 20261204;
/** Requests of each kind per operation: keeps the run near a minute on a slow machine. */
const VALID_REQUESTS = 3;
const HOSTILE_BODY_FIELDS = 4;

describe('spec-driven fuzzing of every operation', () => {
  let testApp: TestApp;
  let spec: OpenAPIObject;
  const fixtures: Record<string, string> = {};
  /** Besides the root admin key: one with only datasets:read, and an admin key of another project. */
  const keys: Record<string, string> = {};

  before(async () => {
    testApp = await startTestApp({ RATE_LIMIT_PER_MINUTE: '100000', JSON_BODY_LIMIT: '1mb' });
    const api = apiClient(testApp.baseUrl, testApp.adminKey);
    const specResponse = await fetch(`${testApp.baseUrl}/openapi.json`);
    spec = (await specResponse.json()) as OpenAPIObject;

    const project = await api<{ id: string }>('POST', '/api/v1/projects', { name: 'fuzz-fixtures' });
    expectStatus(project, 201);
    fixtures.projectId = project.body.id;
    const key = await api<{ id: string; secret: string }>('POST', '/api/v1/api-keys', {
      name: 'fuzz-narrow',
      scopes: ['datasets:read'],
    });
    expectStatus(key, 201);
    fixtures.apiKeyId = key.body.id;
    keys.narrow = key.body.secret;
    const outsider = await api<{ secret: string }>('POST', '/api/v1/api-keys', {
      name: 'fuzz-outsider',
      projectId: project.body.id,
      scopes: ['admin'],
    });
    expectStatus(outsider, 201);
    keys.outsider = outsider.body.secret;
    fixtures.datasetId = await uploadDataset(api, 'fuzz-dataset', 'classification', sentimentRows(30, 7));
    fixtures.version = '1';
    keys.admin = testApp.adminKey;
    const job = await api<{ id: string }>('POST', '/api/v1/jobs', {
      model: { family: 'gpt2', nLayer: 1, nHead: 2, nEmbd: 32, vocabSize: 300 },
      trainingData: { datasetId: fixtures.datasetId, version: 1 },
      hyperparameters: { epochs: 1, batchSize: 4, sequenceLength: 16 },
      outputModelName: 'fuzz-model',
    });
    expectStatus(job, 201);
    fixtures.jobId = job.body.id;
    fixtures.modelName = 'fuzz-model';
  });
  after(async () => {
    await testApp?.close();
  });

  it('answers every generated request with a declared status, content type and schema, and no 5xx', async () => {
    const fuzzer = new SpecFuzzer(spec, SEED);
    // Destructive operations last, so the others see the fixtures alive first.
    const operations = fuzzer
      .operations()
      .sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
    assert.ok(operations.length >= 30, `the spec lists only ${operations.length} operations`);

    const problems = new Map<string, string[]>();
    let requests = 0;
    const statuses = new Map<number, number>();
    for (const operation of operations) {
      for (const request of requestsFor(fuzzer, operation, fixtures, keys)) {
        const response = await fetch(`${testApp.baseUrl}${request.path}`, {
          method: request.method,
          headers: request.headers,
          body: request.body,
        });
        const text = await response.text();
        requests++;
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        for (const problem of fuzzer.check(operation, response.status, response.headers.get('content-type'), text)) {
          const key = `${operation.id}: ${problem.split(':')[0]}`;
          const seen = problems.get(key) ?? [];
          seen.push(`${request.label} ${request.method} ${request.path.slice(0, 120)} -> ${problem}`);
          problems.set(key, seen);
        }
      }
    }
    const report = [...problems.entries()].map(([key, seen]) => `${key} (${seen.length}x), e.g. ${seen[0]}`);
    const histogram = [...statuses.entries()].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`);
    console.log(
      `fuzz: ${operations.length} operations, ${requests} requests (${histogram.join(', ')}), ${problems.size} distinct problems`,
    );
    assert.deepEqual(report, [], `\n${report.join('\n')}`);
  });
});

function requestsFor(
  fuzzer: SpecFuzzer,
  operation: SpecOperation,
  fixtures: Record<string, string>,
  keys: Record<string, string>,
): FuzzRequest[] {
  const pathParameters = operation.parameters.filter((parameter) => parameter.in === 'path');
  const queryParameters = operation.parameters.filter((parameter) => parameter.in === 'query');
  const jsonSchema = operation.bodyTypes['application/json'];
  const fileTypes = Object.keys(operation.bodyTypes).filter((type) => type !== 'application/json');
  const produces = Object.values(operation.operation.responses).flatMap((response) =>
    response && 'content' in response ? Object.keys(response.content ?? {}) : [],
  );

  const build = (
    label: string,
    options: {
      path?: Record<string, string>;
      query?: Record<string, string>;
      body?: string | Uint8Array;
      contentType?: string;
      headers?: Record<string, string>;
      noAuth?: boolean;
      key?: string;
    } = {},
  ): FuzzRequest => {
    const pathValues = { ...validPath(), ...options.path };
    const path = operation.path.replace(/\{([^}]+)\}/g, (_match, name: string) => pathValues[name]);
    const query = new URLSearchParams({ ...validQuery(), ...options.query }).toString();
    const headers: Record<string, string> = {
      // The SSE representation streams until the job ends: ask for the JSON one.
      ...(produces.includes('text/event-stream') ? { Accept: 'application/json' } : {}),
      ...(operation.secured && !options.noAuth ? { Authorization: `Bearer ${options.key ?? keys.admin}` } : {}),
      ...(options.body !== undefined ? { 'Content-Type': options.contentType ?? 'application/json' } : {}),
      ...options.headers,
    };
    return { label, method: operation.method, path: query ? `${path}?${query}` : path, headers, body: options.body };
  };
  const validPath = () =>
    Object.fromEntries(
      pathParameters.map((parameter) => [
        parameter.name,
        encodeURIComponent(fixtures[parameter.name] ?? fuzzer.validText(parameter.schema)),
      ]),
    );
  const validQuery = () =>
    Object.fromEntries(
      queryParameters
        .filter((parameter) => parameter.name !== 'cursor' && (parameter.required || fuzzer.random() < 0.3))
        .map((parameter) => [parameter.name, fuzzer.validText(parameter.schema)]),
    );
  const validBody = () => JSON.stringify(fuzzer.valid(jsonSchema));

  const requests: FuzzRequest[] = [];
  for (let index = 0; index < VALID_REQUESTS; index++) {
    requests.push(build('valid', jsonSchema ? { body: validBody() } : {}));
  }
  for (const parameter of pathParameters) {
    // An empty segment would route to another operation (`/projects/` is listProjects).
    const hostile = fuzzer.pick(HOSTILE_STRINGS.filter((value) => value !== ''));
    for (const value of [hostile, '\u0000', '00000000-0000-4000-8000-000000000000']) {
      requests.push(build(`path ${parameter.name}`, { path: { [parameter.name]: encodeURIComponent(value) } }));
    }
  }
  for (const parameter of queryParameters) {
    const values = parameter.name === 'cursor' ? [fuzzer.pick(hostileCursors()), fuzzer.pick(hostileCursors())] : [];
    values.push(fuzzer.pick(HOSTILE_STRINGS), fuzzer.pick(HOSTILE_STRINGS));
    for (const value of values) {
      requests.push(build(`query ${parameter.name}`, { query: { [parameter.name]: value } }));
    }
  }
  requests.push(build('unknown query', { query: { fuzzUnknown: '1', ['__proto__']: 'x' } }));
  if (operation.secured) {
    requests.push(build('no key', { noAuth: true }));
    requests.push(build('bad key', { headers: { Authorization: 'Bearer tf_not_a_key\u00e9' } }));
    requests.push(build('narrow key', { key: keys.narrow, ...(jsonSchema ? { body: validBody() } : {}) }));
    requests.push(build('other project', { key: keys.outsider, ...(jsonSchema ? { body: validBody() } : {}) }));
  }
  if (jsonSchema) {
    const schema = fuzzer.resolve(jsonSchema);
    const properties = Object.keys(schema.properties ?? {});
    for (let index = 0; index < Math.min(HOSTILE_BODY_FIELDS, properties.length); index++) {
      const body = fuzzer.valid(jsonSchema) as Record<string, unknown>;
      const field = fuzzer.pick(properties);
      body[field] = fuzzer.hostile(((schema.properties ?? {}) as Record<string, Schema>)[field]);
      requests.push(build(`body ${field}`, { body: JSON.stringify(body) }));
    }
    const base = validBody();
    const withKey = (key: string) => (base.startsWith('{}') ? `{"${key}":{}}` : base.replace(/^\{/, `{"${key}":{},`));
    requests.push(build('unknown field', { body: withKey('fuzzUnknown') }));
    requests.push(build('__proto__ key', { body: withKey('__proto__') }));
    requests.push(build('constructor key', { body: withKey('constructor') }));
    requests.push(build('nested 100', { body: `{"a":${'['.repeat(100)}${']'.repeat(100)}}` }));
    requests.push(build('nested 400k', { body: `${'['.repeat(400_000)}${']'.repeat(400_000)}` }));
    requests.push(build('malformed', { body: '{"a": [' }));
    requests.push(build('not an object', { body: fuzzer.pick(['[]', '"x"', '1', 'null']) }));
    requests.push(build('text body', { body: base, contentType: 'text/plain' }));
    const idempotency = operation.parameters.find((parameter) => parameter.name === 'Idempotency-Key');
    if (idempotency) {
      requests.push(build('idempotency key', { body: base, headers: { 'Idempotency-Key': ' has spaces ' } }));
    }
  }
  for (const type of fileTypes.filter((type) => type !== 'multipart/form-data').slice(0, 2)) {
    requests.push(build(`file ${type}`, { body: jsonl(sentimentRows(5, requests.length)), contentType: type }));
  }
  if (fileTypes.includes('multipart/form-data')) {
    const boundary = 'fuzzboundary';
    const part = (name: string, content: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="d.jsonl"\r\n\r\n${content}\r\n`;
    const contentType = `multipart/form-data; boundary=${boundary}`;
    const rows = jsonl(sentimentRows(4, 11));
    requests.push(build('multipart', { body: `${part('file', rows)}--${boundary}--\r\n`, contentType }));
    requests.push(build('multipart without file', { body: `${part('other', rows)}--${boundary}--\r\n`, contentType }));
    requests.push(build('multipart cut off', { body: part('file', rows), contentType }));
  }
  if (fileTypes.length > 0) {
    requests.push(build('file as json', { body: jsonl(sentimentRows(3, 1)), contentType: 'application/json' }));
    requests.push(build('file as image', { body: 'GIF89a', contentType: 'image/gif' }));
    requests.push(build('empty file', { body: '', contentType: fileTypes[0] }));
  }
  return requests;
}
