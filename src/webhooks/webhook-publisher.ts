import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../platform/clock.js';
import type { DeliveredEventType, WebhookEnvelope, WebhookEventData, WebhookEventType } from './webhook-events.js';

/**
 * Publishes events to a project's subscriptions. Give it the transaction that makes the change
 * (`manager`): the delivery rows are written in it (an outbox), so a committed change always has its
 * deliveries and a rolled-back one has none. Delivery happens later, from the queue.
 */
@Injectable()
export class WebhookPublisher {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /** One delivery per active subscription of the project that takes `type`; returns how many. */
  async publish<T extends WebhookEventType>(
    projectId: string,
    type: T,
    data: WebhookEventData[T],
    options: { manager?: EntityManager } = {},
  ): Promise<number> {
    const envelope = this.envelope(projectId, type, data);
    const [row] = await (options.manager ?? this.dataSource).query<Array<{ count: number }>>(
      `WITH inserted AS (
         INSERT INTO webhook_deliveries (webhook_id, project_id, event_id, event_type, payload, status, attempts, next_attempt_at)
         SELECT w.id, w.project_id, $2, $3, $4, 'pending', 0, now() FROM webhooks w
          WHERE w.project_id = $1 AND w.active AND (w.event_types IS NULL OR $3 = ANY (w.event_types))
          ORDER BY w.created_at, w.id
         RETURNING id)
       SELECT count(*)::int AS count FROM inserted`,
      [projectId, envelope.id, type, JSON.stringify(envelope)],
    );
    return row.count;
  }

  /** The body every delivery of an event sends, byte for byte. */
  envelope<T extends DeliveredEventType>(projectId: string, type: T, data: WebhookEventData[T]): WebhookEnvelope<T> {
    return { id: randomUUID(), type, createdAt: this.clock.now().toISOString(), projectId, data };
  }
}
