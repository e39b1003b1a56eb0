import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { EvaluationResult, EvaluationTask } from './scoring.js';
import type { BootstrapSettings } from './worker/evaluation-protocol.js';

export const EVALUATION_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type EvaluationStatus = (typeof EVALUATION_STATUSES)[number];
export const TERMINAL_EVALUATION_STATUSES: readonly EvaluationStatus[] = ['succeeded', 'failed', 'cancelled'];

export interface EvaluationError {
  code: string;
  message: string;
}

/**
 * A model version scored on a dataset version, and its place in the queue: replicas claim queued
 * evaluations (and running ones whose lease expired) with `FOR UPDATE SKIP LOCKED`, as they claim
 * training jobs, and run them on the trainer pool's slots.
 */
@Entity('evaluations')
@Index('ix_evaluations_project_created', ['projectId', 'createdAt'])
@Index('ix_evaluations_queue', ['createdAt'], { where: `status IN ('queued', 'running')` })
@Index('ix_evaluations_model_dataset', ['modelVersionId', 'datasetVersionId', 'finishedAt'])
@Check('ck_evaluations_status', `status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')`)
@Check('ck_evaluations_task', `task IN ('classification', 'regression', 'causal-lm')`)
export class EvaluationEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  projectId: string;

  @Column({ type: 'text' })
  status: EvaluationStatus;

  @Column({ type: 'text' })
  task: EvaluationTask;

  @Column({ type: 'uuid' })
  modelVersionId: string;

  @Column({ type: 'text' })
  modelName: string;

  @Column({ type: 'integer' })
  modelVersion: number;

  @Column({ type: 'uuid' })
  datasetVersionId: string;

  @Column({ type: 'uuid' })
  datasetId: string;

  @Column({ type: 'text' })
  datasetName: string;

  @Column({ type: 'integer' })
  datasetVersion: number;

  /** Another version of the same model, compared with on the same rows. */
  @Column({ type: 'uuid', nullable: true })
  baselineModelVersionId: string | null;

  @Column({ type: 'integer', nullable: true })
  baselineVersion: number | null;

  @Column({ type: 'text', nullable: true })
  sliceBy: string | null;

  @Column({ type: 'jsonb' })
  bootstrap: BootstrapSettings;

  @Column({ type: 'integer' })
  attempt: number;

  @Column({ type: 'integer' })
  maxAttempts: number;

  @Column({ type: 'text', nullable: true })
  leaseOwner: string | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  leaseExpiresAt: Date | null;

  /** `cancel` when a client asked a running evaluation to stop. */
  @Column({ type: 'text', nullable: true })
  control: 'cancel' | null;

  @Column({ type: 'integer' })
  processedRows: number;

  /** Rows of the dataset version (from its profile). */
  @Column({ type: 'integer' })
  totalRows: number;

  @Column({ type: 'jsonb', nullable: true })
  result: EvaluationResult | null;

  /** The predictions file (JSON Lines) in the ArtifactStore, once the evaluation succeeded. */
  @Column({ type: 'text', nullable: true })
  predictionsKey: string | null;

  @Column({ type: 'jsonb', nullable: true })
  error: EvaluationError | null;

  @Column({ type: 'uuid', nullable: true })
  createdByKeyId: string | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', precision: 3 })
  updatedAt: Date;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  startedAt: Date | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  finishedAt: Date | null;
}
