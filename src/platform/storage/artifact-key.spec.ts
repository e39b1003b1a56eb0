import fc from 'fast-check';
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InvalidArtifactKeyError } from './artifact-errors.js';
import {
  isValidArtifactKey,
  joinArtifactKey,
  MAX_ARTIFACT_KEY_BYTES,
  validateArtifactKey,
  validateArtifactPrefix,
} from './artifact-key.js';

const ROOT = path.resolve('/srv/tuneforge/artifacts');
const RUNS = { numRuns: 2000 };

const KEY_CHARACTERS = [...'abcXYZ019-_.=+@'];
/** A segment the rules accept: allowed characters, not starting with a dot. */
const validSegment = fc
  .tuple(
    fc.constantFrom(...KEY_CHARACTERS.filter((character) => character !== '.')),
    fc.string({ unit: fc.constantFrom(...KEY_CHARACTERS), maxLength: 12 }),
  )
  .map(([first, rest]) => first + rest);
const validKey = fc.array(validSegment, { minLength: 1, maxLength: 6 }).map((segments) => segments.join('/'));

/** Pieces that traversal and injection attempts are made of. */
const hostileFragment = fc.constantFrom(
  '.',
  '..',
  '/',
  '//',
  '\\',
  '..\\',
  '\0',
  '\n',
  '%2e%2e',
  '%2f',
  '~',
  ' ',
  'C:',
  '\u2024', // one dot leader, looks like "."
  '\uff0e', // full-width full stop
  'é',
  'a',
  'b',
  '.tmp',
);
const hostileString = fc.array(hostileFragment, { maxLength: 10 }).map((fragments) => fragments.join(''));

function expectRejected(key: string): void {
  assert.throws(
    () => validateArtifactKey(key),
    InvalidArtifactKeyError,
    `expected ${JSON.stringify(key)} to be rejected`,
  );
}

function resolvesInsideRoot(key: string): boolean {
  const resolved = path.resolve(ROOT, key);
  return resolved.startsWith(ROOT + path.sep) && path.relative(ROOT, resolved) === key;
}

describe('validateArtifactKey', () => {
  it('accepts ordinary keys and returns them unchanged', () => {
    for (const key of [
      'a',
      'models/3f2a/weights.bin',
      'datasets/ds_1/v=2/train.jsonl',
      'reports/a+b@c-d_e.json',
      'x'.repeat(255),
      'a.',
      'a..b',
    ]) {
      assert.equal(validateArtifactKey(key), key);
    }
  });

  const rejected: [string, string][] = [
    ['', 'empty'],
    ['/etc/passwd', 'absolute'],
    ['/', 'root'],
    ['..', 'parent'],
    ['.', 'current folder'],
    ['../x', 'leading parent'],
    ['a/../../x', 'inner parent'],
    ['a/..', 'trailing parent'],
    ['a/./b', 'current-folder segment'],
    ['a//b', 'empty segment'],
    ['a/', 'trailing slash'],
    ['.tmp/x', 'the temporary area'],
    ['a/.hidden', 'hidden file'],
    ['a\0b', 'NUL'],
    ['a\nb', 'newline'],
    ['a\u007fb', 'DEL'],
    ['a\\b', 'backslash'],
    ['..\\..\\x', 'Windows traversal'],
    ['C:/x', 'drive letter'],
    ['a b', 'space'],
    ['%2e%2e/x', 'percent-encoding'],
    ['caf\u00e9', 'non-ASCII'],
    ['a/\uff0e\uff0e/b', 'full-width dots'],
    ['x'.repeat(256), 'segment over 255 bytes'],
    [`${'x/'.repeat(256)}x`, 'key over 512 bytes'],
  ];
  for (const [key, why] of rejected) {
    it(`rejects ${why}`, () => expectRejected(key));
  }

  it('says why a key was rejected', () => {
    assert.throws(
      () => validateArtifactKey('a/../b'),
      (error: unknown) =>
        error instanceof InvalidArtifactKeyError && error.key === 'a/../b' && /"\.\." segments/.test(error.message),
    );
    assert.throws(() => validateArtifactKey('a\0'), /U\+0000 at position 1/);
  });

  it('rejects non-strings from untyped callers', () => {
    assert.throws(() => validateArtifactKey(undefined as unknown as string), InvalidArtifactKeyError);
    assert.throws(() => validateArtifactKey(42 as unknown as string), InvalidArtifactKeyError);
  });

  it('property: every accepted string resolves to itself strictly inside the root', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), hostileString, validKey), (key) => {
        if (isValidArtifactKey(key)) {
          assert.ok(resolvesInsideRoot(key), `${JSON.stringify(key)} escapes or is normalised`);
          assert.ok(!path.resolve(ROOT, key).startsWith(path.join(ROOT, '.tmp')), 'reaches .tmp');
        }
      }),
      RUNS,
    );
  });

  it('property: generated valid keys are accepted and resolve inside the root', () => {
    fc.assert(
      fc.property(validKey, (key) => {
        assert.equal(validateArtifactKey(key), key);
        assert.ok(resolvesInsideRoot(key));
      }),
      RUNS,
    );
  });

  it('property: traversal variants of valid keys are rejected', () => {
    const variant = fc.constantFrom(
      (key: string) => `../${key}`,
      (key: string) => `${key}/..`,
      (key: string) => `${key}/../../x`,
      (key: string) => `${key}/./x`,
      (key: string) => `/${key}`,
      (key: string) => `${key}/`,
      (key: string) => `${key}//x`,
      (key: string) => `${key}\0`,
      (key: string) => `${key}\\..\\x`,
      (key: string) => `${key}/.tmp`,
      (key: string) => `.${key}`,
    );
    fc.assert(
      fc.property(validKey, variant, (key, makeVariant) => expectRejected(makeVariant(key))),
      RUNS,
    );
  });

  it('property: a key containing a "." or ".." segment is never accepted', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(validSegment, fc.constantFrom('.', '..')), { minLength: 1, maxLength: 6 }),
        (segments) => {
          const key = segments.join('/');
          if (segments.includes('.') || segments.includes('..')) {
            expectRejected(key);
          } else {
            assert.ok(isValidArtifactKey(key) === Buffer.byteLength(key) <= MAX_ARTIFACT_KEY_BYTES);
          }
        },
      ),
      RUNS,
    );
  });
});

describe('validateArtifactPrefix', () => {
  it('accepts the empty prefix, keys and keys ending in "/"', () => {
    for (const prefix of ['', 'models', 'models/', 'models/ab', 'a/b/']) {
      assert.equal(validateArtifactPrefix(prefix), prefix);
    }
  });

  it('rejects traversal and malformed prefixes', () => {
    for (const prefix of ['/', '/models', '../', 'a/../', 'a//', '.tmp/', 'a\0/', 'a\\']) {
      assert.throws(() => validateArtifactPrefix(prefix), InvalidArtifactKeyError, JSON.stringify(prefix));
    }
  });
});

describe('joinArtifactKey', () => {
  it('joins segments', () => {
    assert.equal(joinArtifactKey('datasets', 'ds_1', 'train.jsonl'), 'datasets/ds_1/train.jsonl');
  });

  it('rejects parts that would add levels or escape', () => {
    for (const parts of [[], ['a', 'b/c'], ['a', '..'], ['a', ''], ['/a'], ['a', '.'], ['a', '.env'], ['a', 'b\0']]) {
      assert.throws(() => joinArtifactKey(...parts), InvalidArtifactKeyError, JSON.stringify(parts));
    }
  });

  it('rejects a joined key over the length limit', () => {
    const part = 'x'.repeat(200);
    assert.throws(() => joinArtifactKey(part, part, part), /at most 512 bytes/);
  });

  it('property: any joined key stays inside the root', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(validSegment, hostileString), { minLength: 1, maxLength: 4 }), (parts) => {
        let key: string;
        try {
          key = joinArtifactKey(...parts);
        } catch (error) {
          assert.ok(error instanceof InvalidArtifactKeyError);
          return;
        }
        assert.ok(resolvesInsideRoot(key));
        assert.equal(key.split('/').length, parts.length);
      }),
      RUNS,
    );
  });
});
