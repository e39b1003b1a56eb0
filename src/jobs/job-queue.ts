import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../platform/config/config.js';
import { DomainMetrics } from '../platform/metrics/domain-metrics.js';
import { WebhookPublisher } from '../webhooks/webhook-publisher.js';
import { assertUnreachable } from '../platform/errors/error-codes.js';
import type { JobEventData } from '../webhooks/webhook-events.js';
import { JOB_STATUSES, type JobControl, type JobError, type JobStatus } from './job.entity.js';

/** One advisory lock key for claims: claims are short, and serialising them makes the per-project limit exact. */
const CLAIM_LOCK = 0x7475_6e65;

export interface ClaimedJob {
  id: string;
  projectId: string;
  attempt: number;
  maxAttempts: number;
  /** True when the job was running under another lease that expired: its replica died. */
  recovered: boolean;
  previousOwner: string | null;
}

/**
 * The job queue in Postgres. A replica claims the best queued job (or a running one whose lease
 * expired) with `FOR UPDATE SKIP LOCKED`, then renews its lease while it trains. Every write that
 * follows a claim checks the lease owner, so a replica that lost its lease cannot overwrite the
 * replica that took the job over.
 */
@Injectable()
export class JobQueue {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    metrics: DomainMetrics,
    private readonly webhooks: WebhookPublisher,
  ) {
    metrics.setJobCountsSource(() => this.countByStatus());
  }

  private get leaseSeconds(): number {
    return this.config.jobs.leaseSeconds;
  }

  async claim(owner: string): Promise<ClaimedJob | null> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [CLAIM_LOCK]);
      // Jobs whose replica died too often fail instead of being retried forever.
      const [exhausted] = await manager.query<[JobEventRow[], number]>(
        `UPDATE jobs SET status = 'failed', lease_owner = NULL, lease_expires_at = NULL, finished_at = now(), updated_at = now(),
                error = jsonb_build_object('code', 'attempts_exhausted', 'message',
                  'The job was interrupted ' || attempt || ' times (its replica or worker stopped); it will not be retried again')
          WHERE status = 'running' AND lease_expires_at < now() AND attempt >= max_attempts
          RETURNING ${JOB_EVENT_COLUMNS}`,
      );
      for (const job of exhausted) {
        await this.webhooks.publish(
          job.project_id,
          'job.failed',
          { ...jobEventData(job), error: job.error ?? { code: 'attempts_exhausted', message: 'attempts exhausted' } },
          { manager },
        );
      }
      const rows = await manager.query<
        Array<{ id: string; project_id: string; status: JobStatus; lease_owner: string | null }>
      >(
        `SELECT j.id, j.project_id, j.status, j.lease_owner FROM jobs j
          WHERE (j.status = 'queued' OR (j.status = 'running' AND j.lease_expires_at < now()))
            AND (SELECT count(*) FROM jobs r
                  WHERE r.project_id = j.project_id AND r.status = 'running' AND r.lease_expires_at >= now()) < $1
          ORDER BY j.priority DESC, j.created_at, j.id
          LIMIT 1
          FOR UPDATE SKIP LOCKED`,
        [this.config.jobs.perProjectLimit],
      );
      if (rows.length === 0) {
        return null;
      }
      const [candidate] = rows;
      const [updated] = await manager.query<[JobEventRow[], number]>(
        `UPDATE jobs SET status = 'running', lease_owner = $2, lease_expires_at = now() + make_interval(secs => $3),
                attempt = attempt + 1, started_at = coalesce(started_at, now()), updated_at = now()
          WHERE id = $1
          RETURNING ${JOB_EVENT_COLUMNS}`,
        [candidate.id, owner, this.leaseSeconds],
      );
      const row = updated[0];
      await this.webhooks.publish(
        row.project_id,
        'job.started',
        { ...jobEventData(row), recovered: candidate.status === 'running' },
        { manager },
      );
      return {
        id: candidate.id,
        projectId: candidate.project_id,
        attempt: row.attempt,
        maxAttempts: row.max_attempts,
        recovered: candidate.status === 'running',
        previousOwner: candidate.lease_owner,
      };
    });
  }

  /**
   * Renews the lease and reports what clients asked for. `lost` means another replica owns the
   * job now (or it was finished elsewhere): stop at once, write nothing more.
   */
  async heartbeat(
    jobId: string,
    owner: string,
    progress?: { step: number; totalSteps: number },
  ): Promise<{ lost: boolean; control: JobControl | null }> {
    const [rows] = await this.dataSource.query<[Array<{ control: JobControl | null }>, number]>(
      `UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $3),
              current_step = coalesce($4, current_step), total_steps = coalesce($5, total_steps), updated_at = now()
        WHERE id = $1 AND lease_owner = $2 AND status = 'running'
        RETURNING control`,
      [jobId, owner, this.leaseSeconds, progress?.step ?? null, progress?.totalSteps ?? null],
    );
    if (rows.length === 0) {
      return { lost: true, control: null };
    }
    return { lost: false, control: rows[0].control };
  }

  async setBackend(jobId: string, owner: string, backend: string): Promise<void> {
    await this.dataSource.query(`UPDATE jobs SET backend = $3 WHERE id = $1 AND lease_owner = $2`, [
      jobId,
      owner,
      backend,
    ]);
  }

  /**
   * Ends a run: the status it ends in, under the lease, with the last progress the worker reported.
   * False when the lease was lost. Pass `manager` to make it part of a transaction. A final status
   * publishes its webhook event in the same transaction.
   */
  async finish(
    jobId: string,
    owner: string,
    outcome:
      | { status: 'succeeded'; resultModelVersionId: string; step: number }
      | { status: 'failed'; error: JobError }
      | { status: 'cancelled' | 'paused'; step: number }
      | { status: 'queued'; error?: JobError },
    options: { progress?: { step: number; totalSteps: number }; manager?: EntityManager } = {},
  ): Promise<boolean> {
    if (!options.manager) {
      return this.dataSource.transaction((manager) => this.finish(jobId, owner, outcome, { ...options, manager }));
    }
    const manager = options.manager;
    const terminal = ['succeeded', 'failed', 'cancelled'].includes(outcome.status);
    const [rows] = await manager.query<[JobEventRow[], number]>(
      `UPDATE jobs SET status = $3, lease_owner = NULL, lease_expires_at = NULL, control = NULL,
              error = $4::jsonb, result_model_version_id = coalesce($5, result_model_version_id),
              current_step = coalesce($6, $8, current_step), total_steps = coalesce($9, total_steps),
              finished_at = CASE WHEN $7 THEN now() ELSE NULL END, updated_at = now()
        WHERE id = $1 AND lease_owner = $2 AND status = 'running'
        RETURNING ${JOB_EVENT_COLUMNS}`,
      [
        jobId,
        owner,
        outcome.status,
        'error' in outcome && outcome.error ? JSON.stringify(outcome.error) : null,
        outcome.status === 'succeeded' ? outcome.resultModelVersionId : null,
        'step' in outcome ? outcome.step : null,
        terminal,
        options.progress?.step ?? null,
        options.progress?.totalSteps ?? null,
      ],
    );
    if (rows.length === 0) {
      return false;
    }
    await publishJobOutcome(this.webhooks, rows[0], manager);
    return true;
  }

  /** Queued jobs across the instance: the trainer status shows it. */
  async depth(): Promise<number> {
    const [row] = await this.dataSource.query<
      Array<{
        depth: number;
      }>
    >(`SELECT count(*)::int AS depth FROM jobs WHERE status = 'queued'`);
    return row.depth;
  }

  /** Jobs by status across the instance, every status present (zero when none): for the metrics. */
  async countByStatus(): Promise<Record<JobStatus, number>> {
    const rows = await this.dataSource.query<Array<{ status: JobStatus; count: number }>>(
      `SELECT status, count(*)::int AS count FROM jobs GROUP BY status`,
    );
    const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
    for (const row of rows) {
      counts[row.status] = row.count;
    }
    return counts;
  }
}

/** The job columns its webhook events are built from. */
export const JOB_EVENT_COLUMNS =
  'id, project_id, name, output_model_name, attempt, max_attempts, status, error, result_model_version_id, current_step';

export interface JobEventRow {
  id: string;
  project_id: string;
  name: string;
  output_model_name: string;
  attempt: number;
  max_attempts: number;
  status: JobStatus;
  error: JobError | null;
  result_model_version_id: string | null;
  current_step: number;
}

function jobEventData(job: JobEventRow): JobEventData {
  return { jobId: job.id, name: job.name, outputModelName: job.output_model_name, attempt: job.attempt };
}

/** Publishes `job.succeeded`, `job.failed` or `job.cancelled` for a job row in a final status; nothing otherwise. */
export async function publishJobOutcome(
  webhooks: WebhookPublisher,
  job: JobEventRow,
  manager: EntityManager,
): Promise<void> {
  const data = jobEventData(job);
  switch (job.status) {
    case 'succeeded':
      await webhooks.publish(
        job.project_id,
        'job.succeeded',
        { ...data, modelVersionId: job.result_model_version_id ?? '', step: job.current_step },
        { manager },
      );
      return;
    case 'failed':
      await webhooks.publish(
        job.project_id,
        'job.failed',
        { ...data, error: job.error ?? { code: 'failed', message: 'The job failed' } },
        { manager },
      );
      return;
    case 'cancelled':
      await webhooks.publish(job.project_id, 'job.cancelled', { ...data, step: job.current_step }, { manager });
      return;
    case 'validating':
    case 'queued':
    case 'running':
    case 'paused':
      return;
    default:
      assertUnreachable(job.status);
  }
}
