import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../errors/domain-error.js';
import { decodeCursor, encodeCursor } from './pagination.js';

const ID = '3f1c7a52-9c1e-4a55-9d55-0d1d7a8f2b1e';
const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

describe('cursors', () => {
  it('round-trips what encodeCursor writes', () => {
    const createdAt = new Date('2026-11-28T10:00:00.123Z');
    assert.deepEqual(decodeCursor(encodeCursor(createdAt, ID)), { createdAt, id: ID });
  });

  it('refuses cursors that decode but are not what the API writes, naming the field', () => {
    for (const text of [
      `2026-02-30T00:00:00.000Z|${ID}`,
      `+275760-09-13T00:00:00.000Z|${ID}`,
      `1|${ID}`,
      `0000-01-01T00:00:00.000Z|${ID}`,
      `2026-01-01T00:00:00Z|${ID}`,
      `2026-01-01T00:00:00.000Z|------------------------------------`,
      `2026-01-01T00:00:00.000Z|${ID.toUpperCase()}`,
      `2026-01-01T00:00:00.000Z|${ID}|${ID}`,
      '',
    ]) {
      assert.throws(
        () => decodeCursor(encode(text)),
        (error: unknown) => error instanceof DomainError && error.details[0]?.field === 'cursor',
        text,
      );
    }
  });
});
