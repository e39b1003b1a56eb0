import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';

/** First key of the two-part advisory locks on dataset blobs: keeps them apart from other advisory locks. */
export const BLOB_LOCK_NAMESPACE = 0x0b10b;

/**
 * Takes a transaction-level PostgreSQL advisory lock on one content-addressed blob, held until the
 * transaction ends. Everything that decides whether a blob must exist takes it: an upload between
 * its "already stored?" check and its insert, and a delete between "still referenced?" and removing
 * the file. PostgreSQL holds it, so it serialises replicas as well as requests.
 */
export async function lockBlob(manager: EntityManager, blobKey: string): Promise<void> {
  await manager.query('SELECT pg_advisory_xact_lock($1, $2)', [BLOB_LOCK_NAMESPACE, blobLockKey(blobKey)]);
}

/** A signed 32-bit number from the key's SHA-256; a collision only makes two blobs share a lock. */
export function blobLockKey(blobKey: string): number {
  return createHash('sha256').update(blobKey).digest().readInt32BE(0);
}
