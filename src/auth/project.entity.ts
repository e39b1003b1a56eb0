import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A tenant. Every other row belongs to exactly one project; keys never cross projects. */
@Entity('projects')
@Index('uq_projects_root', ['isRoot'], { unique: true, where: 'is_root' })
@Check('ck_projects_name', `name ~ '^[a-z0-9][a-z0-9-]{0,62}$'`)
export class ProjectEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('uq_projects_name', { unique: true })
  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', default: '' })
  description: string;

  /** The instance's first project: its admin keys administer the instance (projects, metrics). */
  @Column({ type: 'boolean', default: false })
  isRoot: boolean;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
