/**
 * GPT-2's byte-level alphabet and pre-tokenisation, shared by the tokenizer and its trainer.
 *
 * Every byte gets a printable Unicode character (GPT-2's `bytes_to_unicode`): printable Latin-1 bytes
 * stand for themselves, the others (controls, space, ...) move to U+0100 and up, so a token's text is
 * its bytes, readable, and never contains whitespace.
 */

function buildByteToChar(): string[] {
  const printable: number[] = [];
  for (const [first, last] of [
    [0x21, 0x7e], // '!'..'~'
    [0xa1, 0xac], // '¡'..'¬'
    [0xae, 0xff], // '®'..'ÿ'
  ]) {
    for (let byte = first; byte <= last; byte += 1) {
      printable.push(byte);
    }
  }
  const chars = new Array<string>(256);
  for (const byte of printable) {
    chars[byte] = String.fromCharCode(byte);
  }
  let next = 256;
  for (let byte = 0; byte < 256; byte += 1) {
    if (chars[byte] === undefined) {
      chars[byte] = String.fromCharCode(next);
      next += 1;
    }
  }
  return chars;
}

/** `BYTE_TO_CHAR[byte]`: the character that stands for `byte`. */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

/** The inverse of BYTE_TO_CHAR. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((char, byte) => [char, byte]));

/** The 256 byte characters in code point order: the order of GPT-2's (and HF's trainer's) base vocab. */
export const BYTE_ALPHABET: readonly string[] = [...BYTE_TO_CHAR].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0));

/**
 * GPT-2's pre-tokenisation: contractions, letter runs, digit runs, other runs, whitespace. `\s` is
 * spelt \p{White_Space} because that is what `\s` means in the Oniguruma regex of HF tokenizers (and
 * in Python's): JS's `\s` would add U+FEFF and miss U+0085, splitting such text differently.
 */
export const GPT2_PATTERN =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

/**
 * Splits text into GPT-2 words. The alternatives cover every code point (letter, number, space or
 * other), so the words concatenate back to the text.
 */
export function preTokenize(text: string): string[] {
  return text.match(GPT2_PATTERN) ?? [];
}

const encoder = new TextEncoder();

/** A word as byte-level text: its UTF-8 bytes, each as its alphabet character. */
export function toByteLevel(word: string): string {
  let out = '';
  for (const byte of encoder.encode(word)) {
    out += BYTE_TO_CHAR[byte];
  }
  return out;
}

/**
 * A regex matching any of `contents` (leftmost, longest first), or null for none. The `u` flag keeps a
 * match from splitting a surrogate pair.
 */
export function literalAlternation(contents: Iterable<string>): RegExp | null {
  const sorted = [...new Set(contents)].filter((content) => content.length > 0);
  if (sorted.length === 0) {
    return null;
  }
  sorted.sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
  return new RegExp(sorted.map((content) => content.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')).join('|'), 'gu');
}
