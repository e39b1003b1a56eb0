/**
 * The ArtifactStore contract, run against the folder store (always) and the S3 store (when
 * S3_BUCKET is set: moto in CI, `scripts/dev-services.sh` locally).
 */
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { loadConfig, type S3Settings } from '../../src/platform/config/config.js';
import {
  ArtifactNotFoundError,
  ArtifactStoreError,
  ArtifactStoreErrorCode,
  ArtifactTooLargeError,
  InvalidArtifactKeyError,
} from '../../src/platform/storage/artifact-errors.js';
import type { ArtifactStore } from '../../src/platform/storage/artifact-store.js';
import { FolderArtifactStore } from '../../src/platform/storage/folder-artifact-store.js';
import { S3_ABANDONED_UPLOAD_AGE_MS, S3ArtifactStore } from '../../src/platform/storage/s3-artifact-store.js';
import { digestStream, GeneratedBody, MemoryProbe, mb, MiB, readAll, sha256Of, SourceFailure } from './streams.js';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

interface StoreFixture {
  store: ArtifactStore;
  /** Leftovers of failed uploads: temporary files, or unfinished multipart uploads. */
  leftovers(): Promise<string[]>;
  /** A size that makes the S3 store use a multipart upload, so failures mid-way abort one. */
  multipartSize: number;
  cleanup(): Promise<void>;
}

async function folderFixture(): Promise<StoreFixture> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-artifacts-'));
  const store = new FolderArtifactStore(path.join(scratch, 'artifacts'));
  return {
    store,
    multipartSize: 3 * MiB,
    leftovers: async () => readdir(path.join(scratch, 'artifacts', '.tmp')).catch(() => []),
    cleanup: () => rm(scratch, { recursive: true, force: true }),
  };
}

function s3Settings(): S3Settings | undefined {
  return loadConfig(process.env).s3;
}

async function s3Fixture(): Promise<StoreFixture> {
  const base = s3Settings();
  assert.ok(base);
  const settings: S3Settings = { ...base, prefix: `${base.prefix}test-${randomUUID()}/` };
  const admin = new S3Client({
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
  });
  await ensureBucket(admin, settings);
  const store = new S3ArtifactStore(settings);
  return {
    store,
    multipartSize: 20 * MiB,
    leftovers: async () => {
      const output = await admin.send(
        new ListMultipartUploadsCommand({ Bucket: settings.bucket, Prefix: settings.prefix }),
      );
      return (output.Uploads ?? []).map((upload) => `${upload.Key ?? '?'} (${upload.UploadId ?? '?'})`);
    },
    cleanup: async () => {
      try {
        await store.deletePrefix('');
      } finally {
        await store.close();
        admin.destroy();
      }
    },
  };
}

async function ensureBucket(client: S3Client, settings: S3Settings): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: settings.bucket }));
    return;
  } catch (error) {
    if (!(error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404)) {
      throw error;
    }
  }
  await client.send(
    new CreateBucketCommand({
      Bucket: settings.bucket,
      CreateBucketConfiguration:
        settings.region === 'us-east-1'
          ? undefined
          : { LocationConstraint: settings.region as BucketLocationConstraint },
    }),
  );
}

async function keysUnder(store: ArtifactStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of store.list(prefix)) {
    keys.push(key);
  }
  return keys;
}

async function getText(store: ArtifactStore, key: string, range?: { start: number; end?: number }): Promise<string> {
  return (await readAll(await store.get(key, range))).toString('utf8');
}

function contractSuite(name: string, makeFixture: () => Promise<StoreFixture>, skip?: string): void {
  describe(`ArtifactStore contract: ${name}`, { skip }, () => {
    let fixture: StoreFixture;
    let store: ArtifactStore;

    before(async () => {
      fixture = await makeFixture();
      store = fixture.store;
    });
    after(async () => {
      await fixture?.cleanup();
    });

    /** Nothing under `key`, nothing listed under `prefix`, no temporary files or open uploads. */
    async function assertNothingLeft(key: string, prefix: string): Promise<void> {
      assert.equal(await store.exists(key), false, `${key} must not exist`);
      assert.equal(await store.stat(key), undefined);
      await assert.rejects(store.get(key), ArtifactNotFoundError);
      assert.deepEqual(await keysUnder(store, prefix), []);
      assert.deepEqual(await fixture.leftovers(), []);
    }

    it('is ready and describes itself', async () => {
      await store.check();
      assert.match(store.describe(), /^(folder \/|s3:\/\/)/);
    });

    it('stores and reads back a small object', async () => {
      const stored = await store.put('small/hello.txt', Readable.from([Buffer.from('hello '), Buffer.from('world')]), {
        contentType: 'text/plain',
      });
      assert.deepEqual(stored, { key: 'small/hello.txt', size: 11, sha256: sha256Of('hello world') });
      assert.equal(await getText(store, 'small/hello.txt'), 'hello world');
      const info = await store.stat('small/hello.txt');
      assert.equal(info?.key, 'small/hello.txt');
      assert.equal(info?.size, 11);
      assert.ok(info.lastModified instanceof Date && Math.abs(info.lastModified.getTime() - Date.now()) < 60_000);
      assert.equal(await store.exists('small/hello.txt'), true);
    });

    it('stores an empty object', async () => {
      const stored = await store.put('small/empty', Readable.from([]));
      assert.deepEqual(stored, { key: 'small/empty', size: 0, sha256: EMPTY_SHA256 });
      assert.equal((await readAll(await store.get('small/empty'))).length, 0);
      assert.equal((await store.stat('small/empty'))?.size, 0);
      assert.equal((await readAll(await store.get('small/empty', { start: 0 }))).length, 0);
    });

    it('accepts an async iterable of Uint8Array as the body', async () => {
      async function* body(): AsyncGenerator<Uint8Array> {
        yield new TextEncoder().encode('from ');
        await setImmediate();
        yield new Uint8Array([0x69, 0x74, 0x65, 0x72]); // "iter"
      }
      const stored = await store.put('small/iterable', body());
      assert.deepEqual(stored, { key: 'small/iterable', size: 9, sha256: sha256Of('from iter') });
      assert.equal(await getText(store, 'small/iterable'), 'from iter');
    });

    it('replaces an object on overwrite', async () => {
      await store.put('small/overwrite', Readable.from([Buffer.from('first version')]));
      await store.put('small/overwrite', Readable.from([Buffer.from('second')]));
      assert.equal(await getText(store, 'small/overwrite'), 'second');
      assert.equal((await store.stat('small/overwrite'))?.size, 6);
    });

    it('reads byte ranges (end inclusive)', async () => {
      await store.put('small/range', Readable.from([Buffer.from('abcdefghij')]));
      assert.equal(await getText(store, 'small/range', { start: 2, end: 4 }), 'cde');
      assert.equal(await getText(store, 'small/range', { start: 7 }), 'hij');
      assert.equal(await getText(store, 'small/range', { start: 0, end: 0 }), 'a');
      assert.equal(await getText(store, 'small/range', { start: 0, end: 100 }), 'abcdefghij');
      assert.equal(await getText(store, 'small/range', { start: 9, end: 20 }), 'j');
      assert.equal(await getText(store, 'small/range', { start: 10 }), '');
      assert.equal(await getText(store, 'small/range', { start: 50, end: 60 }), '');
      await assert.rejects(store.get('small/range', { start: -1 }), RangeError);
      await assert.rejects(store.get('small/range', { start: 5, end: 4 }), RangeError);
      await assert.rejects(store.get('small/range', { start: 1.5 }), RangeError);
    });

    it('reports missing objects', async () => {
      await assert.rejects(store.get('missing/object'), (error: unknown) => {
        assert.ok(error instanceof ArtifactNotFoundError);
        assert.equal(error.key, 'missing/object');
        assert.equal(error.code, ArtifactStoreErrorCode.NotFound);
        return true;
      });
      await assert.rejects(store.get('missing/object', { start: 0, end: 1 }), ArtifactNotFoundError);
      assert.equal(await store.stat('missing/object'), undefined);
      assert.equal(await store.exists('missing/object'), false);
      await assert.rejects(store.copy('missing/object', 'missing/copy'), ArtifactNotFoundError);
      assert.equal(await store.exists('missing/copy'), false);
    });

    it('deletes idempotently', async () => {
      await store.put('delete/me', Readable.from([Buffer.from('x')]));
      await store.delete('delete/me');
      assert.equal(await store.exists('delete/me'), false);
      await store.delete('delete/me');
      await store.delete('delete/never-existed');
      await store.delete('never/existed/at/all');
    });

    it('lists by prefix in key order', async () => {
      for (const [key, content] of [
        ['list/b/1', 'b1'],
        ['list/a/2', 'a2-'],
        ['list/ab', 'ab'],
        ['list/a/1', 'a1'],
        ['list/a-c', 'a-c'],
        ['list/a/deep/er/x', 'x'],
      ]) {
        await store.put(key, Readable.from([Buffer.from(content)]));
      }
      const listed: { key: string; size: number }[] = [];
      for await (const item of store.list('list/a/')) {
        listed.push(item);
      }
      assert.deepEqual(listed, [
        { key: 'list/a/1', size: 2 },
        { key: 'list/a/2', size: 3 },
        { key: 'list/a/deep/er/x', size: 1 },
      ]);
      assert.deepEqual(await keysUnder(store, 'list/a'), [
        'list/a-c',
        'list/a/1',
        'list/a/2',
        'list/a/deep/er/x',
        'list/ab',
      ]);
      assert.deepEqual(await keysUnder(store, 'list/a/d'), ['list/a/deep/er/x']);
      assert.deepEqual(await keysUnder(store, 'list/a/1'), ['list/a/1']);
      assert.deepEqual(await keysUnder(store, 'list/zzz'), []);
      assert.deepEqual(await keysUnder(store, 'nothing-here/'), []);
      assert.ok((await keysUnder(store, '')).includes('list/b/1'));
    });

    it('deletes by prefix', async () => {
      for (const key of ['prefix/a/1', 'prefix/a/2/3', 'prefix/ab', 'prefix/b']) {
        await store.put(key, Readable.from([Buffer.from(key)]));
      }
      await store.deletePrefix('prefix/a/');
      assert.deepEqual(await keysUnder(store, 'prefix/'), ['prefix/ab', 'prefix/b']);
      await store.deletePrefix('prefix/a');
      assert.deepEqual(await keysUnder(store, 'prefix/'), ['prefix/b']);
      await store.deletePrefix('prefix/nothing/');
      assert.deepEqual(await keysUnder(store, 'prefix/'), ['prefix/b']);
      // A key freed by deleting its children can become an object again.
      await store.put('prefix/a', Readable.from([Buffer.from('now a file')]));
      assert.equal(await getText(store, 'prefix/a'), 'now a file');
    });

    it('copies an object', async () => {
      await store.put('copy/source', Readable.from([Buffer.from('copied content')]));
      await store.put('copy/target', Readable.from([Buffer.from('old')]));
      await store.copy('copy/source', 'copy/target');
      await store.copy('copy/source', 'copy/new/target');
      assert.equal(await getText(store, 'copy/target'), 'copied content');
      assert.equal(await getText(store, 'copy/new/target'), 'copied content');
      assert.equal(await getText(store, 'copy/source'), 'copied content');
    });

    it('rejects traversal and malformed keys in every method', async () => {
      await store.put('valid/key', Readable.from([Buffer.from('x')]));
      const badKeys = [
        '../x',
        '../../etc/passwd',
        '/etc/passwd',
        'a/../../b',
        'a/./b',
        'a\0b',
        'a\\..\\b',
        '.tmp/x',
        'a//b',
        'a/',
        '',
      ];
      for (const key of badKeys) {
        const rejected = (promise: Promise<unknown>, method: string) =>
          assert.rejects(promise, InvalidArtifactKeyError, `${method}(${JSON.stringify(key)})`);
        const body = Readable.from([Buffer.from('evil')]);
        await rejected(store.put(key, body), 'put');
        assert.equal(body.destroyed, true, 'a rejected put releases its body');
        await rejected(store.get(key), 'get');
        await rejected(store.get(key, { start: 0 }), 'get');
        await rejected(store.stat(key), 'stat');
        await rejected(store.exists(key), 'exists');
        await rejected(store.delete(key), 'delete');
        await rejected(store.copy(key, 'valid/copy'), 'copy from');
        await rejected(store.copy('valid/key', key), 'copy to');
      }
      for (const prefix of ['../', '/', '/etc', 'a/../', '.tmp/', 'a\0']) {
        await assert.rejects(keysUnder(store, prefix), InvalidArtifactKeyError, `list(${JSON.stringify(prefix)})`);
        await assert.rejects(store.deletePrefix(prefix), InvalidArtifactKeyError, `deletePrefix(${prefix})`);
      }
      assert.equal(await store.exists('valid/copy'), false);
      assert.equal(await getText(store, 'valid/key'), 'x');
      assert.deepEqual(await fixture.leftovers(), []);
    });

    it('leaves nothing behind when the body fails half way', async () => {
      const small = new GeneratedBody(1 * MiB, 'fail-small', { failAfter: 512 * 1024 });
      const smallStream = small.stream();
      await assert.rejects(store.put('failed/small', smallStream), SourceFailure);
      assert.equal(smallStream.destroyed, true);
      await assertNothingLeft('failed/small', 'failed/');

      // Large enough that the S3 store has started (and must abort) a multipart upload.
      const large = new GeneratedBody(fixture.multipartSize, 'fail-large', { failAfter: fixture.multipartSize - MiB });
      await assert.rejects(store.put('failed/large', large.chunks()), SourceFailure);
      await assertNothingLeft('failed/large', 'failed/');
    });

    it('keeps the old object when an overwrite fails', async () => {
      await store.put('failed-overwrite/object', Readable.from([Buffer.from('original')]));
      const body = new GeneratedBody(MiB, 'overwrite', { failAfter: 256 * 1024 });
      await assert.rejects(store.put('failed-overwrite/object', body.stream()), SourceFailure);
      assert.equal(await getText(store, 'failed-overwrite/object'), 'original');
      assert.deepEqual(await fixture.leftovers(), []);
    });

    it('enforces maxBytes and leaves nothing behind', async () => {
      const exact = await store.put('limit/exact', Readable.from([Buffer.alloc(1000, 1)]), { maxBytes: 1000 });
      assert.equal(exact.size, 1000);

      await assert.rejects(
        store.put('limit/small', Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), { maxBytes: 1000 }),
        (error: unknown) => error instanceof ArtifactTooLargeError && error.maxBytes === 1000,
      );
      await assertNothingLeft('limit/small', 'limit/small');

      const limit = fixture.multipartSize - 2 * MiB;
      const large = new GeneratedBody(fixture.multipartSize, 'too-large');
      await assert.rejects(store.put('limit/large', large.stream(), { maxBytes: limit }), ArtifactTooLargeError);
      await assertNothingLeft('limit/large', 'limit/large');

      await assert.rejects(store.put('limit/bad', Readable.from([]), { maxBytes: -1 }), RangeError);
    });

    it('stops and leaves nothing behind when the signal aborts', async () => {
      await assert.rejects(
        store.put('aborted/early', Readable.from([Buffer.from('x')]), { signal: AbortSignal.abort() }),
        { name: 'AbortError' },
      );
      const controller = new AbortController();
      const body = new GeneratedBody(fixture.multipartSize, 'abort', {
        onProgress: () => controller.abort(),
        progressEvery: fixture.multipartSize - MiB,
      });
      await assert.rejects(store.put('aborted/late', body.stream(), { signal: controller.signal }), {
        name: 'AbortError',
      });
      await assertNothingLeft('aborted/late', 'aborted/');
    });

    it('streams 10 MB and 50 MB objects with sha256 and size checked and memory independent of size', async (t) => {
      const report: string[] = [];
      const measure = async (size: number) => {
        const probe = new MemoryProbe();
        const body = new GeneratedBody(size, `big-${size}`, { onProgress: probe.sample });
        probe.start();
        const stored = await store.put(`big/${size}`, body.stream());
        const upload = probe.result();
        assert.equal(body.expected.size, size);
        assert.deepEqual(stored, { key: `big/${size}`, size, sha256: body.expected.sha256 });
        assert.equal((await store.stat(`big/${size}`))?.size, size);

        probe.start();
        const downloaded = await digestStream(await store.get(`big/${size}`), probe.sample);
        const download = probe.result();
        assert.deepEqual(downloaded, body.expected);
        report.push(
          `${mb(size)}: upload +${mb(upload.live)} (rss +${mb(upload.rss)}), ` +
            `download +${mb(download.live)} (rss +${mb(download.rss)})`,
        );
        await store.delete(`big/${size}`);
        return { upload, download };
      };

      const ten = await measure(10 * MiB);
      const fifty = await measure(50 * MiB);
      t.diagnostic(`${store.describe()}: ${report.join('; ')}`);

      // Buffering the whole object would hold about 50 MiB by the end of the 50 MiB transfer, keep
      // growing through its second half, and hold 40 MiB more than for 10 MiB. Streaming holds a
      // bounded window whatever the size: the folder store a few chunks, the S3 store the parts in
      // flight plus the one being filled (3 x 8 MiB), which a 10 MiB object does not fill.
      for (const [direction, small, large] of [
        ['upload', ten.upload, fifty.upload],
        ['download', ten.download, fifty.download],
      ] as const) {
        const what = `${direction} of 50 MiB: peak +${mb(large.live)}, halves +${mb(large.firstHalf)} / +${mb(large.secondHalf)}; 10 MiB: +${mb(small.live)}`;
        assert.ok(large.samples >= 20 && small.samples >= 4, `too few samples: ${what}`);
        assert.ok(large.live < 40 * MiB, what);
        assert.ok(large.secondHalf < large.firstHalf + 8 * MiB, what);
        assert.ok(large.live < small.live + 20 * MiB, what);
      }
    });
  });
}

contractSuite('folder', folderFixture);
contractSuite(
  's3',
  s3Fixture,
  s3Settings() ? undefined : 'S3_BUCKET is not set (set S3_BUCKET, S3_ENDPOINT and AWS credentials to run against S3)',
);

describe('FolderArtifactStore', () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-folder-store-'));
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('keeps files inside the root and renames from .tmp', async () => {
    const root = path.join(scratch, 'inside');
    const store = new FolderArtifactStore(root);
    await store.put('a/b/c.bin', Readable.from([Buffer.from('abc')]));
    assert.deepEqual(await readdir(path.join(root, 'a', 'b')), ['c.bin']);
    assert.deepEqual(await readdir(path.join(root, '.tmp')), []);
    assert.deepEqual(await readdir(scratch), ['inside']);
    await store.delete('a/b/c.bin');
    assert.deepEqual((await readdir(root)).sort(), ['.tmp'], 'emptied folders are removed');
  });

  it('reports a key that is also a prefix of other keys as a conflict', async () => {
    const store = new FolderArtifactStore(path.join(scratch, 'conflict'));
    await store.put('a/b', Readable.from([Buffer.from('x')]));
    await assert.rejects(
      store.put('a', Readable.from([Buffer.from('y')])),
      (error: unknown) => error instanceof ArtifactStoreError && error.code === ArtifactStoreErrorCode.KeyConflict,
    );
    await assert.rejects(
      store.put('a/b/c', Readable.from([Buffer.from('z')])),
      (error: unknown) => error instanceof ArtifactStoreError && error.code === ArtifactStoreErrorCode.KeyConflict,
    );
    assert.equal(await store.stat('a'), undefined, 'a folder is not an object');
    await assert.rejects(store.get('a'), ArtifactNotFoundError);
    await store.delete('a');
    assert.equal(await store.exists('a/b/c'), false);
    assert.equal(await getText(store, 'a/b'), 'x');
    assert.deepEqual(await readdir(path.join(scratch, 'conflict', '.tmp')), []);
  });

  it('ignores symlinks and stray files that are not artifacts', async () => {
    const root = path.join(scratch, 'stray');
    const store = new FolderArtifactStore(root);
    await store.put('real', Readable.from([Buffer.from('x')]));
    await writeFile(path.join(scratch, 'secret'), 'outside');
    const { symlink } = await import('node:fs/promises');
    await symlink(path.join(scratch, 'secret'), path.join(root, 'link'));
    await writeFile(path.join(root, 'has space'), 'not a valid key');
    assert.deepEqual(await keysUnder(store, ''), ['real']);
    await assert.rejects(store.get('link'), ArtifactNotFoundError);
    assert.equal(await store.stat('link'), undefined);
  });

  it('removes stale temporary files left by a crash', async () => {
    const root = path.join(scratch, 'stale');
    await mkdir(path.join(root, '.tmp'), { recursive: true });
    const stale = path.join(root, '.tmp', 'crashed.part');
    const fresh = path.join(root, '.tmp', 'in-progress.part');
    await writeFile(stale, 'partial');
    await writeFile(fresh, 'partial');
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(stale, old, old);
    await new FolderArtifactStore(root).check();
    assert.deepEqual(await readdir(path.join(root, '.tmp')), ['in-progress.part']);
  });

  it('removes, at start, temporary files of processes of this machine that are gone, whatever their age', async () => {
    const root = path.join(scratch, 'crashed');
    const temporary = path.join(root, '.tmp');
    await mkdir(temporary, { recursive: true });
    const host = os.hostname().replace(/[^A-Za-z0-9-]/g, '_');
    const exited = spawn(process.execPath, ['-e', '']);
    const deadPid = exited.pid as number;
    await once(exited, 'exit');
    const names = {
      killed: `${host}~${deadPid}.${randomUUID()}.part`,
      previousSelf: `${host}~${process.pid}.${randomUUID()}.part`,
      alive: `${host}~${process.ppid}.${randomUUID()}.part`,
      otherMachine: `elsewhere~${deadPid}.${randomUUID()}.part`,
      otherMachineStale: `elsewhere~${deadPid}.${randomUUID()}.part`,
    };
    for (const name of Object.values(names)) {
      await writeFile(path.join(temporary, name), 'partial');
    }
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(path.join(temporary, names.otherMachineStale), old, old);

    const store = new FolderArtifactStore(root);
    assert.equal(await store.removeAbandonedUploads(), 3);
    assert.deepEqual((await readdir(temporary)).sort(), [names.alive, names.otherMachine].sort());
    // Its own temporary files carry its owner, so the next start can tell they are its.
    await store.put('a/b', Readable.from([Buffer.from('x')]));
    assert.equal(await store.removeAbandonedUploads(), 3, 'runs once');
  });

  it('reports a root that cannot be a folder as a backend failure', async () => {
    const file = path.join(scratch, 'root-is-a-file');
    await writeFile(file, 'x');
    const store = new FolderArtifactStore(file);
    const body = Readable.from([Buffer.from('x')]);
    await assert.rejects(
      store.put('a', body),
      (error: unknown) => error instanceof ArtifactStoreError && error.code === ArtifactStoreErrorCode.BackendFailure,
    );
    assert.equal(body.destroyed, true);
    assert.equal(await store.exists('a'), false);
    assert.deepEqual(await keysUnder(store, ''), []);
  });

  it('fails the readiness check when the root cannot be a folder', async () => {
    const file = path.join(scratch, 'not-a-folder');
    await writeFile(file, 'x');
    const store = new FolderArtifactStore(file);
    await assert.rejects(
      store.check(),
      (error: unknown) =>
        error instanceof ArtifactStoreError &&
        error.code === ArtifactStoreErrorCode.BackendFailure &&
        error.message.includes(file),
    );
  });
});

describe('S3ArtifactStore', { skip: s3Settings() ? undefined : 'S3_BUCKET is not set' }, () => {
  it('reports a missing bucket on put as a backend failure, for single and multipart uploads', async () => {
    const settings = s3Settings();
    assert.ok(settings);
    const store = new S3ArtifactStore({ ...settings, bucket: `tuneforge-missing-${randomUUID().slice(0, 8)}` });
    try {
      for (const size of [1000, 12 * MiB]) {
        const body = new GeneratedBody(size, 'missing-bucket').stream();
        await assert.rejects(
          store.put('a', body),
          (error: unknown) =>
            error instanceof ArtifactStoreError &&
            error.code === ArtifactStoreErrorCode.BackendFailure &&
            error.message.includes('NoSuchBucket'),
        );
        assert.equal(body.destroyed, true);
      }
    } finally {
      await store.close();
    }
  });

  it('fails the readiness check for a missing bucket, naming it', async () => {
    const settings = s3Settings();
    assert.ok(settings);
    const store = new S3ArtifactStore({ ...settings, bucket: `tuneforge-missing-${randomUUID().slice(0, 8)}` });
    try {
      await assert.rejects(
        store.check(),
        (error: unknown) =>
          error instanceof ArtifactStoreError &&
          error.code === ArtifactStoreErrorCode.BackendFailure &&
          /tuneforge-missing-.*does not exist/.test(error.message),
      );
    } finally {
      await store.close();
    }
  });

  it('aborts, at start, only multipart uploads older than a day', async () => {
    const base = s3Settings();
    assert.ok(base);
    const settings: S3Settings = { ...base, prefix: `${base.prefix}abandoned-${randomUUID()}/` };
    const admin = new S3Client({ region: settings.region, endpoint: settings.endpoint, forcePathStyle: true });
    const store = new S3ArtifactStore(settings);
    try {
      await ensureBucket(admin, settings);
      for (const key of ['staging/a', 'staging/b']) {
        await admin.send(
          new CreateMultipartUploadCommand({ Bucket: settings.bucket, Key: `${settings.prefix}${key}` }),
        );
      }
      const pending = async () =>
        (await admin.send(new ListMultipartUploadsCommand({ Bucket: settings.bucket, Prefix: settings.prefix })))
          .Uploads ?? [];
      // Measured from the server's own start times (moto reports a fixed one).
      const started = Math.max(...(await pending()).map((upload) => upload.Initiated?.getTime() ?? 0));
      assert.equal(await store.removeAbandonedUploads(new Date(started + 60_000)), 0, 'live uploads are left alone');
      assert.equal((await pending()).length, 2);
      const nextDay = new Date(started + S3_ABANDONED_UPLOAD_AGE_MS + 60_000);
      assert.equal(await store.removeAbandonedUploads(nextDay), 2);
      assert.deepEqual(await pending(), []);
    } finally {
      await store.close();
      admin.destroy();
    }
  });
});
