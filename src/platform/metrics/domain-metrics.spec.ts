import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainMetrics } from './domain-metrics.js';
import { MetricsService } from './metrics.service.js';

const line = (text: string, series: string) => text.split('\n').find((candidate) => candidate.startsWith(`${series} `));

describe('DomainMetrics', () => {
  it('counts run outcomes once each, with durations, steps, checkpoints and evaluations', async () => {
    const service = new MetricsService();
    const metrics = new DomainMetrics(service);
    const finish = metrics.jobRunStarted();
    metrics.jobRunStarted()('requeued');
    assert.match(
      (await service.render()).split('\n').find((l) => l.startsWith('tuneforge_jobs_running ')) ?? '',
      / 1$/,
    );
    finish('lost');
    finish('succeeded'); // a second call changes nothing
    metrics.trainingStepsDone(12);
    metrics.trainingStepsDone(0);
    metrics.checkpointWritten('interval');
    metrics.evaluationFinished(2.5, 'succeeded');
    const text = await service.render();
    assert.equal(line(text, 'tuneforge_jobs_running'), 'tuneforge_jobs_running 0');
    assert.equal(line(text, 'tuneforge_job_runs_total{outcome="lost"}'), 'tuneforge_job_runs_total{outcome="lost"} 1');
    assert.equal(line(text, 'tuneforge_job_runs_total{outcome="succeeded"}'), undefined);
    assert.equal(line(text, 'tuneforge_job_run_duration_seconds_count{outcome="requeued"}')?.split(' ')[1], '1');
    assert.equal(line(text, 'tuneforge_training_steps_total'), 'tuneforge_training_steps_total 12');
    assert.equal(line(text, 'tuneforge_checkpoints_written_total{reason="interval"}')?.split(' ')[1], '1');
    assert.equal(line(text, 'tuneforge_evaluation_duration_seconds_sum{outcome="succeeded"}')?.split(' ')[1], '2.5');
  });

  it('reads job counts at scrape time and keeps the last figures when the source fails', async () => {
    const service = new MetricsService();
    const metrics = new DomainMetrics(service);
    let fail = false;
    let queued = 3;
    metrics.setJobCountsSource(() =>
      fail ? Promise.reject(new Error('down')) : Promise.resolve({ queued, running: 1 }),
    );
    assert.equal(line(await service.render(), 'tuneforge_jobs{status="queued"}'), 'tuneforge_jobs{status="queued"} 3');
    queued = 0;
    assert.equal(line(await service.render(), 'tuneforge_jobs{status="queued"}'), 'tuneforge_jobs{status="queued"} 0');
    fail = true;
    const text = await service.render();
    assert.equal(line(text, 'tuneforge_jobs{status="running"}'), 'tuneforge_jobs{status="running"} 1');
  });
});
