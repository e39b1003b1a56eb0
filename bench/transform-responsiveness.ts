/**
 * How long `/health/live` takes to answer while a large transform runs, the way the service runs
 * it (TransformRunner: a worker thread, spool to spool) and, for comparison, the way it ran before
 * (every row read into the event loop's thread and transformed there). Prints JSON.
 *
 *   npm run build && node dist/bench/transform-responsiveness.js [megabytes] [mode...]
 *   (default: 50 worker main-thread)
 *
 * A `/health/live` handler (the same answer as the service's) is served from this process's event
 * loop, and probed every 20 ms over loopback from another thread while the transform runs; the output files are
 * drained as the service drains them into storage.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { readAllRecords, STORED_FILE_LIMITS } from '../src/datasets/parsing/dataset-reader.js';
import { redactPersonalData } from '../src/datasets/privacy/personal-data.js';
import { applyTransforms } from '../src/datasets/transforms/transform-engine.js';
import { TransformRunner } from '../src/datasets/transforms/transform-runner.js';
import type { TransformStep } from '../src/datasets/transforms/transform-types.js';
import { Logger } from '@nestjs/common';
import { loadConfig } from '../src/platform/config/config.js';

const STEPS: TransformStep[] = [
  { op: 'clean', lowercase: true },
  { op: 'dedupe', mode: 'exact' },
  { op: 'split', train: 0.8, validation: 0.1, test: 0.1, seed: 1 },
];
const SCHEMA = { inputFields: ['text'], labelField: 'label' };
const LABELS = ['billing', 'login', 'shipping', 'returns', 'other'];

async function generate(file: string, megabytes: number): Promise<{ rows: number; bytes: number }> {
  const out = createWriteStream(file);
  let seed = 42;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  let bytes = 0;
  let rows = 0;
  let chunk = '';
  while (bytes < megabytes * 1024 * 1024) {
    const words = Array.from({ length: 20 + Math.floor(random() * 60) }, () =>
      Math.floor(random() * 5000).toString(36),
    );
    // About 1% exact duplicates, so dedupe has work.
    const text = random() < 0.01 ? 'a repeated line of text' : words.join(' ');
    const line = `${JSON.stringify({ text, label: LABELS[Math.floor(random() * LABELS.length)] })}\n`;
    chunk += line;
    bytes += Buffer.byteLength(line);
    rows += 1;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) {
        await once(out, 'drain');
      }
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'close');
  return { rows, bytes };
}

/**
 * Probes the URL every 20 ms from a thread of its own until stopped (latencies in milliseconds):
 * a prober on the server's event loop would stall with it and never see the stall.
 */
function probe(url: string): { stop: () => Promise<number[]> } {
  const prober = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const latencies = [];
    let running = true;
    parentPort.on('message', () => { running = false; });
    (async () => {
      while (running) {
        const started = performance.now();
        // A fresh connection each time: a kept-alive one may be closed by the server mid-stall.
        const response = await fetch(workerData, { headers: { Connection: 'close' } });
        await response.text();
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      parentPort.postMessage(latencies);
    })();
    `,
    { eval: true, workerData: url },
  );
  return {
    stop: async () => {
      prober.postMessage('stop');
      const [latencies] = (await once(prober, 'message')) as [number[]];
      await prober.terminate();
      return latencies;
    },
  };
}

function summary(latencies: number[]) {
  const sorted = [...latencies].sort((left, right) => left - right);
  const at = (fraction: number) =>
    +sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))].toFixed(1);
  return { probes: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: +(sorted.at(-1) ?? 0).toFixed(1) };
}

async function drain(stream: NodeJS.ReadableStream): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
  }
  return bytes;
}

async function inWorker(file: string, dataDir: string): Promise<number> {
  const runner = new TransformRunner(loadConfig({ DATA_DIR: dataDir }));
  const run = await runner.run({
    source: createReadStream(file),
    format: 'jsonl',
    compression: 'none',
    steps: STEPS,
    task: 'classification',
    schema: SCHEMA,
  });
  try {
    let bytes = 0;
    for (const output of run.outputs) {
      bytes += await drain(output.open());
    }
    return bytes;
  } finally {
    await run.dispose();
  }
}

async function onMainThread(file: string): Promise<number> {
  const rows = await readAllRecords(createReadStream(file), { format: 'jsonl', ...STORED_FILE_LIMITS });
  const result = applyTransforms(rows, STEPS, { task: 'classification', schema: SCHEMA, redact: redactPersonalData });
  let bytes = 0;
  for (const output of result.outputs) {
    for (const row of output.rows) {
      bytes += Buffer.byteLength(`${JSON.stringify(row)}\n`);
    }
  }
  return bytes;
}

async function main(): Promise<void> {
  Logger.overrideLogger(['error', 'warn']);
  const megabytes = Number(process.argv[2] ?? 50);
  const modes = process.argv.slice(3).length > 0 ? process.argv.slice(3) : ['worker', 'main-thread'];
  const directory = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-bench-transform-'));
  const server = createServer((_request, response) => {
    response.setHeader('Content-Type', 'application/json');
    response.end('{"status":"ok"}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health/live`;
  try {
    const file = path.join(directory, 'input.jsonl');
    const generated = await generate(file, megabytes);
    const idle = probe(url);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const results: Record<string, unknown> = { idle: summary(await idle.stop()) };
    for (const mode of modes) {
      const loopDelay = monitorEventLoopDelay({ resolution: 10 });
      loopDelay.enable();
      const probes = probe(url);
      const started = performance.now();
      const outputBytes = mode === 'worker' ? await inWorker(file, directory) : await onMainThread(file);
      const seconds = (performance.now() - started) / 1000;
      const latencies = await probes.stop();
      loopDelay.disable();
      results[mode] = {
        seconds: +seconds.toFixed(2),
        outputBytes,
        healthLive: summary(latencies),
        eventLoopDelayMaxMs: +(loopDelay.max / 1e6).toFixed(1),
      };
    }
    console.log(
      JSON.stringify(
        {
          input: { megabytes, rows: generated.rows, bytes: (await stat(file)).size },
          steps: STEPS.map((step) => step.op),
          cpus: os.cpus().length,
          node: process.version,
          ...results,
        },
        null,
        2,
      ),
    );
  } finally {
    server.close();
    await rm(directory, { recursive: true, force: true });
  }
}

await main();
