/**
 * Load and soak: an open-loop load of mixed reads against the real service (its own process, as
 * `npm start` runs it), first on an idle replica, then on the same replica while a trainer slot
 * trains and a dataset upload streams. Prints JSON.
 *
 *   npm run build && node dist/bench/soak.js [seconds per phase, default 300] [requests/s, default 200]
 *
 * Open loop: request i is sent at start + i / rate whether or not earlier ones have answered, and its
 * latency counts from that planned moment, so a stalled server cannot hide its stall by slowing the
 * load down (coordinated omission). The service's own process is sampled every 5 s for resident
 * memory, threads and open file descriptors (from /proc): "flat" is judged on the slope of the second
 * half of each phase, after start-up and warm-up allocations.
 */
import http from 'node:http';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { Service } from './support/service.js';

interface Sample {
  atSeconds: number;
  rssMb: number;
  threads: number;
  fileDescriptors: number;
}

interface Fixtures {
  datasetId: string;
  jobId: string;
  modelName: string;
}

const SAMPLE_EVERY_MS = 5000;
const CLOCK_TICKS_PER_SECOND = 100;

interface ThreadTimes {
  name: string;
  ticks: number;
}

/** CPU time (user + system, in clock ticks) of each thread of `pid`, by thread id. */
async function threadTimes(pid: number): Promise<Map<number, ThreadTimes>> {
  const times = new Map<number, ThreadTimes>();
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    try {
      const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The name is in parentheses and may hold spaces; the fields after it are space-separated.
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      times.set(Number(tid), { name, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return times;
}

/** CPU seconds each thread used between two readings: the main thread, then the busiest others. */
function threadCpu(pid: number, before: Map<number, ThreadTimes>, after: Map<number, ThreadTimes>, seconds: number) {
  const used = [...after].map(([tid, { name, ticks }]) => ({
    tid,
    name: tid === pid ? 'main' : name,
    cpuSeconds: (ticks - (before.get(tid)?.ticks ?? 0)) / CLOCK_TICKS_PER_SECOND,
  }));
  const total = used.reduce((sum, thread) => sum + thread.cpuSeconds, 0);
  const main = used.find((thread) => thread.tid === pid);
  const others = used.filter((thread) => thread.tid !== pid).sort((a, b) => b.cpuSeconds - a.cpuSeconds);
  return {
    processCpuShare: total / seconds,
    mainCpuShare: (main?.cpuSeconds ?? 0) / seconds,
    busiestOtherThreads: others.slice(0, 5).map((thread) => ({
      name: thread.name,
      cpuShare: Math.round((thread.cpuSeconds / seconds) * 1000) / 1000,
    })),
  };
}

/**
 * The probe loaded into the service (bench/support/probe.ts): a signal makes it write its
 * event-loop delay and GC figures since the previous signal to `file`.
 */
async function readProbe(pid: number, file: string): Promise<unknown> {
  await rm(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let attempt = 0; attempt < 200; attempt += 1) {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as unknown;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return null;
}

async function processStats(pid: number): Promise<Omit<Sample, 'atSeconds'>> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return {
    rssMb: field('VmRSS') / 1024,
    threads: field('Threads'),
    fileDescriptors: (await readdir(`/proc/${pid}/fd`)).length,
  };
}

/** Least-squares slope per minute of one series over the second half of the samples. */
function slopePerMinute(samples: Sample[], pick: (sample: Sample) => number): number {
  const tail = samples.slice(Math.floor(samples.length / 2));
  if (tail.length < 2) {
    return 0;
  }
  const meanX = tail.reduce((sum, sample) => sum + sample.atSeconds, 0) / tail.length;
  const meanY = tail.reduce((sum, sample) => sum + pick(sample), 0) / tail.length;
  let numerator = 0;
  let denominator = 0;
  for (const sample of tail) {
    numerator += (sample.atSeconds - meanX) * (pick(sample) - meanY);
    denominator += (sample.atSeconds - meanX) ** 2;
  }
  return denominator === 0 ? 0 : (numerator / denominator) * 60;
}

function summarise(samples: Sample[]) {
  const series = (pick: (sample: Sample) => number) => ({
    first: pick(samples[0]),
    last: pick(samples.at(-1)!),
    max: Math.max(...samples.map(pick)),
    secondHalfSlopePerMinute: slopePerMinute(samples, pick),
  });
  return {
    samples: samples.length,
    rssMb: series((sample) => sample.rssMb),
    threads: series((sample) => sample.threads),
    fileDescriptors: series((sample) => sample.fileDescriptors),
  };
}

function mixedReads(fixtures: Fixtures): string[] {
  const { datasetId, jobId, modelName } = fixtures;
  return [
    `/api/v1/jobs/${jobId}`,
    '/api/v1/jobs?limit=20',
    `/api/v1/jobs/${jobId}/events?limit=50`,
    `/api/v1/jobs/${jobId}/metrics?split=train`,
    `/api/v1/jobs/${jobId}/checkpoints`,
    '/api/v1/datasets?limit=20',
    `/api/v1/datasets/${datasetId}`,
    `/api/v1/datasets/${datasetId}/versions`,
    `/api/v1/datasets/${datasetId}/versions/1`,
    `/api/v1/datasets/${datasetId}/versions/1/quality`,
    `/api/v1/models/${modelName}/versions`,
    '/api/v1/models',
    '/api/v1/trainer',
    '/api/v1/me',
    '/health/ready',
  ];
}

/** Sends `rate` requests a second for `seconds`, open loop, cycling through `paths`. */
async function openLoad(service: Service, paths: string[], rate: number, seconds: number, probeFile: string) {
  const url = new URL(service.baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const samples: Sample[] = [];
  let errors = 0;
  await readProbe(service.pid, probeFile);
  const timesBefore = await threadTimes(service.pid);
  const began = performance.now();

  const sampler = setInterval(() => {
    processStats(service.pid)
      .then((stats) => samples.push({ atSeconds: (performance.now() - began) / 1000, ...stats }))
      .catch(() => undefined);
  }, SAMPLE_EVERY_MS);
  samples.push({ atSeconds: 0, ...(await processStats(service.pid)) });

  const send = (index: number, plannedAt: number) =>
    new Promise<void>((resolve) => {
      const request = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: paths[index % paths.length],
          agent,
          headers: { Authorization: `Bearer ${service.key}` },
          timeout: 30_000,
        },
        (response) => {
          response.resume();
          response.on('end', () => {
            const status = String(response.statusCode);
            statuses[status] = (statuses[status] ?? 0) + 1;
            if (response.statusCode !== 200) {
              errors += 1;
            }
            latencies.push(performance.now() - plannedAt);
            resolve();
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', (error: NodeJS.ErrnoException) => {
        errors += 1;
        const kind = `error ${error.code ?? error.message}`;
        statuses[kind] = (statuses[kind] ?? 0) + 1;
        resolve();
      });
      request.end();
    });

  const inFlight: Promise<void>[] = [];
  for (let index = 0; index < total; index += 1) {
    const plannedAt = began + (index * 1000) / rate;
    const wait = plannedAt - performance.now();
    if (wait > 1) {
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    inFlight.push(send(index, plannedAt));
  }
  await Promise.all(inFlight);
  clearInterval(sampler);
  samples.push({ atSeconds: (performance.now() - began) / 1000, ...(await processStats(service.pid)) });
  const cpu = threadCpu(service.pid, timesBefore, await threadTimes(service.pid), (performance.now() - began) / 1000);
  const probe = await readProbe(service.pid, probeFile);
  agent.destroy();

  latencies.sort((a, b) => a - b);
  const quantile = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  const elapsed = (performance.now() - began) / 1000;
  return {
    targetRate: rate,
    seconds,
    requests: total,
    achievedRate: total / elapsed,
    errors,
    statuses,
    p50Ms: quantile(0.5),
    p90Ms: quantile(0.9),
    p99Ms: quantile(0.99),
    maxMs: latencies.at(-1),
    process: summarise(samples),
    cpu,
    mainThread: probe,
  };
}

function textRows(count: number, offset = 0): string {
  const words = ['model', 'data', 'train', 'token', 'layer', 'weights', 'loss', 'step', 'batch', 'learns'];
  const lines: string[] = [];
  for (let row = offset; row < offset + count; row += 1) {
    const parts = Array.from({ length: 40 }, (_, word) => words[(row * 7 + word * 13 + (row >> 3)) % words.length]);
    lines.push(JSON.stringify({ text: `${parts.join(' ')} ${row}` }));
  }
  return lines.join('\n') + '\n';
}

/**
 * A dataset upload that streams for as long as `until` is pending, at about `bytesPerSecond`, then
 * ends; resolves with the response status.
 */
function streamingUpload(service: Service, datasetId: string, bytesPerSecond: number, until: Promise<unknown>) {
  const url = new URL(`${service.baseUrl}/api/v1/datasets/${datasetId}/versions`);
  return new Promise<{ status: number; bytes: number }>((resolve, reject) => {
    let bytes = 0;
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { Authorization: `Bearer ${service.key}`, 'Content-Type': 'application/x-ndjson' },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, bytes }));
      },
    );
    request.on('error', reject);
    let row = 1_000_000;
    let open = true;
    void until.then(() => {
      open = false;
    });
    const tickMs = 100;
    const tick = () => {
      if (!open) {
        request.end();
        return;
      }
      const chunk = textRows(Math.max(1, Math.round((bytesPerSecond * tickMs) / 1000 / 260)), row);
      row += 1000;
      bytes += Buffer.byteLength(chunk);
      request.write(chunk);
      setTimeout(tick, tickMs);
    };
    tick();
  });
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 300);
  const rate = Number(process.argv[3] ?? 200);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-soak-'));
  const service = new Service();
  try {
    const probeFile = path.join(dataDir, 'probe.json');
    const probe = path.join(path.dirname(fileURLToPath(import.meta.url)), 'support/probe.js');
    await service.start(dataDir, process.env.TRAINER_BACKEND ?? 'wasm', { SOAK_PROBE_FILE: probeFile }, [
      '--import',
      probe,
    ]);
    const dataset = await service.call<{ id: string }>('POST', '/api/v1/datasets', {
      name: 'soak-corpus',
      task: 'causal-lm',
      source: 'generated by bench/soak.ts',
      license: 'CC0-1.0',
      containsPersonalData: 'no',
      qualityThresholds: { maxNearDuplicateRatio: { fail: null }, maxExactDuplicateRatio: { fail: null } },
    });
    await service.call('POST', `/api/v1/datasets/${dataset.id}/versions`, textRows(2000), 'application/x-ndjson');
    const model = { family: 'gpt2', nLayer: 2, nHead: 2, nEmbd: 64, nPositions: 64, vocabSize: 512 };
    const short = await service.call<{ id: string }>('POST', '/api/v1/jobs', {
      model,
      trainingData: { datasetId: dataset.id, version: 1 },
      hyperparameters: { maxSteps: 2, batchSize: 4, sequenceLength: 64, validationFraction: 0.05 },
      outputModelName: 'soak-model',
    });
    await waitForJob(service, short.id, ['succeeded']);
    const fixtures: Fixtures = { datasetId: dataset.id, jobId: short.id, modelName: 'soak-model' };

    const idle = await openLoad(service, mixedReads(fixtures), rate, seconds, probeFile);

    const long = await service.call<{ id: string }>('POST', '/api/v1/jobs', {
      model,
      trainingData: { datasetId: dataset.id, version: 1 },
      hyperparameters: {
        epochs: 1000,
        maxSteps: 10_000_000,
        batchSize: 8,
        sequenceLength: 64,
        validationFraction: 0.05,
        logEverySteps: 10,
        evalEverySteps: 200,
        checkpointEverySteps: 500,
      },
      outputModelName: 'soak-long',
    });
    await waitForJob(service, long.id, ['running']);
    let loadDone!: () => void;
    const loadFinished = new Promise<void>((resolve) => (loadDone = resolve));
    const upload = streamingUpload(service, dataset.id, 512 * 1024, loadFinished);
    const busy = await openLoad(service, mixedReads({ ...fixtures, jobId: long.id }), rate, seconds, probeFile);
    loadDone();
    const uploaded = await upload;
    const job = await service.call<{ status: string; currentStep: number; attempt: number }>(
      'GET',
      `/api/v1/jobs/${long.id}`,
    );
    if (job.status === 'running') {
      await service.call('POST', `/api/v1/jobs/${long.id}/cancel`, {});
    }

    console.log(
      JSON.stringify(
        {
          seconds,
          rate,
          idleReplica: idle,
          trainingAndUploading: {
            ...busy,
            training: { status: job.status, attempt: job.attempt, stepsDuringLoad: job.currentStep },
            upload: { status: uploaded.status, megabytes: uploaded.bytes / 1e6 },
          },
          targets: { errors: 0, p99Ms: 100 },
        },
        null,
        2,
      ),
    );
  } finally {
    await service.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function waitForJob(service: Service, jobId: string, wanted: string[]): Promise<void> {
  for (;;) {
    const job = await service.call<{ status: string; error: unknown }>('GET', `/api/v1/jobs/${jobId}`);
    if (wanted.includes(job.status)) {
      return;
    }
    if (['succeeded', 'failed', 'cancelled'].includes(job.status)) {
      throw new Error(`job ${jobId} ended ${job.status}: ${JSON.stringify(job.error)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
