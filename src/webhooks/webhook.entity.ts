import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A project's subscription: where to send which events, signed with its secret. */
@Entity('webhooks')
@Index('ix_webhooks_project_created', ['projectId', 'createdAt'])
export class WebhookEntity {
  /** Set by the service before insert: the sealed secret is bound to it. */
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'uuid' })
  projectId: string;

  @Column({ type: 'text' })
  url: string;

  /** Subscribed event types; null: every type, including types added later. */
  @Column({ type: 'text', array: true, nullable: true })
  eventTypes: string[] | null;

  @Column({ type: 'boolean' })
  active: boolean;

  @Column({ type: 'text' })
  description: string;

  /** The signing secret, AES-256-GCM sealed (see WebhookSecretBox); never the plain secret. */
  @Column({ type: 'text' })
  sealedSecret: string;

  /** The secret before the last rotation, still signed with until previousSecretExpiresAt. */
  @Column({ type: 'text', nullable: true })
  sealedPreviousSecret: string | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  previousSecretExpiresAt: Date | null;

  @Column({ type: 'uuid', nullable: true })
  createdByKeyId: string | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
