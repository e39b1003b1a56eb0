import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  findPersonalData,
  maskValue,
  PERSONAL_DATA_PLACEHOLDERS,
  PERSONAL_DATA_TYPES,
  redactPersonalData,
  type PersonalDataMatch,
  type PersonalDataType,
} from './personal-data.js';

const RUNS = { numRuns: 500 };

// Independent oracles for the check digits, so the properties do not reuse the code under test.

function luhnCheckDigit(body: string): string {
  let sum = 0;
  for (let index = 0; index < body.length; index += 1) {
    let digit = Number(body[body.length - 1 - index]);
    if (index % 2 === 0) {
      digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    }
    sum += digit;
  }
  return String((10 - (sum % 10)) % 10);
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
function residentIdCheck(body: string): string {
  const sum = [...body].reduce((total, digit, index) => total + Number(digit) * ID_WEIGHTS[index], 0);
  return '10X98765432'[sum % 11];
}

function ibanCheckDigits(country: string, bban: string): string {
  const numeric = [...`${bban}${country}00`].map((character) => parseInt(character, 36)).join('');
  let remainder = 0;
  for (const digit of numeric) {
    remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return String(98 - remainder).padStart(2, '0');
}

function only(text: string, value: string, type: PersonalDataType): PersonalDataMatch[] {
  const start = text.indexOf(value);
  assert.ok(start >= 0, `${value} is not in ${text}`);
  return [{ type, start, end: start + value.length }];
}

function valuesOf(text: string): [PersonalDataType, string][] {
  return findPersonalData(text).map((match) => [match.type, text.slice(match.start, match.end)]);
}

const POSITIVE: Record<PersonalDataType, string[]> = {
  email: ['john.doe@example.com', 'j_d+tag%x@mail.example.co.uk', 'ADMIN@Example.ORG', 'a1@b2.io'],
  phone: [
    '+44 20 7946 0958',
    '+1 (555) 123-4567',
    '(555) 123-4567',
    '555-123-4567',
    '555.123.4567',
    '+14155552671',
    '020 7946 0958',
    '(020) 7946 0958',
    '+49 30 12345678',
    '1-800-555-1234',
    '+33 1 23 45 67 89',
    '+44 (0) 20 7946 0958',
  ],
  cn_mobile: [
    '13812345678',
    '+86 138 1234 5678',
    '+86-138-1234-5678',
    '+8613912345678',
    '0086 13812345678',
    '8613812345678',
    '138-1234-5678',
    '199 1234 5678',
  ],
  payment_card: [
    '4111111111111111',
    '4111-1111-1111-1111',
    '4111 1111 1111 1111',
    '4222222222222',
    '5555555555554444',
    '2223003122003222',
    '378282246310005',
    '3782 822463 10005',
    '6011111111111117',
    '3530111333300000',
    '6200000000000005',
    '30569309025904',
  ],
  iban: [
    'DE89370400440532013000',
    'DE89 3704 0044 0532 0130 00',
    'GB82WEST12345698765432',
    'GB82 WEST 1234 5698 7654 32',
    'FR1420041010050500013M02606',
    'NL91ABNA0417164300',
    'BE68539007547034',
    'CH9300762011623852957',
    'NO9386011117947',
    'IT60X0542811101000000123456',
    'ES9121000418450200051332',
  ],
  ipv4: ['192.168.1.1', '8.8.8.8', '255.255.255.255', '10.0.0.0'],
  ipv6: [
    '2001:db8::8a2e:370:7334',
    '2001:0db8:85a3:0000:0000:8a2e:0370:7334',
    '2001:DB8::1',
    'fe80::1',
    '::1',
    '::ffff:192.0.2.128',
  ],
  cn_resident_id: [
    '11010519491231002X',
    '11010519491231002x',
    `44030419900307${'001'}${residentIdCheck('44030419900307001')}`,
  ],
  secret: [
    'sk-proj-abc123DEF456ghi789JKL012mno345',
    'sk-abcdefghij1234567890ABCD',
    'sk_live_51HxYzAbCdEfGh12345678',
    'pk_test_TYooMQauvdEDq54NiTphI7jx',
    'ghp_1234567890abcdefghijABCDEFGHIJ123456',
    'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz',
    'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
    'AKIAIOSFODNN7EXAMPLE',
    'AIzaSyA1234567890abcdefghijklmnopqrstuv',
    'glpat-abcdEFGH1234ijklMNOP',
    'hf_abcdefghijklmnopqrstuvwxyz12345678',
    'tf_Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90',
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  ],
};

/** Each must produce no match at all. */
const NEGATIVE: Record<PersonalDataType, string[]> = {
  email: [
    'user@localhost',
    '@handle says hi',
    'a@b.c',
    'name@example.com2',
    'icon@2x.png',
    'foo..bar@x.com',
    'x@-bad.com',
    'at @ example.com',
  ],
  phone: [
    '2024-01-01',
    '12:30:45',
    '1234567890',
    '555-1234',
    '$1,234.56',
    'ISBN 978-3-16-148410-0',
    'scores 100 200 300 4000',
    '+5.00',
    'Call 1-800-FLOWERS',
  ],
  cn_mobile: ['12812345678', '138123456789', '1381234567', 'a13812345678', '13812345678b'],
  payment_card: [
    '4111111111111112',
    '4111 1111 1111 1112',
    '1234567812345670',
    '41111111111111111111',
    '4111 1111 1111 1111 1111',
    '4111111111111111abc',
    'x4111111111111111',
    'timestamp 1700000000000',
    'float 0.4111111111111111',
  ],
  iban: [
    'DE88370400440532013000',
    'DE89 3704 0044 0532 0130 01',
    'DE893704004405320130001',
    'GB82WEST1234569876543',
    'de89370400440532013000',
    'XDE89370400440532013000',
    // Not a registry country, though mod-97 passes (an OpenPGP fingerprint).
    'BB64 2339 1CAA EC70 0646 1F22 5782 09A8 18C7 B1EE',
    // The right length and check digits, but letters where the German BBAN has digits.
    'DE97 ABCD 0044 0532 0130 00',
  ],
  ipv4: [
    '256.1.1.1',
    '1.2.3.4.5',
    '01.2.3.4',
    'v1.2.3.4',
    '192.168.1',
    '1.2.3.256',
    'v1.2.3',
    // 0.0.0.0/8 holds no host addresses: a leading 0 is a version.
    '0.9.14.1',
    '0.0.0.0',
    'version 2.4.1.3',
    'Version: 6.0.2.1',
    'rev. 1.100.2.11',
    'retrieving revision 1.100.2.11',
    '$Id: Conf.pm,v 1.100.2.11 2002/09/01 jm Exp $',
    'Netscape/7.0.2.1',
    'Conf.pm,1.100.2.11,1.100.2.12',
    '1.2.3.4-beta',
    '2.0.1.3-1',
    '1.2.3.4+dfsg',
    '__version__ = "1.4.2.0"',
    'parse_version("2.4.1.3")',
    'Standards-Version to 3.5.6.1',
    '2.4.1.3 or later',
  ],
  ipv6: ['std::vector', 'a::b', 'Foo::Bar::baz()', '00:1A:2B:3C:4D:5E', 'at 10:30 am', 'dead::beef'],
  cn_resident_id: [
    '11010519491231002Y',
    '110105194912310021',
    '11010519490230002X',
    '110105299912310022',
    '91010519491231002X',
    '01010519491231002X',
    'A11010519491231002X',
    '11010519491231002XY',
  ],
  secret: [
    'the skeleton key is on the desk-top monitor',
    'sk-short',
    'sk-this-is-not-a-real-key',
    'password: hunter2',
    'token=abc',
    'ghp_short1',
    'AKIA1234',
    'api_key=aaaaaaaaaaaaaaaaaaaa1',
    'Bearer 123',
  ],
};

describe('findPersonalData', () => {
  for (const type of PERSONAL_DATA_TYPES) {
    it(`finds ${type} values with their exact span`, () => {
      for (const value of POSITIVE[type]) {
        const text = `Note: before ${value} after.`;
        assert.deepEqual(findPersonalData(text), only(text, value, type), value);
      }
    });

    it(`does not flag ${type} look-alikes`, () => {
      for (const value of NEGATIVE[type]) {
        assert.deepEqual(valuesOf(`Note: ${value} here.`), [], value);
      }
    });
  }

  it('finds values at the very start and end of the text', () => {
    assert.deepEqual(valuesOf('4111111111111111'), [['payment_card', '4111111111111111']]);
    assert.deepEqual(valuesOf('mail a@example.com'), [['email', 'a@example.com']]);
    assert.deepEqual(valuesOf('john@example.com.'), [['email', 'john@example.com']]);
  });

  it('leaves ordinary numbers alone: dates, times, versions, prices, percentages, decimals, URLs', () => {
    const text =
      'In 1990 the company sold 1,234,567 units for $12.5 million (a 12.5% rise) between 9:00 and 17:30:15 ' +
      'on 2024-03-15 or 15/03/2024, per report v2.1.0 p. 123-45, order #1234567890123, pi 3.14159265358979, ' +
      'see https://example.com/articles/2024/05/story-1234 and RFC 5322 section 3.4.1; COVID-19; 1st, 2nd.';
    assert.deepEqual(findPersonalData(text), []);
  });

  it('reports every type in mixed text, sorted, with correct offsets', () => {
    const values: [PersonalDataType, string][] = [
      ['email', 'jane.roe@example.org'],
      ['phone', '+44 20 7946 0958'],
      ['cn_mobile', '+86 138 1234 5678'],
      ['payment_card', '4111 1111 1111 1111'],
      ['iban', 'GB82 WEST 1234 5698 7654 32'],
      ['ipv4', '10.0.0.1'],
      ['ipv6', 'fe80::1ff:fe23:4567:890a'],
      ['cn_resident_id', '11010519491231002X'],
      ['secret', 'ghp_1234567890abcdefghijABCDEFGHIJ123456'],
    ];
    const text =
      `Hi, I'm Jane (${values[0][1]}), call ${values[1][1]} or ${values[2][1]}.\n` +
      `Pay with ${values[3][1]} or to ${values[4][1]}; servers ${values[5][1]}:8080 and [${values[6][1]}]:443.\n` +
      `身份证号：${values[7][1]}，令牌 ${values[8][1]}。`;
    const expected = values.map(([type, value]) => ({
      type,
      start: text.indexOf(value),
      end: text.indexOf(value) + value.length,
    }));
    assert.deepEqual(findPersonalData(text), expected);
  });

  it('reads dotted quads by their context: addresses stay addresses, versions and revisions do not', () => {
    const addresses = [
      'see http://10.0.0.1/admin',
      'hosts 10.0.0.1-10.0.0.9 are down',
      'ask 1.1.1.1 for names',
      'received from [66.12.4.7] by mx1',
      // A branch-shaped quad is an address unless the text shows RCS markers.
      'route to 1.20.2.11 today',
      'build host 10.0.0.5',
      'servers 10.0.0.1,10.0.0.2',
    ];
    for (const text of addresses) {
      assert.equal(findPersonalData(text).filter((match) => match.type === 'ipv4').length >= 1, true, text);
    }
    const cvsNotice =
      'RCS file: /cvsroot/x/Conf.pm,v\n--- Conf.pm\t28 Aug 2002 10:15:48 -0000\t1.100.2.11\n' +
      'Revision  Changes    Path\n1.100.2.12  +3 -1      x/Conf.pm\nfrom 10.1.2.3';
    assert.deepEqual(valuesOf(cvsNotice), [['ipv4', '10.1.2.3']]);
  });

  it('skips message identifiers in mail headers but not the addresses beside them', () => {
    const headers =
      'From: Jane <jane@example.org>\nMessage-ID: <3D9A1B2C.5060708@example.org>\n' +
      'References: <20021001.GA1@host.example.net>\n\t<E17abc-0001-00@example.org>\n' +
      'In-Reply-To: <a.b@example.com>\nTo: <john@example.com>\nX-Note: mail <ops@example.com> now';
    assert.deepEqual(valuesOf(headers), [
      ['email', 'jane@example.org'],
      ['email', 'john@example.com'],
      ['email', 'ops@example.com'],
    ]);
  });

  it('resolves overlaps by priority', () => {
    // The IPv4 inside an IPv4-mapped IPv6 address; the phone reading of a Chinese mobile number.
    assert.deepEqual(valuesOf('from ::ffff:1.2.3.4 now'), [['ipv6', '::ffff:1.2.3.4']]);
    assert.deepEqual(valuesOf('call +86 138 1234 5678'), [['cn_mobile', '+86 138 1234 5678']]);
    // A card-like run inside a grouped IBAN stays part of the IBAN.
    assert.deepEqual(valuesOf('to DE89 3704 0044 0532 0130 00'), [['iban', 'DE89 3704 0044 0532 0130 00']]);
    // An e-mail address whose local part looks like a phone number.
    assert.deepEqual(valuesOf('write to 555-123-4567@example.com'), [['email', '555-123-4567@example.com']]);
  });

  it('only looks for the requested types', () => {
    const text = 'mail a@example.com, call +86 138 1234 5678, from ::ffff:1.2.3.4';
    assert.deepEqual(
      findPersonalData(text, new Set(['phone', 'ipv4'])).map((match) => [
        match.type,
        text.slice(match.start, match.end),
      ]),
      [
        ['phone', '+86 138 1234 5678'],
        ['ipv4', '1.2.3.4'],
      ],
    );
    assert.deepEqual(findPersonalData(text, new Set()), []);
  });

  it('finds secrets after Bearer, in assignments and PEM private keys, keeping the key name', () => {
    assert.deepEqual(valuesOf('Authorization: Bearer abcDEF123ghiJKL456mnoPQR789'), [
      ['secret', 'abcDEF123ghiJKL456mnoPQR789'],
    ]);
    assert.deepEqual(valuesOf('api_key="Xk29fLq81ZpWm3Nv7Tb0"'), [['secret', 'Xk29fLq81ZpWm3Nv7Tb0']]);
    assert.deepEqual(valuesOf('{"client_secret": "9f8e7d6c5b4a3f2e1d0cAbCd"}'), [
      ['secret', '9f8e7d6c5b4a3f2e1d0cAbCd'],
    ]);
    const key =
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA75wi\nq1w2e3r4t5y6u7i8o9p0\n-----END RSA PRIVATE KEY-----';
    assert.deepEqual(valuesOf(`key:\n${key}\nend`), [['secret', key]]);
    const truncated = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nand then prose';
    assert.deepEqual(valuesOf(truncated), [
      ['secret', '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC'],
    ]);
    assert.deepEqual(valuesOf('-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A\n'), []);
    assert.deepEqual(valuesOf('Files start with -----BEGIN RSA PRIVATE KEY----- and end with the footer.'), []);
  });

  it('finds a known key inside a long token of short parts', () => {
    const key = 'sk-abcdefghij1234567890ABCD';
    assert.deepEqual(valuesOf(`see https://example.com/${'s-'.repeat(40)}9/${key}/x.`), [['secret', key]]);
    assert.deepEqual(valuesOf(`see https://example.com/${'s-'.repeat(4)}9/${key}/x.`), [['secret', key]]);
  });

  it('stays linear on long runs of candidate characters', () => {
    const started = Date.now();
    for (const text of [
      '1'.repeat(200_000),
      'a@'.repeat(100_000),
      `${'a.'.repeat(100_000)}@`,
      `a@${'b.'.repeat(100_000)}1`,
      '1:'.repeat(100_000),
      '1.'.repeat(100_000),
      '1 '.repeat(100_000),
      'A1'.repeat(100_000),
      '-----BEGIN '.repeat(20_000),
      '-----BEGIN PRIVATE KEY-----\n'.repeat(10_000),
    ]) {
      findPersonalData(text);
    }
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  });
});

describe('redactPersonalData', () => {
  it('replaces each match with its typed placeholder and counts them', () => {
    const result = redactPersonalData(
      'Mail john@example.com or jane@example.org, card 4111-1111-1111-1111, token sk-abcdefghij1234567890ABCD.',
    );
    assert.deepEqual(result, {
      text: 'Mail [EMAIL] or [EMAIL], card [PAYMENT_CARD], token [SECRET].',
      counts: { email: 2, payment_card: 1, secret: 1 },
    });
  });

  it('uses one placeholder per type', () => {
    for (const type of PERSONAL_DATA_TYPES) {
      const value = POSITIVE[type][0];
      assert.deepEqual(redactPersonalData(`x ${value} y`), {
        text: `x ${PERSONAL_DATA_PLACEHOLDERS[type]} y`,
        counts: { [type]: 1 },
      });
    }
  });

  it('returns clean text unchanged, and redacts only the requested types', () => {
    assert.deepEqual(redactPersonalData('nothing to see in 2024'), { text: 'nothing to see in 2024', counts: {} });
    assert.deepEqual(redactPersonalData('a@example.com 8.8.8.8', new Set(['ipv4'])), {
      text: 'a@example.com [IPV4]',
      counts: { ipv4: 1 },
    });
  });

  it('is deterministic and leaves nothing detectable behind', () => {
    const text = Object.values(POSITIVE).flat().join(' and ');
    const first = redactPersonalData(text);
    assert.deepEqual(redactPersonalData(text), first);
    assert.deepEqual(findPersonalData(first.text), []);
    const total = Object.values(first.counts).reduce((sum, count) => sum + count, 0);
    assert.equal(total, Object.values(POSITIVE).flat().length);
  });
});

describe('maskValue', () => {
  it('masks each type by its documented rule', () => {
    assert.equal(maskValue('email', 'john.doe@example.com'), 'j***@e***.com');
    assert.equal(maskValue('payment_card', '4111 1111 1111 1234'), '**** **** **** 1234');
    assert.equal(maskValue('phone', '+44 20 7946 0958'), '+44****58');
    assert.equal(maskValue('phone', '(555) 123-4567'), '55****67');
    assert.equal(maskValue('cn_mobile', '+86 138 1234 5678'), '+86 138****5678');
    assert.equal(maskValue('cn_mobile', '13812345678'), '138****5678');
    assert.equal(maskValue('iban', 'DE89 3704 0044 0532 0130 00'), 'DE** **** 3000');
    assert.equal(maskValue('ipv4', '192.168.1.20'), '192.168.*.*');
    assert.equal(maskValue('ipv6', '2001:db8::1'), '2001:****');
    assert.equal(maskValue('ipv6', '::1'), '::****');
    assert.equal(maskValue('cn_resident_id', '11010519491231002X'), '110**************X');
    assert.equal(maskValue('secret', 'sk-proj-abc123DEF456ghi789JKL012mno345'), 'sk-proj-****');
    assert.equal(maskValue('secret', 'AKIAIOSFODNN7EXAMPLE'), 'AKIA****');
    assert.equal(maskValue('secret', 'abcDEF123ghiJKL456mnoPQR789'), '****');
    assert.equal(maskValue('email', 'not an address'), '****');
  });

  it('never contains the full value', () => {
    for (const type of PERSONAL_DATA_TYPES) {
      for (const value of POSITIVE[type]) {
        const masked = maskValue(type, value);
        assert.ok(!masked.includes(value), `${type} ${value} → ${masked}`);
        assert.ok(!masked.replace(/\W/g, '').includes(value.replace(/\W/g, '')), `${type} ${value} → ${masked}`);
      }
    }
    // Degenerate input cannot leak either.
    for (const type of PERSONAL_DATA_TYPES) {
      for (const value of ['', '*', '1', 'a@b.co', '1.2.3.4', '::', 'X']) {
        const masked = maskValue(type, value);
        assert.ok(value === '' || !masked.includes(value), `${type} ${value} → ${masked}`);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const LETTERS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'];
const word = fc.string({ unit: fc.constantFrom(...LETTERS), minLength: 1, maxLength: 10 });
const separator = fc.constantFrom(' ', ', ', '. ', '; ', ': ', ' - ', '\n', ' (', ') ', '! ', '? ', "'", '"');
/** Prose without digits or `@`. */
const prose = fc
  .array(fc.tuple(word, separator), { maxLength: 12 })
  .map((parts) => parts.map(([text, next]) => text + next).join(''));
/** Prose to put a value between: ends and starts with a space, so the value stands alone. */
const around = fc.tuple(prose, prose).map(([before, after]) => [`${before} `, ` ${after}`] as const);

const digit = fc.integer({ min: 0, max: 9 }).map(String);
const digits = (length: number) =>
  fc.array(digit, { minLength: length, maxLength: length }).map((list) => list.join(''));

/** [issuer prefix range, lengths]: the networks the detector documents. */
const CARD_TABLE: [number, number, number[]][] = [
  [4, 4, [13, 16, 19]],
  [51, 55, [16]],
  [2221, 2720, [16]],
  [34, 34, [15]],
  [37, 37, [15]],
  [6011, 6011, [16, 17, 18, 19]],
  [65, 65, [16, 17, 18, 19]],
  [644, 649, [16, 17, 18, 19]],
  [3528, 3589, [16, 17, 18, 19]],
  [62, 62, [16, 17, 18, 19]],
  [300, 305, [14, 15, 16, 17, 18, 19]],
  [36, 36, [14, 15, 16, 17, 18, 19]],
  [38, 38, [14, 15, 16, 17, 18, 19]],
];

/** A card number body (without its check digit) and how to write it. */
const cardNumber = fc
  .constantFrom(...CARD_TABLE)
  .chain(([low, high, lengths]) =>
    fc.tuple(fc.integer({ min: low, max: high }), fc.constantFrom(...lengths), fc.constantFrom('', ' ', '-')),
  )
  .chain(([prefix, length, groupSeparator]) =>
    digits(length - 1 - String(prefix).length).map((rest) => ({ body: `${prefix}${rest}`, groupSeparator })),
  );

function writeCard(number: string, groupSeparator: string): string {
  return groupSeparator === '' ? number : (number.match(/.{1,4}/g) ?? []).join(groupSeparator);
}

/** 18 digits that happen to be a valid resident ID are reported as one (higher priority). */
function isResidentIdShaped(number: string): boolean {
  return findPersonalData(number, new Set(['cn_resident_id'])).length > 0;
}

const today = new Date();
const birthDate = fc
  .date({ min: new Date(Date.UTC(1900, 0, 1)), max: today, noInvalidDate: true })
  .map((date) => date.toISOString().slice(0, 10).replace(/-/g, ''));
const residentIdBody = fc
  .tuple(fc.integer({ min: 1, max: 8 }), digits(5), birthDate, digits(3))
  .map(([first, region, date, sequence]) => `${first}${region}${date}${sequence}`);

/** [country, BBAN structure] of several registry countries (SWIFT notation: n digits, a capitals, c either). */
const IBAN_COUNTRIES: [string, string][] = [
  ['DE', '8n10n'],
  ['GB', '4a6n8n'],
  ['FR', '5n5n11c2n'],
  ['NL', '4a10n'],
  ['BE', '3n7n2n'],
  ['CH', '5n12c'],
  ['NO', '4n6n1n'],
  ['IT', '1a5n5n12c'],
  ['ES', '4n4n1n1n10n'],
  ['PL', '8n16n'],
  ['MT', '4a5n18c'],
  ['LC', '4a24c'],
];
const IBAN_UNITS = {
  n: fc.constantFrom(...'0123456789'),
  a: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'),
  c: fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'),
};
function bbanOf(structure: string): fc.Arbitrary<string> {
  const parts = [...structure.matchAll(/(\d+)([nac])/g)].map(([, count, kind]) =>
    fc.string({ unit: IBAN_UNITS[kind as 'n' | 'a' | 'c'], minLength: Number(count), maxLength: Number(count) }),
  );
  return fc.tuple(...parts).map((values) => values.join(''));
}
const ibanParts = fc
  .constantFrom(...IBAN_COUNTRIES)
  .chain(([country, structure]) => fc.tuple(fc.constant(country), bbanOf(structure), fc.boolean()));
function writeIban(country: string, check: string, bban: string, grouped: boolean): string {
  const compact = `${country}${check}${bban}`;
  return grouped ? (compact.match(/.{1,4}/g) ?? []).join(' ') : compact;
}

describe('personal-data properties', () => {
  it('always finds a valid card number, with its type and span', () => {
    fc.assert(
      fc.property(cardNumber, around, ({ body, groupSeparator }, [before, after]) => {
        const number = body + luhnCheckDigit(body);
        fc.pre(!isResidentIdShaped(number));
        const card = writeCard(number, groupSeparator);
        const text = before + card + after;
        assert.deepEqual(findPersonalData(text), only(text, card, 'payment_card'));
        assert.ok(!maskValue('payment_card', card).includes(number));
      }),
      RUNS,
    );
  });

  it('never flags a card number with a wrong check digit as a card', () => {
    fc.assert(
      fc.property(
        cardNumber,
        around,
        fc.integer({ min: 1, max: 9 }),
        ({ body, groupSeparator }, [before, after], offset) => {
          const wrong = String((Number(luhnCheckDigit(body)) + offset) % 10);
          const text = before + writeCard(body + wrong, groupSeparator) + after;
          assert.deepEqual(
            findPersonalData(text).filter((match) => match.type === 'payment_card'),
            [],
          );
        },
      ),
      RUNS,
    );
  });

  it('always finds a valid resident ID, and never one with a wrong check character', () => {
    fc.assert(
      fc.property(
        residentIdBody,
        around,
        fc.boolean(),
        fc.integer({ min: 1, max: 10 }),
        (body, [before, after], lower, offset) => {
          const check = residentIdCheck(body);
          const id = body + (lower ? check.toLowerCase() : check);
          const text = before + id + after;
          assert.deepEqual(findPersonalData(text), only(text, id, 'cn_resident_id'));
          assert.ok(!maskValue('cn_resident_id', id).includes(id));

          const characters = '0123456789X';
          const wrong = characters[(characters.indexOf(check) + offset) % characters.length];
          const wrongText = `${before}${body}${wrong}${after}`;
          assert.deepEqual(
            findPersonalData(wrongText).filter((match) => match.type === 'cn_resident_id'),
            [],
          );
        },
      ),
      RUNS,
    );
  });

  it('always finds a valid IBAN, and never one with a wrong check', () => {
    fc.assert(
      fc.property(
        ibanParts,
        around,
        fc.integer({ min: 1, max: 95 }),
        ([country, bban, grouped], [before, after], offset) => {
          const check = ibanCheckDigits(country, bban);
          const iban = writeIban(country, check, bban, grouped);
          const text = before + iban + after;
          assert.deepEqual(findPersonalData(text), only(text, iban, 'iban'));
          assert.ok(!maskValue('iban', iban).includes(iban));

          // Another check value in 02..98 (distinct mod 97, so the checksum must fail).
          const wrong = String(((Number(check) - 2 + offset) % 97) + 2).padStart(2, '0');
          const wrongText = before + writeIban(country, wrong, bban, grouped) + after;
          assert.deepEqual(
            findPersonalData(wrongText).filter((match) => match.type === 'iban'),
            [],
          );
        },
      ),
      RUNS,
    );
  });

  it('always finds an IPv4 address in prose, and never a version-marked one', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const address = fc.tuple(fc.integer({ min: 1, max: 255 }), octet, octet, octet).map((parts) => parts.join('.'));
    fc.assert(
      fc.property(address, around, (value, [before, after]) => {
        fc.pre(!/(?:^|\W)(?:v|r|ver|rev|tag|rel|build|patch|release|revision|firmware|\w*version_*)\W*$/i.test(before));
        fc.pre(!/^\s+(?:or|and)\s+(?:later|newer|above|higher)\b/i.test(after));
        const text = before + value + after;
        assert.deepEqual(findPersonalData(text), only(text, value, 'ipv4'));
        const versioned = `${before}version ${value}${after}`;
        assert.deepEqual(
          findPersonalData(versioned).filter((match) => match.type === 'ipv4'),
          [],
        );
      }),
      RUNS,
    );
  });

  it('always finds an e-mail address, with its span', () => {
    const atom = fc.string({ unit: fc.constantFrom(...'abcxyzABC019_%+-'), minLength: 1, maxLength: 8 });
    const label = fc
      .tuple(
        fc.constantFrom(...'abcz09'),
        fc.string({ unit: fc.constantFrom(...'abz09-'), maxLength: 6 }),
        fc.constantFrom(...'abz09'),
      )
      .map(([first, middle, last]) => first + middle + last);
    const tld = fc.string({ unit: fc.constantFrom(...'comrgnetuk'), minLength: 2, maxLength: 6 });
    const email = fc
      .tuple(fc.array(atom, { minLength: 1, maxLength: 3 }), fc.array(label, { minLength: 1, maxLength: 3 }), tld)
      .map(([local, domain, top]) => `${local.join('.')}@${domain.join('.')}.${top}`);
    fc.assert(
      fc.property(email, around, (address, [before, after]) => {
        const text = before + address + after;
        assert.deepEqual(findPersonalData(text), only(text, address, 'email'));
        assert.ok(!maskValue('email', address).includes(address));
      }),
      RUNS,
    );
  });

  it('finds nothing in prose without digits or @', () => {
    fc.assert(
      fc.property(prose, (text) => {
        assert.deepEqual(findPersonalData(text), []);
      }),
      RUNS,
    );
  });

  it('finds nothing in prose with years, dates, times, prices, percentages and versions', () => {
    const benign = fc.oneof(
      fc.integer({ min: 1900, max: 2099 }).map(String),
      fc.integer({ min: 0, max: 99_999 }).map(String),
      fc
        .tuple(fc.integer({ min: 1900, max: 2099 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }))
        .map(([year, month, day]) => `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`),
      fc
        .tuple(
          fc.integer({ min: 0, max: 23 }),
          fc.integer({ min: 0, max: 59 }),
          fc.option(fc.integer({ min: 0, max: 59 })),
        )
        .map(([hour, minute, second]) =>
          [hour, minute, ...(second === null ? [] : [second])].map((part) => String(part).padStart(2, '0')).join(':'),
        ),
      fc.tuple(fc.nat(9999), fc.nat(99)).map(([whole, cents]) => `$${whole}.${String(cents).padStart(2, '0')}`),
      fc.nat(100).map((value) => `${value}%`),
      fc.tuple(fc.nat(20), fc.nat(20), fc.nat(99)).map(([major, minor, patch]) => `v${major}.${minor}.${patch}`),
      fc.tuple(fc.nat(999), fc.nat(99_999)).map(([whole, fraction]) => `${whole}.${fraction}`),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(word, benign), { maxLength: 10 }), (parts) => {
        const text = parts.map(([text, number]) => `${text} ${number}`).join(' ');
        assert.deepEqual(findPersonalData(text), []);
      }),
      RUNS,
    );
  });
});
