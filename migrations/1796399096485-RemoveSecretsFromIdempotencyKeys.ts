import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Responses kept for Idempotency-Key replays once included a new API key's secret. Remove it from
 * rows still kept; the application no longer stores it. There is nothing to put back on the way down.
 */
export class RemoveSecretsFromIdempotencyKeys1796399096485 implements MigrationInterface {
  name = 'RemoveSecretsFromIdempotencyKeys1796399096485';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `UPDATE "idempotency_keys" SET "response_body" = "response_body" - 'secret' WHERE jsonb_typeof("response_body") = 'object' AND "response_body" ? 'secret'`,
    );
  }

  public async down(): Promise<void> {
    // The secrets are gone for good, as intended.
  }
}
