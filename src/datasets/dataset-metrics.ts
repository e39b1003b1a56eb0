import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsService } from '../platform/metrics/metrics.service.js';
import type { QualityVerdictColumn } from './dataset-version.entity.js';

/** Upload counters, on the process's shared Prometheus registry. */
@Injectable()
export class DatasetMetrics {
  private readonly uploadBytes: Counter;
  private readonly versions: Counter<'verdict'>;

  constructor(metrics: MetricsService) {
    this.uploadBytes = new Counter({
      name: 'tuneforge_upload_bytes_total',
      help: 'Bytes received in dataset uploads, refused and cut-off uploads included',
      registers: [metrics.registry],
    });
    this.versions = new Counter({
      name: 'tuneforge_dataset_versions_total',
      help: 'Dataset versions created, by quality verdict',
      labelNames: ['verdict'] as const,
      registers: [metrics.registry],
    });
  }

  received(bytes: number): void {
    this.uploadBytes.inc(bytes);
  }

  versionCreated(verdict: QualityVerdictColumn): void {
    this.versions.inc({ verdict });
  }
}
