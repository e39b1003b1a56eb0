import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Evaluations1796411337172 implements MigrationInterface {
  name = 'Evaluations1796411337172';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "evaluations" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "status" text NOT NULL, "task" text NOT NULL, "model_version_id" uuid NOT NULL, "model_name" text NOT NULL, "model_version" integer NOT NULL, "dataset_version_id" uuid NOT NULL, "dataset_id" uuid NOT NULL, "dataset_name" text NOT NULL, "dataset_version" integer NOT NULL, "baseline_model_version_id" uuid, "baseline_version" integer, "slice_by" text, "bootstrap" jsonb NOT NULL, "attempt" integer NOT NULL, "max_attempts" integer NOT NULL, "lease_owner" text, "lease_expires_at" TIMESTAMP(3) WITH TIME ZONE, "control" text, "processed_rows" integer NOT NULL, "total_rows" integer NOT NULL, "result" jsonb, "predictions_key" text, "error" jsonb, "created_by_key_id" uuid, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "started_at" TIMESTAMP(3) WITH TIME ZONE, "finished_at" TIMESTAMP(3) WITH TIME ZONE, CONSTRAINT "ck_evaluations_task" CHECK (task IN ('classification', 'regression', 'causal-lm')), CONSTRAINT "ck_evaluations_status" CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')), CONSTRAINT "PK_f683b433eba0e6dae7e19b29e29" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "ix_evaluations_model_dataset" ON "evaluations"  ("model_version_id", "dataset_version_id", "finished_at") `);
    await queryRunner.query(`CREATE INDEX "ix_evaluations_queue" ON "evaluations"  ("created_at") WHERE status IN ('queued', 'running')`);
    await queryRunner.query(`CREATE INDEX "ix_evaluations_project_created" ON "evaluations"  ("project_id", "created_at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ix_evaluations_project_created"`);
    await queryRunner.query(`DROP INDEX "public"."ix_evaluations_queue"`);
    await queryRunner.query(`DROP INDEX "public"."ix_evaluations_model_dataset"`);
    await queryRunner.query(`DROP TABLE "evaluations"`);
  }
}
