import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import {
  access,
  copyFile,
  type FileHandle,
  lstat,
  mkdir,
  open,
  readdir,
  rename,
  rm,
  rmdir,
  unlink,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ArtifactNotFoundError,
  ArtifactStoreError,
  ArtifactStoreErrorCode,
  InvalidArtifactKeyError,
} from './artifact-errors.js';
import { isValidArtifactKey, validateArtifactKey, validateArtifactPrefix } from './artifact-key.js';
import {
  type ArtifactBody,
  type ArtifactListing,
  type ArtifactRange,
  type ArtifactStat,
  ArtifactStore,
  type PutArtifactOptions,
  type StoredArtifact,
  validateRange,
} from './artifact-store.js';
import { DigestingStream } from './digesting-stream.js';

/** Where uploads are written before being renamed into place; keys cannot name it (no leading `.`). */
export const TEMPORARY_DIRECTORY_NAME = '.tmp';
/**
 * Temporary files of another machine (a folder shared by replicas), or not named after their owner,
 * untouched for this long belong to a crashed process and are removed at start-up.
 */
const STALE_TEMPORARY_FILE_MS = 60 * 60 * 1000;

/**
 * Temporary files are named `<host>~<pid>.<uuid>.part`, so that a process starting up knows which
 * ones were left by a process of this machine that is gone: those are removed at once, whatever
 * their age.
 */
function temporaryOwner(): string {
  return `${os.hostname().replace(/[^A-Za-z0-9-]/g, '_')}~${process.pid}`;
}

/** Whether the temporary file `name` belongs to a live process (or cannot be told, and is fresh enough). */
function ownerIsGone(name: string, host: string): boolean | undefined {
  const match = /^([A-Za-z0-9_-]+)~(\d+)\./.exec(name);
  if (!match || match[1] !== host) {
    return undefined;
  }
  const pid = Number(match[2]);
  // Our own pid at start-up is a previous process's (a restarted container is often pid 1 again).
  if (pid === process.pid) {
    return true;
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return errorCode(error) === 'ESRCH';
  }
}
const RENAME_ATTEMPTS = 3;

/**
 * Artifacts as files under a root folder (DATA_DIR/artifacts): key `a/b/c` is `<root>/a/b/c`.
 *
 * Uploads go to `<root>/.tmp/<host>~<pid>.<uuid>.part`, are fsynced and then renamed over the target, so readers
 * see the old object or the new one, never a partial one. A file system cannot hold both `a` and
 * `a/b`: putting one while the other exists fails with code KeyConflict (S3 allows it).
 */
export class FolderArtifactStore extends ArtifactStore {
  private readonly logger = new Logger(FolderArtifactStore.name);
  readonly root: string;
  private readonly rootWithSeparator: string;
  private readonly temporaryDirectory: string;
  private readonly owner = temporaryOwner();
  private prepared?: Promise<void>;
  private removedAtStart = 0;

  constructor(root: string) {
    super();
    this.root = path.resolve(root);
    this.rootWithSeparator = this.root.endsWith(path.sep) ? this.root : this.root + path.sep;
    this.temporaryDirectory = path.join(this.root, TEMPORARY_DIRECTORY_NAME);
  }

  describe(): string {
    return `folder ${this.root}`;
  }

  protected async write(key: string, body: ArtifactBody, options: PutArtifactOptions): Promise<StoredArtifact> {
    const target = this.pathFor(key);
    await this.prepare();

    const temporaryPath = path.join(this.temporaryDirectory, `${this.owner}.${randomUUID()}.part`);
    const digest = new DigestingStream(options.maxBytes);
    let handle: FileHandle | undefined;
    let committed = false;
    try {
      handle = await this.backend('put', key, open(temporaryPath, 'wx', 0o600));
      // The file's write errors come out as BackendFailure; the body's own failure, an abort or
      // ArtifactTooLargeError reach the caller as they are.
      await pipeline(body, digest, this.fileWriter(handle, key), { signal: options.signal });
      await this.backend('put', key, handle.sync());
      const closing = handle.close();
      handle = undefined;
      await this.backend('put', key, closing);
      options.signal?.throwIfAborted();
      await this.moveIntoPlace(temporaryPath, target, key);
      committed = true;
      return { key, size: digest.byteCount, sha256: digest.sha256 };
    } finally {
      if (!committed) {
        await handle?.close().catch(() => undefined);
        await rm(temporaryPath, { force: true }).catch((error: unknown) => {
          this.logger.warn({ msg: 'could not remove a temporary upload file', path: temporaryPath, error });
        });
      }
    }
  }

  async get(key: string, range?: ArtifactRange): Promise<Readable> {
    const target = this.pathFor(key);
    validateRange(range);
    let handle: FileHandle;
    try {
      // O_NOFOLLOW: a symlink planted in the folder is not an artifact.
      handle = await open(target, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      if (isMissing(error) || errorCode(error) === 'ELOOP') {
        throw new ArtifactNotFoundError(key);
      }
      throw this.backendFailure('get', key, error);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) {
        throw new ArtifactNotFoundError(key);
      }
      return handle.createReadStream({ start: range?.start, end: range?.end, autoClose: true });
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error instanceof ArtifactStoreError ? error : this.backendFailure('get', key, error);
    }
  }

  async stat(key: string): Promise<ArtifactStat | undefined> {
    const target = this.pathFor(key);
    try {
      const info = await lstat(target);
      return info.isFile() ? { key, size: info.size, lastModified: info.mtime } : undefined;
    } catch (error) {
      if (isMissing(error)) {
        return undefined;
      }
      throw this.backendFailure('stat', key, error);
    }
  }

  async delete(key: string): Promise<void> {
    const target = this.pathFor(key);
    try {
      await unlink(target);
    } catch (error) {
      // EISDIR/EPERM: `key` is only a prefix of other keys, so there is no object to delete.
      if (isMissing(error) || errorCode(error) === 'EISDIR' || errorCode(error) === 'EPERM') {
        return;
      }
      throw this.backendFailure('delete', key, error);
    }
    await this.removeEmptyParents(path.dirname(target));
  }

  async deletePrefix(prefix: string): Promise<void> {
    validateArtifactPrefix(prefix);
    const keys: string[] = [];
    for await (const { key } of this.list(prefix)) {
      keys.push(key);
    }
    for (const key of keys) {
      await this.delete(key);
    }
  }

  async *list(prefix: string): AsyncIterable<ArtifactListing> {
    validateArtifactPrefix(prefix);
    // Start at the deepest folder the prefix names: `models/ab` and `models/` both start in `models`.
    const folderKey = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    yield* this.walk(folderKey, prefix);
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    const source = this.pathFor(fromKey);
    const target = this.pathFor(toKey);
    if ((await this.stat(fromKey)) === undefined) {
      throw new ArtifactNotFoundError(fromKey);
    }
    await this.prepare();
    const temporaryPath = path.join(this.temporaryDirectory, `${this.owner}.${randomUUID()}.part`);
    let committed = false;
    try {
      try {
        await copyFile(source, temporaryPath, constants.COPYFILE_EXCL);
      } catch (error) {
        throw isMissing(error) ? new ArtifactNotFoundError(fromKey) : this.backendFailure('copy', fromKey, error);
      }
      const handle = await this.backend('copy', toKey, open(temporaryPath, 'r+'));
      try {
        await this.backend('copy', toKey, handle.sync());
      } finally {
        await handle.close();
      }
      await this.moveIntoPlace(temporaryPath, target, toKey);
      committed = true;
    } finally {
      if (!committed) {
        await rm(temporaryPath, { force: true }).catch(() => undefined);
      }
    }
  }

  async check(): Promise<void> {
    try {
      await this.prepare();
      await access(this.root, constants.R_OK | constants.W_OK | constants.X_OK);
      // Prove writes work (a read-only mount passes access() for root).
      const probe = path.join(this.temporaryDirectory, `${randomUUID()}.probe`);
      const handle = await open(probe, 'wx', 0o600);
      await handle.close();
      await unlink(probe);
    } catch (error) {
      throw new ArtifactStoreError(
        ArtifactStoreErrorCode.BackendFailure,
        `Artifact folder ${this.root} is not usable: ${describeError(error)}`,
        { cause: error },
      );
    }
  }

  async removeAbandonedUploads(): Promise<number> {
    await this.prepare();
    return this.removedAtStart;
  }

  private pathFor(key: string): string {
    validateArtifactKey(key);
    const resolved = path.resolve(this.root, key);
    // Validation already guarantees this; checked again because the cost of being wrong is high.
    if (!resolved.startsWith(this.rootWithSeparator)) {
      throw new InvalidArtifactKeyError(key, 'resolves outside the artifact folder');
    }
    return resolved;
  }

  /** Creates the root and `.tmp` (mode 0700) once, and clears temporary files left by a crash. */
  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      await mkdir(this.root, { recursive: true, mode: 0o700 });
      await mkdir(this.temporaryDirectory, { recursive: true, mode: 0o700 });
      await this.removeStaleTemporaryFiles();
    })().catch((error: unknown) => {
      this.prepared = undefined;
      throw this.backendFailure('prepare', this.root, error);
    });
    return this.prepared;
  }

  /**
   * Runs once, before this store writes anything: files of dead processes of this machine go at
   * once; files of other machines sharing the folder, or without an owner, once they are stale.
   */
  private async removeStaleTemporaryFiles(): Promise<void> {
    const entries = await readdir(this.temporaryDirectory);
    const host = this.owner.slice(0, this.owner.lastIndexOf('~'));
    let removed = 0;
    for (const name of entries) {
      const file = path.join(this.temporaryDirectory, name);
      try {
        const gone = ownerIsGone(name, host);
        const stale = gone ?? Date.now() - (await lstat(file)).mtimeMs > STALE_TEMPORARY_FILE_MS;
        if (stale) {
          await rm(file, { force: true, recursive: true });
          removed++;
        }
      } catch (error) {
        if (!isMissing(error)) {
          throw error;
        }
      }
    }
    this.removedAtStart = removed;
  }

  private async moveIntoPlace(temporaryPath: string, target: string, key: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
        await rename(temporaryPath, target);
        return;
      } catch (error) {
        const code = errorCode(error);
        // A concurrent delete removed a parent folder it had just emptied: make it again.
        if (code === 'ENOENT' && attempt < RENAME_ATTEMPTS) {
          continue;
        }
        if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') {
          throw new ArtifactStoreError(
            ArtifactStoreErrorCode.KeyConflict,
            `Artifact key ${JSON.stringify(key)} conflicts with an existing key: in a folder store a key cannot also be a prefix of other keys`,
            { cause: error },
          );
        }
        throw this.backendFailure('put', key, error);
      }
    }
  }

  /** Removes folders emptied by a delete, so they do not pile up or block a later key of that name. */
  private async removeEmptyParents(folder: string): Promise<void> {
    let current = folder;
    while (current.startsWith(this.rootWithSeparator)) {
      try {
        await rmdir(current);
      } catch {
        return; // not empty (ENOTEMPTY/EEXIST), already gone, or not ours to remove
      }
      current = path.dirname(current);
    }
  }

  private async *walk(folderKey: string, prefix: string): AsyncGenerator<ArtifactListing> {
    const folder = folderKey === '' ? this.root : path.join(this.root, folderKey);
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) {
        return;
      }
      throw this.backendFailure('list', prefix, error);
    }
    const children = entries
      .filter((entry) => !entry.name.startsWith('.') && (entry.isFile() || entry.isDirectory()))
      .map((entry) => {
        const key = folderKey === '' ? entry.name : `${folderKey}/${entry.name}`;
        // Sorting folders as `name/` gives the same order as sorting the full keys, as S3 does.
        return { key, folder: entry.isDirectory(), sortKey: entry.isDirectory() ? `${key}/` : key };
      })
      .filter((child) => isValidArtifactKey(child.key))
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    for (const child of children) {
      if (child.folder) {
        if (child.sortKey.startsWith(prefix) || prefix.startsWith(child.sortKey)) {
          yield* this.walk(child.key, prefix);
        }
      } else if (child.key.startsWith(prefix)) {
        const info = await this.stat(child.key);
        if (info !== undefined) {
          yield { key: child.key, size: info.size };
        }
      }
    }
  }

  private fileWriter(handle: FileHandle, key: string): Writable {
    return new Writable({
      highWaterMark: 1024 * 1024,
      write: (chunk: Buffer, _encoding, callback) => {
        writeFully(handle, chunk).then(
          () => callback(),
          (error: unknown) => callback(this.backendFailure('put', key, error)),
        );
      },
    });
  }

  private async backend<T>(operation: string, key: string, promise: Promise<T>): Promise<T> {
    try {
      return await promise;
    } catch (error) {
      throw this.backendFailure(operation, key, error);
    }
  }

  private backendFailure(operation: string, key: string, error: unknown): ArtifactStoreError {
    if (error instanceof ArtifactStoreError) {
      return error;
    }
    return new ArtifactStoreError(
      ArtifactStoreErrorCode.BackendFailure,
      `Artifact ${operation} of ${JSON.stringify(key)} in ${this.describe()} failed: ${describeError(error)}`,
      { cause: error },
    );
  }
}

async function writeFully(handle: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** ENOTDIR: a parent of the path is a file, so nothing exists at the path. */
function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
