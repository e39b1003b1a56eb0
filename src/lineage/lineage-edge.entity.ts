import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Types of lineage nodes; `alias_move` nodes come from alias_history, never from this table. */
export const LINEAGE_ENTITY_TYPES = [
  'dataset_version',
  'job',
  'checkpoint',
  'model_version',
  'evaluation',
  'alias_move',
] as const;
export type LineageEntityType = (typeof LINEAGE_ENTITY_TYPES)[number];

export const LINEAGE_RELATIONS = [
  'trained_on',
  'validated_on',
  'fine_tuned_from',
  'produced',
  'derived_from',
  'promoted_to',
  'evaluated',
  'evaluated_on',
  'compared_with',
] as const;
export type LineageRelation = (typeof LINEAGE_RELATIONS)[number];

/**
 * One edge of the lineage graph, read "from -> to": dataset_version -trained_on-> job,
 * model_version -fine_tuned_from-> job (the base), job -produced-> model_version. Recursive
 * queries over this table answer "what was this model trained on" and "which models used this data".
 */
@Entity('lineage_edges')
@Index('ix_lineage_edges_from', ['fromType', 'fromId'])
@Index('ix_lineage_edges_to', ['toType', 'toId'])
@Index('uq_lineage_edges', ['fromType', 'fromId', 'toType', 'toId', 'relation'], { unique: true })
@Check(
  'ck_lineage_edges_types',
  `from_type IN ('dataset_version', 'job', 'checkpoint', 'model_version', 'evaluation') AND to_type IN ('dataset_version', 'job', 'checkpoint', 'model_version', 'evaluation')`,
)
export class LineageEdgeEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  projectId: string;

  @Column({ type: 'text' })
  fromType: LineageEntityType;

  @Column({ type: 'uuid' })
  fromId: string;

  @Column({ type: 'text' })
  toType: LineageEntityType;

  @Column({ type: 'uuid' })
  toId: string;

  @Column({ type: 'text' })
  relation: LineageRelation;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
