import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateDatasets1795830031447 implements MigrationInterface {
  name = 'CreateDatasets1795830031447';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "datasets" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "name" text NOT NULL, "description" text NOT NULL DEFAULT '', "task" text NOT NULL, "schema" jsonb NOT NULL, "source" text NOT NULL, "license" text NOT NULL, "contains_personal_data" text NOT NULL, "legal_basis" text NOT NULL DEFAULT '', "quality_thresholds" jsonb NOT NULL, "created_by_key_id" uuid, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "ck_datasets_personal_data" CHECK (contains_personal_data IN ('yes', 'no', 'unknown')), CONSTRAINT "ck_datasets_task" CHECK (task IN ('classification', 'regression', 'causal-lm', 'chat', 'prompt-completion')), CONSTRAINT "PK_1bf831e43c559a240303e23d038" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_datasets_project_created" ON "datasets"  ("project_id", "created_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_datasets_project_name" ON "datasets"  ("project_id", "name") `);
    await queryRunner.query(`CREATE TABLE "dataset_versions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "dataset_id" uuid NOT NULL, "project_id" uuid NOT NULL, "version" integer NOT NULL, "state" text NOT NULL, "format" text NOT NULL, "compression" text NOT NULL, "sha256" character(64) NOT NULL, "size_bytes" bigint NOT NULL, "artifact_key" text, "row_count" integer NOT NULL, "error_row_count" integer NOT NULL, "schema" jsonb NOT NULL, "columns" jsonb, "quality_verdict" text NOT NULL, "parent_version_id" uuid, "transform_spec" jsonb, "transform_report" jsonb, "split_name" text, "statistics" jsonb NOT NULL, "created_by_key_id" uuid, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "deleted_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "ck_dataset_versions_format" CHECK (format IN ('jsonl', 'csv')), CONSTRAINT "ck_dataset_versions_state" CHECK (state IN ('ready', 'invalid', 'deleted')), CONSTRAINT "PK_2335c164f3df47dabfe7d0fc6e5" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_dataset_versions_sha256" ON "dataset_versions"  ("dataset_id", "sha256") `);
    await queryRunner.query(`CREATE INDEX "ix_dataset_versions_dataset_created" ON "dataset_versions"  ("dataset_id", "created_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_dataset_versions_number" ON "dataset_versions"  ("dataset_id", "version") `);
    await queryRunner.query(`CREATE TABLE "quality_reports" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "dataset_version_id" uuid NOT NULL, "project_id" uuid NOT NULL, "verdict" text NOT NULL, "report" jsonb NOT NULL, "validation" jsonb NOT NULL, "reference_profile" jsonb, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_d8b80e2ac9fe6850519b5616738" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_quality_reports_version" ON "quality_reports"  ("dataset_version_id") `);
    await queryRunner.query(`ALTER TABLE "datasets" ADD CONSTRAINT "FK_0bd61b0be85f417be961250475e" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "dataset_versions" ADD CONSTRAINT "FK_59250594d45b0202fdc42d55ecc" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "dataset_versions" ADD CONSTRAINT "FK_e24a2fffd7cd8e34005c6f99497" FOREIGN KEY ("parent_version_id") REFERENCES "dataset_versions"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "quality_reports" ADD CONSTRAINT "FK_110912f87e69b1bfbeb9729ced8" FOREIGN KEY ("dataset_version_id") REFERENCES "dataset_versions"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "quality_reports" DROP CONSTRAINT "FK_110912f87e69b1bfbeb9729ced8"`);
    await queryRunner.query(`ALTER TABLE "dataset_versions" DROP CONSTRAINT "FK_e24a2fffd7cd8e34005c6f99497"`);
    await queryRunner.query(`ALTER TABLE "dataset_versions" DROP CONSTRAINT "FK_59250594d45b0202fdc42d55ecc"`);
    await queryRunner.query(`ALTER TABLE "datasets" DROP CONSTRAINT "FK_0bd61b0be85f417be961250475e"`);
    await queryRunner.query(`DROP INDEX "public"."uq_quality_reports_version"`);
    await queryRunner.query(`DROP TABLE "quality_reports"`);
    await queryRunner.query(`DROP INDEX "public"."uq_dataset_versions_number"`);
    await queryRunner.query(`DROP INDEX "public"."ix_dataset_versions_dataset_created"`);
    await queryRunner.query(`DROP INDEX "public"."ix_dataset_versions_sha256"`);
    await queryRunner.query(`DROP TABLE "dataset_versions"`);
    await queryRunner.query(`DROP INDEX "public"."uq_datasets_project_name"`);
    await queryRunner.query(`DROP INDEX "public"."ix_datasets_project_created"`);
    await queryRunner.query(`DROP TABLE "datasets"`);
  }
}
