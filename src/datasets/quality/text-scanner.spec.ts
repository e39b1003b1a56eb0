import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hash52, normaliseText, shingles, tokenize } from '../text/text.js';
import { laneKey } from './sketches.js';
import { hashLanes, TextScanner } from './text-scanner.js';

/** Characters that exercise every branch: cases, digits, apostrophes, whitespace kinds, punctuation, non-ASCII. */
const TRICKY = [
  'a',
  'B',
  'z',
  'Q',
  '0',
  '7',
  "'",
  '’',
  ' ',
  '  ',
  '\t',
  '\n',
  '\r\n',
  '\v',
  '\f',
  '\u00a0',
  '.',
  ',',
  '!',
  '-',
  '\u001c',
  '\u0000',
  'é',
  'Ｆ',
  'ß',
  'İ',
  '日本',
  '🙂',
  'ﬁ',
  'Σ',
  'σ',
  'ς',
  'ª',
  '²',
  'e\u0301',
  '\u0301',
  'Å',
  '“',
  '”',
  '—',
  '…',
  '\u3000',
  '\u2028',
  '\ufeff',
  '\u00ad',
  'ǅ',
  '한',
  '\u1100',
  '\u1161',
  'Ж',
  'ж',
  'ع',
  'Ⅻ',
  '١',
  '日本語',
];

const trickyText = fc.array(fc.constantFrom(...TRICKY), { maxLength: 40 }).map((parts) => parts.join(''));
const asciiText = fc.string({
  unit: fc.integer({ min: 0, max: 127 }).map((code) => String.fromCharCode(code)),
  maxLength: 60,
});

function scanned(text: string): { tokens: string[]; key: number; count: number } {
  const scanner = new TextScanner();
  scanner.scan(text);
  return { tokens: scanner.tokenStrings(), key: laneKey(scanner.keyHigh, scanner.keyLow), count: scanner.count };
}

describe('TextScanner', () => {
  it('yields the tokens of tokenize(normaliseText(text)), with hash52 lanes', () => {
    fc.assert(
      fc.property(fc.oneof(trickyText, asciiText, fc.string()), (text) => {
        const scanner = new TextScanner();
        scanner.scan(text);
        const expected = tokenize(normaliseText(text));
        assert.deepEqual(scanner.tokenStrings(), expected);
        assert.equal(scanner.count, expected.length);
        for (let index = 0; index < expected.length; index += 1) {
          assert.equal(laneKey(scanner.high[index], scanner.low[index]), hash52(expected[index]));
          assert.equal(scanner.token(index), expected[index]);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with text.ts on every BMP character, in several contexts', () => {
    const scanner = new TextScanner();
    const contexts = (char: string) => [
      char,
      `a${char}b`,
      `it${char}s`,
      `${char}\u0301`,
      `${char}${char}`,
      ` ${char} `,
      `A'${char}`,
      `5${char}x`,
    ];
    for (let code = 0; code < 0x10000; code += 1) {
      if (code >= 0xd800 && code <= 0xdfff) {
        continue;
      }
      for (const text of contexts(String.fromCharCode(code))) {
        scanner.scan(text);
        const expected = tokenize(normaliseText(text));
        const tokens = scanner.tokenStrings();
        if (tokens.length !== expected.length || tokens.some((token, index) => token !== expected[index])) {
          assert.fail(
            `U+${code.toString(16)} in ${JSON.stringify(text)}: ${JSON.stringify(tokens)} != ${JSON.stringify(expected)}`,
          );
        }
      }
    }
  });

  it('gives two texts the same key exactly when normaliseText makes them equal', () => {
    fc.assert(
      fc.property(trickyText, trickyText, (left, right) => {
        const same = normaliseText(left) === normaliseText(right);
        assert.equal(scanned(left).key === scanned(right).key, same);
      }),
      { numRuns: 3000 },
    );
    // Variants that normalise alike, through both the ASCII path and the fallback.
    const variants = [
      'hello, world',
      '  HELLO,   World\t',
      'Hello,\nworld ',
      'Ｈello, world',
      'hello,\u00a0world',
      'hello,\u3000world',
    ];
    const keys = new Set(variants.map((text) => scanned(text).key));
    assert.equal(keys.size, 1);
    assert.notEqual(scanned('hello ,world').key, scanned('hello, world').key);
    assert.notEqual(scanned('helloworld').key, scanned('hello world').key);
  });

  it('counts no tokens exactly for blank text', () => {
    for (const text of ['', ' ', '\t\n ', '\u00a0\u2003']) {
      assert.equal(scanned(text).count, 0, JSON.stringify(text));
    }
    assert.equal(scanned(' x ').count, 1);
  });

  it('gives the MinHash item values of text.ts shingles', () => {
    fc.assert(
      fc.property(fc.oneof(trickyText, asciiText), fc.integer({ min: 1, max: 4 }), (text, size) => {
        const scanner = new TextScanner();
        scanner.scan(text);
        const out = { values: new Float64Array(1) };
        const count = scanner.shingleValues(size, out);
        const expected = shingles(tokenize(normaliseText(text)), size).map((item) => hash52(item) % (2 ** 31 - 1));
        assert.deepEqual(Array.from(out.values.subarray(0, count)), expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('grows its buffers for long texts', () => {
    const text = Array.from({ length: 5000 }, (_, index) => `w${index}`).join(' ');
    assert.equal(scanned(text).count, 5000);
    assert.equal(scanned(`${text} é`).count, 5001);
  });

  it('hashes like hash52', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const lanes = new Int32Array(2);
        hashLanes(text, lanes, 0);
        assert.equal(laneKey(lanes[0], lanes[1]), hash52(text));
      }),
    );
  });
});
