import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';

/** A delivery claimed for sending, with what its subscription needs to sign and address it. */
export interface ClaimedDelivery {
  id: string;
  webhookId: string;
  eventType: string;
  payload: string;
  /** This attempt's number, from 1. */
  attempt: number;
  url: string;
  sealedSecret: string;
  sealedPreviousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

export interface AttemptRecord {
  startedAt: Date;
  durationMs: number;
  responseStatus: number | null;
  responseExcerpt: string | null;
  error: string | null;
}

/**
 * The delivery queue in PostgreSQL. A claim marks due rows `sending` with `FOR UPDATE SKIP LOCKED`
 * in a short transaction of its own; the HTTP call happens after it commits, holding no connection;
 * the result is written in a second short transaction. A row whose replica died while sending is
 * claimed again once its claim lapses. Per subscription, a row is only claimed when no earlier row
 * is still pending or sending: deliveries arrive in the order the events happened.
 */
@Injectable()
export class WebhookDeliveryQueue {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** How long a claimed row stays claimed: the attempt's time limit and a margin for writing its result. */
  private get claimSeconds(): number {
    return Math.ceil(this.config.webhooks.timeoutMs / 1000) + 30;
  }

  /**
   * Claims up to `limit` due deliveries, at most one per subscription. `asOf` treats pending rows
   * due by then as due now (tests use it to skip a backoff wait); lapsed claims follow the clock.
   */
  async claim(limit: number, asOf?: Date): Promise<ClaimedDelivery[]> {
    // An UPDATE answers [rows, affected count].
    const [rows] = await this.dataSource.query<
      [
        Array<{
          id: string;
          webhook_id: string;
          event_type: string;
          payload: string;
          attempts: number;
          url: string;
          sealed_secret: string;
          sealed_previous_secret: string | null;
          previous_secret_expires_at: Date | null;
        }>,
        number,
      ]
    >(
      `WITH due AS (
         SELECT DISTINCT ON (d.webhook_id) d.id FROM webhook_deliveries d
           JOIN webhooks w ON w.id = d.webhook_id AND w.active
          WHERE ((d.status = 'pending' AND d.next_attempt_at <= coalesce($2::timestamptz, now()))
                 OR (d.status = 'sending' AND d.next_attempt_at <= now()))
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                             WHERE e.webhook_id = d.webhook_id AND e.status IN ('pending', 'sending')
                               AND e.sequence < d.sequence)
          ORDER BY d.webhook_id, d.sequence
       ), picked AS (
         SELECT d.id FROM webhook_deliveries d WHERE d.id IN (SELECT id FROM due)
          ORDER BY d.next_attempt_at, d.sequence
          LIMIT $1
          FOR UPDATE OF d SKIP LOCKED
       )
       UPDATE webhook_deliveries d SET status = 'sending', attempts = d.attempts + 1,
              next_attempt_at = now() + make_interval(secs => $3)
         FROM picked, webhooks w
        WHERE d.id = picked.id AND w.id = d.webhook_id
          -- Checked again on the locked row: another replica may have claimed it since the snapshot.
          AND ((d.status = 'pending' AND d.next_attempt_at <= coalesce($2::timestamptz, now()))
               OR (d.status = 'sending' AND d.next_attempt_at <= now()))
       RETURNING d.id, d.webhook_id, d.event_type, d.payload, d.attempts, w.url, w.sealed_secret,
                 w.sealed_previous_secret, w.previous_secret_expires_at`,
      [limit, asOf ?? null, this.claimSeconds],
    );
    return rows.map((row) => ({
      id: row.id,
      webhookId: row.webhook_id,
      eventType: row.event_type,
      payload: row.payload,
      attempt: row.attempts,
      url: row.url,
      sealedSecret: row.sealed_secret,
      sealedPreviousSecret: row.sealed_previous_secret,
      previousSecretExpiresAt: row.previous_secret_expires_at,
    }));
  }

  /**
   * Records an attempt and moves the row on: delivered, pending again after `retryInSeconds`, or
   * failed when `retryInSeconds` is null. False when the claim was lost meanwhile (another replica
   * took the row over after it lapsed); then nothing is written.
   */
  async complete(
    delivery: ClaimedDelivery,
    attempt: AttemptRecord,
    next: { delivered: true } | { delivered: false; retryInSeconds: number | null },
  ): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const status = next.delivered ? 'delivered' : next.retryInSeconds === null ? 'failed' : 'pending';
      const [updated] = await manager.query<[unknown[], number]>(
        `UPDATE webhook_deliveries
            SET status = $3, last_response_status = $4, last_error = $5,
                delivered_at = CASE WHEN $3 = 'delivered' THEN now() ELSE delivered_at END,
                next_attempt_at = CASE WHEN $3 = 'pending' THEN now() + make_interval(secs => $6) ELSE now() END
          WHERE id = $1 AND status = 'sending' AND attempts = $2
          RETURNING id`,
        [
          delivery.id,
          delivery.attempt,
          status,
          attempt.responseStatus,
          attempt.error,
          next.delivered ? 0 : (next.retryInSeconds ?? 0),
        ],
      );
      if (updated.length === 0) {
        return false;
      }
      await manager.query(
        `INSERT INTO webhook_delivery_attempts
                (delivery_id, attempt, started_at, duration_ms, response_status, response_excerpt, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          delivery.id,
          delivery.attempt,
          attempt.startedAt,
          attempt.durationMs,
          attempt.responseStatus,
          attempt.responseExcerpt,
          attempt.error,
        ],
      );
      return true;
    });
  }
}
