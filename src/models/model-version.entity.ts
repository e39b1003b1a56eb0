import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { RegisteredModelEntity } from './registered-model.entity.js';

/**
 * A version is recorded only once every file is stored and checked (so it starts `ready`); a
 * deleted version keeps its row, lineage and history as a tombstone without files.
 */
export const MODEL_VERSION_STATES = ['ready', 'deleted'] as const;
export type ModelVersionState = (typeof MODEL_VERSION_STATES)[number];

/**
 * An immutable model version: a folder in the ArtifactStore (`manifest.json`, `model.safetensors`,
 * optional `tokenizer.json`) made by a job or an import.
 */
@Entity('model_versions')
@Index('uq_model_versions_number', ['modelId', 'version'], { unique: true })
@Index('ix_model_versions_source_job', ['sourceJobId'], { unique: true, where: 'source_job_id IS NOT NULL' })
@Check('ck_model_versions_family', `family IN ('gpt2', 'mlp')`)
@Check('ck_model_versions_state', `state IN ('ready', 'deleted')`)
export class ModelVersionEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  modelId: string;

  @ManyToOne(() => RegisteredModelEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'model_id' })
  model?: RegisteredModelEntity;

  @Column({ type: 'uuid' })
  projectId: string;

  @Column({ type: 'integer' })
  version: number;

  @Column({ type: 'text' })
  family: 'gpt2' | 'mlp';

  /** The task and head the weights serve: causal-lm, classification, regression. */
  @Column({ type: 'text' })
  task: string;

  /** The manifest as stored beside the weights (family config, labels, tokenizer, preprocessing). */
  @Column({ type: 'jsonb' })
  manifest: Record<string, unknown>;

  /** Folder key in the ArtifactStore, ending in `/`. */
  @Column({ type: 'text' })
  artifactPrefix: string;

  /** Files of the folder: name, size and sha256. */
  @Column({ type: 'jsonb' })
  files: Array<{ name: string; sizeBytes: number; sha256: string }>;

  @Column({ type: 'text' })
  format: 'safetensors';

  @Column({ type: 'bigint', transformer: { to: (value: number) => value, from: (value: string) => Number(value) } })
  parameterCount: number;

  /** Final validation metrics of the job that made it. */
  @Column({ type: 'jsonb' })
  metrics: Record<string, unknown>;

  /** The job that trained it; null for imports. */
  @Column({ type: 'uuid', nullable: true })
  sourceJobId: string | null;

  @Column({ type: 'uuid', nullable: true })
  createdByKeyId: string | null;

  @Column({ type: 'text', default: 'ready' })
  state: ModelVersionState;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  deletedAt: Date | null;

  @Column({ type: 'uuid', nullable: true })
  deletedByKeyId: string | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
