import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  BYTE_ALPHABET,
  BYTE_TO_CHAR,
  CHAR_TO_BYTE,
  literalAlternation,
  preTokenize,
  toByteLevel,
} from './byte-level.js';

describe('byte-level', () => {
  it("maps bytes to GPT-2's characters", () => {
    assert.equal(new Set(BYTE_TO_CHAR).size, 256);
    assert.equal(BYTE_TO_CHAR[0x41], 'A');
    assert.equal(BYTE_TO_CHAR[0x20], '\u0120'); // 'Ġ'
    assert.equal(BYTE_TO_CHAR[0x0a], '\u010a'); // 'Ċ'
    assert.equal(BYTE_TO_CHAR[0x00], '\u0100');
    assert.equal(BYTE_TO_CHAR[0xad], '\u0143'); // the soft hyphen is the last byte moved up
    for (const [byte, char] of BYTE_TO_CHAR.entries()) {
      assert.equal(CHAR_TO_BYTE.get(char), byte);
    }
    // GPT-2's vocab starts with these in this order: "!" = 0, "h" = 71, "Ā" = 188, "Ġ" = 220, "Ċ" = 198.
    assert.equal(BYTE_ALPHABET.indexOf('!'), 0);
    assert.equal(BYTE_ALPHABET.indexOf('h'), 71);
    assert.equal(BYTE_ALPHABET.indexOf('\u0100'), 188);
    assert.equal(BYTE_ALPHABET.indexOf('\u0120'), 220);
    assert.equal(BYTE_ALPHABET.indexOf('\u010a'), 198);
    assert.equal(toByteLevel(' é\n'), '\u0120Ã©\u010a');
  });

  it('splits text into GPT-2 words', () => {
    assert.deepEqual(preTokenize("Hello world's  test\n"), ['Hello', ' world', "'s", ' ', ' test', '\n']);
    assert.deepEqual(preTokenize("I'll pay 1234 €!! ok"), ['I', "'ll", ' pay', ' 1234', ' €!!', ' ok']);
    assert.deepEqual(preTokenize('x  \t\n y'), ['x', '  \t\n', ' y']);
    assert.deepEqual(preTokenize(''), []);
    // Whitespace as HF tokenizers (Oniguruma) sees it: U+0085 is whitespace, U+FEFF is not.
    assert.deepEqual(preTokenize('a\u0085 '), ['a', '\u0085 ']);
    assert.deepEqual(preTokenize('\ufeff\n'), ['\ufeff', '\n']);
  });

  it('loses no text in pre-tokenisation', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        assert.equal(preTokenize(text).join(''), text);
      }),
    );
  });

  it('builds an alternation that matches the longest literal first', () => {
    const pattern = literalAlternation(['<|a|>', '<|a|>x', 'a.b', '']);
    assert.ok(pattern !== null);
    assert.deepEqual(
      [...'<|a|>x<|a|>a.ba-b'.matchAll(pattern)].map((match) => match[0]),
      ['<|a|>x', '<|a|>', 'a.b'],
    );
    assert.equal(literalAlternation([]), null);
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', minLength: 1 }), { minLength: 1 }), (literals) => {
        // Escaped right: every literal, and nothing but literals, matches as a whole.
        const regex = literalAlternation(literals);
        assert.ok(regex !== null);
        const whole = new RegExp(`^(?:${regex.source})$`, 'u');
        for (const literal of literals) {
          assert.ok(whole.test(literal), literal);
          assert.ok(!whole.test(`${literal}\n`) || literals.includes(`${literal}\n`));
        }
      }),
    );
  });
});
