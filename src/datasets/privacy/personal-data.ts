/**
 * Personal-data detection, masking and redaction for dataset text: used by the quality profiler
 * (which scans every row, so the scan must cost next to nothing on text without candidates) and by
 * the `redact` transform.
 *
 * How the scan stays cheap: one regex pass (`TRIGGER`) looks only for digit runs, `@` and
 * `-----BEGIN`. Every detector needs one of those (see the notes below), so text without them
 * costs a single native regex scan. Each trigger then runs only the validators whose cheap
 * guards (run length, neighbouring characters) fit, and each candidate is checked for real (Luhn,
 * mod-97, check character, calendar date, `net.isIPv6`) before it is reported.
 *
 * Offsets are UTF-16 code units into the text. Only ASCII digits and letters are recognised
 * (full-width digits and internationalised e-mail addresses are not).
 */
import { isIPv6 } from 'node:net';

export const PERSONAL_DATA_TYPES = [
  'email',
  'phone',
  'cn_mobile',
  'payment_card',
  'iban',
  'ipv4',
  'ipv6',
  'cn_resident_id',
  'secret',
] as const;
export type PersonalDataType = (typeof PERSONAL_DATA_TYPES)[number];

export interface PersonalDataMatch {
  type: PersonalDataType;
  /** UTF-16 offset of the first character. */
  start: number;
  /** UTF-16 offset just past the last character. */
  end: number;
}

export interface RedactionResult {
  text: string;
  counts: Partial<Record<PersonalDataType, number>>;
}

/**
 * Which match survives when two overlap, highest first. Secrets and e-mail addresses are
 * delimited by their own syntax, and an IBAN by its letters, length and mod-97 check, so a digit
 * run inside one of them belongs to it (a card-like run inside a grouped IBAN must not split it).
 * Then the checksummed numbers, the addresses (an IPv4-mapped IPv6 address contains an IPv4
 * one), and the looser phone formats last (a Chinese mobile number is also a phone number).
 */
export const PERSONAL_DATA_PRIORITY: readonly PersonalDataType[] = [
  'secret',
  'email',
  'iban',
  'cn_resident_id',
  'payment_card',
  'ipv6',
  'ipv4',
  'cn_mobile',
  'phone',
];

/** What `redactPersonalData` puts in place of each match. */
export const PERSONAL_DATA_PLACEHOLDERS: Readonly<Record<PersonalDataType, string>> = {
  email: '[EMAIL]',
  phone: '[PHONE]',
  cn_mobile: '[CN_MOBILE]',
  payment_card: '[PAYMENT_CARD]',
  iban: '[IBAN]',
  ipv4: '[IPV4]',
  ipv6: '[IPV6]',
  cn_resident_id: '[CN_RESIDENT_ID]',
  secret: '[SECRET]',
};

const BIT = {
  email: 1 << 0,
  phone: 1 << 1,
  cn_mobile: 1 << 2,
  payment_card: 1 << 3,
  iban: 1 << 4,
  ipv4: 1 << 5,
  ipv6: 1 << 6,
  cn_resident_id: 1 << 7,
  secret: 1 << 8,
} satisfies Record<PersonalDataType, number>;
const ALL_TYPES = (1 << PERSONAL_DATA_TYPES.length) - 1;
const RANK = Object.fromEntries(PERSONAL_DATA_PRIORITY.map((type, index) => [type, index])) as Record<
  PersonalDataType,
  number
>;

/**
 * Finds personal data in `text` (all types, or only `types`): sorted by `start`, never
 * overlapping (overlaps resolved by PERSONAL_DATA_PRIORITY, then the earlier and longer match).
 */
export function findPersonalData(text: string, types?: ReadonlySet<PersonalDataType>): PersonalDataMatch[] {
  let enabled = ALL_TYPES;
  if (types !== undefined) {
    enabled = 0;
    for (const type of types) {
      enabled |= BIT[type];
    }
  }
  if (enabled === 0 || text.length === 0) {
    return [];
  }
  const scanner = SCANNER;
  scanner.reset(text, enabled);
  TRIGGER.lastIndex = 0;
  for (;;) {
    const searchFrom = TRIGGER.lastIndex;
    // test() instead of exec(): no match array, which is most of the cost on clean text.
    if (!TRIGGER.test(text)) {
      break;
    }
    const end = TRIGGER.lastIndex;
    const last = text.charCodeAt(end - 1);
    let resumeAt = end;
    if (last === AT) {
      scanner.email(end - 1);
    } else if (isDigit(last)) {
      let start = end - 1;
      while (start > searchFrom && isDigit(text.charCodeAt(start - 1))) {
        start -= 1;
      }
      resumeAt = Math.max(end, scanner.digits(start, end));
    } else {
      resumeAt = Math.max(end, scanner.privateKey(end - PRIVATE_KEY_MARKER.length));
    }
    TRIGGER.lastIndex = resumeAt;
  }
  return scanner.finish();
}

/** Replaces every match with its typed placeholder (PERSONAL_DATA_PLACEHOLDERS); deterministic. */
export function redactPersonalData(text: string, types?: ReadonlySet<PersonalDataType>): RedactionResult {
  const matches = findPersonalData(text, types);
  const counts: Partial<Record<PersonalDataType, number>> = {};
  if (matches.length === 0) {
    return { text, counts };
  }
  let redacted = '';
  let position = 0;
  for (const match of matches) {
    redacted += text.slice(position, match.start) + PERSONAL_DATA_PLACEHOLDERS[match.type];
    position = match.end;
    counts[match.type] = (counts[match.type] ?? 0) + 1;
  }
  return { text: redacted + text.slice(position), counts };
}

/**
 * A preview of a detected value for reports; never the whole value:
 * - email: first character of the local part and of the domain, and the top-level domain
 *   (`john.doe@example.com` → `j***@e***.com`).
 * - payment_card: the last 4 digits (`**** **** **** 1234`).
 * - phone: a leading `+`, the first 2 and the last 2 digits (`+44****58`).
 * - cn_mobile: `+86 ` when the number had a country prefix, then the first 3 and last 4 digits of
 *   the 11-digit number, the usual Chinese display (`+86 138****5678`).
 * - iban: the country code and the last 4 characters (`DE** **** 3000`).
 * - ipv4: the first two octets (`192.168.*.*`); ipv6: the first group (`2001:****`, `::****`).
 * - cn_resident_id: the first 3 and the last character (`110**************X`).
 * - secret: the recognised prefix only (`sk-proj-****`, `ghp_****`, `AKIA****`); else `****`.
 * A value that is not of the type's shape (not one findPersonalData reported) becomes `****`, and
 * nothing ever returns a string that contains the value.
 */
export function maskValue(type: PersonalDataType, value: string): string {
  const masked = maskByType(type, value) ?? '****';
  if (!masked.includes(value)) {
    return masked;
  }
  // Only degenerate input (`*`, a one-character value) gets here.
  return '****'.includes(value) ? '' : '****';
}

function maskByType(type: PersonalDataType, value: string): string | undefined {
  switch (type) {
    case 'email': {
      const at = value.lastIndexOf('@');
      const dot = value.lastIndexOf('.');
      if (at < 1 || dot < at + 2) {
        return undefined;
      }
      return `${value[0]}***@${value[at + 1]}***${value.slice(dot)}`;
    }
    case 'payment_card': {
      const digits = onlyDigits(value);
      return digits.length < 12 ? undefined : `**** **** **** ${digits.slice(-4)}`;
    }
    case 'phone': {
      const digits = onlyDigits(value);
      const plus = value.startsWith('+') ? '+' : '';
      return digits.length < 7 ? undefined : `${plus}${digits.slice(0, 2)}****${digits.slice(-2)}`;
    }
    case 'cn_mobile': {
      const digits = onlyDigits(value);
      if (digits.length < 11) {
        return undefined;
      }
      const national = digits.slice(-11);
      return `${digits.length > 11 ? '+86 ' : ''}${national.slice(0, 3)}****${national.slice(-4)}`;
    }
    case 'iban': {
      const compact = value.replace(/ /g, '');
      return compact.length < 15 ? undefined : `${compact.slice(0, 2)}** **** ${compact.slice(-4)}`;
    }
    case 'ipv4': {
      const octets = value.split('.');
      return octets.length === 4 ? `${octets[0]}.${octets[1]}.*.*` : undefined;
    }
    case 'ipv6': {
      const colon = value.indexOf(':');
      if (colon < 0) {
        return undefined;
      }
      return value.startsWith('::') ? '::****' : `${value.slice(0, colon)}:****`;
    }
    case 'cn_resident_id':
      return value.length === 18 ? `${value.slice(0, 3)}${'*'.repeat(14)}${value.slice(-1)}` : undefined;
    case 'secret': {
      const prefix = SECRET_PREFIX.exec(value);
      return prefix === null ? '****' : `${prefix[0]}****`;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Scanning

/**
 * Every detector needs one of these: a digit (phones, cards, IBANs, IDs, IP addresses; IPv6
 * candidates without any digit, such as `dead::beef`, are ignored on purpose, as are secrets
 * without a digit), `@` (e-mail), or a PEM private-key header.
 */
const TRIGGER = /\d+|@|-----BEGIN/g;
const PRIVATE_KEY_MARKER = '-----BEGIN';
const FOOTER_UNKNOWN = -2;

const AT = 64;
const PLUS = 43;
const HYPHEN = 45;
const DOT = 46;
const SPACE = 32;
const COLON = 58;
const SLASH = 47;
const COMMA = 44;
const LESS_THAN = 60;
const TAB = 9;
const TILDE = 126;
const LEFT_PAREN = 40;
const EQUALS = 61;
const QUOTE = 34;
const APOSTROPHE = 39;
const DIGIT_ZERO = 48;
const DIGIT_ONE = 49;
const DIGIT_EIGHT = 56;
const UPPER_X = 88;
const LOWER_X = 120;
/** Last letter of `Bearer`. */
const LOWER_R = 114;

// Character classes by table: the scan asks these questions of most characters near a trigger.
const DIGIT_CLASS = 1;
const UPPER_CLASS = 2;
const LOWER_CLASS = 4;
const UNDERSCORE_CLASS = 8;
const HEX_CLASS = 16;
/** Characters of API tokens, including JWT dots and base64/URL-safe characters. */
const TOKEN_CLASS = 32;
/** E-mail local part: letters, digits and . _ % + - */
const LOCAL_PART_CLASS = 64;
/** First characters of the known secret prefixes. */
const SECRET_START_CLASS = 128;
const ALPHANUMERIC_CLASS = DIGIT_CLASS | UPPER_CLASS | LOWER_CLASS;
/** Letters, digits and `_`: what a number must not touch to stand on its own. */
const WORD_CLASS = ALPHANUMERIC_CLASS | UNDERSCORE_CLASS;
const CHARACTER_CLASSES = new Uint8Array(128);
for (let code = 0; code < 128; code += 1) {
  const character = String.fromCharCode(code);
  let classes = 0;
  if (/[0-9]/.test(character)) {
    classes |= DIGIT_CLASS | HEX_CLASS;
  } else if (/[A-Z]/.test(character)) {
    classes |= UPPER_CLASS | (/[A-F]/.test(character) ? HEX_CLASS : 0);
  } else if (/[a-z]/.test(character)) {
    classes |= LOWER_CLASS | (/[a-f]/.test(character) ? HEX_CLASS : 0);
  } else if (character === '_') {
    classes |= UNDERSCORE_CLASS;
  }
  if ((classes & WORD_CLASS) !== 0 || '-./+~'.includes(character)) {
    classes |= TOKEN_CLASS;
  }
  if ((classes & WORD_CLASS) !== 0 || '.-+%'.includes(character)) {
    classes |= LOCAL_PART_CLASS;
  }
  if ('sprgxAhte'.includes(character)) {
    classes |= SECRET_START_CLASS;
  }
  CHARACTER_CLASSES[code] = classes;
}

/**
 * The UTF-16 code unit at `index`, or 0 (in no class, equal to no character the scan looks for)
 * outside the text: reading past the end would return NaN and make V8 deoptimise the hot loops.
 */
function codeAt(text: string, index: number): number {
  return index >= 0 && index < text.length ? text.charCodeAt(index) : 0;
}

function classesOf(code: number): number {
  return code < 128 ? CHARACTER_CLASSES[code] : 0;
}

/** Where secretToken may try a known prefix; past its length, secretToken tries every position. */
const SECRET_STARTS = new Int32Array(16);
function noteSecretStart(starts: Int32Array, count: number, position: number): number {
  if (count < starts.length) {
    starts[count] = position;
  }
  return count + 1;
}

/** Whether `code` is in one of `classes`. */
function is(code: number, classes: number): boolean {
  return code < 128 && (CHARACTER_CLASSES[code] & classes) !== 0;
}
function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
function isUpper(code: number): boolean {
  return code >= 65 && code <= 90;
}
function isLetter(code: number): boolean {
  return is(code, UPPER_CLASS | LOWER_CLASS);
}
function isWordChar(code: number): boolean {
  return is(code, WORD_CLASS);
}
function isHex(code: number): boolean {
  return is(code, HEX_CLASS);
}
function onlyDigits(value: string): string {
  return value.replace(/\D/g, '');
}

/** One per module, reset per call: most rows never allocate anything. Not re-entrant (no callbacks). */
class Scanner {
  private text = '';
  private enabled = 0;
  private candidates: PersonalDataMatch[] | undefined;
  /** Token already checked for secrets, and hex/colon span already checked for IPv6. */
  private secretCheckedUntil = 0;
  private ipv6CheckedUntil = 0;
  /** Index of the first `-----END ` after the last private-key header (-1: none). */
  private nextFooter = FOOTER_UNKNOWN;
  /** Whether the text shows RCS/CVS markers; found once per text, when first needed. */
  private rcsContext: boolean | undefined;

  reset(text: string, enabled: number): void {
    this.text = text;
    this.enabled = enabled;
    this.candidates = undefined;
    this.secretCheckedUntil = 0;
    this.ipv6CheckedUntil = 0;
    this.nextFooter = FOOTER_UNKNOWN;
    this.rcsContext = undefined;
  }

  /** The matches found since reset, overlaps resolved; drops the reference to the text. */
  finish(): PersonalDataMatch[] {
    const candidates = this.candidates;
    this.text = '';
    this.candidates = undefined;
    return candidates === undefined ? [] : resolveOverlaps(candidates);
  }

  private add(type: PersonalDataType, start: number, end: number): void {
    (this.candidates ??= []).push({ type, start, end });
  }

  private code(index: number): number {
    return codeAt(this.text, index);
  }

  /** A digit run [start, end). Returns where the trigger scan may resume. */
  digits(start: number, end: number): number {
    let resumeAt = end;
    if ((this.enabled & BIT.secret) !== 0 && start >= this.secretCheckedUntil) {
      resumeAt = this.secretToken(start, end);
    }
    const previous = this.code(start - 1);
    if (isWordChar(previous)) {
      // Inside a word: only an IBAN (two capitals, then the check digits) starts like this.
      if (
        (this.enabled & BIT.iban) !== 0 &&
        end - start >= 2 &&
        isUpper(previous) &&
        isUpper(this.code(start - 2)) &&
        !isWordChar(this.code(start - 3)) &&
        !this.insideIbanGroups(start - 2)
      ) {
        this.iban(start - 2);
      }
    } else {
      this.number(start, end, previous);
    }
    if ((this.enabled & BIT.ipv6) !== 0 && start >= this.ipv6CheckedUntil) {
      this.ipv6Near(start, end);
    }
    return resumeAt;
  }

  /** Numbers that start at the digit run [start, end), which no letter or digit precedes. */
  private number(start: number, end: number, previous: number): void {
    const text = this.text;
    // The tail of 1.2.3.4.5 or 2024-01-01: nothing starts inside a dotted or hyphenated number.
    if ((previous === DOT || previous === HYPHEN) && isDigit(this.code(start - 2))) {
      return;
    }
    const run = end - start;
    const next = this.code(end);
    // `1234 5678 …` after another number: a later group of a longer run, not a card of its own.
    const afterSpacedNumber = previous === SPACE && isDigit(this.code(start - 2));

    if (
      (this.enabled & BIT.cn_resident_id) !== 0 &&
      (run === 18 || (run === 17 && (next === UPPER_X || next === LOWER_X)))
    ) {
      if (!isWordChar(this.code(start + 18)) && isValidResidentId(text.slice(start, start + 18))) {
        this.add('cn_resident_id', start, start + 18);
      }
    }
    if (isWordChar(next)) {
      return;
    }
    if ((this.enabled & BIT.ipv4) !== 0 && next === DOT && run <= 3) {
      IPV4.lastIndex = start;
      if (IPV4.test(text) && !this.isVersionNumber(start, IPV4.lastIndex, previous)) {
        this.add('ipv4', start, IPV4.lastIndex);
      }
    }
    if ((this.enabled & BIT.payment_card) !== 0) {
      if (run >= 13 && run <= 19) {
        if (!(next === HYPHEN && isDigit(this.code(end + 1))) && isValidCardNumber(text.slice(start, end))) {
          this.add('payment_card', start, end);
        }
      } else if (run === 4 && (next === SPACE || next === HYPHEN) && !afterSpacedNumber) {
        this.groupedCard(start, end, next);
      }
    }
    const prefixed = previous === PLUS;
    const prefixStart = prefixed ? start - 1 : start;
    if (prefixed && isWordChar(this.code(start - 2))) {
      return;
    }
    if ((this.enabled & BIT.cn_mobile) !== 0 && this.mayBeChineseMobile(start, run, next, prefixed)) {
      CN_MOBILE.lastIndex = prefixStart;
      if (CN_MOBILE.test(text)) {
        this.add('cn_mobile', prefixStart, CN_MOBILE.lastIndex);
      }
    }
    if ((this.enabled & BIT.phone) !== 0) {
      this.phone(start, run, previous);
    }
  }

  /**
   * Whether the dotted quad [start, end) reads as a version or revision number rather than an
   * address, by its context:
   * - a first part of 0 (`0.9.14.1`): 0.0.0.0/8 holds no host addresses;
   * - a version word just before it (`version 2.4.1.3`, `rev. 1.2.3.4`, `Standards-Version to
   *   3.5.6.1`, `__version__ = "1.4.2.0"`), or an RCS file name (`$Id: Conf.pm,v 1.100.2.11 …`);
   * - a product name and a slash before it (`Netscape/7.0.2.1`; `http://10.0.0.1` stays an address);
   * - a file name or another revision and a comma before it, or a comma and another dotted number
   *   after it (CVS notices: `Conf.pm,1.100.2.11,1.100.2.12`);
   * - a pre-release or package suffix after it (`1.2.3.4-beta`, `2.0.1.3-1`, `1.2.3.4+dfsg`), or
   *   `or later` / `or newer`;
   * - a CVS branch revision (1.N.even.M) in a text that shows RCS markers (`RCS file:`,
   *   `retrieving revision`, `$Id:`, `$Revision:`): the diff headers and change tables of commit
   *   notices carry them without a keyword.
   */
  private isVersionNumber(start: number, end: number, previous: number): boolean {
    const text = this.text;
    if (this.code(start) === DIGIT_ZERO) {
      return true;
    }
    const next = this.code(end);
    if (
      (next === HYPHEN || next === PLUS || next === TILDE) &&
      (isLetter(this.code(end + 1)) ||
        (next === HYPHEN && isDigit(this.code(end + 1)) && !VERSION_SUFFIX_RANGE.test(text.slice(end, end + 20))))
    ) {
      return true;
    }
    if (previous === SLASH && isWordChar(this.code(start - 2))) {
      return true;
    }
    if (previous === COMMA && (isWordChar(this.code(start - 2)) || (next === COMMA && isDigit(this.code(end + 1))))) {
      return true;
    }
    const lineStart = Math.max(text.lastIndexOf('\n', start - 1) + 1, start - 48);
    if (VERSION_BEFORE.test(text.slice(lineStart, start)) || VERSION_AFTER.test(text.slice(end, end + 16))) {
      return true;
    }
    if (this.code(start) === DIGIT_ONE && CVS_BRANCH_REVISION.test(text.slice(start, end))) {
      this.rcsContext ??= RCS_MARKERS.test(text);
      return this.rcsContext;
    }
    return false;
  }

  private mayBeChineseMobile(start: number, run: number, next: number, prefixed: boolean): boolean {
    const first = this.code(start);
    const separated = next === SPACE || next === HYPHEN;
    switch (run) {
      case 11:
        return first === DIGIT_ONE;
      case 13:
      case 2:
        // 86 13812345678, 8613812345678, +86 138...
        return first === DIGIT_EIGHT && (run === 13 || separated);
      case 15:
      case 4:
        return !prefixed && first === DIGIT_ZERO && (run === 15 || separated);
      case 3:
        return !prefixed && first === DIGIT_ONE && separated;
      default:
        return false;
    }
  }

  private phone(start: number, run: number, previous: number): void {
    let phoneStart = start;
    if (previous === PLUS || previous === LEFT_PAREN) {
      phoneStart = start - 1;
      if (isWordChar(this.code(start - 2))) {
        return;
      }
    } else if (previous === SPACE && isDigit(this.code(start - 2))) {
      // Part of a list of numbers (a table row), not the start of a phone number.
      return;
    } else if (run !== 3 && run !== 1 && this.code(start) !== DIGIT_ZERO) {
      return;
    }
    PHONE.lastIndex = phoneStart;
    if (!PHONE.test(this.text)) {
      return;
    }
    const phoneEnd = PHONE.lastIndex;
    let digits = 0;
    for (let index = phoneStart; index < phoneEnd; index += 1) {
      if (isDigit(this.code(index))) {
        digits += 1;
      }
    }
    if (digits >= (previous === PLUS ? 8 : 7) && digits <= 15) {
      this.add('phone', phoneStart, phoneEnd);
    }
  }

  /**
   * 4111 1111 1111 1111, 3782 822463 10005, 4111-1111-1111-1111: a 4-digit group, then groups of
   * 1–6 digits after one kind of separator. The whole run of groups is the candidate (a valid
   * card is never read out of a longer run), except that a trailing group that is really the start
   * of a date, time or decimal (`… 1111 12/25`) ends the run.
   */
  private groupedCard(start: number, firstEnd: number, separator: number): void {
    let digits = this.text.slice(start, firstEnd);
    let position = firstEnd;
    while (this.code(position) === separator && isDigit(this.code(position + 1))) {
      let groupEnd = position + 1;
      while (isDigit(this.code(groupEnd)) && groupEnd - position <= 7) {
        groupEnd += 1;
      }
      const after = this.code(groupEnd);
      if (groupEnd - position - 1 > 6 || isWordChar(after)) {
        return;
      }
      if ((after === SLASH || after === COLON || after === DOT) && isDigit(this.code(groupEnd + 1))) {
        break;
      }
      digits += this.text.slice(position + 1, groupEnd);
      position = groupEnd;
      if (digits.length > 19) {
        return;
      }
    }
    if (position === firstEnd || (this.code(position) === HYPHEN && isDigit(this.code(position + 1)))) {
      return;
    }
    if (isValidCardNumber(digits)) {
      this.add('payment_card', start, position);
    }
  }

  /**
   * `MT89 WO85 7Z47 …`: `start` follows space-separated 4-character groups, one of which starts
   * like an IBAN, so `start` is inside that IBAN (and must not be read as another one).
   */
  private insideIbanGroups(start: number): boolean {
    let position = start;
    for (let groups = 0; groups < 8; groups += 1) {
      const groupStart = position - 5;
      if (this.code(position - 1) !== SPACE || isWordChar(this.code(groupStart - 1))) {
        return false;
      }
      for (let index = groupStart; index < position - 1; index += 1) {
        if (!isDigit(this.code(index)) && !isUpper(this.code(index))) {
          return false;
        }
      }
      if (
        isUpper(this.code(groupStart)) &&
        isUpper(this.code(groupStart + 1)) &&
        isDigit(this.code(groupStart + 2)) &&
        isDigit(this.code(groupStart + 3))
      ) {
        return true;
      }
      position = groupStart;
    }
    return false;
  }

  /**
   * IBAN (ISO 13616) at `start`: country code, two check digits, then the BBAN either compact
   * (DE89370400440532013000) or in groups of 4 separated by single spaces, the last group 1–4
   * long (DE89 3704 0044 0532 0130 00). Upper case only. The country must be in the IBAN registry,
   * the length and the BBAN's structure the country's (table below), and mod-97 of the rearranged
   * number must be 1.
   */
  private iban(start: number): void {
    const text = this.text;
    const format = IBAN_FORMATS.get(text.slice(start, start + 2));
    if (format === undefined) {
      return;
    }
    const isIbanChar = (code: number) => isDigit(code) || isUpper(code);
    let position = start + 2;
    while (isIbanChar(this.code(position))) {
      position += 1;
    }
    const firstLength = position - start;
    if (firstLength > 4) {
      // Compact.
      if (
        !isWordChar(this.code(position)) &&
        firstLength === format.length &&
        isValidIban(text.slice(start, position), format)
      ) {
        this.add('iban', start, position);
      }
      return;
    }
    if (firstLength !== 4 || this.code(position) !== SPACE) {
      return;
    }
    // Grouped: collect every place the IBAN could end, then pick the one with the right length.
    let compact = text.slice(start, position);
    const ends: { end: number; compact: string }[] = [];
    while (this.code(position) === SPACE && isIbanChar(this.code(position + 1))) {
      let groupEnd = position + 1;
      while (isIbanChar(this.code(groupEnd)) && groupEnd - position <= 4) {
        groupEnd += 1;
      }
      const groupLength = groupEnd - position - 1;
      if (isWordChar(this.code(groupEnd))) {
        break;
      }
      compact += text.slice(position + 1, groupEnd);
      position = groupEnd;
      ends.push({ end: position, compact });
      if (groupLength < 4 || compact.length >= 34) {
        break;
      }
    }
    for (let index = ends.length - 1; index >= 0; index -= 1) {
      const candidate = ends[index];
      if (candidate.compact.length === format.length && isValidIban(candidate.compact, format)) {
        this.add('iban', start, candidate.end);
        return;
      }
    }
  }

  /**
   * IPv6 around the digit run [start, end) when it is a hextet next to a colon: the surrounding
   * hex/colon/dot span (at most 45 characters, not touching other letters or digits) must hold a
   * digit, `::` or at least six colons, and pass `net.isIPv6`. Times (12:30:45), MAC addresses and
   * C++/Rust paths (`std::vector`) fail one of those.
   */
  private ipv6Near(start: number, end: number): void {
    if (end - start > 4) {
      return;
    }
    let hexStart = start;
    while (end - hexStart < 5 && isHex(this.code(hexStart - 1))) {
      hexStart -= 1;
    }
    let hexEnd = end;
    while (hexEnd - hexStart < 5 && isHex(this.code(hexEnd))) {
      hexEnd += 1;
    }
    if (hexEnd - hexStart > 4 || (this.code(hexStart - 1) !== COLON && this.code(hexEnd) !== COLON)) {
      return;
    }
    let spanStart = hexStart;
    while (hexEnd - spanStart <= 45 && (isHex(this.code(spanStart - 1)) || this.code(spanStart - 1) === COLON)) {
      spanStart -= 1;
    }
    let spanEnd = hexEnd;
    for (;;) {
      const code = this.code(spanEnd);
      if (spanEnd - spanStart > 45 || !(isHex(code) || code === COLON || code === DOT)) {
        break;
      }
      spanEnd += 1;
    }
    this.ipv6CheckedUntil = spanEnd;
    if (spanEnd - spanStart > 45 || isWordChar(this.code(spanStart - 1)) || this.code(spanStart - 1) === DOT) {
      return;
    }
    while (this.code(spanEnd - 1) === DOT) {
      spanEnd -= 1;
    }
    if (isWordChar(this.code(spanEnd))) {
      return;
    }
    let colons = 0;
    let compressed = false;
    for (let index = spanStart; index < spanEnd; index += 1) {
      if (this.code(index) === COLON) {
        colons += 1;
        compressed ||= this.code(index + 1) === COLON;
      }
    }
    if (colons < 2 || (colons < 6 && !compressed)) {
      return;
    }
    let span = this.text.slice(spanStart, spanEnd);
    if (!isIPv6(span) && span.endsWith(':') && !span.endsWith('::')) {
      // "fe80::1: the gateway"
      span = span.slice(0, -1);
      spanEnd -= 1;
    }
    if (isIPv6(span)) {
      this.add('ipv6', spanStart, spanEnd);
    }
  }

  /**
   * Secrets in the token (letters, digits, `_-./+~`) around a digit run. Returns where the trigger
   * scan may resume: past a secret found, since nothing inside one can outrank it.
   */
  private secretToken(runStart: number, runEnd: number): number {
    const text = this.text;
    // One pass each way over the token, noting where a known prefix could start (a prefix letter
    // not preceded by a letter or digit); the regex runs only there, and only for long tokens.
    const starts = SECRET_STARTS;
    let count = 0;
    let start = runStart;
    let currentClasses = DIGIT_CLASS;
    for (;;) {
      const previousClasses = classesOf(codeAt(text, start - 1));
      if ((currentClasses & SECRET_START_CLASS) !== 0 && (previousClasses & ALPHANUMERIC_CLASS) === 0) {
        count = noteSecretStart(starts, count, start);
      }
      if ((previousClasses & TOKEN_CLASS) === 0) {
        break;
      }
      start -= 1;
      currentClasses = previousClasses;
    }
    let end = runEnd;
    let previousClasses = DIGIT_CLASS;
    for (;;) {
      const classes = classesOf(codeAt(text, end));
      if ((classes & TOKEN_CLASS) === 0) {
        break;
      }
      if ((classes & SECRET_START_CLASS) !== 0 && (previousClasses & ALPHANUMERIC_CLASS) === 0) {
        count = noteSecretStart(starts, count, end);
      }
      previousClasses = classes;
      end += 1;
    }
    this.secretCheckedUntil = end;
    if (end - start < 15) {
      return runEnd;
    }
    let found = false;
    if (count <= starts.length) {
      for (let index = 0; index < count; index += 1) {
        found = this.knownSecretAt(starts[index]) || found;
      }
    } else {
      // More places than noted (a long token of short parts): look at each again.
      for (let index = start; index < end; index += 1) {
        if (is(codeAt(text, index), SECRET_START_CLASS) && !is(codeAt(text, index - 1), ALPHANUMERIC_CLASS)) {
          found = this.knownSecretAt(index) || found;
        }
      }
    }
    if (found) {
      return end;
    }
    // A long random value after `Bearer ` or `api_key=` / `"password": "`: first a cheap look at
    // the character before it (skipping quotes and spaces), then the regexes.
    let keyEnd = start;
    while (
      keyEnd > start - 4 &&
      (codeAt(text, keyEnd - 1) === SPACE ||
        codeAt(text, keyEnd - 1) === QUOTE ||
        codeAt(text, keyEnd - 1) === APOSTROPHE)
    ) {
      keyEnd -= 1;
    }
    const marker = codeAt(text, keyEnd - 1);
    if (marker !== LOWER_R && marker !== EQUALS && marker !== COLON) {
      return runEnd;
    }
    let valueEnd = end;
    while (codeAt(text, valueEnd - 1) === DOT) {
      valueEnd -= 1;
    }
    while (codeAt(text, valueEnd) === EQUALS) {
      valueEnd += 1;
    }
    const value = text.slice(start, valueEnd);
    const before = text.slice(Math.max(0, start - 48), start);
    const bearer = marker === LOWER_R && value.length >= 20 && BEARER_BEFORE.test(before);
    const assigned =
      marker !== LOWER_R &&
      value.length >= 16 &&
      is(codeAt(value, 0), ALPHANUMERIC_CLASS) &&
      ASSIGNMENT_BEFORE.test(before);
    if ((bearer || assigned) && looksRandom(value)) {
      this.add('secret', start, valueEnd);
      return valueEnd;
    }
    return runEnd;
  }

  private knownSecretAt(position: number): boolean {
    KNOWN_SECRET.lastIndex = position;
    if (!KNOWN_SECRET.test(this.text)) {
      return false;
    }
    this.add('secret', position, KNOWN_SECRET.lastIndex);
    return true;
  }

  /** A PEM private key, header to footer (or to the end of its base64 body when cut off). */
  privateKey(start: number): number {
    if ((this.enabled & BIT.secret) === 0) {
      return start + PRIVATE_KEY_MARKER.length;
    }
    PRIVATE_KEY_HEADER.lastIndex = start;
    if (!PRIVATE_KEY_HEADER.test(this.text)) {
      return start + PRIVATE_KEY_MARKER.length;
    }
    const headerEnd = PRIVATE_KEY_HEADER.lastIndex;
    let end = headerEnd;
    // Remembered, so that many headers without a footer stay linear.
    if (this.nextFooter === FOOTER_UNKNOWN || (this.nextFooter >= 0 && this.nextFooter < headerEnd)) {
      this.nextFooter = this.text.indexOf('-----END ', headerEnd);
    }
    const footer = this.nextFooter;
    PRIVATE_KEY_FOOTER.lastIndex = footer;
    if (footer >= 0 && footer - headerEnd <= 65536 && PRIVATE_KEY_FOOTER.test(this.text)) {
      end = PRIVATE_KEY_FOOTER.lastIndex;
    } else {
      PRIVATE_KEY_BODY.lastIndex = headerEnd;
      if (PRIVATE_KEY_BODY.test(this.text)) {
        end = PRIVATE_KEY_BODY.lastIndex;
      }
      if (end === headerEnd) {
        // A header on its own (documentation, a truncated file) holds no key.
        return end;
      }
    }
    this.add('secret', start, end);
    return end;
  }

  /**
   * E-mail around the `@` at `at`: local part of letters, digits and `._%+-` (at most 64, no
   * leading, trailing or doubled dot), then dot-separated domain labels (letters, digits, inner
   * hyphens) and a top-level domain of 2+ letters, not followed by more address characters
   * (`a@b.com2` and `a@b.com.x1` are not addresses). `icon@2x.png` is not an address either.
   */
  email(at: number): void {
    if ((this.enabled & BIT.email) === 0) {
      return;
    }
    let start = at;
    while (at - start <= 64 && is(this.code(start - 1), LOCAL_PART_CLASS)) {
      start -= 1;
    }
    if (at - start > 64) {
      return;
    }
    while (start < at && this.code(start) === DOT) {
      start += 1;
    }
    if (start === at || !LOCAL_PART.test(this.text.slice(start, at))) {
      return;
    }
    DOMAIN.lastIndex = at + 1;
    const domain = DOMAIN.exec(this.text);
    if (domain === null || domain[0].length > 253 || RETINA_ASSET.test(domain[0])) {
      return;
    }
    if (this.code(start - 1) === LESS_THAN && this.inMessageIdHeader(start)) {
      return;
    }
    this.add('email', start, DOMAIN.lastIndex);
  }

  /**
   * Whether `<…@…>` at `start` is a message identifier: in a Message-ID, In-Reply-To, References
   * or Content-ID mail header (or a folded continuation line of one). Such ids have the shape of an
   * address but name a message, generated from a timestamp or counter and a host.
   */
  private inMessageIdHeader(start: number): boolean {
    const text = this.text;
    let lineStart = text.lastIndexOf('\n', start - 1) + 1;
    // Folded header lines start with white space: the header's name is on an earlier line.
    for (let folds = 0; folds < 8 && (this.code(lineStart) === SPACE || this.code(lineStart) === TAB); folds += 1) {
      if (lineStart === 0) {
        return false;
      }
      lineStart = text.lastIndexOf('\n', lineStart - 2) + 1;
    }
    MESSAGE_ID_HEADER.lastIndex = lineStart;
    return MESSAGE_ID_HEADER.test(text);
  }
}

const SCANNER = new Scanner();

function resolveOverlaps(candidates: PersonalDataMatch[]): PersonalDataMatch[] {
  if (candidates.length < 2) {
    return candidates;
  }
  candidates.sort((a, b) => RANK[a.type] - RANK[b.type] || a.start - b.start || b.end - a.end);
  // Accepted matches stay sorted and disjoint, so their ends are sorted too: binary search.
  const accepted: PersonalDataMatch[] = [];
  for (const candidate of candidates) {
    let low = 0;
    let high = accepted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (accepted[middle].end <= candidate.start) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    if (low < accepted.length && accepted[low].start < candidate.end) {
      continue;
    }
    accepted.splice(low, 0, candidate);
  }
  return accepted;
}

// ---------------------------------------------------------------------------------------------
// E-mail

const LOCAL_PART = /^[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*$/;
const DOMAIN = /(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![A-Za-z0-9_-]|\.[A-Za-z0-9])/y;
const RETINA_ASSET = /^\d+(?:\.\d+)?x\./;
const MESSAGE_ID_HEADER = /(?:Message-ID|In-Reply-To|References|Content-ID|Resent-Message-ID):/iy;

// ---------------------------------------------------------------------------------------------
// Phones

/**
 * Phone numbers, from a `+`, `(` or digit (the caller checks what precedes):
 * - international: `+` and a 1–3-digit country code, an optional `(0)`/`(20)` part, then groups
 *   of 1–8 digits each after one space, dot or hyphen (+44 20 7946 0958, +1 (555) 123-4567);
 *   or `+` and 8–15 digits with no separator (E.164: +14155552671);
 * - North American: (555) 123-4567, 555-123-4567, 555.123.4567, 555 123 4567, 1-800-555-1234
 *   (the two separators alike);
 * - national with trunk 0: 020 7946 0958, (020) 7946 0958, 030 1234567.
 * The caller then requires 7–15 digits (8–15 after `+`). Dates (2024-01-01), times, versions,
 * decimals and plain integers have none of these shapes.
 */
const PHONE = new RegExp(
  [
    String.raw`\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]\d{1,8}){1,6}(?![A-Za-z0-9_]|[.-]\d| \d)`,
    String.raw`\+\d{8,15}(?![A-Za-z0-9_]|[.-]\d)`,
    String.raw`(?:1[ .-])?(?:\(\d{3}\) ?\d{3}[ .-]|\d{3}([ .-])\d{3}\1)\d{4}(?![A-Za-z0-9_]|[.-]\d|\1\d)`,
    String.raw`(?:\(0\d{1,4}\) ?|0\d{1,4}[ -])\d{3,4}[ -]?\d{3,4}(?![A-Za-z0-9_]|[.-]\d| \d)`,
  ].join('|'),
  'y',
);

/**
 * Mainland-China mobile numbers: optional +86, 0086 or 86 (then an optional space or hyphen),
 * then 1[3-9] and 9 more digits, contiguous or grouped 3-4-4 with one kind of separator.
 */
const CN_MOBILE = /(?:(?:\+|00)?86[ -]?)?1[3-9]\d(?:\d{8}|([ -])\d{4}\1\d{4})(?![A-Za-z0-9_]|[.-]\d)/y;

// ---------------------------------------------------------------------------------------------
// IP addresses

/** Dotted quad, octets 0–255 without leading zeros, not followed by another `.digit` (versions). */
const IPV4 = /(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(?![A-Za-z0-9_]|\.\d)/y;

/**
 * A word before a dotted number that makes it a version (`version`, `__version__ = "`,
 * `parse_version("`, `Standards-Version to`, `ver`, `v`, `revision`, `rev.`, `r`, `release`, `build`,
 * `patch`, `tag`, `firmware`), or an RCS file name (`name,v`); on the same line.
 */
const VERSION_BEFORE =
  /(?:^|[^A-Za-z0-9_])(?:[\w-]*version_*|ver|v|revision|rev|r|release|rel|build|patch|tag|firmware|[\w.-]+,v)\.?\s*(?:[:=#]|[<>=]=)?\s*[("'\s]*(?:(?:to|is|of)\s+)?$/i;
const VERSION_AFTER = /^\s+(?:or|and)\s+(?:later|newer|above|higher)\b/i;
/** `-` and an address after a dotted quad: a range of addresses (`10.0.0.1-10.0.0.9`), not a package revision. */
const VERSION_SUFFIX_RANGE = /^-\d{1,3}\.\d/;
/** A CVS branch revision: 1, the trunk revision's number, an even branch number, the revision on it. */
const CVS_BRANCH_REVISION = /^1\.\d+\.\d*[02468]\.\d+$/;
const RCS_MARKERS = /RCS file:|retrieving revision|\$Id: |\$Revision: |\$Header: /;

// ---------------------------------------------------------------------------------------------
// Payment cards

/**
 * Issuer prefixes (IIN ranges on the leading digits) and the lengths each network issues. Maestro
 * and other domestic schemes are not included (their ranges overlap too much ordinary data).
 */
const CARD_ISSUERS: readonly { ranges: readonly (readonly [number, number])[]; lengths: readonly number[] }[] = [
  { ranges: [[4, 4]], lengths: [13, 16, 19] }, // Visa
  {
    ranges: [
      [51, 55],
      [2221, 2720],
    ],
    lengths: [16],
  }, // Mastercard
  {
    ranges: [
      [34, 34],
      [37, 37],
    ],
    lengths: [15],
  }, // American Express
  {
    ranges: [
      [6011, 6011],
      [65, 65],
      [644, 649],
    ],
    lengths: [16, 17, 18, 19],
  }, // Discover
  { ranges: [[3528, 3589]], lengths: [16, 17, 18, 19] }, // JCB
  { ranges: [[62, 62]], lengths: [16, 17, 18, 19] }, // UnionPay
  {
    ranges: [
      [300, 305],
      [36, 36],
      [38, 38],
    ],
    lengths: [14, 15, 16, 17, 18, 19],
  }, // Diners Club
];

function hasIssuerPrefix(digits: string): boolean {
  for (const issuer of CARD_ISSUERS) {
    if (!issuer.lengths.includes(digits.length)) {
      continue;
    }
    for (const [low, high] of issuer.ranges) {
      const prefix = Number(digits.slice(0, String(low).length));
      if (prefix >= low && prefix <= high) {
        return true;
      }
    }
  }
  return false;
}

function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index -= 1) {
    let digit = digits.charCodeAt(index) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) {
        digit -= 9;
      }
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

/** 13–19 digits, a known issuer prefix for that length, and the Luhn check. */
function isValidCardNumber(digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && hasIssuerPrefix(digits) && passesLuhn(digits);
}

// ---------------------------------------------------------------------------------------------
// IBAN

/**
 * BBAN structure by country, in the SWIFT IBAN registry's notation (`n` digits, `a` capital
 * letters, `c` either; counts before each): the registry's countries. A country code outside the
 * registry is no IBAN, whatever its check digits: a 40-digit key fingerprint such as
 * `BB64 2339 1CAA …` passes mod-97 for some prefix about once in 20.
 */
// prettier-ignore
const IBAN_BBAN_TABLE: Readonly<Record<string, string>> = {
  AD: '4n4n12c', AE: '3n16n', AL: '8n16c', AT: '5n11n', AZ: '4a20c', BA: '3n3n8n2n', BE: '3n7n2n',
  BG: '4a4n2n8c', BH: '4a14c', BR: '8n5n10n1a1c', BY: '4c4n16c', CH: '5n12c', CR: '4n14n', CY: '3n5n16c',
  CZ: '4n6n10n', DE: '8n10n', DK: '4n9n1n', DO: '4c20n', EE: '2n2n11n1n', EG: '4n4n17n', ES: '4n4n1n1n10n',
  FI: '3n11n', FO: '4n9n1n', FR: '5n5n11c2n', GB: '4a6n8n', GE: '2a16n', GI: '4a15c', GL: '4n9n1n',
  GR: '3n4n16c', GT: '4c20c', HR: '7n10n', HU: '3n4n1n15n1n', IE: '4a6n8n', IL: '3n3n13n', IQ: '4a3n12n',
  IS: '4n2n6n10n', IT: '1a5n5n12c', JO: '4a4n18c', KW: '4a22c', KZ: '3n13c', LB: '4n20c', LC: '4a24c',
  LI: '5n12c', LT: '5n11n', LU: '3n13c', LV: '4a13c', LY: '3n3n15n', MC: '5n5n11c2n', MD: '2c18c',
  ME: '3n13n2n', MK: '3n10c2n', MR: '5n5n11n2n', MT: '4a5n18c', MU: '4a2n2n12n3n3a', NL: '4a10n',
  NO: '4n6n1n', PK: '4a16c', PL: '8n16n', PS: '4a21c', PT: '4n4n11n2n', QA: '4a21c', RO: '4a16c',
  RS: '3n13n2n', SA: '2n18c', SC: '4a2n2n16n3a', SD: '2n12n', SE: '3n16n1n', SI: '5n8n2n', SK: '4n6n10n',
  SM: '1a5n5n12c', ST: '4n4n11n2n', SV: '4a20n', TL: '3n14n2n', TN: '2n3n13n2n', TR: '5n1n16c',
  UA: '6n19c', VA: '3n15n', VG: '4a16n', XK: '4n10n2n',
};

interface IbanFormat {
  /** The whole IBAN's length. */
  length: number;
  /** Country code, check digits and BBAN, compact. */
  pattern: RegExp;
}

const IBAN_FORMATS: ReadonlyMap<string, IbanFormat> = new Map(
  Object.entries(IBAN_BBAN_TABLE).map(([country, structure]) => {
    let length = 4;
    let pattern = `^${country}\\d{2}`;
    for (const [, count, kind] of structure.matchAll(/(\d+)([nac])/g)) {
      length += Number(count);
      pattern += `${kind === 'n' ? '\\d' : kind === 'a' ? '[A-Z]' : '[A-Z0-9]'}{${count}}`;
    }
    return [country, { length, pattern: new RegExp(`${pattern}$`) }];
  }),
);

function isValidIban(compact: string, format: IbanFormat): boolean {
  return format.pattern.test(compact) && isValidIbanChecksum(compact);
}

/** ISO 7064 mod 97-10 on the rearranged IBAN (BBAN, country, check digits; A=10 … Z=35). */
function isValidIbanChecksum(iban: string): boolean {
  const check = Number(iban.slice(2, 4));
  if (check < 2 || check > 98) {
    return false;
  }
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (let index = 0; index < rearranged.length; index += 1) {
    const code = rearranged.charCodeAt(index);
    remainder = isDigit(code) ? (remainder * 10 + (code - 48)) % 97 : (remainder * 100 + (code - 55)) % 97;
  }
  return remainder === 1;
}

// ---------------------------------------------------------------------------------------------
// PRC resident identity number

const RESIDENT_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const RESIDENT_ID_CHECK = '10X98765432';

/**
 * GB 11643-1999: a 6-digit region code (first digit 1–8), a birth date YYYYMMDD that exists and
 * lies between 1900-01-01 and today (UTC), a 3-digit sequence, and the check character: the sum
 * of the first 17 digits times the weights, mod 11, mapped through '10X98765432' (x accepted).
 * The old 15-digit numbers (no check character) are not detected.
 */
function isValidResidentId(id: string): boolean {
  const first = id.charCodeAt(0);
  if (first < 49 || first > 56) {
    return false;
  }
  const year = Number(id.slice(6, 10));
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  if (year < 1900 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return false;
  }
  const now = new Date();
  const today = now.getUTCFullYear() * 10000 + (now.getUTCMonth() + 1) * 100 + now.getUTCDate();
  if (year * 10000 + month * 100 + day > today) {
    return false;
  }
  let sum = 0;
  for (let index = 0; index < 17; index += 1) {
    sum += (id.charCodeAt(index) - 48) * RESIDENT_ID_WEIGHTS[index];
  }
  return RESIDENT_ID_CHECK[sum % 11] === id[17].toUpperCase();
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

// ---------------------------------------------------------------------------------------------
// Secrets

/**
 * Credentials recognised by their prefix (each also needs its full length, and must not touch
 * more letters or digits):
 * OpenAI `sk-`/`sk-proj-`/`sk-svcacct-`/`sk-admin-` and Anthropic `sk-ant-` + 20+;
 * Stripe `sk_live_`/`sk_test_`/`pk_live_`/`pk_test_`/`rk_live_`/`rk_test_` + 16+;
 * GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` + 36+ and `github_pat_` + 22+; Slack `xoxb-`/`xoxa-`/
 * `xoxp-`/`xoxr-`/`xoxs-` + 10+; AWS access key ids `AKIA`/`ASIA` + 16 capitals or digits;
 * Google `AIza` + 35; GitLab `glpat-` + 20+; Hugging Face `hf_` + 34+; TuneForge `tf_` + 32+
 * (generated keys have 40); JWTs (three base64url parts, the first starting `eyJ`).
 */
const KNOWN_SECRET = new RegExp(
  String.raw`(?:` +
    [
      String.raw`sk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,}`,
      String.raw`[spr]k_(?:live|test)_[A-Za-z0-9]{16,}`,
      String.raw`gh[pousr]_[A-Za-z0-9]{36,}`,
      String.raw`github_pat_[A-Za-z0-9_]{22,}`,
      String.raw`xox[abprs]-[A-Za-z0-9-]{10,}`,
      String.raw`(?:AKIA|ASIA)[A-Z0-9]{16}`,
      String.raw`AIza[A-Za-z0-9_-]{35}`,
      String.raw`glpat-[A-Za-z0-9_-]{20,}`,
      String.raw`hf_[A-Za-z0-9]{34,}`,
      String.raw`tf_[A-Za-z0-9_]{32,}`,
      String.raw`eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`,
    ].join('|') +
    String.raw`)(?![A-Za-z0-9_-])`,
  'y',
);

/** The prefix maskValue keeps. */
const SECRET_PREFIX =
  /^(?:sk-(?:proj-|svcacct-|admin-|ant-)?|[spr]k_(?:live|test)_|gh[pousr]_|github_pat_|xox[abprs]-|AKIA|ASIA|AIza|glpat-|hf_|tf_|eyJ|-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)/;

/** `Authorization: Bearer <token>`: the token (20+ characters) is the secret. */
const BEARER_BEFORE = /(?:^|[^A-Za-z0-9_])[Bb]earer +$/;
/**
 * `api_key=…`, `"client_secret": "…"`, `password: …`: the value (16+ characters, looking random)
 * is the secret; the key name stays readable in redacted text.
 */
const ASSIGNMENT_BEFORE =
  /(?:^|[^A-Za-z0-9])(?:api[_-]?key|api[_-]?token|access[_-]?(?:key|token)|auth[_-]?token|secret(?:[_-]?key)?|client[_-]?secret|private[_-]?key|token|passw(?:or)?d|pwd)["']?\s*[:=]\s*["']?$/i;

/** A value with at least two of lower/upper/digit and at least 3 bits of entropy per character. */
function looksRandom(value: string): boolean {
  const classes = Number(/[a-z]/.test(value)) + Number(/[A-Z]/.test(value)) + Number(/\d/.test(value));
  if (classes < 2) {
    return false;
  }
  const counts = new Map<string, number>();
  for (const character of value) {
    counts.set(character, (counts.get(character) ?? 0) + 1);
  }
  let entropy = 0;
  for (const count of counts.values()) {
    const probability = count / value.length;
    entropy -= probability * Math.log2(probability);
  }
  return entropy >= 3;
}

/** PEM private keys (PKCS#1, PKCS#8, EC, OpenSSH, encrypted, PGP `PRIVATE KEY BLOCK`). */
const PRIVATE_KEY_HEADER = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/y;
const PRIVATE_KEY_FOOTER = /-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/y;
/** Base64 lines (also JSON-escaped `\n` breaks) of a key whose footer is missing. */
const PRIVATE_KEY_BODY = /(?:(?:\s|\\n)+[A-Za-z0-9+/=]{16,})*/y;
