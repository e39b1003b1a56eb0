import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { AppConfig } from '../platform/config/config.js';
import {
  GENERATED_KEY_FILE,
  generateWebhookSecret,
  SecretKeyMismatchError,
  WebhookSecretBox,
} from './webhook-secret-box.js';

const boxWith = (dataDir: string, secretKey?: string) =>
  new WebhookSecretBox({ dataDir, webhooks: { secretKey } } as unknown as AppConfig);

describe('WebhookSecretBox', () => {
  const directories: string[] = [];
  const tempDir = async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-secret-box-'));
    directories.push(directory);
    return directory;
  };
  after(async () => {
    await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
  });

  it('round-trips a secret without storing it in clear', async () => {
    const box = boxWith(await tempDir(), 'k'.repeat(40));
    const secret = generateWebhookSecret();
    assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    const sealed = await box.seal('webhook-1', secret);
    assert.ok(!sealed.includes(secret.slice(6)));
    assert.notEqual(await box.seal('webhook-1', secret), sealed, 'a fresh IV each time');
    assert.equal(await box.open('webhook-1', sealed), secret);
  });

  it('refuses a ciphertext moved to another webhook, or tampered with', async () => {
    const box = boxWith(await tempDir(), 'k'.repeat(40));
    const sealed = await box.seal('webhook-1', 'whsec_x');
    await assert.rejects(box.open('webhook-2', sealed));
    const parts = sealed.split('.');
    parts[4] = Buffer.from('whsec_y').toString('base64url');
    await assert.rejects(box.open('webhook-1', parts.join('.')));
  });

  it('names a changed key instead of failing obscurely', async () => {
    const sealed = await boxWith(await tempDir(), 'a'.repeat(40)).seal('webhook-1', 'whsec_x');
    await assert.rejects(boxWith(await tempDir(), 'b'.repeat(40)).open('webhook-1', sealed), SecretKeyMismatchError);
  });

  it('generates a key into DATA_DIR once (mode 0600) and keeps using it', async () => {
    const dataDir = await tempDir();
    const sealed = await boxWith(dataDir).seal('webhook-1', 'whsec_x');
    const file = path.join(dataDir, GENERATED_KEY_FILE);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const key = await readFile(file, 'utf8');
    assert.equal(await boxWith(dataDir).open('webhook-1', sealed), 'whsec_x');
    assert.equal(await readFile(file, 'utf8'), key);
  });
});
