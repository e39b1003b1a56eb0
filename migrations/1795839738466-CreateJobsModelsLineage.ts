import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateJobsModelsLineage1795839738466 implements MigrationInterface {
  name = 'CreateJobsModelsLineage1795839738466';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "jobs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "name" text NOT NULL, "status" text NOT NULL, "priority" integer NOT NULL, "spec" jsonb NOT NULL, "spec_hash" character(64) NOT NULL, "spec_changes" jsonb NOT NULL, "base_model_version_id" uuid, "training_dataset_version_id" uuid NOT NULL, "validation_dataset_version_id" uuid, "output_model_name" text NOT NULL, "memory_estimate" jsonb NOT NULL, "attempt" integer NOT NULL, "max_attempts" integer NOT NULL, "lease_owner" text, "lease_expires_at" TIMESTAMP(3) WITH TIME ZONE, "control" text, "current_step" integer NOT NULL, "total_steps" integer NOT NULL, "backend" text, "error" jsonb, "result_model_version_id" uuid, "created_by_key_id" uuid, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "started_at" TIMESTAMP(3) WITH TIME ZONE, "finished_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "ck_jobs_control" CHECK (control IS NULL OR control IN ('cancel', 'pause')), CONSTRAINT "ck_jobs_status" CHECK (status IN ('validating', 'queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled')), CONSTRAINT "PK_cf0a6c42b72fcc7f7c237def345" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_jobs_queue" ON "jobs"  ("priority", "created_at") WHERE status IN ('queued', 'running')`);
    await queryRunner.query(`CREATE INDEX "ix_jobs_project_created" ON "jobs"  ("project_id", "created_at") `);
    await queryRunner.query(`CREATE TABLE "checkpoints" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "job_id" uuid NOT NULL, "project_id" uuid NOT NULL, "step" integer NOT NULL, "epoch" double precision NOT NULL, "artifact_prefix" text NOT NULL, "files" jsonb NOT NULL, "spec_hash" character(64) NOT NULL, "metrics" jsonb, "is_best" boolean NOT NULL, "reason" text NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_dfcc46a91d96ecba8a8dcd8b11c" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_checkpoints_job_step" ON "checkpoints"  ("job_id", "step") `);
    await queryRunner.query(`CREATE TABLE "job_events" ("sequence" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "job_id" uuid NOT NULL, "level" text NOT NULL, "type" text NOT NULL, "kind" text NOT NULL, "message" text NOT NULL, "data" jsonb, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "ck_job_events_type" CHECK (type IN ('message', 'metrics')), CONSTRAINT "ck_job_events_level" CHECK (level IN ('info', 'warn', 'error')), CONSTRAINT "PK_f071ada96249af8a75fce5d82f9" PRIMARY KEY ("sequence"))`);
    await queryRunner.query(`CREATE INDEX "ix_job_events_job_sequence" ON "job_events"  ("job_id", "sequence") `);
    await queryRunner.query(`CREATE TABLE "job_metrics" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "job_id" uuid NOT NULL, "step" integer NOT NULL, "epoch" double precision NOT NULL, "split" text NOT NULL, "values" jsonb NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "ck_job_metrics_split" CHECK (split IN ('train', 'validation')), CONSTRAINT "PK_9fca96ef6d077e48d2de0ab2d8b" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_job_metrics_job_step" ON "job_metrics"  ("job_id", "step") `);
    await queryRunner.query(`CREATE TABLE "lineage_edges" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "from_type" text NOT NULL, "from_id" uuid NOT NULL, "to_type" text NOT NULL, "to_id" uuid NOT NULL, "relation" text NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "ck_lineage_edges_types" CHECK (from_type IN ('dataset_version', 'job', 'checkpoint', 'model_version', 'evaluation') AND to_type IN ('dataset_version', 'job', 'checkpoint', 'model_version', 'evaluation')), CONSTRAINT "PK_99e622724fd40ffcf4632d4e6dc" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_lineage_edges" ON "lineage_edges"  ("from_type", "from_id", "to_type", "to_id", "relation") `);
    await queryRunner.query(`CREATE INDEX "ix_lineage_edges_to" ON "lineage_edges"  ("to_type", "to_id") `);
    await queryRunner.query(`CREATE INDEX "ix_lineage_edges_from" ON "lineage_edges"  ("from_type", "from_id") `);
    await queryRunner.query(`CREATE TABLE "registered_models" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "name" text NOT NULL, "description" text NOT NULL, "created_by_key_id" uuid, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_16a82925f580123233de08f4a87" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_registered_models_project_name" ON "registered_models"  ("project_id", "name") `);
    await queryRunner.query(`CREATE TABLE "model_versions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "model_id" uuid NOT NULL, "project_id" uuid NOT NULL, "version" integer NOT NULL, "family" text NOT NULL, "task" text NOT NULL, "manifest" jsonb NOT NULL, "artifact_prefix" text NOT NULL, "files" jsonb NOT NULL, "format" text NOT NULL, "parameter_count" bigint NOT NULL, "metrics" jsonb NOT NULL, "source_job_id" uuid, "created_by_key_id" uuid, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "ck_model_versions_family" CHECK (family IN ('gpt2', 'mlp')), CONSTRAINT "PK_77c0256872dcc26394dba4b87ec" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "ix_model_versions_source_job" ON "model_versions"  ("source_job_id") WHERE source_job_id IS NOT NULL`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_model_versions_number" ON "model_versions"  ("model_id", "version") `);
    await queryRunner.query(`ALTER TABLE "checkpoints" ADD CONSTRAINT "FK_7683869873364e12079e544009e" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "job_events" ADD CONSTRAINT "FK_a4d87f3aed580149588c26cb3f2" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "job_metrics" ADD CONSTRAINT "FK_7e2ff9ca1e1496c218d8df08bb9" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "model_versions" ADD CONSTRAINT "FK_fead214f52c09e2c599ec3a8444" FOREIGN KEY ("model_id") REFERENCES "registered_models"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "model_versions" DROP CONSTRAINT "FK_fead214f52c09e2c599ec3a8444"`);
    await queryRunner.query(`ALTER TABLE "job_metrics" DROP CONSTRAINT "FK_7e2ff9ca1e1496c218d8df08bb9"`);
    await queryRunner.query(`ALTER TABLE "job_events" DROP CONSTRAINT "FK_a4d87f3aed580149588c26cb3f2"`);
    await queryRunner.query(`ALTER TABLE "checkpoints" DROP CONSTRAINT "FK_7683869873364e12079e544009e"`);
    await queryRunner.query(`DROP INDEX "public"."uq_model_versions_number"`);
    await queryRunner.query(`DROP INDEX "public"."ix_model_versions_source_job"`);
    await queryRunner.query(`DROP TABLE "model_versions"`);
    await queryRunner.query(`DROP INDEX "public"."uq_registered_models_project_name"`);
    await queryRunner.query(`DROP TABLE "registered_models"`);
    await queryRunner.query(`DROP INDEX "public"."ix_lineage_edges_from"`);
    await queryRunner.query(`DROP INDEX "public"."ix_lineage_edges_to"`);
    await queryRunner.query(`DROP INDEX "public"."uq_lineage_edges"`);
    await queryRunner.query(`DROP TABLE "lineage_edges"`);
    await queryRunner.query(`DROP INDEX "public"."ix_job_metrics_job_step"`);
    await queryRunner.query(`DROP TABLE "job_metrics"`);
    await queryRunner.query(`DROP INDEX "public"."ix_job_events_job_sequence"`);
    await queryRunner.query(`DROP TABLE "job_events"`);
    await queryRunner.query(`DROP INDEX "public"."uq_checkpoints_job_step"`);
    await queryRunner.query(`DROP TABLE "checkpoints"`);
    await queryRunner.query(`DROP INDEX "public"."ix_jobs_project_created"`);
    await queryRunner.query(`DROP INDEX "public"."ix_jobs_queue"`);
    await queryRunner.query(`DROP TABLE "jobs"`);
  }
}
