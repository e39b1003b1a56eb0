import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { firstBlocked, permits, type OsAccount } from './os-access.js';

const stranger: OsAccount = { name: 'stranger', uid: 54_321, gid: 54_321, groups: [54_321] };

describe('permits', () => {
  it('reads the owner, group or other bits that apply to the account', () => {
    assert.equal(permits(stranger, { uid: 54_321, gid: 0, mode: 0o700 }, 1), true);
    assert.equal(permits(stranger, { uid: 0, gid: 54_321, mode: 0o710 }, 1), true);
    assert.equal(permits(stranger, { uid: 0, gid: 0, mode: 0o770 }, 1), false);
    assert.equal(permits(stranger, { uid: 0, gid: 0, mode: 0o711 }, 1), true);
    // The owner's bits decide for the owner, even when others have more.
    assert.equal(permits(stranger, { uid: 54_321, gid: 0, mode: 0o077 }, 1), false);
    assert.equal(permits({ ...stranger, uid: 0 }, { uid: 1, gid: 1, mode: 0o000 }, 1), true);
  });
});

describe('firstBlocked', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-access-'));
    await chmod(root, 0o755);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('names the first folder on the way that the account cannot enter', async () => {
    const closed = path.join(root, 'closed');
    await mkdir(path.join(closed, 'inner'), { recursive: true });
    await chmod(closed, 0o700);
    const blocked = await firstBlocked(path.join(closed, 'inner', 'program'), stranger);
    assert.deepEqual(blocked && { path: blocked.path, mode: blocked.mode }, { path: closed, mode: '0700' });
  });

  it('checks that a program may be run, and passes an open way', async () => {
    const open = path.join(root, 'open');
    await mkdir(open, { mode: 0o755 });
    await chmod(open, 0o755);
    const program = path.join(open, 'program');
    await writeFile(program, '#!/bin/sh\n', { mode: 0o700 });
    assert.equal((await firstBlocked(program, stranger, { executable: true }))?.path, program);
    await chmod(program, 0o755);
    assert.equal(await firstBlocked(program, stranger, { executable: true }), undefined);
    // Folders that do not exist yet are not in the way.
    assert.equal(await firstBlocked(path.join(open, 'not', 'yet'), stranger), undefined);
  });
});
