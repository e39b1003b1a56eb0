import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A named model in a project's registry; its versions hold the weights. */
@Entity('registered_models')
@Index('uq_registered_models_project_name', ['projectId', 'name'], { unique: true })
export class RegisteredModelEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  projectId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  /** What the model is for (a model card's "intended use"). */
  @Column({ type: 'text', nullable: true })
  intendedUse: string | null;

  @Column({ type: 'text', nullable: true })
  outOfScopeUse: string | null;

  @Column({ type: 'text', nullable: true })
  limitations: string | null;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  tags: string[];

  @Column({ type: 'uuid', nullable: true })
  createdByKeyId: string | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
