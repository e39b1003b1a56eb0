import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header that carries a delivery's signatures. */
export const SIGNATURE_HEADER = 'TuneForge-Signature';

/** The default replay window a receiver should allow between signing and checking. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Hex HMAC-SHA256 of `<t>.<raw body>` with the subscription's secret. */
export function computeSignature(secret: string, timestamp: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret)
    .update(`${timestamp}.`)
    .update(typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody)
    .digest('hex');
}

/**
 * `t=<unix seconds>,v1=<hex>[,v1=<hex>]`: one `v1` per secret in use, so that a receiver still
 * holding the previous secret keeps verifying during a rotation's grace period.
 */
export function signatureHeader(secrets: readonly string[], timestamp: number, rawBody: string | Buffer): string {
  return [`t=${timestamp}`, ...secrets.map((secret) => `v1=${computeSignature(secret, timestamp, rawBody)}`)].join(',');
}

export type SignatureCheck =
  | { valid: true; timestamp: number }
  | { valid: false; reason: 'malformed_header' | 'no_matching_signature' | 'timestamp_outside_tolerance' };

/**
 * Checks a `TuneForge-Signature` header against the raw request body (the exact bytes received,
 * before any JSON parsing). Valid when one `v1` matches and `t` is within `toleranceSeconds` of
 * `now`, so a captured delivery cannot be replayed later.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  rawBody: string | Buffer,
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
  now: Date = new Date(),
): SignatureCheck {
  if (!header) {
    return { valid: false, reason: 'malformed_header' };
  }
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    const name = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (name === 't' && /^\d{1,12}$/.test(value)) {
      timestamp = Number(value);
    } else if (name === 'v1' && /^[0-9a-f]{64}$/.test(value)) {
      signatures.push(value);
    }
  }
  if (timestamp === undefined || signatures.length === 0) {
    return { valid: false, reason: 'malformed_header' };
  }
  const expected = Buffer.from(computeSignature(secret, timestamp, rawBody), 'hex');
  if (!signatures.some((signature) => timingSafeEqual(Buffer.from(signature, 'hex'), expected))) {
    return { valid: false, reason: 'no_matching_signature' };
  }
  if (Math.abs(Math.floor(now.getTime() / 1000) - timestamp) > toleranceSeconds) {
    return { valid: false, reason: 'timestamp_outside_tolerance' };
  }
  return { valid: true, timestamp };
}
