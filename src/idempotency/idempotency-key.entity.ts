import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A POST made with an `Idempotency-Key` header: the first request's response is kept, and a retry
 * with the same key and the same request gets it again instead of creating a second resource.
 */
@Entity('idempotency_keys')
@Index('uq_idempotency_keys_project_key', ['projectId', 'key'], { unique: true })
@Index('ix_idempotency_keys_created', ['createdAt'])
@Check('ck_idempotency_keys_state', `state IN ('pending', 'done')`)
export class IdempotencyKeyEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  projectId: string;

  @Column({ type: 'text' })
  key: string;

  /** SHA-256 of method, path and body: the same key with another request is refused. */
  @Column({ type: 'char', length: 64 })
  requestHash: string;

  @Column({ type: 'text' })
  state: 'pending' | 'done';

  @Column({ type: 'integer', nullable: true })
  responseStatus: number | null;

  @Column({ type: 'jsonb', nullable: true })
  responseBody: unknown;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
