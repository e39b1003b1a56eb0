/**
 * One pass over a row's text that yields, without building intermediate strings:
 * - the tokens of tokenize(normaliseText(text)), as hash lanes (hash52's) and offsets;
 * - the exact-duplicate key: a 52-bit hash of normaliseText(text), computed from its tokens and
 *   whether whitespace separates them. That is the same information as the normalised text itself
 *   (tokens cover every non-space character, and normalisation turns each run of whitespace into
 *   one space), so two texts get the same key exactly when normaliseText makes them equal.
 *
 * A hand-written state machine equals tokenize's regex on text made of "plain" characters: those
 * that NFKC leaves alone whatever surrounds them (NFKC-stable, not a combining mark nor a conjoining
 * jamo, which could compose with a neighbour) and that lowercase to one character without context
 * (not Σ). That is ASCII, most Latin, Greek, Cyrillic, CJK and common punctuation (’ “ ” – —), each
 * character classified once, lazily, with the same Unicode tests as the regex. Text with any other
 * character (combining marks, compatibility forms such as ﬁ, ², full-width letters, astral
 * characters such as emoji) falls back to text.ts's functions. The specs check the equality.
 */
import { normaliseText, tokenize } from '../text/text.js';
import { mix32 } from './sketches.js';

const H1_START = 0x811c9dc5 | 0;
const H2_START = 0x01000193;
const H1_PRIME = 0x01000193;
const H2_PRIME = 0x5bd1e995;
const KEY1_START = 0x6a09e667 | 0;
const KEY2_START = 0x3c6ef372;
const MERSENNE = 2 ** 31 - 1;
const TWO_POW_20 = 0x100000;

/** Classes of a code unit; 0: not classified yet. */
const WORD = 1;
const LETTER = 2;
const SPACE = 4;
const OTHER = 8;
const UNSAFE = 16;
const APOSTROPHE = 0x27;
const RIGHT_SINGLE_QUOTE = 0x2019;

/** Per UTF-16 code unit: its class (0 until classified) and its lowercase code unit. */
const CLASSES = new Uint8Array(0x10000);
const LOWER = new Uint16Array(0x10000);

const IS_SPACE = /^\s+$/u;
const IS_LETTER = /^\p{L}$/u;
const IS_NUMBER = /^\p{N}$/u;
const IS_MARK = /^\p{M}$/u;

/** The class of a code unit, as tokenize's regex sees it after normaliseText (memoised). */
function classify(code: number): number {
  const char = String.fromCharCode(code);
  const normalised = char.normalize('NFKC');
  const lower = char.toLowerCase();
  let classes: number;
  if ((code >= 0xd800 && code <= 0xdfff) || code === 0x03a3) {
    // Halves of astral characters; Σ, whose lowercase depends on its position in the word.
    classes = UNSAFE;
  } else if (IS_SPACE.test(char)) {
    // Normalisation turns any whitespace (NBSP, ideographic space...) into one space.
    classes = IS_SPACE.test(normalised) ? SPACE : UNSAFE;
  } else if (
    normalised !== char ||
    lower.length !== 1 ||
    IS_MARK.test(char) ||
    (code >= 0x1100 && code <= 0x11ff) ||
    (code >= 0xa960 && code <= 0xa97f) ||
    (code >= 0xd7b0 && code <= 0xd7ff)
  ) {
    classes = UNSAFE;
  } else {
    classes = IS_LETTER.test(lower) ? WORD | LETTER : IS_NUMBER.test(lower) ? WORD : OTHER;
  }
  LOWER[code] = lower.length === 1 ? lower.charCodeAt(0) : code;
  CLASSES[code] = classes;
  return classes;
}

for (let code = 0; code < 128; code += 1) {
  classify(code);
}

/** hash52's two lanes of a string, as int32: `hash52(text) === laneKey(into[index], into[index + 1])`. */
export function hashLanes(text: string, into: Int32Array, index: number): void {
  let h1 = H1_START;
  let h2 = H2_START;
  for (let position = 0; position < text.length; position += 1) {
    const code = text.charCodeAt(position);
    h1 = Math.imul(h1 ^ code, H1_PRIME);
    h2 = Math.imul(h2 ^ code, H2_PRIME);
  }
  into[index] = h1;
  into[index + 1] = h2;
}

/**
 * The exact-duplicate key's lanes, extended by one token (`gap`: whitespace before it); a multiply
 * and xor-shift per token, mixed in full once at the end (mix32).
 */
function extendKey1(key: number, high: number, gap: number): number {
  const next = Math.imul(key ^ high, 0x9e3779b1) + gap;
  return next ^ (next >>> 15);
}

function extendKey2(key: number, low: number, gap: number): number {
  const next = Math.imul(key ^ low, 0x85ebca6b) + gap;
  return next ^ (next >>> 13);
}

export class TextScanner {
  /** Tokens of the last scan (0 exactly when the normalised text is empty). */
  count = 0;
  /** Per token: hash52 lanes (int32), and offsets in `text` (ASCII path only). */
  high = new Int32Array(256);
  low = new Int32Array(256);
  starts = new Int32Array(256);
  ends = new Int32Array(256);
  /** The tokens as strings when the last scan took the fallback path; undefined on the ASCII path. */
  strings: string[] | undefined;
  /** The exact-duplicate key of the last scan: keyHigh * 2^20 + keyLow (52 bits). */
  keyHigh = 0;
  keyLow = 0;
  /** The text of the last scan. */
  text = '';
  private readonly lanes = new Int32Array(2);

  scan(text: string): void {
    this.text = text;
    this.strings = undefined;
    if (!this.scanPlain(text)) {
      this.scanOther(text);
    }
  }

  /** Token `index` of the last scan as a string (what tokenize returns). */
  token(index: number): string {
    return this.strings ? this.strings[index] : this.text.slice(this.starts[index], this.ends[index]).toLowerCase();
  }

  /**
   * The MinHash item values of the last scan's word shingles: `hash52(shingle) % (2^31 - 1)` for each
   * of shingles(tokens, size) (text.ts), into `out.values` (grown when needed); returns how many.
   */
  shingleValues(size: number, out: { values: Float64Array }): number {
    const count = this.count;
    if (count === 0) {
      return 0;
    }
    const shingleCount = count <= size ? 1 : count - size + 1;
    const width = count <= size ? count : size;
    if (out.values.length < shingleCount) {
      out.values = new Float64Array(Math.max(shingleCount, out.values.length * 2));
    }
    const values = out.values;
    const strings = this.strings;
    const text = this.text;
    for (let first = 0; first < shingleCount; first += 1) {
      let h1 = H1_START;
      let h2 = H2_START;
      for (let index = first; index < first + width; index += 1) {
        if (index > first) {
          h1 = Math.imul(h1 ^ 0x20, H1_PRIME);
          h2 = Math.imul(h2 ^ 0x20, H2_PRIME);
        }
        if (strings) {
          const token = strings[index];
          for (let position = 0; position < token.length; position += 1) {
            const code = token.charCodeAt(position);
            h1 = Math.imul(h1 ^ code, H1_PRIME);
            h2 = Math.imul(h2 ^ code, H2_PRIME);
          }
        } else {
          const end = this.ends[index];
          for (let position = this.starts[index]; position < end; position += 1) {
            const code = LOWER[text.charCodeAt(position)];
            h1 = Math.imul(h1 ^ code, H1_PRIME);
            h2 = Math.imul(h2 ^ code, H2_PRIME);
          }
        }
      }
      values[first] = ((h1 >>> 0) * TWO_POW_20 + ((h2 >>> 0) & 0xfffff)) % MERSENNE;
    }
    return shingleCount;
  }

  /** The last scan's tokens as strings (for the rare fallback of the near-duplicate check). */
  tokenStrings(): string[] {
    if (this.strings) {
      return this.strings;
    }
    const tokens: string[] = [];
    for (let index = 0; index < this.count; index += 1) {
      tokens.push(this.token(index));
    }
    return tokens;
  }

  /** The path for plain characters; false (results undefined) at the first other one. */
  private scanPlain(text: string): boolean {
    const length = text.length;
    let high = this.high;
    let low = this.low;
    let starts = this.starts;
    let ends = this.ends;
    let count = 0;
    let key1 = KEY1_START;
    let key2 = KEY2_START;
    let gap = 0;
    let position = 0;
    while (position < length) {
      let code = text.charCodeAt(position);
      let classes = CLASSES[code];
      if (classes === 0) {
        classes = classify(code);
      }
      if (classes === SPACE) {
        position += 1;
        gap = count > 0 ? 1 : 0;
        continue;
      }
      const start = position;
      let h1 = H1_START;
      let h2 = H2_START;
      if (classes === OTHER) {
        // Punctuation and symbols: a token each (an apostrophe inside a word is handled below).
        code = LOWER[code];
        h1 = Math.imul(h1 ^ code, H1_PRIME);
        h2 = Math.imul(h2 ^ code, H2_PRIME);
        position += 1;
      } else if ((classes & WORD) !== 0) {
        // A run of letters and digits, lowercased.
        for (;;) {
          const lower = LOWER[code];
          h1 = Math.imul(h1 ^ lower, H1_PRIME);
          h2 = Math.imul(h2 ^ lower, H2_PRIME);
          position += 1;
          if (position === length) {
            break;
          }
          code = text.charCodeAt(position);
          classes = CLASSES[code];
          if ((classes & WORD) === 0 && (classes !== 0 || (classify(code) & WORD) === 0)) {
            break;
          }
        }
        // Then at most one apostrophe followed by letters ("don't", "o’clock").
        if ((code === APOSTROPHE || code === RIGHT_SINGLE_QUOTE) && position + 1 < length) {
          const next = text.charCodeAt(position + 1);
          let nextClasses = CLASSES[next];
          if (nextClasses === 0) {
            nextClasses = classify(next);
          }
          if (nextClasses === UNSAFE) {
            return false;
          }
          if ((nextClasses & LETTER) !== 0) {
            h1 = Math.imul(h1 ^ code, H1_PRIME);
            h2 = Math.imul(h2 ^ code, H2_PRIME);
            position += 1;
            code = next;
            for (;;) {
              const lower = LOWER[code];
              h1 = Math.imul(h1 ^ lower, H1_PRIME);
              h2 = Math.imul(h2 ^ lower, H2_PRIME);
              position += 1;
              if (position === length) {
                break;
              }
              code = text.charCodeAt(position);
              classes = CLASSES[code];
              if ((classes & LETTER) === 0 && (classes !== 0 || (classify(code) & LETTER) === 0)) {
                break;
              }
            }
          }
        }
        // A character that stopped the run is read again by the outer loop (an unsafe one ends the scan).
      } else {
        return false;
      }
      if (count === high.length) {
        this.ensureCapacity(count + 1);
        ({ high, low, starts, ends } = this);
      }
      high[count] = h1;
      low[count] = h2;
      starts[count] = start;
      ends[count] = position;
      count += 1;
      key1 = extendKey1(key1, h1, gap);
      key2 = extendKey2(key2, h2, gap);
      gap = 0;
    }
    this.count = count;
    this.keyHigh = mix32(key1 ^ count);
    this.keyLow = mix32(key2) & 0xfffff;
    return true;
  }

  private scanOther(text: string): void {
    const normalised = normaliseText(text);
    // normaliseText lowercases, so tokenize's tokens are substrings of `normalised`, in order,
    // separated by nothing or by single spaces.
    const tokens = tokenize(normalised);
    this.ensureCapacity(tokens.length);
    let key1 = KEY1_START;
    let key2 = KEY2_START;
    let position = 0;
    for (let index = 0; index < tokens.length; index += 1) {
      const token = tokens[index];
      const start = normalised.indexOf(token, position);
      const gap = index > 0 && start > position ? 1 : 0;
      position = start + token.length;
      hashLanes(token, this.lanes, 0);
      this.high[index] = this.lanes[0];
      this.low[index] = this.lanes[1];
      key1 = extendKey1(key1, this.lanes[0], gap);
      key2 = extendKey2(key2, this.lanes[1], gap);
    }
    this.count = tokens.length;
    this.strings = tokens;
    this.keyHigh = mix32(key1 ^ tokens.length);
    this.keyLow = mix32(key2) & 0xfffff;
  }

  private ensureCapacity(needed: number): void {
    if (needed <= this.high.length) {
      return;
    }
    let capacity = this.high.length;
    while (capacity < needed) {
      capacity *= 2;
    }
    const grow = (old: Int32Array) => {
      const grown = new Int32Array(capacity);
      grown.set(old);
      return grown;
    };
    this.high = grow(this.high);
    this.low = grow(this.low);
    this.starts = grow(this.starts);
    this.ends = grow(this.ends);
  }
}
