import { InvalidArtifactKeyError } from './artifact-errors.js';

/**
 * Artifact keys are relative, `/`-separated paths such as `models/3f2a/weights.bin`.
 *
 * The rules are the intersection of what is safe as a POSIX path under a root folder and as an S3
 * key under a prefix, so a key means the same object in both stores:
 * - 1 to 512 bytes; segments separated by single `/`, no leading or trailing `/`, no empty segment;
 * - characters: ASCII letters, digits and `-_.=+@` (no spaces, control characters, NUL, `\`, `%`,
 *   `:` or non-ASCII, which file systems and S3 tools treat differently);
 * - no segment starts with `.`: this rules out `.` and `..` (traversal), hidden files and the
 *   folder store's own `.tmp` area;
 * - each segment at most 255 bytes (the usual file-name limit).
 */
export const MAX_ARTIFACT_KEY_BYTES = 512;
export const MAX_ARTIFACT_KEY_SEGMENT_BYTES = 255;

const ALLOWED_CHARACTER = /^[A-Za-z0-9\-_.=+@/]$/;

/** Returns the key unchanged when it is valid; throws InvalidArtifactKeyError otherwise. */
export function validateArtifactKey(key: string): string {
  const reason = artifactKeyProblem(key);
  if (reason !== undefined) {
    throw new InvalidArtifactKeyError(typeof key === 'string' ? key : String(key), reason);
  }
  return key;
}

export function isValidArtifactKey(key: string): boolean {
  return artifactKeyProblem(key) === undefined;
}

/**
 * A listing prefix: `''` (everything), a valid key, or a valid key followed by `/`. Prefixes match
 * as plain string prefixes, as in S3 (`models/a` matches `models/a/x` and `models/ab`).
 */
export function validateArtifactPrefix(prefix: string): string {
  if (prefix === '') {
    return prefix;
  }
  const body = typeof prefix === 'string' && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const reason = artifactKeyProblem(body);
  if (reason !== undefined) {
    throw new InvalidArtifactKeyError(
      typeof prefix === 'string' ? prefix : String(prefix),
      `invalid prefix: ${reason}`,
    );
  }
  return prefix;
}

/**
 * Joins single path segments into a key, validating each one. A part may not contain `/`, so a
 * user-supplied name can never add levels: `joinArtifactKey('datasets', id, fileName)`.
 */
export function joinArtifactKey(...parts: string[]): string {
  if (parts.length === 0) {
    throw new InvalidArtifactKeyError('', 'no parts to join');
  }
  for (const part of parts) {
    if (typeof part === 'string' && part.includes('/')) {
      throw new InvalidArtifactKeyError(part, 'a part of a joined key may not contain "/"');
    }
    validateArtifactKey(part);
  }
  return validateArtifactKey(parts.join('/'));
}

function artifactKeyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') {
    return 'must be a string';
  }
  if (key.length === 0) {
    return 'must not be empty';
  }
  for (let index = 0; index < key.length; index++) {
    const character = key[index];
    if (!ALLOWED_CHARACTER.test(character)) {
      const codePoint = key.codePointAt(index) ?? 0;
      const shown = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
      return `character ${shown} at position ${index} is not allowed (use letters, digits and -_.=+@/)`;
    }
  }
  // Only ASCII is left, so characters are bytes.
  if (key.length > MAX_ARTIFACT_KEY_BYTES) {
    return `must be at most ${MAX_ARTIFACT_KEY_BYTES} bytes`;
  }
  if (key.startsWith('/')) {
    return 'must be relative (no leading "/")';
  }
  if (key.endsWith('/')) {
    return 'must not end with "/"';
  }
  for (const segment of key.split('/')) {
    if (segment === '') {
      return 'must not contain empty segments ("//")';
    }
    if (segment === '.' || segment === '..') {
      return `must not contain "${segment}" segments`;
    }
    if (segment.startsWith('.')) {
      return 'segments must not start with "."';
    }
    if (segment.length > MAX_ARTIFACT_KEY_SEGMENT_BYTES) {
      return `segments must be at most ${MAX_ARTIFACT_KEY_SEGMENT_BYTES} bytes`;
    }
  }
  return undefined;
}
