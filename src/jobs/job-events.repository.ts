import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, MoreThan, Repository } from 'typeorm';
import { JobEventEntity, type JobEventLevel, type JobEventType } from './job-event.entity.js';
import { JobMetricEntity } from './job-metric.entity.js';

/** Writes and reads a job's events and metric points. */
@Injectable()
export class JobEventsRepository {
  constructor(
    @InjectRepository(JobEventEntity) private readonly events: Repository<JobEventEntity>,
    @InjectRepository(JobMetricEntity) private readonly metrics: Repository<JobMetricEntity>,
  ) {}

  async record(
    jobId: string,
    event: {
      level: JobEventLevel;
      type?: JobEventType;
      kind: string;
      message: string;
      data?: Record<string, unknown> | null;
    },
    manager?: EntityManager,
  ): Promise<void> {
    const repository = manager ? manager.getRepository(JobEventEntity) : this.events;
    await repository.insert({
      jobId,
      level: event.level,
      type: event.type ?? 'message',
      kind: event.kind,
      message: event.message,
      // jsonb: TypeORM's deep-partial type cannot express an open record.
      data: (event.data ?? null) as never,
    });
  }

  async recordMetrics(
    jobId: string,
    point: { step: number; epoch: number; split: 'train' | 'validation'; values: Record<string, unknown> },
  ): Promise<void> {
    await this.metrics.insert({
      jobId,
      step: point.step,
      epoch: point.epoch,
      split: point.split,
      values: point.values as never,
    });
    await this.record(jobId, {
      level: 'info',
      type: 'metrics',
      kind: point.split === 'train' ? 'progress' : 'validation',
      message: `step ${point.step}: ${point.split} ${Object.entries(point.values)
        .filter(([, value]) => typeof value === 'number')
        .slice(0, 6)
        .map(([name, value]) => `${name}=${Number(value).toPrecision(4)}`)
        .join(' ')}`,
      data: { step: point.step, epoch: point.epoch, split: point.split, ...point.values },
    });
  }

  /** Events after `afterSequence`, oldest first. */
  async eventsAfter(jobId: string, afterSequence: string, limit: number): Promise<JobEventEntity[]> {
    return this.events.find({
      where: { jobId, sequence: MoreThan(afterSequence) },
      order: { sequence: 'ASC' },
      take: limit,
    });
  }

  async metricPoints(jobId: string, split?: 'train' | 'validation'): Promise<JobMetricEntity[]> {
    return this.metrics.find({ where: { jobId, ...(split ? { split } : {}) }, order: { step: 'ASC', id: 'ASC' } });
  }
}
