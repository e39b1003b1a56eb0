import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { JobEntity } from './job.entity.js';

/** One point of a job's metric time series: the values of one split at one step. */
@Entity('job_metrics')
@Index('ix_job_metrics_job_step', ['jobId', 'step'])
@Check('ck_job_metrics_split', `split IN ('train', 'validation')`)
export class JobMetricEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  @Column({ type: 'uuid' })
  jobId: string;

  @ManyToOne(() => JobEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id' })
  job?: JobEntity;

  @Column({ type: 'integer' })
  step: number;

  @Column({ type: 'double precision' })
  epoch: number;

  @Column({ type: 'text' })
  split: 'train' | 'validation';

  @Column({ type: 'jsonb' })
  values: Record<string, unknown>;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
