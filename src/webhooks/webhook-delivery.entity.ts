import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { WebhookEntity } from './webhook.entity.js';

export const DELIVERY_STATUSES = ['pending', 'sending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * One event to send to one subscription, and the queue entry that sends it. Written in the same
 * transaction as the change it reports. Replicas claim due rows with `FOR UPDATE SKIP LOCKED`;
 * `sequence` orders a subscription's deliveries, and a row is only claimed once every earlier row of
 * its subscription is delivered or failed.
 */
@Entity('webhook_deliveries')
@Index('ix_webhook_deliveries_webhook_created', ['webhookId', 'createdAt'])
@Index('ix_webhook_deliveries_due', ['nextAttemptAt'], { where: `status IN ('pending', 'sending')` })
@Index('ix_webhook_deliveries_open', ['webhookId', 'sequence'], { where: `status IN ('pending', 'sending')` })
@Check('ck_webhook_deliveries_status', `status IN ('pending', 'sending', 'delivered', 'failed')`)
export class WebhookDeliveryEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'bigint', generated: 'identity', generatedIdentity: 'ALWAYS' })
  sequence: string;

  @Column({ type: 'uuid' })
  webhookId: string;

  @ManyToOne(() => WebhookEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'webhook_id' })
  webhook?: WebhookEntity;

  @Column({ type: 'uuid' })
  projectId: string;

  /** The event's id (the payload's `id`): shared by redeliveries of the same event. */
  @Column({ type: 'uuid' })
  eventId: string;

  @Column({ type: 'text' })
  eventType: string;

  /** The exact body sent, so every attempt signs and sends the same bytes. */
  @Column({ type: 'text' })
  payload: string;

  @Column({ type: 'text' })
  status: DeliveryStatus;

  @Column({ type: 'integer' })
  attempts: number;

  /** When a pending row is due; for a row being sent, when its claim lapses (its replica died). */
  @Column({ type: 'timestamptz', precision: 3 })
  nextAttemptAt: Date;

  @Column({ type: 'integer', nullable: true })
  lastResponseStatus: number | null;

  @Column({ type: 'text', nullable: true })
  lastError: string | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  deliveredAt: Date | null;

  /** The delivery this one repeats, for a redelivery. */
  @Column({ type: 'uuid', nullable: true })
  redeliveryOf: string | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt: Date;
}

/** One HTTP attempt of a delivery and what the receiver answered. */
@Entity('webhook_delivery_attempts')
@Index('ix_webhook_delivery_attempts_delivery', ['deliveryId', 'attempt'], { unique: true })
export class WebhookDeliveryAttemptEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid' })
  deliveryId: string;

  @ManyToOne(() => WebhookDeliveryEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'delivery_id' })
  delivery?: WebhookDeliveryEntity;

  @Column({ type: 'integer' })
  attempt: number;

  @Column({ type: 'timestamptz', precision: 3 })
  startedAt: Date;

  @Column({ type: 'integer' })
  durationMs: number;

  /** The HTTP status, or null when there was no response (refused, timed out, blocked address). */
  @Column({ type: 'integer', nullable: true })
  responseStatus: number | null;

  /** The start of the response body, bounded. */
  @Column({ type: 'text', nullable: true })
  responseExcerpt: string | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;
}
