/**
 * Started as root from a folder that other users cannot enter, the embedded PostgreSQL (which runs as
 * the `postgres` user) cannot work: TuneForge refuses with one line and exit status 78, and writes
 * the database password nowhere that others can read (nothing at all in the temporary folder).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

const distRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const isRoot = process.getuid?.() === 0;

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => !entry.isDirectory()).map((entry) => path.join(entry.parentPath, entry.name));
}

describe('embedded PostgreSQL under root in a private folder', { skip: isRoot ? false : 'needs root' }, () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-private-'));
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('refuses in one line with exit status 78 and leaves no password file behind', async () => {
    const privateDir = path.join(scratch, 'private');
    await mkdir(privateDir, { mode: 0o700 });
    await chmod(privateDir, 0o700);
    const tempDir = path.join(scratch, 'tmp');
    await mkdir(tempDir, { mode: 0o1777 });
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: path.join(privateDir, 'data'),
      TMPDIR: tempDir,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      TRAINER_SLOTS: '0',
    };
    const child = spawn(process.execPath, [path.join(distRoot, 'src', 'main.js')], {
      cwd: privateDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));

    assert.equal(code, 78, `stdout: ${stdout}\nstderr: ${stderr}`);
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0], /postgres user cannot reach its data folder/);
    assert.ok(lines[0].includes(privateDir), lines[0]);
    assert.match(lines[0], /DATA_DIR|DATABASE_URL/);
    assert.doesNotMatch(stderr, /EACCES|\n\s+at /);

    assert.deepEqual(await filesUnder(tempDir), [], 'files were left in the temporary folder');
    for (const file of await filesUnder(privateDir)) {
      const mode = (await stat(file)).mode & 0o077;
      assert.equal(mode, 0, `${file} is readable by others`);
    }
  });
});
