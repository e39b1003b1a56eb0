import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { JobEntity } from './job.entity.js';

export const JOB_EVENT_LEVELS = ['info', 'warn', 'error'] as const;
export type JobEventLevel = (typeof JOB_EVENT_LEVELS)[number];
export const JOB_EVENT_TYPES = ['message', 'metrics'] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

/** A job's log, in order: `sequence` is the cursor for pages and for SSE `Last-Event-ID`. */
@Entity('job_events')
@Index('ix_job_events_job_sequence', ['jobId', 'sequence'])
@Check('ck_job_events_level', `level IN ('info', 'warn', 'error')`)
@Check('ck_job_events_type', `type IN ('message', 'metrics')`)
export class JobEventEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  sequence: string;

  @Column({ type: 'uuid' })
  jobId: string;

  @ManyToOne(() => JobEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id' })
  job?: JobEntity;

  @Column({ type: 'text' })
  level: JobEventLevel;

  @Column({ type: 'text' })
  type: JobEventType;

  /** A short machine-readable kind: created, queued, started, resumed, progress, checkpoint, warning... */
  @Column({ type: 'text' })
  kind: string;

  @Column({ type: 'text' })
  message: string;

  @Column({ type: 'jsonb', nullable: true })
  data: Record<string, unknown> | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
