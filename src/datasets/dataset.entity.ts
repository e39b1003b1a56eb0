import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { ProjectEntity } from '../auth/project.entity.js';
import type { DatasetSchema, DatasetTask } from './dataset-types.js';

export const PERSONAL_DATA_DECLARATIONS = ['yes', 'no', 'unknown'] as const;
export type PersonalDataDeclaration = (typeof PERSONAL_DATA_DECLARATIONS)[number];

/** A named collection of immutable versions, with the provenance every version inherits. */
@Entity('datasets')
@Index('uq_datasets_project_name', ['projectId', 'name'], { unique: true })
@Index('ix_datasets_project_created', ['projectId', 'createdAt'])
@Check('ck_datasets_task', `task IN ('classification', 'regression', 'causal-lm', 'chat', 'prompt-completion')`)
@Check('ck_datasets_personal_data', `contains_personal_data IN ('yes', 'no', 'unknown')`)
export class DatasetEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  projectId: string;

  @ManyToOne(() => ProjectEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: ProjectEntity;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', default: '' })
  description: string;

  @Column({ type: 'text' })
  task: DatasetTask;

  @Column({ type: 'jsonb' })
  schema: DatasetSchema;

  /** Where the data comes from: a URL or a description. */
  @Column({ type: 'text' })
  source: string;

  /** An SPDX licence id, or `proprietary`. */
  @Column({ type: 'text' })
  license: string;

  @Column({ type: 'text' })
  containsPersonalData: PersonalDataDeclaration;

  /** The legal basis for processing (GDPR art. 6, a contract, public data...). */
  @Column({ type: 'text', default: '' })
  legalBasis: string;

  /** Overrides of the default quality thresholds for this dataset's versions. */
  @Column({ type: 'jsonb' })
  qualityThresholds: Record<string, unknown>;

  @Column({ type: 'uuid', nullable: true })
  createdByKeyId: string | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
