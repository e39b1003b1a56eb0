import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { JobEntity } from './job.entity.js';

/**
 * A checkpoint in the ArtifactStore: `weights.safetensors`, `optimizer.safetensors` and
 * `state.json` (step, data cursor, random state, spec hash, early-stopping state) under one prefix.
 * A row appears only after all three files are stored, so a row always names a whole checkpoint.
 */
@Entity('checkpoints')
@Index('uq_checkpoints_job_step', ['jobId', 'step'], { unique: true })
export class CheckpointEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  jobId: string;

  @ManyToOne(() => JobEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id' })
  job?: JobEntity;

  @Column({ type: 'uuid' })
  projectId: string;

  @Column({ type: 'integer' })
  step: number;

  @Column({ type: 'double precision' })
  epoch: number;

  @Column({ type: 'text' })
  artifactPrefix: string;

  /** Name, size and sha256 of each file, checked before a resume trusts it. */
  @Column({ type: 'jsonb' })
  files: Array<{ name: string; sizeBytes: number; sha256: string }>;

  @Column({ type: 'char', length: 64 })
  specHash: string;

  /** Validation metrics at this step, when it was evaluated. */
  @Column({ type: 'jsonb', nullable: true })
  metrics: Record<string, number> | null;

  /** The best checkpoint so far by the early-stopping monitor (kept by keep-best). */
  @Column({ type: 'boolean' })
  isBest: boolean;

  /** Why it was written: interval, epoch_end, pause, best. */
  @Column({ type: 'text' })
  reason: string;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
