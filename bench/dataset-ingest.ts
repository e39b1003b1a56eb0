/**
 * Upload, validate and fully profile a generated JSONL classification file, beside a baseline that
 * only reads the same file's lines and JSON.parses them, in the same run. Prints JSON.
 *
 *   npm run build && node --expose-gc dist/bench/dataset-ingest.js [megabytes...]   (default: 100 1024)
 *
 * The pipeline is the service's own DatasetIngestor with the folder ArtifactStore: the bytes are
 * hashed and written to storage while they are decompressed, parsed, validated and profiled.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readlineJsonRows } from './baseline.js';
import { DatasetIngestor } from '../src/datasets/dataset-ingestor.js';
import { DatasetMetrics } from '../src/datasets/dataset-metrics.js';
import { MetricsService } from '../src/platform/metrics/metrics.service.js';
import { loadConfig } from '../src/platform/config/config.js';
import { FolderArtifactStore } from '../src/platform/storage/folder-artifact-store.js';

const LABELS = ['billing', 'login', 'shipping', 'returns', 'other'];

function vocabulary(size: number): string[] {
  const syllables = ['ka', 'lo', 'mi', 'ren', 'to', 'sa', 'vel', 'dor', 'in', 'qua', 'pe', 'ri', 'son', 'tha', 'ul'];
  const words: string[] = [];
  let seed = 7;
  for (let index = 0; index < size; index += 1) {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    const length = 1 + (seed % 3);
    let word = '';
    for (let part = 0; part < length; part += 1) {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      word += syllables[seed % syllables.length];
    }
    words.push(word);
  }
  return words;
}

/** Writes about `megabytes` of rows: Zipf-like words, five labels, 0.5% exact duplicates, 0.1% with an e-mail. */
async function generate(file: string, megabytes: number): Promise<{ rows: number; bytes: number }> {
  const words = vocabulary(20_000);
  const out = createWriteStream(file);
  let seed = 42;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  let bytes = 0;
  let rows = 0;
  let previous = '';
  let chunk = '';
  while (bytes < megabytes * 1024 * 1024) {
    let line: string;
    if (previous && random() < 0.005) {
      line = previous;
    } else {
      const count = 30 + Math.floor(random() * 90);
      const parts: string[] = [];
      for (let index = 0; index < count; index += 1) {
        parts.push(words[Math.floor(words.length * random() ** 3)]);
      }
      if (random() < 0.001) {
        parts.push(`contact me at user${rows}@example.com`);
      }
      line = JSON.stringify({ text: parts.join(' '), label: LABELS[Math.floor(random() * LABELS.length)] });
    }
    previous = line;
    chunk += `${line}\n`;
    bytes += Buffer.byteLength(line) + 1;
    rows += 1;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) {
        await once(out, 'drain');
      }
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return { rows, bytes };
}

function peakRssSampler(): { stop: () => number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

async function baseline(file: string): Promise<{ seconds: number; rows: number; peakRss: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const sampler = peakRssSampler();
  const started = process.hrtime.bigint();
  const rows = await readlineJsonRows(file, 1 << 20);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, rows, peakRss: sampler.stop() };
}

async function pipeline(file: string, storeDir: string) {
  (globalThis as { gc?: () => void }).gc?.();
  const config = loadConfig({
    DATA_DIR: storeDir,
    DATASET_MAX_UPLOAD_BYTES: '64gb',
    DATASET_MAX_INFLATED_BYTES: '64gb',
  });
  const ingestor = new DatasetIngestor(
    new FolderArtifactStore(path.join(storeDir, 'artifacts')),
    config,
    new DatasetMetrics(new MetricsService()),
  );
  const rssBefore = process.memoryUsage().rss;
  const sampler = peakRssSampler();
  // How long a request arriving during the upload would wait for the main thread (the HTTP event loop).
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const started = process.hrtime.bigint();
  const result = await ingestor.ingest(createReadStream(file, { highWaterMark: 1 << 20 }), {
    task: 'classification',
    schema: { inputFields: ['text'], labelField: 'label' },
    stagingPrefix: 'bench/uploads',
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  loopDelay.disable();
  const eventLoopDelayMs = {
    p50: +(loopDelay.percentile(50) / 1e6).toFixed(1),
    p99: +(loopDelay.percentile(99) / 1e6).toFixed(1),
    max: +(loopDelay.max / 1e6).toFixed(1),
  };
  return { seconds, result, peakRss: sampler.stop(), rssBefore, eventLoopDelayMs };
}

async function main(): Promise<void> {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((size) => size > 0);
  const runs = [];
  for (const megabytes of sizes.length ? sizes : [100, 1024]) {
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-bench-'));
    try {
      const file = path.join(scratch, 'data.jsonl');
      const generated = await generate(file, megabytes);
      const { size } = await stat(file);
      const base = await baseline(file);
      const run = await pipeline(file, scratch);
      const report = run.result.report as unknown as {
        duplicates: { exact: { duplicateRows: number }; near: { sampled: boolean; sampleSize: number } };
        privacy: { rowsWithPersonalData: number };
        overall: { verdict: string };
        limits?: Record<string, unknown>;
      };
      const mb = size / 1024 / 1024;
      runs.push({
        fileMB: Math.round(mb),
        rows: generated.rows,
        baseline: {
          mbPerSecond: +(mb / base.seconds).toFixed(1),
          seconds: +base.seconds.toFixed(2),
          peakRssMB: Math.round(base.peakRss / 2 ** 20),
        },
        pipeline: {
          mbPerSecond: +(mb / run.seconds).toFixed(1),
          seconds: +run.seconds.toFixed(2),
          peakRssMB: Math.round(run.peakRss / 2 ** 20),
          rssGrowthMB: Math.round((run.peakRss - run.rssBefore) / 2 ** 20),
          rssGrowthBytesPerRow: Math.round((run.peakRss - run.rssBefore) / generated.rows),
          mainThreadEventLoopDelayMs: run.eventLoopDelayMs,
        },
        ratio: +(base.seconds / run.seconds).toFixed(3),
        sha256: run.result.stored.sha256,
        rowsRead: run.result.summary.rows,
        exactDuplicates: report.duplicates.exact.duplicateRows,
        nearDuplicateSample: report.duplicates.near,
        rowsWithPersonalData: report.privacy.rowsWithPersonalData,
        verdict: report.overall.verdict,
        limits: report.limits,
      });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  console.log(
    JSON.stringify({ benchmark: 'dataset-ingest', node: process.version, cpus: os.cpus().length, runs }, null, 2),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
