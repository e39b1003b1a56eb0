import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateApiKeySecret } from '../../src/auth/api-key-secret.js';
import { freePort } from '../../scripts/lib/free-port.js';

const distRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The real service in a process of its own (as `npm start` runs it), with an admin key, for benchmarks. */
export class Service {
  private child: ChildProcess | undefined;
  baseUrl = '';
  readonly key = generateApiKeySecret();

  /** The service's process id (its own memory, threads and file descriptors, not PostgreSQL's). */
  get pid(): number {
    if (!this.child?.pid) {
      throw new Error('the service is not running');
    }
    return this.child.pid;
  }

  async start(
    dataDir: string,
    backend: string,
    environment: Record<string, string> = {},
    nodeArguments: string[] = [],
  ): Promise<void> {
    const port = await freePort();
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.child = spawn(process.execPath, [...nodeArguments, path.join(distRoot, 'src/main.js')], {
      env: {
        PATH: process.env.PATH,
        DATA_DIR: dataDir,
        PORT: String(port),
        HOST: '127.0.0.1',
        TUNEFORGE_BOOTSTRAP_KEY: this.key,
        TRAINER_BACKEND: backend,
        LOG_LEVEL: 'warn',
        RATE_LIMIT_PER_MINUTE: '1000000',
        RATE_LIMIT_BURST: '1000000',
        ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
        ...environment,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    for (;;) {
      if (this.child.exitCode !== null) {
        throw new Error(`the service exited with status ${this.child.exitCode} while starting`);
      }
      try {
        const status = await this.call<{ backend: string | null }>('GET', '/api/v1/trainer');
        if (status.backend) {
          return;
        }
      } catch {
        // starting
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async call<T>(method: string, route: string, body?: unknown, type = 'application/json'): Promise<T> {
    const response = await fetch(`${this.baseUrl}${route}`, {
      method,
      headers: { Authorization: `Bearer ${this.key}`, ...(body !== undefined ? { 'Content-Type': type } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status >= 400) {
      throw new Error(`${method} ${route}: ${response.status} ${text}`);
    }
    return JSON.parse(text) as T;
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child!.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
  }
}
