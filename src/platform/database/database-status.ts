import { SetMetadata } from '@nestjs/common';
import type { EmbeddedDatabaseState } from './embedded-database.js';

/** Seconds a client is told to wait (`Retry-After`) while the database is unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** What the app knows of its database without asking it. */
export type DatabaseAvailability = 'available' | 'restarting' | 'failed';

/**
 * The supervised embedded server's state, or always `available` for an external DATABASE_URL (whose
 * outages show up as connection errors, answered 503 too). `failed` means this process cannot get
 * its database back: liveness fails so that an orchestrator restarts it.
 */
export class DatabaseStatus {
  constructor(private readonly embedded?: { readonly state: EmbeddedDatabaseState }) {}

  get isEmbedded(): boolean {
    return this.embedded !== undefined;
  }

  availability(): DatabaseAvailability {
    const state = this.embedded?.state;
    switch (state) {
      case undefined:
      case 'running':
        return 'available';
      case 'starting':
      case 'restarting':
      case 'stopped':
        return 'restarting';
      case 'failed':
        return 'failed';
      default:
        return assertNever(state);
    }
  }
}

function assertNever(value: never): never {
  throw new Error(`unreachable: ${String(value)}`);
}

export const WITHOUT_DATABASE = 'tuneforge:without-database';

/** Routes that answer while the database is away (health probes). */
export const AnswersWithoutDatabase = (): ClassDecorator & MethodDecorator => SetMetadata(WITHOUT_DATABASE, true);
