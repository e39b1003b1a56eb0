import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from '../scripts/lib/openapi-sync.js';

const run = promisify(execFile);

interface Spec {
  paths: Record<string, Record<string, { operationId?: string; summary?: string }>>;
}

/** `npm run docs:api`: the API reference as one static HTML page that works offline. */
describe('static API reference', () => {
  it('renders every operation of the spec into one self-contained page', async () => {
    {
      // The script's own output path (git-ignored): the test runs it exactly as a reader would.
      const output = path.join(projectRoot, 'docs', 'reference', 'api.html');
      await run('npm', ['run', '--silent', 'docs:api'], { cwd: projectRoot });
      const html = await readFile(output, 'utf8');
      const spec = JSON.parse(await readFile(path.join(projectRoot, 'openapi', 'openapi.json'), 'utf8')) as Spec;
      const operations = Object.values(spec.paths).flatMap((item) => Object.values(item));
      assert.ok(operations.length > 30);
      for (const operation of operations) {
        assert.ok(
          operation.operationId && html.includes(operation.operationId),
          `${operation.operationId} is rendered`,
        );
      }
      // Nothing is fetched from elsewhere: a self-hosted, possibly offline, reader sees it all.
      assert.doesNotMatch(html, /<script[^>]+src=["']https?:/i);
      assert.doesNotMatch(html, /<link[^>]+href=["']https?:/i);
      assert.match(html, /<title>TuneForge API reference<\/title>/);
    }
  });
});
