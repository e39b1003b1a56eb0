import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { GateRule } from './gates/gate-rule.js';

/**
 * A named pointer at one version of a model (`production`, `staging`), with the promotion gates a
 * version must pass to become its target. Removing the alias clears the pointer; the row keeps
 * the gates, and alias_history keeps every move.
 */
@Entity('model_aliases')
@Index('uq_model_aliases_model_name', ['modelId', 'name'], { unique: true })
@Index('ix_model_aliases_version', ['modelVersionId'], { where: 'model_version_id IS NOT NULL' })
export class ModelAliasEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  projectId: string;

  @Column({ type: 'uuid' })
  modelId: string;

  @Column({ type: 'text' })
  name: string;

  /** The version it points at; null once removed (or before its first promotion). */
  @Column({ type: 'uuid', nullable: true })
  modelVersionId: string | null;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  gates: GateRule[];

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
