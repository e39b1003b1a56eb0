import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';

/** The file that holds the generated key when WEBHOOK_SECRET_KEY is unset. */
export const GENERATED_KEY_FILE = 'webhook-secret-key';

const FORMAT = 'v1';

/** A webhook secret: `whsec_` and 32 random bytes, base64url. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

export class SecretKeyMismatchError extends Error {
  constructor(keyId: string) {
    super(`a webhook secret was encrypted with key ${keyId}, not with the configured WEBHOOK_SECRET_KEY`);
    this.name = 'SecretKeyMismatchError';
  }
}

/**
 * Encrypts webhook secrets at rest with AES-256-GCM. The service must sign with a secret, so unlike
 * API keys it cannot keep a hash only; a database dump alone does not reveal the secrets. The key is
 * derived (HKDF-SHA256) from WEBHOOK_SECRET_KEY, or from a random key generated once into
 * DATA_DIR/webhook-secret-key. Each ciphertext names its key's id and is bound to its webhook's id,
 * so a wrong key or a value copied to another row fails loudly instead of signing with garbage.
 */
@Injectable()
export class WebhookSecretBox {
  private readonly logger = new Logger(WebhookSecretBox.name);
  private key?: Promise<{ key: Buffer; id: string }>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async seal(webhookId: string, secret: string): Promise<string> {
    const { key, id } = await this.loadKey();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(webhookId, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return [FORMAT, id, iv, cipher.getAuthTag(), ciphertext]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  async open(webhookId: string, sealed: string): Promise<string> {
    const { key, id } = await this.loadKey();
    const [format, keyId, iv, tag, ciphertext] = sealed.split('.');
    if (format !== FORMAT || ciphertext === undefined) {
      throw new Error('not a sealed webhook secret');
    }
    if (keyId !== id) {
      throw new SecretKeyMismatchError(keyId);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(webhookId, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** Read lazily: building the OpenAPI document in preview mode must not write to DATA_DIR. */
  private loadKey(): Promise<{ key: Buffer; id: string }> {
    this.key ??= this.keyMaterial().then((material) => {
      const key = Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), 'tuneforge webhook secrets v1', 32));
      return { key, id: createHash('sha256').update(key).digest('hex').slice(0, 8) };
    });
    return this.key;
  }

  private async keyMaterial(): Promise<string> {
    if (this.config.webhooks.secretKey) {
      return this.config.webhooks.secretKey;
    }
    const file = path.join(this.config.dataDir, GENERATED_KEY_FILE);
    await mkdir(this.config.dataDir, { recursive: true });
    try {
      await writeFile(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
      this.logger.warn(
        `WEBHOOK_SECRET_KEY is unset: generated ${file}. Replicas that do not share DATA_DIR need WEBHOOK_SECRET_KEY.`,
      );
    } catch (error) {
      // Another start (or replica on the same DATA_DIR) wrote it first: use that one.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw error;
      }
    }
    return (await readFile(file, 'utf8')).trim();
  }
}
