/**
 * A labelled corpus for measuring the personal-data detector: realistic text (mail headers in the
 * style of public mailing-list archives, CVS commit mails, changelogs, source code and
 * configuration, PGP-signed mail, customer-support prose, Chinese customer records) with planted
 * true cases of every detector type, each recorded with its span. Everything else in the text
 * (revision numbers, version strings, key fingerprints, message ids, dates, hashes, ISBNs,
 * tracking numbers) is labelled as not personal data, so every other detection is a false alarm.
 *
 * Deterministic: the same seed gives the same documents, so figures can be compared across
 * versions of the detector. `scoreDetector` computes precision and recall per type.
 */
import { seededRandom } from '../../src/trainer/runtime/examples.js';

export const LABELLED_TYPES = [
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
export type LabelledType = (typeof LABELLED_TYPES)[number];

export interface LabelledSpan {
  type: LabelledType;
  start: number;
  end: number;
}

export interface LabelledDocument {
  kind: string;
  text: string;
  spans: LabelledSpan[];
}

export interface TypeScore {
  /** Planted true cases. */
  planted: number;
  /** Detections of this type. */
  detected: number;
  /** Detections of this type that overlap a planted span of the same type. */
  truePositives: number;
  /** truePositives / detected (1 without detections). */
  precision: number;
  /** Planted spans found / planted (1 without planted spans). */
  recall: number;
  /** Up to 5 false alarms, as text, for reading. */
  falseAlarms: string[];
  /** Up to 5 missed planted values. */
  missed: string[];
}

/** Collects text and the spans of planted values. */
class DocumentBuilder {
  text = '';
  readonly spans: LabelledSpan[] = [];

  add(text: string): this {
    this.text += text;
    return this;
  }

  plant(type: LabelledType, value: string): this {
    this.spans.push({ type, start: this.text.length, end: this.text.length + value.length });
    this.text += value;
    return this;
  }

  build(kind: string): LabelledDocument {
    return { kind, text: this.text, spans: this.spans };
  }
}

type Random = () => number;

function integer(random: Random, bound: number): number {
  return Math.floor(random() * bound);
}
function pick<T>(random: Random, items: readonly T[]): T {
  return items[integer(random, items.length)];
}
function digits(random: Random, count: number): string {
  let out = '';
  for (let index = 0; index < count; index += 1) {
    out += String(integer(random, 10));
  }
  return out;
}
function letters(random: Random, count: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'): string {
  let out = '';
  for (let index = 0; index < count; index += 1) {
    out += alphabet[integer(random, alphabet.length)];
  }
  return out;
}
function hex(random: Random, count: number, upper = false): string {
  return letters(random, count, upper ? '0123456789ABCDEF' : '0123456789abcdef');
}
function pad2(value: number): string {
  return String(value).padStart(2, '0');
}

// --------------------------------------------------------------------------------- true values

const FIRST_NAMES = ['jane', 'john', 'maria', 'wei', 'ahmed', 'olga', 'pierre', 'sanjay', 'kate', 'tom'];
const LAST_NAMES = ['roe', 'doe', 'smith', 'zhang', 'khan', 'petrova', 'martin', 'gupta', 'lee', 'brown'];
const DOMAINS = ['example.org', 'example.com', 'mail.example.net', 'lists.example.org', 'example.co.uk'];

function emailAddress(random: Random): string {
  const first = pick(random, FIRST_NAMES);
  const last = pick(random, LAST_NAMES);
  const local = pick(random, [`${first}.${last}`, `${first}${integer(random, 100)}`, `${first[0]}${last}`, first]);
  return `${local}@${pick(random, DOMAINS)}`;
}

/** A public host address: never 0.x, 127.x or a broadcast address. */
function ipv4Address(random: Random): string {
  const first = pick(random, [10, 24, 64, 66, 80, 128, 172, 192, 198, 203, 209, 212, 217]);
  return `${first}.${integer(random, 256)}.${integer(random, 256)}.${1 + integer(random, 254)}`;
}

function ipv6Address(random: Random): string {
  return pick(random, [
    () => `2001:db8:${hex(random, 4)}::${hex(random, 3)}`,
    () => `2001:db8:${hex(random, 4)}:${hex(random, 4)}:${hex(random, 4)}:${hex(random, 4)}:${hex(random, 4)}:1`,
    () => `fe80::${hex(random, 3)}:${hex(random, 4)}:${hex(random, 4)}:${hex(random, 4)}`,
    () => `2a00:1450:4001:${hex(random, 3)}::200e`,
  ])();
}

function luhnComplete(body: string): string {
  let sum = 0;
  for (let index = 0; index < body.length; index += 1) {
    let digit = Number(body[body.length - 1 - index]);
    if (index % 2 === 0) {
      digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    }
    sum += digit;
  }
  return body + String((10 - (sum % 10)) % 10);
}

function cardNumber(random: Random): string {
  const [prefix, length, groups] = pick(random, [
    ['4', 16, [4, 4, 4, 4]],
    ['5' + String(1 + integer(random, 5)), 16, [4, 4, 4, 4]],
    ['37', 15, [4, 6, 5]],
    ['6011', 16, [4, 4, 4, 4]],
  ] as const);
  const number = luhnComplete(prefix + digits(random, length - prefix.length - 1));
  const separator = pick(random, [' ', '-', '']);
  if (separator === '') {
    return number;
  }
  const parts: string[] = [];
  let position = 0;
  for (const size of groups) {
    parts.push(number.slice(position, position + size));
    position += size;
  }
  return parts.join(separator);
}

/** BBAN structures (SWIFT IBAN registry notation: n digits, a capitals, c either). */
const IBAN_FORMATS: [string, [number, 'n' | 'a' | 'c'][]][] = [
  ['DE', [[18, 'n']]],
  [
    'GB',
    [
      [4, 'a'],
      [14, 'n'],
    ],
  ],
  [
    'FR',
    [
      [10, 'n'],
      [11, 'c'],
      [2, 'n'],
    ],
  ],
  [
    'NL',
    [
      [4, 'a'],
      [10, 'n'],
    ],
  ],
  ['ES', [[20, 'n']]],
  [
    'IT',
    [
      [1, 'a'],
      [10, 'n'],
      [12, 'c'],
    ],
  ],
  ['BE', [[12, 'n']]],
  ['AT', [[16, 'n']]],
  ['PL', [[24, 'n']]],
  ['NO', [[11, 'n']]],
  [
    'CH',
    [
      [5, 'n'],
      [12, 'c'],
    ],
  ],
];

function ibanCheckDigits(country: string, bban: string): string {
  let remainder = 0;
  for (const character of `${bban}${country}00`) {
    const value = parseInt(character, 36);
    remainder = value > 9 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
  }
  return pad2(98 - remainder);
}

function ibanNumber(random: Random): string {
  const [country, format] = pick(random, IBAN_FORMATS);
  let bban = '';
  for (const [count, kind] of format) {
    bban +=
      kind === 'n'
        ? digits(random, count)
        : kind === 'a'
          ? letters(random, count)
          : letters(random, count, '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ');
  }
  const compact = `${country}${ibanCheckDigits(country, bban)}${bban}`;
  return random() < 0.6 ? (compact.match(/.{1,4}/g) ?? []).join(' ') : compact;
}

function phoneNumber(random: Random): string {
  return pick(random, [
    () => `+44 20 7946 ${digits(random, 4)}`,
    () => `+1 (555) ${digits(random, 3)}-${digits(random, 4)}`,
    () => `(555) ${digits(random, 3)}-${digits(random, 4)}`,
    () => `555-${digits(random, 3)}-${digits(random, 4)}`,
    () => `+49 30 ${digits(random, 7)}`,
    () => `020 7946 ${digits(random, 4)}`,
    () => `+33 1 ${digits(random, 2)} ${digits(random, 2)} ${digits(random, 2)} ${digits(random, 2)}`,
    () => `1-800-555-${digits(random, 4)}`,
  ])();
}

function chineseMobile(random: Random): string {
  const number = `1${pick(random, ['3', '5', '7', '8', '9'])}${digits(random, 9)}`;
  return pick(random, [
    () => number,
    () => `+86 ${number}`,
    () => `${number.slice(0, 3)} ${number.slice(3, 7)} ${number.slice(7)}`,
  ])();
}

const RESIDENT_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
function residentId(random: Random): string {
  const region = pick(random, ['110105', '310104', '440305', '510107', '330106']);
  const birth = `${1950 + integer(random, 55)}${pad2(1 + integer(random, 12))}${pad2(1 + integer(random, 28))}`;
  const body = `${region}${birth}${digits(random, 3)}`;
  const sum = [...body].reduce((total, digit, index) => total + Number(digit) * RESIDENT_ID_WEIGHTS[index], 0);
  return body + '10X98765432'[sum % 11];
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
function secretValue(random: Random): { before: string; value: string } {
  return pick(random, [
    () => ({ before: 'OPENAI_API_KEY=', value: `sk-proj-${letters(random, 40, BASE62)}` }),
    () => ({ before: 'token: ', value: `ghp_${letters(random, 36, BASE62)}` }),
    () => ({ before: 'aws_access_key_id = ', value: `AKIA${letters(random, 16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}` }),
    () => ({ before: 'Authorization: Bearer ', value: letters(random, 32, BASE62) }),
    () => ({ before: 'password = "', value: letters(random, 20, BASE62) }),
  ])();
}

// ----------------------------------------------------------------------------- distractors

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

function mailDate(random: Random): string {
  return `${pick(random, DAYS)}, ${1 + integer(random, 28)} ${pick(random, MONTHS)} 2002 ${pad2(integer(random, 24))}:${pad2(integer(random, 60))}:${pad2(integer(random, 60))} ${pick(random, ['+0100', '-0700', '-0000', '+0000'])}`;
}

/** A CVS revision: trunk 1.N or a branch revision 1.N.2.M (the form that looks like an address). */
function cvsRevision(random: Random, branch: boolean): string {
  const trunk = `1.${1 + integer(random, 180)}`;
  return branch ? `${trunk}.${2 * (1 + integer(random, 3))}.${1 + integer(random, 40)}` : trunk;
}

/** A four-part version string whose parts are all valid octets. */
function fourPartVersion(random: Random): string {
  return `${integer(random, 10)}.${integer(random, 20)}.${integer(random, 30)}.${integer(random, 200)}`;
}

/** A 40-hex-digit OpenPGP fingerprint in ten groups of four, as `gpg --fingerprint` prints it. */
function fingerprint(random: Random): string {
  return (hex(random, 40, true).match(/.{4}/g) ?? []).join(' ');
}

function messageId(random: Random): string {
  return pick(random, [
    () => `${hex(random, 8, true)}.${digits(random, 7)}@${pick(random, DOMAINS)}`,
    () => `2002${digits(random, 10)}.GA${digits(random, 5)}@${pick(random, ['localhost', 'host.example.net'])}`,
    () => `E17${letters(random, 5, BASE62)}-000${digits(random, 1)}-00@${pick(random, DOMAINS)}`,
  ])();
}

// ------------------------------------------------------------------------------- documents

function mailHeaders(random: Random): LabelledDocument {
  const document = new DocumentBuilder();
  const relay = `mx${1 + integer(random, 3)}.${pick(random, DOMAINS)}`;
  document.add('Return-Path: <').plant('email', emailAddress(random)).add('>\n');
  document.add(`Received: from ${pick(random, ['mail', 'smtp', 'relay'])}.${pick(random, DOMAINS)} (`);
  const sender = ipv4Address(random);
  document
    .add(`[`)
    .plant('ipv4', sender)
    .add(`]) by ${relay} (Postfix) with ESMTP id ${hex(random, 8, true)}\n`);
  document
    .add(`\tfor <`)
    .plant('email', emailAddress(random))
    .add(`>; ${mailDate(random)}\n`);
  document.add('Received: from [').plant('ipv4', ipv4Address(random));
  document.add(`] (helo=${pick(random, ['localhost', 'pc01'])})\n\tby ${relay} with esmtp (Exim 3.35 #1 (Debian))\n`);
  document.add(`\tid 17${letters(random, 5, BASE62)}-000${digits(random, 1)}-00; ${mailDate(random)}\n`);
  document.add(`From: "${pick(random, FIRST_NAMES)} ${pick(random, LAST_NAMES)}" <`);
  document.plant('email', emailAddress(random)).add('>\n');
  document.add(`Message-ID: <${messageId(random)}>\n`);
  if (random() < 0.5) {
    document.add(`In-Reply-To: <${messageId(random)}>\nReferences: <${messageId(random)}>\n`);
  }
  document.add(`Date: ${mailDate(random)}\n`);
  document.add(
    pick(random, [
      `X-Mailer: Microsoft Outlook Express 6.00.${2600 + integer(random, 300)}.${integer(random, 2000)}\n`,
      'X-Mailer: Ximian Evolution 1.0.8\n',
      `User-Agent: Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.0.1) Gecko/20020823 Netscape/${fourPartVersion(random)}\n`,
      'User-Agent: Mutt/1.4i\n',
      `X-Mailer: QUALCOMM Windows Eudora Version ${fourPartVersion(random)}\n`,
    ]),
  );
  document.add(
    `X-Spam-Status: No, hits=-${integer(random, 9)}.${integer(random, 10)} required=5.0 tests=KNOWN_MAILING_LIST version=2.${40 + integer(random, 20)}-cvs\n`,
  );
  if (random() < 0.5) {
    document.add('X-Originating-IP: [').plant('ipv4', ipv4Address(random)).add(']\n');
  }
  document.add(
    `Content-Type: multipart/alternative; boundary="----=_NextPart_000_0005_01C2691F.${hex(random, 8, true)}"\n`,
  );
  return document.build('mail-headers');
}

function cvsCommitMail(random: Random): DocumentBuilder {
  const document = new DocumentBuilder();
  const file = pick(random, ['PerMsgStatus.pm', 'Conf.pm', 'EvalTests.pm', 'spamd.raw', 'Makefile.PL']);
  const path = `/cvsroot/spamassassin/spamassassin/lib/Mail/SpamAssassin/${file}`;
  const branch = random() < 0.8;
  const old = cvsRevision(random, branch);
  const parts = old.split('.');
  const next = [...parts.slice(0, -1), String(Number(parts.at(-1)) + 1)].join('.');
  document.add(`Update of /cvsroot/spamassassin/spamassassin/lib/Mail/SpamAssassin\n`);
  document.add(`In directory usw-pr-cvs1:/tmp/cvs-serv${digits(random, 5)}\n\nModified Files:\n`);
  document.add(`      Tag: b2_${integer(random, 5)}_0\n\t${file},${old},${next}\n`);
  document.add(`Log Message:\nfixed ${pick(random, ['a typo', 'the rule scores', 'a warning', 'spamd timeouts'])}\n\n`);
  document.add(`Index: ${file}\n${'='.repeat(67)}\nRCS file: ${path},v\n`);
  document.add(`retrieving revision ${old}\nretrieving revision ${next}\n`);
  document.add(`diff -b -w -u -d -r${old} -r${next}\n`);
  document.add(`--- ${file}\t${1 + integer(random, 28)} ${pick(random, MONTHS)} 2002 10:15:48 -0000\t${old}\n`);
  document.add(`+++ ${file}\t${1 + integer(random, 28)} ${pick(random, MONTHS)} 2002 12:01:02 -0000\t${next}\n`);
  document.add(`@@ -${integer(random, 900)},7 +${integer(random, 900)},7 @@\n`);
  document.add(
    `-# $Id: ${file},v ${old} 2002/08/28 10:15:48 jm Exp $\n+# $Id: ${file},v ${next} 2002/09/01 12:01:02 jm Exp $\n`,
  );
  document.add(
    `\nRevision  Changes    Path\n${next}  +${1 + integer(random, 9)} -${1 + integer(random, 9)}      spamassassin/lib/Mail/SpamAssassin/${file}\n`,
  );
  return document;
}

function cvsDocument(random: Random): LabelledDocument {
  const document = cvsCommitMail(random);
  if (random() < 0.5) {
    document.add('\n-- \nCommitted by ').plant('email', emailAddress(random)).add('\n');
  }
  return document.build('cvs-commit');
}

function changelog(random: Random): LabelledDocument {
  const document = new DocumentBuilder();
  const package_ = pick(random, ['libfoo', 'razor-agents', 'gnupg', 'procmail', 'fetchmail']);
  document.add(`${package_} (${fourPartVersion(random)}-1) unstable; urgency=low\n\n`);
  document.add(`  * New upstream release ${fourPartVersion(random)}.\n`);
  document.add(
    `  * Build against libdb ${integer(random, 5)}.${integer(random, 9)}.${integer(random, 30)}; bump Standards-Version to ${fourPartVersion(random)}.\n`,
  );
  document.add(`  * Fix crash when the server at `).plant('ipv4', ipv4Address(random)).add(' closes the connection.\n');
  document.add(
    `  * Updated to version ${fourPartVersion(random)}, release ${fourPartVersion(random)}-beta (build ${fourPartVersion(random)}).\n`,
  );
  document.add(
    `  * Requires Razor ${fourPartVersion(random)} or later; tested with Perl 5.${6 + integer(random, 3)}.${integer(random, 3)}.\n\n`,
  );
  document.add(` -- ${pick(random, FIRST_NAMES)} ${pick(random, LAST_NAMES)} <`).plant('email', emailAddress(random));
  document.add(`>  ${mailDate(random)}\n\n`);
  document.add(
    `Version ${fourPartVersion(random)} (2002-${pad2(1 + integer(random, 12))}-${pad2(1 + integer(random, 28))})\n`,
  );
  document.add(`- v${fourPartVersion(random)}: ported to FreeBSD ${integer(random, 5)}.${integer(random, 9)}\n`);
  document.add(`- ${pick(random, ['rev', 'Rev.', 'revision'])} ${fourPartVersion(random)}: documentation\n`);
  return document.build('changelog');
}

function sourceCode(random: Random): LabelledDocument {
  const document = new DocumentBuilder();
  document.add(
    `# settings.py\n__version__ = "${fourPartVersion(random)}"\nVERSION_INFO = (${integer(random, 5)}, ${integer(random, 9)}, ${integer(random, 9)})\n`,
  );
  document.add(`DATABASE_HOST = "`).plant('ipv4', ipv4Address(random)).add('"\n');
  document.add(
    `LISTEN = "0.0.0.0:${8000 + integer(random, 100)}"\nSESSION_ID = "${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-a${hex(random, 3)}-${hex(random, 12)}"\n`,
  );
  const secret = secretValue(random);
  document
    .add(secret.before)
    .plant('secret', secret.value)
    .add(secret.before.endsWith('"') ? '"\n' : '\n');
  document.add(`UPSTREAM_V6 = "`).plant('ipv6', ipv6Address(random)).add('"\n');
  document.add(
    `COMMIT = "${hex(random, 40)}"  # built ${2000 + integer(random, 25)}-${pad2(1 + integer(random, 12))}-${pad2(1 + integer(random, 28))} 12:${pad2(integer(random, 60))}:${pad2(integer(random, 60))}\n`,
  );
  document.add(`MAC = "00:1A:2B:${hex(random, 2, true)}:${hex(random, 2, true)}:${hex(random, 2, true)}"\n`);
  document.add(`\nstd::vector<int> scores; // ${integer(random, 100)}.${integer(random, 100)}% of rows\n`);
  document.add(`if (version >= parse_version("${fourPartVersion(random)}")) { retries = ${integer(random, 9)}; }\n`);
  document.add(`color = "#${hex(random, 6)}"; timeout_ms = ${1000 + integer(random, 9000)};\n`);
  document.add('ADMIN_EMAIL = "').plant('email', emailAddress(random)).add('"\n');
  return document.build('code');
}

function signedMail(random: Random): LabelledDocument {
  const document = new DocumentBuilder();
  document.add(`-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA1\n\nThe new key is on the keyservers.\n\n`);
  document.add(
    `pub  1024D/${hex(random, 8, true)} 2002-0${1 + integer(random, 9)}-1${integer(random, 9)} ${pick(random, FIRST_NAMES)} <`,
  );
  document.plant('email', emailAddress(random)).add('>\n');
  // The fingerprint reported as an IBAN on a public mail corpus leads the list.
  document.add(`     Key fingerprint = ${random() < 0.3 ? reportedFingerprint() : fingerprint(random)}\n`);
  document.add(`sub  1024g/${hex(random, 8, true)} 2002-01-01\n\n`);
  document.add(`-----BEGIN PGP SIGNATURE-----\nVersion: GnuPG v1.0.${6 + integer(random, 2)} (GNU/Linux)\n\n`);
  document.add(
    `iD8DBQE9${letters(random, 50, BASE62)}\n${letters(random, 12, BASE62)}=\n=${letters(random, 4, BASE62)}\n-----END PGP SIGNATURE-----\n`,
  );
  return document.build('pgp');
}

/**
 * A fingerprint starting `BB64 2339 1CAA`, as one reported as an IBAN on a public mail corpus: its
 * first 32 characters pass mod-97, under a country code that does not exist.
 */
function reportedFingerprint(): string {
  return 'BB64 2339 1CAA EC70 0646 1F22 5782 09A8 18C7 B1EE';
}

function supportProse(random: Random): LabelledDocument {
  const document = new DocumentBuilder();
  const name = pick(random, FIRST_NAMES);
  document.add(
    `Hi ${name}, thanks for order #${100000 + integer(random, 900000)} of ${pick(random, MONTHS)} ${1 + integer(random, 28)}, 2024 ($${integer(random, 500)}.${pad2(integer(random, 100))}).\n`,
  );
  document.add('You can reach me on ').plant('phone', phoneNumber(random));
  document.add(` or at `).plant('email', emailAddress(random)).add(' until 17:30.\n');
  document.add('Please refund the card ').plant('payment_card', cardNumber(random));
  document.add(` (expires ${pad2(1 + integer(random, 12))}/${26 + integer(random, 5)}) or transfer to `);
  document.plant('iban', ibanNumber(random)).add('.\n');
  document.add(
    `The parcel (tracking 1Z${letters(random, 3)}${digits(random, 3)}${digits(random, 10)}) left the depot at 09:${pad2(integer(random, 60))} on 2024-0${1 + integer(random, 9)}-1${integer(random, 9)}; `,
  );
  document.add(
    `the manual is ISBN 978-3-16-${digits(random, 6)}-0, chapter ${integer(random, 20)}.${integer(random, 20)}.\n`,
  );
  document.add(`Our hotline ${pick(random, ['is', 'was'])} `).plant('phone', phoneNumber(random));
  document.add(`, open 24/7; ${integer(random, 100)}% of calls are answered within 2.5 minutes.\n`);
  if (random() < 0.5) {
    document.add('I logged in from ').plant('ipv4', ipv4Address(random)).add(' and from ');
    document.plant('ipv6', ipv6Address(random)).add(' yesterday.\n');
  }
  return document.build('support');
}

function chineseRecord(random: Random): LabelledDocument {
  const document = new DocumentBuilder();
  document
    .add(`客户姓名：${pick(random, ['王芳', '李伟', '张敏', '刘洋'])}，手机：`)
    .plant('cn_mobile', chineseMobile(random));
  document.add(`，身份证号：`).plant('cn_resident_id', residentId(random));
  document.add(
    `。订单号 ${digits(random, 12)}，金额 ${integer(random, 9999)}.${pad2(integer(random, 100))} 元，下单时间 2024-${pad2(1 + integer(random, 12))}-${pad2(1 + integer(random, 28))} 14:${pad2(integer(random, 60))}。\n`,
  );
  return document.build('cn-record');
}

const GENERATORS = [mailHeaders, cvsDocument, changelog, sourceCode, signedMail, supportProse, chineseRecord];

/** `count` documents of each kind, in a fixed order for a seed. */
export function labelledCorpus(count = 40, seed = 20_021_001): LabelledDocument[] {
  const random = seededRandom(seed);
  const documents: LabelledDocument[] = [];
  for (let index = 0; index < count; index += 1) {
    for (const generate of GENERATORS) {
      documents.push(generate(random));
    }
  }
  return documents;
}

/**
 * Precision and recall per type of a detector over labelled documents. A detection is correct when
 * it has the type of a planted span it overlaps; each planted span counts once.
 */
export function scoreDetector(
  documents: readonly LabelledDocument[],
  detect: (text: string) => readonly { type: string; start: number; end: number }[],
): Record<LabelledType, TypeScore> {
  const scores = Object.fromEntries(
    LABELLED_TYPES.map((type) => [
      type,
      { planted: 0, detected: 0, truePositives: 0, precision: 1, recall: 1, falseAlarms: [], missed: [] },
    ]),
  ) as unknown as Record<LabelledType, TypeScore>;
  const found = new Map<LabelledType, number>();
  for (const document of documents) {
    const matched = new Set<LabelledSpan>();
    for (const span of document.spans) {
      scores[span.type].planted += 1;
    }
    for (const detection of detect(document.text)) {
      const type = detection.type as LabelledType;
      const score = scores[type];
      if (!score) {
        continue;
      }
      score.detected += 1;
      const span = document.spans.find(
        (candidate) =>
          candidate.type === type &&
          !matched.has(candidate) &&
          candidate.start < detection.end &&
          detection.start < candidate.end,
      );
      if (span) {
        matched.add(span);
        score.truePositives += 1;
        found.set(type, (found.get(type) ?? 0) + 1);
      } else if (score.falseAlarms.length < 5) {
        score.falseAlarms.push(document.text.slice(detection.start, detection.end));
      }
    }
    for (const span of document.spans) {
      const score = scores[span.type];
      if (!matched.has(span) && score.missed.length < 5) {
        score.missed.push(document.text.slice(span.start, span.end));
      }
    }
  }
  for (const type of LABELLED_TYPES) {
    const score = scores[type];
    score.precision = score.detected > 0 ? round(score.truePositives / score.detected) : 1;
    score.recall = score.planted > 0 ? round((found.get(type) ?? 0) / score.planted) : 1;
  }
  return scores;
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
