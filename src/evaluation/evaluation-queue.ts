import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';
import { WebhookPublisher } from '../webhooks/webhook-publisher.js';
import type { EvaluationResult } from './scoring.js';
import type { EvaluationError } from './evaluation.entity.js';

export interface ClaimedEvaluation {
  id: string;
  attempt: number;
  maxAttempts: number;
  /** The evaluation was running under a lease that expired: its replica or worker died. */
  recovered: boolean;
}

/**
 * The evaluation queue in Postgres, leased as the job queue is: a claim takes the oldest queued
 * evaluation (or a running one whose lease expired) with `FOR UPDATE SKIP LOCKED`, and every write
 * after it checks the lease owner, so a replica that lost its lease writes nothing more.
 */
@Injectable()
export class EvaluationQueue {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly webhooks: WebhookPublisher,
  ) {}

  async claim(owner: string): Promise<ClaimedEvaluation | null> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(
        `UPDATE evaluations SET status = 'failed', lease_owner = NULL, lease_expires_at = NULL, finished_at = now(), updated_at = now(),
                error = jsonb_build_object('code', 'attempts_exhausted', 'message',
                  'The evaluation was interrupted ' || attempt || ' times (its replica or worker stopped); it will not be retried again')
          WHERE status = 'running' AND lease_expires_at < now() AND attempt >= max_attempts`,
      );
      const rows = await manager.query<Array<{ id: string; status: string }>>(
        `SELECT id, status FROM evaluations
          WHERE status = 'queued' OR (status = 'running' AND lease_expires_at < now())
          ORDER BY created_at, id
          LIMIT 1
          FOR UPDATE SKIP LOCKED`,
      );
      if (rows.length === 0) {
        return null;
      }
      const [updated] = await manager.query<[Array<{ attempt: number; max_attempts: number }>, number]>(
        `UPDATE evaluations SET status = 'running', lease_owner = $2, lease_expires_at = now() + make_interval(secs => $3),
                attempt = attempt + 1, processed_rows = 0, started_at = coalesce(started_at, now()), updated_at = now()
          WHERE id = $1
          RETURNING attempt, max_attempts`,
        [rows[0].id, owner, this.config.jobs.leaseSeconds],
      );
      return {
        id: rows[0].id,
        attempt: updated[0].attempt,
        maxAttempts: updated[0].max_attempts,
        recovered: rows[0].status === 'running',
      };
    });
  }

  /** Renews the lease and records progress; `lost` means stop at once and write nothing more. */
  async heartbeat(id: string, owner: string, processedRows: number): Promise<{ lost: boolean; cancel: boolean }> {
    const [rows] = await this.dataSource.query<[Array<{ control: string | null }>, number]>(
      `UPDATE evaluations SET lease_expires_at = now() + make_interval(secs => $3), processed_rows = $4, updated_at = now()
        WHERE id = $1 AND lease_owner = $2 AND status = 'running'
        RETURNING control`,
      [id, owner, this.config.jobs.leaseSeconds, processedRows],
    );
    return rows.length === 0 ? { lost: true, cancel: false } : { lost: false, cancel: rows[0].control === 'cancel' };
  }

  /**
   * Ends a run under the lease; false when the lease was lost. A succeeded or failed end publishes
   * `evaluation.completed` in the same transaction, so a recorded result never misses its event.
   */
  async finish(
    id: string,
    owner: string,
    outcome:
      | { status: 'succeeded'; result: EvaluationResult; predictionsKey: string; processedRows: number }
      | { status: 'failed'; error: EvaluationError }
      | { status: 'cancelled' }
      | { status: 'queued' },
    manager?: EntityManager,
  ): Promise<boolean> {
    if (!manager) {
      return this.dataSource.transaction((inner) => this.finish(id, owner, outcome, inner));
    }
    const terminal = outcome.status !== 'queued';
    const [rows] = await manager.query<
      [Array<{ id: string; project_id: string; model_version_id: string; dataset_version_id: string }>, number]
    >(
      `UPDATE evaluations SET status = $3, lease_owner = NULL, lease_expires_at = NULL, control = NULL,
              result = $4::jsonb, predictions_key = $5, error = $6::jsonb,
              processed_rows = coalesce($7, processed_rows),
              finished_at = CASE WHEN $8 THEN now() ELSE NULL END, updated_at = now()
        WHERE id = $1 AND lease_owner = $2 AND status = 'running'
        RETURNING id, project_id, model_version_id, dataset_version_id`,
      [
        id,
        owner,
        outcome.status,
        outcome.status === 'succeeded' ? JSON.stringify(outcome.result) : null,
        outcome.status === 'succeeded' ? outcome.predictionsKey : null,
        outcome.status === 'failed' ? JSON.stringify(outcome.error) : null,
        outcome.status === 'succeeded' ? outcome.processedRows : null,
        terminal,
      ],
    );
    const row = rows[0];
    if (row && (outcome.status === 'succeeded' || outcome.status === 'failed')) {
      const metrics =
        outcome.status === 'succeeded'
          ? Object.fromEntries(
              Object.entries(outcome.result.metrics).filter(
                (entry): entry is [string, number] => typeof entry[1] === 'number' && Number.isFinite(entry[1]),
              ),
            )
          : {};
      await this.webhooks.publish(
        row.project_id,
        'evaluation.completed',
        {
          evaluationId: row.id,
          modelVersionId: row.model_version_id,
          datasetVersionId: row.dataset_version_id,
          status: outcome.status,
          metrics,
        },
        { manager },
      );
    }
    return rows.length > 0;
  }
}
