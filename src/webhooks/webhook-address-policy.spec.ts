import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyAddress, guardedLookup, isAddressPermitted } from './webhook-address-policy.js';

describe('webhook address policy', () => {
  it('never allows link-local, metadata, unspecified, multicast or reserved addresses', () => {
    for (const address of [
      '169.254.169.254',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::',
      'fe80::1',
      'fd00:ec2::254',
      'ff02::1',
      '::ffff:169.254.169.254',
      'not an ip',
    ]) {
      assert.equal(classifyAddress(address), 'blocked', address);
      assert.equal(isAddressPermitted(address, true), false, address);
    }
  });

  it('allows loopback and private networks only when configured to', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.10',
      '100.64.0.1',
      '::1',
      'fd12::1',
      '::ffff:127.0.0.1',
    ]) {
      assert.equal(classifyAddress(address), 'private', address);
      assert.equal(isAddressPermitted(address, true), true, address);
      assert.equal(isAddressPermitted(address, false), false, address);
    }
  });

  it('allows public addresses', () => {
    for (const address of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '172.32.0.1']) {
      assert.equal(classifyAddress(address), 'allowed', address);
      assert.equal(isAddressPermitted(address, false), true, address);
    }
  });

  it('checks what a name resolves to at connect time', async () => {
    const resolve = (allowPrivate: boolean) =>
      new Promise<{ error: Error | null; address: string }>((done) => {
        guardedLookup(allowPrivate)('localhost', { family: 4 }, (error, address) =>
          done({ error, address: typeof address === 'string' ? address : JSON.stringify(address) }),
        );
      });
    assert.deepEqual(await resolve(true), { error: null, address: '127.0.0.1' });
    const refused = await resolve(false);
    assert.match(String(refused.error?.message), /localhost resolves to 127\.0\.0\.1, which webhooks may not reach/);
  });
});
