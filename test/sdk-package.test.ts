import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { API_VERSION } from '../src/platform/openapi.js';
import { projectRoot } from '../scripts/lib/openapi-sync.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const run = promisify(execFile);
const SDK_DIR = path.join(projectRoot, 'clients', 'typescript');

/**
 * The SDK as a pipeline uses it: packed into a tarball, installed with npm into a project of its
 * own (no relative imports into this repository), type-checked, and run against the real app.
 */
describe('the SDK package', () => {
  let testApp: TestApp;
  let scratch: string;

  before(async () => {
    testApp = await startTestApp();
    scratch = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-sdk-'));
  });
  after(async () => {
    await testApp.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('carries the API version of the service it was generated from', async () => {
    const sdk = JSON.parse(await readFile(path.join(SDK_DIR, 'package.json'), 'utf8')) as { version: string };
    const service = JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string };
    const spec = JSON.parse(await readFile(path.join(projectRoot, 'openapi', 'openapi.json'), 'utf8')) as {
      info: { version: string };
    };
    assert.equal(sdk.version, API_VERSION);
    assert.equal(spec.info.version, API_VERSION);
    assert.equal(service.version, API_VERSION);
  });

  it('packs, installs with npm, type-checks and calls the API', async () => {
    const packs = path.join(scratch, 'packs');
    // `npm pack` runs the package's prepack script: a build with its own tsconfig into dist/.
    await run('npm', ['pack', '--silent', '--pack-destination', await mkdirp(packs)], { cwd: SDK_DIR });
    const [tarball] = await readdir(packs);
    assert.match(tarball, /^tuneforge-sdk-\d+\.\d+\.\d+\.tgz$/);

    const consumer = await mkdirp(path.join(scratch, 'pipeline'));
    await writeFile(
      path.join(consumer, 'package.json'),
      JSON.stringify({ name: 'pipeline', version: '1.0.0', private: true, type: 'module' }),
    );
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', path.join(packs, tarball)], { cwd: consumer });

    await writeFile(
      path.join(consumer, 'pipeline.ts'),
      [
        "import { getMe, listDatasets, type MeDto } from '@tuneforge/sdk';",
        "import { createClient } from '@tuneforge/sdk/client';",
        '',
        "// The consumer has no @types/node: only the SDK's own types are under test.",
        'declare const process: { env: Record<string, string | undefined> };',
        'const client = createClient({ baseUrl: process.env.TUNEFORGE_URL, auth: process.env.TUNEFORGE_KEY });',
        'const me: MeDto = (await getMe({ client, throwOnError: true })).data;',
        'const datasets = await listDatasets({ client, query: { limit: 5 }, throwOnError: true });',
        'const refused = await getMe({ client: createClient({ baseUrl: process.env.TUNEFORGE_URL, auth: "tf_wrong" }) });',
        'console.log(JSON.stringify({ project: me.project.name, datasets: datasets.data.data.length, refused: refused.response.status }));',
        '',
      ].join('\n'),
    );
    await writeFile(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022', 'DOM'],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          types: [],
          skipLibCheck: false,
          outDir: 'out',
        },
        include: ['pipeline.ts'],
      }),
    );
    // Types ship with the package: a strict compile of the consumer sees every call and DTO.
    const tsc = path.join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer });

    const { stdout } = await run(process.execPath, ['out/pipeline.js'], {
      cwd: consumer,
      env: { ...process.env, TUNEFORGE_URL: testApp.baseUrl, TUNEFORGE_KEY: testApp.adminKey },
    });
    // The CLI ships in the same package as its bin.
    const help = await run(path.join(consumer, 'node_modules', '.bin', 'tuneforge'), ['--help'], { cwd: consumer });
    assert.match(help.stdout, /^usage: tuneforge <command>/);
    const packed = await run('tar', ['-tzf', path.join(packs, tarball)]);
    assert.doesNotMatch(packed.stdout, /\.spec\./);

    const result = JSON.parse(stdout.trim()) as { project: string; datasets: number; refused: number };
    assert.equal(typeof result.project, 'string');
    assert.equal(result.datasets >= 0, true);
    assert.equal(result.refused, 401);
  });
});

async function mkdirp(directory: string): Promise<string> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(directory, { recursive: true });
  return directory;
}
