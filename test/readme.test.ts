import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot, SPEC } from '../scripts/lib/openapi-sync.js';

interface SpecOperation {
  operationId: string;
  responses: Record<string, { description?: string }>;
}
type Spec = { paths: Record<string, Record<string, SpecOperation>> };

interface QuickstartCall {
  method: string;
  path: string;
  keyVariable: string | undefined;
  command: string;
}

async function readme(): Promise<string> {
  return readFile(path.join(projectRoot, 'README.md'), 'utf8');
}

/** The shell block under `## Quickstart`, with `\`-continued lines joined. */
function quickstartCommands(text: string): string[] {
  const section = text.slice(text.indexOf('## Quickstart'));
  const match = /```sh\n([\s\S]*?)```/.exec(section);
  assert.ok(match, 'the README has a quickstart shell block');
  return match[1]
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}

function quickstartCalls(commands: string[]): QuickstartCall[] {
  const calls: QuickstartCall[] = [];
  for (const command of commands) {
    const url = /\$TF(\/[^\s"'?]*)/.exec(command);
    if (!command.includes('curl') || !url) {
      continue;
    }
    const explicit = /-X\s+([A-Z]+)/.exec(command);
    const method = explicit ? explicit[1] : /\s(-d|--data-binary)\s/.test(command) ? 'POST' : 'GET';
    const key = /Authorization: Bearer \$(\w+)/.exec(command);
    calls.push({ method, path: url[1], keyVariable: key?.[1], command });
  }
  return calls;
}

/** The spec operation a concrete path hits: static segments first, as the router matches them. */
function findOperation(spec: Spec, method: string, concretePath: string): SpecOperation | undefined {
  const segments = concretePath.split('/');
  let best: { operation: SpecOperation; parameters: number } | undefined;
  for (const [template, operations] of Object.entries(spec.paths)) {
    const templateSegments = template.split('/');
    if (templateSegments.length !== segments.length) {
      continue;
    }
    let parameters = 0;
    const matches = templateSegments.every((segment, index) => {
      if (segment.startsWith('{')) {
        parameters += 1;
        return segments[index] !== '';
      }
      return segment === segments[index];
    });
    const operation = operations[method.toLowerCase()];
    if (matches && operation && (!best || parameters < best.parameters)) {
      best = { operation, parameters };
    }
  }
  return best?.operation;
}

function requiredScope(operation: SpecOperation): string | undefined {
  const forbidden = operation.responses['403']?.description ?? '';
  return /lacks the `([^`]+)` scope/.exec(forbidden)?.[1];
}

describe('README and docs', () => {
  it('gives the quickstart CI key every scope the pipeline steps after it use', async () => {
    const spec = JSON.parse(await readFile(path.join(projectRoot, SPEC), 'utf8')) as Spec;
    const commands = quickstartCommands(await readme());
    const creation = commands.find((command) => command.startsWith('CI_KEY='));
    assert.ok(creation, 'the quickstart creates a CI key');
    const scopesJson = /\\"scopes\\":\[([^\]]*)\]/.exec(creation);
    assert.ok(scopesJson, 'the CI key request lists its scopes');
    const granted = scopesJson[1].split(',').map((scope) => scope.replace(/\\"/g, '').trim());

    const pipelineCalls = quickstartCalls(commands).filter((call) => call.keyVariable === 'CI_KEY');
    assert.ok(pipelineCalls.length >= 8, 'the pipeline steps use the CI key');
    for (const call of pipelineCalls) {
      const operation = findOperation(spec, call.method, call.path);
      assert.ok(operation, `the spec has ${call.method} ${call.path}`);
      const scope = requiredScope(operation);
      if (scope) {
        assert.ok(
          granted.includes(scope) || granted.includes('admin'),
          `${operation.operationId} needs ${scope}, which the CI key (${granted.join(', ')}) lacks`,
        );
      }
    }
  });

  it('only calls endpoints the spec has, with commands that run on Linux', async () => {
    const spec = JSON.parse(await readFile(path.join(projectRoot, SPEC), 'utf8')) as Spec;
    const commands = quickstartCommands(await readme());
    for (const call of quickstartCalls(commands)) {
      if (call.path.startsWith('/api/')) {
        assert.ok(findOperation(spec, call.method, call.path), `the spec has ${call.method} ${call.path}`);
      }
    }
    for (const command of commands) {
      assert.doesNotMatch(command, /^\s*(open|pbcopy|pbpaste|say)\s/, `macOS-only command: ${command}`);
    }
  });

  it('links every page of docs/ from the README', async () => {
    const text = await readme();
    const pages = (await readdir(path.join(projectRoot, 'docs'))).filter((name) => name.endsWith('.md'));
    for (const page of pages) {
      assert.ok(text.includes(`(docs/${page})`), `README links docs/${page}`);
    }
  });

  it('has docs that stand alone, pointing at nothing outside the repository', async () => {
    const pages = (await readdir(path.join(projectRoot, 'docs'))).filter((name) => name.endsWith('.md'));
    const files = ['README.md', ...pages.map((page) => path.join('docs', page))];
    for (const file of files) {
      const text = await readFile(path.join(projectRoot, file), 'utf8');
      for (const pattern of [
        /shared\//,
        /DESIGN\.md/,
        /STYLE\.md/,
        /\bthe brief\b/i,
        /\bissue #?\d+/i,
        /see the issues?\b/i,
      ]) {
        assert.doesNotMatch(text, pattern, `${file} points outside the repository (${pattern})`);
      }
    }
  });
});
