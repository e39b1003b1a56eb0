import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { TrainingSpec } from '../trainer/runtime/training-spec.js';

export const JOB_STATUSES = ['validating', 'queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

/** What a client asked of a running job; the replica that holds its lease acts on it. */
export const JOB_CONTROLS = ['cancel', 'pause'] as const;
export type JobControl = (typeof JOB_CONTROLS)[number];

export interface JobError {
  code: string;
  message: string;
  step?: number;
}

/**
 * A fine-tuning job, and its place in the queue. Replicas claim queued jobs (and running jobs whose
 * lease expired) with `FOR UPDATE SKIP LOCKED`, hold a lease they renew while training, and act on
 * `control` when a client cancels or pauses.
 */
@Entity('jobs')
@Index('ix_jobs_project_created', ['projectId', 'createdAt'])
@Index('ix_jobs_queue', ['priority', 'createdAt'], { where: `status IN ('queued', 'running')` })
@Check('ck_jobs_status', `status IN ('validating', 'queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled')`)
@Check('ck_jobs_control', `control IS NULL OR control IN ('cancel', 'pause')`)
export class JobEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  projectId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  status: JobStatus;

  /** Higher runs first. */
  @Column({ type: 'integer' })
  priority: number;

  /** The resolved training specification, exactly as the trainer runs it. */
  @Column({ type: 'jsonb' })
  spec: TrainingSpec;

  /** SHA-256 of the canonical spec: checkpoints record it, and resume refuses a different one. */
  @Column({ type: 'char', length: 64 })
  specHash: string;

  /** Spec changes asked for on resume, each with the hash before and after. */
  @Column({ type: 'jsonb' })
  specChanges: Array<{ at: string; changes: Record<string, unknown>; fromHash: string; toHash: string }>;

  @Column({ type: 'uuid', nullable: true })
  baseModelVersionId: string | null;

  /** The alias the base model was asked for by, resolved to baseModelVersionId at creation. */
  @Column({ type: 'text', nullable: true })
  baseModelAlias: string | null;

  @Column({ type: 'uuid' })
  trainingDatasetVersionId: string;

  @Column({ type: 'uuid', nullable: true })
  validationDatasetVersionId: string | null;

  @Column({ type: 'text' })
  outputModelName: string;

  /** Memory estimate (bytes) against the slot budget, made before queueing. */
  @Column({ type: 'jsonb' })
  memoryEstimate: Record<string, number>;

  @Column({ type: 'integer' })
  attempt: number;

  @Column({ type: 'integer' })
  maxAttempts: number;

  @Column({ type: 'text', nullable: true })
  leaseOwner: string | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  leaseExpiresAt: Date | null;

  @Column({ type: 'text', nullable: true })
  control: JobControl | null;

  @Column({ type: 'integer' })
  currentStep: number;

  @Column({ type: 'integer' })
  totalSteps: number;

  /** The trainer backend of the latest attempt. */
  @Column({ type: 'text', nullable: true })
  backend: string | null;

  @Column({ type: 'jsonb', nullable: true })
  error: JobError | null;

  @Column({ type: 'uuid', nullable: true })
  resultModelVersionId: string | null;

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
