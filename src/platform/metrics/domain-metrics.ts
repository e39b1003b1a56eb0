import { Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from './metrics.service.js';

/**
 * How a run of a job on this replica ended; `requeued`: back in the queue (worker crash, shutdown);
 * `lost`: another replica took the job over.
 */
export type JobRunOutcome = 'succeeded' | 'failed' | 'cancelled' | 'paused' | 'requeued' | 'lost';

/**
 * What one webhook delivery attempt on this replica came to: `delivered` (2xx), `retrying` (failed,
 * another attempt is scheduled) or `failed` (failed, no attempts left).
 */
export type WebhookAttemptOutcome = 'delivered' | 'retrying' | 'failed';

/** Counts of jobs by status across the instance, read when Prometheus scrapes. */
export type JobCountsSource = () => Promise<Record<string, number>>;

const LONG_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400];

/**
 * TuneForge's own figures, on the process's Prometheus registry: jobs by status (instance-wide, read
 * from the database at scrape time), jobs running here, run outcomes and durations, training steps,
 * checkpoints written and evaluation durations. Modules call the methods; only this class knows the
 * metric names.
 */
@Injectable()
export class DomainMetrics {
  private readonly logger = new Logger(DomainMetrics.name);
  private jobCounts?: JobCountsSource;
  private readonly jobsByStatus: Gauge<'status'>;
  private readonly jobsRunning: Gauge;
  private readonly jobOutcomes: Counter<'outcome'>;
  private readonly jobDuration: Histogram<'outcome'>;
  private readonly trainingSteps: Counter;
  private readonly checkpointsWritten: Counter<'reason'>;
  private readonly evaluationDuration: Histogram<'outcome'>;
  private readonly webhookDeliveries: Counter<'outcome'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client calls collect() with the gauge as `this`
    const self = this;
    this.jobsByStatus = new Gauge({
      name: 'tuneforge_jobs',
      help: 'Jobs by status across the instance (queue depth: status="queued")',
      labelNames: ['status'] as const,
      registers,
      async collect() {
        await self.collectJobCounts(this);
      },
    });
    this.jobsRunning = new Gauge({
      name: 'tuneforge_jobs_running',
      help: 'Jobs running on this replica now',
      registers,
    });
    this.jobOutcomes = new Counter({
      name: 'tuneforge_job_runs_total',
      help: 'Job runs finished on this replica, by outcome (requeued: back in the queue; lost: taken over by another replica)',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.jobDuration = new Histogram({
      name: 'tuneforge_job_run_duration_seconds',
      help: 'Duration of job runs on this replica, from claim to outcome, by outcome',
      labelNames: ['outcome'] as const,
      buckets: LONG_DURATION_BUCKETS,
      registers,
    });
    this.trainingSteps = new Counter({
      name: 'tuneforge_training_steps_total',
      help: 'Optimiser steps done on this replica (training throughput: rate() of this)',
      registers,
    });
    this.checkpointsWritten = new Counter({
      name: 'tuneforge_checkpoints_written_total',
      help: 'Checkpoints stored and recorded, by reason',
      labelNames: ['reason'] as const,
      registers,
    });
    this.evaluationDuration = new Histogram({
      name: 'tuneforge_evaluation_duration_seconds',
      help: 'Duration of model evaluations, by outcome',
      labelNames: ['outcome'] as const,
      buckets: LONG_DURATION_BUCKETS,
      registers,
    });
    this.webhookDeliveries = new Counter({
      name: 'tuneforge_webhook_deliveries_total',
      help: 'Webhook delivery attempts made on this replica, by outcome (delivered; retrying: failed, retry scheduled; failed: no attempts left)',
      labelNames: ['outcome'] as const,
      registers,
    });
    for (const outcome of ['delivered', 'retrying', 'failed'] as const) {
      this.webhookDeliveries.inc({ outcome }, 0);
    }
  }

  /** Where the instance-wide job counts come from (the job queue). */
  setJobCountsSource(source: JobCountsSource): void {
    this.jobCounts = source;
  }

  /** Marks a run started here; call the returned function once with its outcome. */
  jobRunStarted(): (outcome: JobRunOutcome) => void {
    const stopTimer = this.jobDuration.startTimer();
    this.jobsRunning.inc();
    let ended = false;
    return (outcome) => {
      if (ended) {
        return;
      }
      ended = true;
      this.jobsRunning.dec();
      this.jobOutcomes.inc({ outcome });
      stopTimer({ outcome });
    };
  }

  trainingStepsDone(steps: number): void {
    if (steps > 0) {
      this.trainingSteps.inc(steps);
    }
  }

  checkpointWritten(reason: string): void {
    this.checkpointsWritten.inc({ reason });
  }

  evaluationFinished(seconds: number, outcome: 'succeeded' | 'failed'): void {
    this.evaluationDuration.observe({ outcome }, seconds);
  }

  webhookAttempted(outcome: WebhookAttemptOutcome): void {
    this.webhookDeliveries.inc({ outcome });
  }

  private async collectJobCounts(gauge: Gauge<'status'>): Promise<void> {
    if (!this.jobCounts) {
      return;
    }
    try {
      const counts = await this.jobCounts();
      gauge.reset();
      for (const [status, count] of Object.entries(counts)) {
        gauge.set({ status }, count);
      }
    } catch (error) {
      // A scrape while the database is away keeps the last figures rather than failing.
      this.logger.warn(`Could not count jobs for metrics: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
