import { execFile } from 'node:child_process';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/** An OS account a child process runs as. */
export interface OsAccount {
  name: string;
  uid: number;
  gid: number;
  /** Primary and supplementary groups. */
  groups: number[];
}

export interface Blocked {
  /** The folder (or file) the account cannot pass. */
  path: string;
  mode: string;
  ownerUid: number;
}

/** Looks an account up with `id`; undefined when it does not exist. */
export async function findAccount(name: string): Promise<OsAccount | undefined> {
  const run = (flag: string) =>
    new Promise<string | undefined>((resolve) =>
      execFile('id', [flag, name], (error, stdout) => resolve(error ? undefined : stdout.trim())),
    );
  const [uid, gid, groups] = await Promise.all([run('-u'), run('-g'), run('-G')]);
  if (uid === undefined || gid === undefined) {
    return undefined;
  }
  return {
    name,
    uid: Number(uid),
    gid: Number(gid),
    groups: (groups ?? gid).split(/\s+/).filter(Boolean).map(Number),
  };
}

/** Whether `account` has `bit` (4 read, 2 write, 1 execute/search) on a file of this owner and mode. */
export function permits(account: OsAccount, file: { uid: number; gid: number; mode: number }, bit: 1 | 2 | 4): boolean {
  if (account.uid === 0) {
    return true;
  }
  if (file.uid === account.uid) {
    return (file.mode & (bit << 6)) !== 0;
  }
  if (account.groups.includes(file.gid) || file.gid === account.gid) {
    return (file.mode & (bit << 3)) !== 0;
  }
  return (file.mode & bit) !== 0;
}

/**
 * The first folder on the way to `target` that `account` cannot enter (or `target` itself, when
 * `executable` and the account cannot run it); undefined when the way is open. Parts of the path
 * that do not exist yet are not checked.
 */
export async function firstBlocked(
  target: string,
  account: OsAccount,
  options: { executable?: boolean } = {},
): Promise<Blocked | undefined> {
  let resolved: string;
  try {
    resolved = await realpath(target);
  } catch {
    resolved = path.resolve(target);
  }
  const parts = resolved.split(path.sep).filter(Boolean);
  let current: string = path.sep;
  const folders = [current];
  for (const part of parts.slice(0, -1)) {
    current = path.join(current, part);
    folders.push(current);
  }
  for (const folder of folders) {
    const info = await stat(folder).catch(() => undefined);
    if (!info) {
      return undefined;
    }
    if (!permits(account, info, 1)) {
      return describe(folder, info);
    }
  }
  if (options.executable) {
    const info = await stat(resolved).catch(() => undefined);
    if (info && !permits(account, info, 1)) {
      return describe(resolved, info);
    }
  }
  return undefined;
}

function describe(file: string, info: { mode: number; uid: number }): Blocked {
  return { path: file, mode: `0${(info.mode & 0o777).toString(8)}`, ownerUid: info.uid };
}
