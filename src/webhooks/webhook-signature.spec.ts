import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { computeSignature, signatureHeader, verifyWebhookSignature } from './webhook-signature.js';

const secret = 'whsec_test-secret';
const body = '{"id":"e1","type":"ping","data":{}}';
const at = (seconds: number) => new Date(seconds * 1000);

describe('webhook signatures', () => {
  it('signs "<t>.<raw body>" with HMAC-SHA256 in hex, as Stripe does', () => {
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    assert.equal(computeSignature(secret, 1700000000, body), expected);
    assert.equal(signatureHeader([secret], 1700000000, body), `t=1700000000,v1=${expected}`);
  });

  it('verifies a fresh signature, from a string or the raw bytes', () => {
    const header = signatureHeader([secret], 1700000000, body);
    assert.deepEqual(verifyWebhookSignature(secret, header, body, 300, at(1700000010)), {
      valid: true,
      timestamp: 1700000000,
    });
    assert.equal(verifyWebhookSignature(secret, header, Buffer.from(body), 300, at(1700000010)).valid, true);
  });

  it('refuses a replay outside the tolerance, in either direction', () => {
    const header = signatureHeader([secret], 1700000000, body);
    assert.deepEqual(verifyWebhookSignature(secret, header, body, 300, at(1700000301)), {
      valid: false,
      reason: 'timestamp_outside_tolerance',
    });
    assert.equal(verifyWebhookSignature(secret, header, body, 300, at(1699999699)).valid, false);
    assert.equal(verifyWebhookSignature(secret, header, body, 300, at(1700000300)).valid, true);
  });

  it('refuses another secret, a changed body and a moved timestamp', () => {
    const header = signatureHeader([secret], 1700000000, body);
    const now = at(1700000000);
    assert.equal(verifyWebhookSignature('whsec_other', header, body, 300, now).valid, false);
    assert.equal(verifyWebhookSignature(secret, header, `${body} `, 300, now).valid, false);
    const moved = header.replace('t=1700000000', 't=1700000001');
    assert.deepEqual(verifyWebhookSignature(secret, moved, body, 300, at(1700000001)), {
      valid: false,
      reason: 'no_matching_signature',
    });
  });

  it('accepts any one of several v1 signatures (a rotation in progress)', () => {
    const header = signatureHeader(['whsec_new', 'whsec_old'], 1700000000, body);
    assert.equal(header.split(',').length, 3);
    assert.equal(verifyWebhookSignature('whsec_old', header, body, 300, at(1700000000)).valid, true);
    assert.equal(verifyWebhookSignature('whsec_new', header, body, 300, at(1700000000)).valid, true);
  });

  it('calls malformed headers malformed', () => {
    for (const header of [undefined, null, '', 't=abc,v1=00', 'v1=' + 'a'.repeat(64), 't=1700000000', 'nonsense']) {
      assert.deepEqual(verifyWebhookSignature(secret, header, body, 300, at(1700000000)), {
        valid: false,
        reason: 'malformed_header',
      });
    }
  });
});
