/** Generates the OpenAPI spec and the TypeScript SDK, and compares them with committed copies. */
import { mkdtemp, readdir, readFile, rm, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@hey-api/openapi-ts';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/platform/config/config.js';
import { buildOpenApiDocument } from '../../src/platform/openapi.js';
import { createLogger } from '../../src/platform/logging/logger.js';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SPEC = path.join('openapi', 'openapi.json');
export const SDK = path.join('clients', 'typescript', 'src');

/** Writes the spec and the SDK under `root` (the repository, or a scratch folder). */
export async function generate(root: string): Promise<void> {
  const config = loadConfig({});
  const app = await createApp({
    config,
    databaseUrl: 'postgres://preview/none',
    preview: true,
    logger: createLogger('silent'),
  });
  const document = buildOpenApiDocument(app);
  await app.close();
  const specFile = path.join(root, SPEC);
  await mkdir(path.dirname(specFile), { recursive: true });
  await writeFile(specFile, `${JSON.stringify(document, null, 2)}\n`);
  await rm(path.join(root, SDK), { recursive: true, force: true });
  await createClient({
    input: specFile,
    output: {
      path: path.join(root, SDK),
      tsConfigPath: path.join(projectRoot, 'tsconfig.json'),
      importFileExtension: '.js',
    },
    plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk'],
    logs: { level: 'silent' },
  });
}

async function listFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(directory, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** The generated files under `root` that differ from freshly generated ones (empty: up to date). */
export async function staleGeneratedFiles(root: string): Promise<string[]> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-openapi-'));
  try {
    await generate(scratch);
    const stale: string[] = [];
    for (const tree of [path.dirname(SPEC), SDK]) {
      const expected = await listFiles(path.join(scratch, tree));
      const actual = await listFiles(path.join(root, tree));
      for (const file of new Set([...expected, ...actual])) {
        const fresh = await readFile(path.join(scratch, tree, file), 'utf8').catch(() => undefined);
        const committed = await readFile(path.join(root, tree, file), 'utf8').catch(() => undefined);
        if (fresh !== committed) {
          stale.push(path.join(tree, file));
        }
      }
    }
    return stale;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
