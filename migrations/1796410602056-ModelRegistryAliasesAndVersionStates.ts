import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ModelRegistryAliasesAndVersionStates1796410602056 implements MigrationInterface {
  name = 'ModelRegistryAliasesAndVersionStates1796410602056';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "alias_history" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "model_id" uuid NOT NULL, "alias_id" uuid NOT NULL, "alias_name" text NOT NULL, "kind" text NOT NULL, "from_version_id" uuid, "from_version" integer, "to_version_id" uuid, "to_version" integer, "actor_key_id" uuid, "reason" text, "gate_report" jsonb, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, CONSTRAINT "ck_alias_history_kind" CHECK (kind IN ('promoted', 'forced', 'blocked', 'removed')), CONSTRAINT "PK_b51f162be5dbc05992c3a9d1c4a" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_alias_history_to_version" ON "alias_history"  ("to_version_id") WHERE to_version_id IS NOT NULL`);
    await queryRunner.query(`CREATE UNIQUE INDEX "ix_alias_history_alias_time" ON "alias_history"  ("alias_id", "created_at") `);
    await queryRunner.query(`CREATE TABLE "model_aliases" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "model_id" uuid NOT NULL, "name" text NOT NULL, "model_version_id" uuid, "gates" jsonb NOT NULL DEFAULT '[]', "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_7ac276e33d7cdd4a2ad44c01099" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_model_aliases_version" ON "model_aliases"  ("model_version_id") WHERE model_version_id IS NOT NULL`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_model_aliases_model_name" ON "model_aliases"  ("model_id", "name") `);
    await queryRunner.query(`ALTER TABLE "jobs" ADD "base_model_alias" text`);
    await queryRunner.query(`ALTER TABLE "registered_models" ADD "intended_use" text`);
    await queryRunner.query(`ALTER TABLE "registered_models" ADD "out_of_scope_use" text`);
    await queryRunner.query(`ALTER TABLE "registered_models" ADD "limitations" text`);
    await queryRunner.query(`ALTER TABLE "registered_models" ADD "tags" text array NOT NULL DEFAULT '{}'`);
    await queryRunner.query(`ALTER TABLE "registered_models" ADD "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now()`);
    await queryRunner.query(`ALTER TABLE "model_versions" ADD "state" text NOT NULL DEFAULT 'ready'`);
    await queryRunner.query(`ALTER TABLE "model_versions" ADD "deleted_at" TIMESTAMP(3) WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "model_versions" ADD "deleted_by_key_id" uuid`);
    await queryRunner.query(`ALTER TABLE "registered_models" ALTER COLUMN "description" DROP NOT NULL`);
    // An empty description meant "none": null is how the API says that now.
    await queryRunner.query(`UPDATE "registered_models" SET "description" = NULL WHERE "description" = ''`);
    await queryRunner.query(`ALTER TABLE "model_versions" ADD CONSTRAINT "ck_model_versions_state" CHECK (state IN ('ready', 'deleted'))`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "model_versions" DROP CONSTRAINT "ck_model_versions_state"`);
    await queryRunner.query(`UPDATE "registered_models" SET "description" = '' WHERE "description" IS NULL`);
    await queryRunner.query(`ALTER TABLE "registered_models" ALTER COLUMN "description" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "model_versions" DROP COLUMN "deleted_by_key_id"`);
    await queryRunner.query(`ALTER TABLE "model_versions" DROP COLUMN "deleted_at"`);
    await queryRunner.query(`ALTER TABLE "model_versions" DROP COLUMN "state"`);
    await queryRunner.query(`ALTER TABLE "registered_models" DROP COLUMN "updated_at"`);
    await queryRunner.query(`ALTER TABLE "registered_models" DROP COLUMN "tags"`);
    await queryRunner.query(`ALTER TABLE "registered_models" DROP COLUMN "limitations"`);
    await queryRunner.query(`ALTER TABLE "registered_models" DROP COLUMN "out_of_scope_use"`);
    await queryRunner.query(`ALTER TABLE "registered_models" DROP COLUMN "intended_use"`);
    await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "base_model_alias"`);
    await queryRunner.query(`DROP INDEX "public"."uq_model_aliases_model_name"`);
    await queryRunner.query(`DROP INDEX "public"."ix_model_aliases_version"`);
    await queryRunner.query(`DROP TABLE "model_aliases"`);
    await queryRunner.query(`DROP INDEX "public"."ix_alias_history_alias_time"`);
    await queryRunner.query(`DROP INDEX "public"."ix_alias_history_to_version"`);
    await queryRunner.query(`DROP TABLE "alias_history"`);
  }
}
