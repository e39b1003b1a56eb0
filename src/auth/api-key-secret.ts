import { createHash, randomBytes } from 'node:crypto';

export const API_KEY_PREFIX = 'tf_';
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A new key: `tf_` and 40 base62 characters (about 238 bits of randomness). */
export function generateApiKeySecret(): string {
  let secret = '';
  while (secret.length < 40) {
    for (const byte of randomBytes(48)) {
      // Bytes from 248 (= 4 * 62) up are rejected, so that every character is equally likely.
      if (byte < 248 && secret.length < 40) {
        secret += ALPHABET[byte % 62];
      }
    }
  }
  return `${API_KEY_PREFIX}${secret}`;
}

/**
 * Keys are long random strings, so a fast unsalted SHA-256 is the right hash (as GitHub and Stripe
 * do): no dictionary to attack, and lookup by hash stays one indexed query.
 */
export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** What lists and logs show of a key: enough to tell keys apart, useless to an attacker. */
export function displayPrefixOf(secret: string): string {
  return secret.slice(0, API_KEY_PREFIX.length + 8);
}

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX) && token.length >= 20 && token.length <= 200 && /^[A-Za-z0-9_]+$/.test(token);
}
