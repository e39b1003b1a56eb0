import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1795828664490 implements MigrationInterface {
  name = 'InitialSchema1795828664490';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "audit_events" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "api_key_id" uuid, "action" text NOT NULL, "target_type" text, "target_id" text, "method" text NOT NULL, "path" text NOT NULL, "status" integer NOT NULL, "request_id" text NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_910f64d901a5c3e9878f0d4a407" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_audit_events_project_created" ON "audit_events"  ("project_id", "created_at") `);
    await queryRunner.query(`CREATE TABLE "projects" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "description" text NOT NULL DEFAULT '', "is_root" boolean NOT NULL DEFAULT false, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "ck_projects_name" CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'), CONSTRAINT "PK_6271df0a7aed1d6c0691ce6ac50" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_projects_name" ON "projects"  ("name") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_projects_root" ON "projects"  ("is_root") WHERE is_root`);
    await queryRunner.query(`CREATE TABLE "api_keys" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "name" text NOT NULL, "display_prefix" text NOT NULL, "secret_hash" text NOT NULL, "scopes" text array NOT NULL, "created_by_key_id" uuid, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE, "last_used_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_5c8a79801b44bd27b79228e1dad" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_api_keys_secret_hash" ON "api_keys"  ("secret_hash") `);
    await queryRunner.query(`CREATE INDEX "ix_api_keys_project_created" ON "api_keys"  ("project_id", "created_at") `);
    await queryRunner.query(`ALTER TABLE "api_keys" ADD CONSTRAINT "FK_f5de07dbb229225e2be643ff3d0" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "api_keys" DROP CONSTRAINT "FK_f5de07dbb229225e2be643ff3d0"`);
    await queryRunner.query(`DROP INDEX "public"."ix_api_keys_project_created"`);
    await queryRunner.query(`DROP INDEX "public"."uq_api_keys_secret_hash"`);
    await queryRunner.query(`DROP TABLE "api_keys"`);
    await queryRunner.query(`DROP INDEX "public"."uq_projects_root"`);
    await queryRunner.query(`DROP INDEX "public"."uq_projects_name"`);
    await queryRunner.query(`DROP TABLE "projects"`);
    await queryRunner.query(`DROP INDEX "public"."ix_audit_events_project_created"`);
    await queryRunner.query(`DROP TABLE "audit_events"`);
  }
}
