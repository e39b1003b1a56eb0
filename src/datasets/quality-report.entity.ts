import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DatasetVersionEntity } from './dataset-version.entity.js';

/** The quality report of a dataset version, with the row errors found while reading it. */
@Entity('quality_reports')
@Index('uq_quality_reports_version', ['datasetVersionId'], { unique: true })
export class QualityReportEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  datasetVersionId: string;

  @ManyToOne(() => DatasetVersionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'dataset_version_id' })
  datasetVersion?: DatasetVersionEntity;

  @Column({ type: 'uuid' })
  projectId: string;

  @Column({ type: 'text' })
  verdict: 'pass' | 'warn' | 'fail';

  @Column({ type: 'jsonb' })
  report: Record<string, unknown>;

  /** The first row errors (line, field, reason) and how many there were in all. */
  @Column({ type: 'jsonb' })
  validation: { errors: { line: number; field?: string; reason: string }[]; totalErrors: number };

  /** Label and token distributions, for measuring other versions' representativeness against this one. */
  @Column({ type: 'jsonb', nullable: true })
  referenceProfile: Record<string, unknown> | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
