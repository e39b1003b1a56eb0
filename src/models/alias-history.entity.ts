import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { GateReport } from './gates/gate-rule.js';

export const ALIAS_MOVE_KINDS = ['promoted', 'forced', 'blocked', 'removed'] as const;
export type AliasMoveKind = (typeof ALIAS_MOVE_KINDS)[number];

/**
 * One attempt to move an alias, kept forever: who, when, from which version to which, and the
 * gate report. Rows of one alias have strictly increasing `createdAt` (moves of an alias are
 * serialised), so "where did it point at time T" is the latest move at or before T.
 */
@Entity('alias_history')
@Index('ix_alias_history_alias_time', ['aliasId', 'createdAt'], { unique: true })
@Index('ix_alias_history_to_version', ['toVersionId'], { where: 'to_version_id IS NOT NULL' })
@Check('ck_alias_history_kind', `kind IN ('promoted', 'forced', 'blocked', 'removed')`)
export class AliasHistoryEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  projectId: string;

  @Column({ type: 'uuid' })
  modelId: string;

  @Column({ type: 'uuid' })
  aliasId: string;

  @Column({ type: 'text' })
  aliasName: string;

  @Column({ type: 'text' })
  kind: AliasMoveKind;

  @Column({ type: 'uuid', nullable: true })
  fromVersionId: string | null;

  @Column({ type: 'integer', nullable: true })
  fromVersion: number | null;

  /** The version asked for (a blocked attempt's candidate); null when the alias was removed. */
  @Column({ type: 'uuid', nullable: true })
  toVersionId: string | null;

  @Column({ type: 'integer', nullable: true })
  toVersion: number | null;

  @Column({ type: 'uuid', nullable: true })
  actorKeyId: string | null;

  @Column({ type: 'text', nullable: true })
  reason: string | null;

  @Column({ type: 'jsonb', nullable: true })
  gateReport: GateReport | null;

  @Column({ type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
