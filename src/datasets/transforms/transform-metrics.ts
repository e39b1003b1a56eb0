import { Injectable } from '@nestjs/common';
import { Histogram } from 'prom-client';
import { MetricsService } from '../../platform/metrics/metrics.service.js';

export type TransformOutcome = 'succeeded' | 'refused' | 'failed';

/** `tuneforge_transform_duration_seconds`: how long transforms take, by outcome. */
@Injectable()
export class TransformMetrics {
  private readonly duration: Histogram<'outcome'>;

  constructor(metrics: MetricsService) {
    this.duration = new Histogram({
      name: 'tuneforge_transform_duration_seconds',
      help: 'Dataset transform duration (worker run and storing the new versions) by outcome',
      labelNames: ['outcome'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180, 600, 1800],
      registers: [metrics.registry],
    });
  }

  /** Starts a timer; call the result with the outcome when the transform ends. */
  start(): (outcome: TransformOutcome) => void {
    const end = this.duration.startTimer();
    return (outcome) => {
      end({ outcome });
    };
  }
}
