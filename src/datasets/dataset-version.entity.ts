import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DatasetEntity } from './dataset.entity.js';
import type { DatasetSchema } from './dataset-types.js';

export const DATASET_VERSION_STATES = ['ready', 'invalid', 'deleted'] as const;
export type DatasetVersionState = (typeof DATASET_VERSION_STATES)[number];

export const QUALITY_VERDICTS = ['pass', 'warn', 'fail'] as const;
export type QualityVerdictColumn = (typeof QUALITY_VERDICTS)[number];

/**
 * An immutable version of a dataset. A row appears only once its file is stored and profiled, so a
 * half-written upload is never visible. Deleting removes the file and keeps the row as a tombstone
 * (state `deleted`), so lineage from models trained on it still resolves.
 */
@Entity('dataset_versions')
@Index('uq_dataset_versions_number', ['datasetId', 'version'], { unique: true })
@Index('ix_dataset_versions_dataset_created', ['datasetId', 'createdAt'])
@Index('ix_dataset_versions_sha256', ['datasetId', 'sha256'])
@Check('ck_dataset_versions_state', `state IN ('ready', 'invalid', 'deleted')`)
@Check('ck_dataset_versions_format', `format IN ('jsonl', 'csv')`)
export class DatasetVersionEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  datasetId: string;

  @ManyToOne(() => DatasetEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'dataset_id' })
  dataset?: DatasetEntity;

  @Column({ type: 'uuid' })
  projectId: string;

  /** 1, 2, 3... per dataset. */
  @Column({ type: 'integer' })
  version: number;

  @Column({ type: 'text' })
  state: DatasetVersionState;

  @Column({ type: 'text' })
  format: 'jsonl' | 'csv';

  @Column({ type: 'text' })
  compression: 'gzip' | 'none';

  /** SHA-256 of the file as uploaded: the same bytes give the same version. */
  @Column({ type: 'char', length: 64 })
  sha256: string;

  @Column({ type: 'bigint', transformer: { to: (value: number) => value, from: (value: string) => Number(value) } })
  sizeBytes: number;

  /** Null once deleted. */
  @Column({ type: 'text', nullable: true })
  artifactKey: string | null;

  @Column({ type: 'integer' })
  rowCount: number;

  @Column({ type: 'integer' })
  errorRowCount: number;

  @Column({ type: 'jsonb' })
  schema: DatasetSchema;

  /** CSV header, when the file is CSV. */
  @Column({ type: 'jsonb', nullable: true })
  columns: string[] | null;

  @Column({ type: 'text' })
  qualityVerdict: QualityVerdictColumn;

  @Column({ type: 'uuid', nullable: true })
  parentVersionId: string | null;

  @ManyToOne(() => DatasetVersionEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'parent_version_id' })
  parentVersion?: DatasetVersionEntity;

  /** The transform steps that made this version from its parent. */
  @Column({ type: 'jsonb', nullable: true })
  transformSpec: unknown[] | null;

  /** What each transform step did. */
  @Column({ type: 'jsonb', nullable: true })
  transformReport: unknown[] | null;

  /** `train`, `validation` or `test` for the outputs of a split. */
  @Column({ type: 'text', nullable: true })
  splitName: string | null;

  /** Statistics needed at inference (feature normalisation). */
  @Column({ type: 'jsonb' })
  statistics: Record<string, unknown>;

  @Column({ type: 'uuid', nullable: true })
  createdByKeyId: string | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  deletedAt: Date | null;
}
