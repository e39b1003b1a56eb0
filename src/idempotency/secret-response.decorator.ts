import { SetMetadata } from '@nestjs/common';

export const SECRET_RESPONSE_FIELDS = 'tuneforge:secret-response-fields';

/** The header that names the fields a replayed response lacks. */
export const REDACTED_HEADER = 'Idempotent-Redacted';

/**
 * Marks top-level response fields that carry a secret shown once (an API key's `secret`). The
 * idempotency store keeps the response without them, so no secret is ever written to the database,
 * and a replay answers without them and names them in `Idempotent-Redacted`.
 */
export const SecretResponse = (...fields: string[]): MethodDecorator => SetMetadata(SECRET_RESPONSE_FIELDS, fields);

/** The response without the named fields; anything that is not a plain object is kept as it is. */
export function withoutSecrets(body: unknown, fields: readonly string[]): unknown {
  if (fields.length === 0 || typeof body !== 'object' || body === null || Array.isArray(body)) {
    return body;
  }
  return Object.fromEntries(Object.entries(body).filter(([name]) => !fields.includes(name)));
}
