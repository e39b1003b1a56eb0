import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateWebhooks1796410379988 implements MigrationInterface {
  name = 'CreateWebhooks1796410379988';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "webhooks" ("id" uuid NOT NULL, "project_id" uuid NOT NULL, "url" text NOT NULL, "event_types" text array, "active" boolean NOT NULL, "description" text NOT NULL, "sealed_secret" text NOT NULL, "sealed_previous_secret" text, "previous_secret_expires_at" TIMESTAMP(3) WITH TIME ZONE, "created_by_key_id" uuid, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_9e8795cfc899ab7bdaa831e8527" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_webhooks_project_created" ON "webhooks"  ("project_id", "created_at") `);
    await queryRunner.query(`CREATE TABLE "webhook_deliveries" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "sequence" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "webhook_id" uuid NOT NULL, "project_id" uuid NOT NULL, "event_id" uuid NOT NULL, "event_type" text NOT NULL, "payload" text NOT NULL, "status" text NOT NULL, "attempts" integer NOT NULL, "next_attempt_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "last_response_status" integer, "last_error" text, "delivered_at" TIMESTAMP(3) WITH TIME ZONE, "redelivery_of" uuid, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "ck_webhook_deliveries_status" CHECK (status IN ('pending', 'sending', 'delivered', 'failed')), CONSTRAINT "PK_535dd409947fb6d8fc6dfc0112a" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_webhook_deliveries_open" ON "webhook_deliveries"  ("webhook_id", "sequence") WHERE status IN ('pending', 'sending')`);
    await queryRunner.query(`CREATE INDEX "ix_webhook_deliveries_due" ON "webhook_deliveries"  ("next_attempt_at") WHERE status IN ('pending', 'sending')`);
    await queryRunner.query(`CREATE INDEX "ix_webhook_deliveries_webhook_created" ON "webhook_deliveries"  ("webhook_id", "created_at") `);
    await queryRunner.query(`CREATE TABLE "webhook_delivery_attempts" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "delivery_id" uuid NOT NULL, "attempt" integer NOT NULL, "started_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "duration_ms" integer NOT NULL, "response_status" integer, "response_excerpt" text, "error" text, CONSTRAINT "PK_59ef9124585b56c18b98548a0c6" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "ix_webhook_delivery_attempts_delivery" ON "webhook_delivery_attempts"  ("delivery_id", "attempt") `);
    await queryRunner.query(`ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "FK_a0286aeb96db651efd1ae2966f2" FOREIGN KEY ("webhook_id") REFERENCES "webhooks"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "webhook_delivery_attempts" ADD CONSTRAINT "FK_647916c401c0c275df5f00c148f" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "webhook_delivery_attempts" DROP CONSTRAINT "FK_647916c401c0c275df5f00c148f"`);
    await queryRunner.query(`ALTER TABLE "webhook_deliveries" DROP CONSTRAINT "FK_a0286aeb96db651efd1ae2966f2"`);
    await queryRunner.query(`DROP INDEX "public"."ix_webhook_delivery_attempts_delivery"`);
    await queryRunner.query(`DROP TABLE "webhook_delivery_attempts"`);
    await queryRunner.query(`DROP INDEX "public"."ix_webhook_deliveries_webhook_created"`);
    await queryRunner.query(`DROP INDEX "public"."ix_webhook_deliveries_due"`);
    await queryRunner.query(`DROP INDEX "public"."ix_webhook_deliveries_open"`);
    await queryRunner.query(`DROP TABLE "webhook_deliveries"`);
    await queryRunner.query(`DROP INDEX "public"."ix_webhooks_project_created"`);
    await queryRunner.query(`DROP TABLE "webhooks"`);
  }
}
