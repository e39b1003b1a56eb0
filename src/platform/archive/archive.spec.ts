import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ArchiveError } from './byte-reader.js';
import { readTar, safeEntryName, writeTar } from './tar.js';
import { readZip, writeZip, type RandomAccessSource } from './zip.js';

interface File {
  name: string;
  data: Buffer;
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) {
    parts.push(Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}

/** Chunks of `bytes` cut at awkward sizes, as a network stream delivers them. */
function chunked(bytes: Buffer, size = 333): Readable {
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    parts.push(bytes.subarray(at, at + size));
  }
  return Readable.from(parts, { objectMode: false });
}

function sourceOf(files: File[]) {
  return files.map((file) => ({ name: file.name, size: file.data.length, body: () => chunked(file.data, 1000) }));
}

function bufferSource(bytes: Buffer): RandomAccessSource {
  return { size: bytes.length, read: (start, end) => Promise.resolve(chunked(bytes.subarray(start, end + 1), 777)) };
}

async function untar(bytes: Buffer): Promise<File[]> {
  const files: File[] = [];
  for await (const entry of readTar(chunked(bytes))) {
    files.push({ name: entry.name, data: await collect(entry.body) });
  }
  return files;
}

async function unzip(bytes: Buffer): Promise<File[]> {
  const files: File[] = [];
  for (const entry of await readZip(bufferSource(bytes))) {
    files.push({ name: entry.name, data: await collect(await entry.open()) });
  }
  return files;
}

const segment = fc.stringMatching(/^[A-Za-z0-9_.é-]{1,40}$/).filter((part) => part !== '.' && part !== '..');
const files = fc
  .uniqueArray(
    fc
      .record({
        name: fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('/')),
        data: fc.uint8Array({ maxLength: 3000 }).map((bytes) => Buffer.from(bytes)),
      })
      .map(({ name, data }): File => ({ name, data })),
    { selector: (file) => file.name, maxLength: 5 },
  )
  .filter((list) => list.every((a) => list.every((b) => a === b || !b.name.startsWith(`${a.name}/`))));

describe('tar', () => {
  it('round-trips any files, long names and all', async () => {
    await fc.assert(
      fc.asyncProperty(files, async (list) => {
        assert.deepEqual(await untar(await collect(writeTar(sourceOf(list)))), list);
      }),
      { numRuns: 60 },
    );
  });

  it('is read by GNU tar, and reads what GNU tar writes', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-tar-'));
    try {
      const long = `${'deep/'.repeat(30)}model.safetensors`;
      const list = [
        { name: 'config.json', data: Buffer.from('{"n_layer": 12}') },
        { name: long, data: Buffer.alloc(70_000, 7) },
      ];
      await writeFile(path.join(folder, 'ours.tar'), await collect(writeTar(sourceOf(list))));
      const listed = execFileSync('tar', ['-tf', path.join(folder, 'ours.tar')], { encoding: 'utf8' });
      assert.deepEqual(listed.trim().split('\n'), ['config.json', long]);

      await mkdir(path.join(folder, 'in', path.dirname(long)), { recursive: true });
      await writeFile(path.join(folder, 'in', 'config.json'), list[0].data);
      await writeFile(path.join(folder, 'in', long), list[1].data);
      execFileSync('tar', [
        '-czf',
        path.join(folder, 'theirs.tar.gz'),
        '-C',
        path.join(folder, 'in'),
        'config.json',
        long,
      ]);
      const gunzipped = execFileSync('gzip', ['-dc', path.join(folder, 'theirs.tar.gz')], { maxBuffer: 1 << 26 });
      assert.deepEqual(await untar(gunzipped), list);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('refuses unsafe paths, bad checksums and truncated archives', async () => {
    for (const name of ['/etc/passwd', '../up', 'a/../../b', 'a//b']) {
      assert.throws(() => safeEntryName(name), ArchiveError);
    }
    const good = await collect(writeTar(sourceOf([{ name: 'a.txt', data: Buffer.from('hello') }])));
    const corrupt = Buffer.from(good);
    corrupt[0] ^= 0xff;
    await assert.rejects(untar(corrupt), /checksum/);
    await assert.rejects(untar(good.subarray(0, 600)), /ends early/);
    await assert.rejects(untar(good.subarray(0, 1024)), /end-of-archive/);
  });

  it('skips entries the caller does not read', async () => {
    const list = [
      { name: 'skip.bin', data: Buffer.alloc(5000, 1) },
      { name: 'keep.txt', data: Buffer.from('kept') },
    ];
    const kept: string[] = [];
    for await (const entry of readTar(chunked(await collect(writeTar(sourceOf(list)))))) {
      if (entry.name === 'keep.txt') {
        kept.push((await collect(entry.body)).toString());
      }
    }
    assert.deepEqual(kept, ['kept']);
  });
});

describe('zip', () => {
  it('round-trips any files, deflated or stored', async () => {
    await fc.assert(
      fc.asyncProperty(files, fc.boolean(), async (list, compress) => {
        assert.deepEqual(await unzip(await collect(writeZip(sourceOf(list), { compress }))), list);
      }),
      { numRuns: 60 },
    );
  });

  it('is read by Info-ZIP unzip, and reads what zip writes (data descriptors from a pipe included)', async (t) => {
    try {
      execFileSync('unzip', ['-v'], { stdio: 'ignore' });
      execFileSync('zip', ['-v'], { stdio: 'ignore' });
    } catch {
      t.skip('zip and unzip are not installed');
      return;
    }
    const folder = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-zip-'));
    try {
      const list = [
        { name: 'config.json', data: Buffer.from('{"n_layer": 12}') },
        { name: 'weights/model.safetensors', data: Buffer.from(Array.from({ length: 50_000 }, (_, i) => i % 251)) },
      ];
      await writeFile(path.join(folder, 'ours.zip'), await collect(writeZip(sourceOf(list))));
      execFileSync('unzip', ['-tq', path.join(folder, 'ours.zip')]);
      const extracted = execFileSync('unzip', ['-p', path.join(folder, 'ours.zip'), 'weights/model.safetensors'], {
        maxBuffer: 1 << 26,
      });
      assert.ok(extracted.equals(list[1].data));

      await mkdir(path.join(folder, 'in', 'weights'), { recursive: true });
      for (const file of list) {
        await writeFile(path.join(folder, 'in', file.name), file.data);
      }
      execFileSync('zip', ['-qr', path.join(folder, 'theirs.zip'), 'config.json', 'weights'], {
        cwd: path.join(folder, 'in'),
      });
      const theirs = (await unzip(await readFile(path.join(folder, 'theirs.zip')))).filter((f) => f.data.length > 0);
      assert.deepEqual(theirs, list);
      // From a pipe, zip cannot seek back: it writes data descriptors (and ZIP64 sizes) instead.
      const piped = execFileSync('sh', ['-c', `cat config.json | zip -q - -`], { cwd: path.join(folder, 'in') });
      const [entry] = await unzip(piped);
      assert.deepEqual(entry.data, list[0].data);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('refuses files that are not zips, and corrupt entries', async () => {
    await assert.rejects(unzip(Buffer.from('not a zip at all')), /end-of-central-directory/);
    const good = await collect(
      writeZip(sourceOf([{ name: 'a.txt', data: Buffer.from('hello hello hello') }]), {
        compress: false,
      }),
    );
    const corrupt = Buffer.from(good);
    corrupt[30 + 'a.txt'.length] ^= 0xff;
    await assert.rejects(unzip(corrupt), /CRC/);
  });

  it('reads an entry without holding the archive in memory', async () => {
    const big = { name: 'big.bin', size: 20 << 20, body: () => Readable.from(zeros(20 << 20)) };
    const bytes = await collect(writeZip([big]));
    const before = process.memoryUsage().arrayBuffers;
    let total = 0;
    for await (const chunk of await (await readZip(bufferSource(bytes)))[0].open()) {
      total += (chunk as Buffer).length;
    }
    assert.equal(total, 20 << 20);
    assert.ok(process.memoryUsage().arrayBuffers - before < 16 << 20);
  });
});

function* zeros(length: number): Generator<Buffer> {
  const chunk = Buffer.alloc(1 << 16);
  for (let left = length; left > 0; left -= chunk.length) {
    yield left >= chunk.length ? chunk : chunk.subarray(0, left);
  }
}
