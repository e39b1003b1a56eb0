/**
 * Training benchmarks, each beside a reference measured in the same run on the same backend.
 * Prints JSON.
 *
 *   npm run build && node dist/bench/training.js [steps]     (default 30; TRAINER_BACKEND picks the backend, default wasm)
 *
 * - overhead: a gpt2 of 4 blocks, d=128, sequence 128, batch 8, trained for `steps` steps through the
 *   service (the app in its own process, a job over HTTP, examples/s from the job's own metrics)
 *   against the same model code and optimiser in a bare loop in this process: ratio of examples/s.
 * - efficiency: the job's achieved training FLOP/s (6 N + attention per token, see
 *   gpt2TrainingFlopsPerToken) over the backend's 1024^3 matmul FLOP/s, for d=128 and d=256.
 * - responsiveness: p99 latency of GET /api/v1/jobs/{id} from 50 concurrent clients while every
 *   trainer slot trains.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { gpt2TrainingFlopsPerToken } from '../src/trainer/models/estimates.js';
import { gpt2Hidden, gpt2LmLogits, gpt2ParameterSpecs, type Gpt2Config } from '../src/trainer/models/gpt2.js';
import { initializeParameters } from '../src/trainer/models/parameters.js';
import { selectBackend } from '../src/trainer/runtime/backend.js';
import type { BackendSetting } from '../src/trainer/runtime/protocol.js';
import { causalLmLoss } from '../src/trainer/training/losses.js';
import { createOptimizer } from '../src/trainer/training/optimizers.js';
import { freePort } from '../scripts/lib/free-port.js';
import { Service } from './support/service.js';

/** dist/, where this file runs from. */
const BATCH = 8;
const SEQUENCE = 128;
const VOCAB = 512;

function gpt2(d: number): Gpt2Config {
  return {
    vocabSize: VOCAB,
    nPositions: SEQUENCE,
    nEmbd: d,
    nLayer: 4,
    nHead: d / 64,
    layerNormEpsilon: 1e-5,
    dropout: 0.1,
  };
}

function matmulFlops(): number {
  const a = tf.randomNormal([1024, 1024]);
  const b = tf.randomNormal([1024, 1024]);
  tf.matMul(a, b).dataSync();
  const runs = 5;
  const began = performance.now();
  for (let run = 0; run < runs; run += 1) {
    const product = tf.matMul(a, b);
    product.dataSync();
    product.dispose();
  }
  const seconds = (performance.now() - began) / 1000 / runs;
  a.dispose();
  b.dispose();
  return (2 * 1024 ** 3) / seconds;
}

/** The reference: the same model functions, loss and AdamW, nothing else. */
function bareLoop(config: Gpt2Config, steps: number): { examplesPerSecond: number; flopsPerSecond: number } {
  const params = initializeParameters(gpt2ParameterSpecs(config, { type: 'causal-lm' }), 1);
  const variables = [...params.values()];
  const nameOf = new Map([...params].map(([name, variable]) => [variable.name, name]));
  const optimizer = createOptimizer({ name: 'adamw' });
  const ids = tf.tensor2d(
    Int32Array.from({ length: BATCH * SEQUENCE }, (_, i) => (i * 7919) % VOCAB),
    [BATCH, SEQUENCE],
    'int32',
  );
  const mask = tf.ones<tf.Rank.R2>([BATCH, SEQUENCE]);
  const step = (seed: number) => {
    const { value, grads } = tf.variableGrads(
      () =>
        causalLmLoss(
          gpt2LmLogits(params, config, gpt2Hidden(params, config, ids, { training: true, seed })),
          ids,
          mask,
        ),
      variables,
    );
    value.dataSync();
    value.dispose();
    const named = new Map(Object.entries(grads).map(([name, grad]) => [nameOf.get(name)!, grad]));
    optimizer.step(params, named, 1e-3);
    named.forEach((grad) => grad.dispose());
  };
  step(0);
  step(1);
  const began = performance.now();
  for (let index = 0; index < steps; index += 1) {
    step(index + 2);
  }
  const seconds = (performance.now() - began) / 1000;
  const examplesPerSecond = (steps * BATCH) / seconds;
  ids.dispose();
  mask.dispose();
  optimizer.dispose();
  params.forEach((variable) => variable.dispose());
  return {
    examplesPerSecond,
    flopsPerSecond: examplesPerSecond * SEQUENCE * gpt2TrainingFlopsPerToken(config, SEQUENCE, { type: 'causal-lm' }),
  };
}

function corpus(rows: number): string {
  const words = [
    'model',
    'data',
    'train',
    'token',
    'layer',
    'the',
    'a',
    'of',
    'weights',
    'loss',
    'step',
    'batch',
    'learns',
    'fast',
    'slow',
  ];
  let seed = 3;
  const lines: string[] = [];
  for (let row = 0; row < rows; row += 1) {
    const parts: string[] = [];
    for (let word = 0; word < 60; word += 1) {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      parts.push(words[seed % words.length]);
    }
    lines.push(JSON.stringify({ text: parts.join(' ') }));
  }
  return lines.join('\n') + '\n';
}

interface MetricPoint {
  step: number;
  split: string;
  values: Record<string, number>;
}

async function runJob(
  service: Service,
  datasetId: string,
  d: number,
  steps: number,
  whileRunning?: (jobId: string) => Promise<unknown>,
): Promise<{ jobId: string; examplesPerSecond: number; flopsPerSecond: number; load?: unknown }> {
  const config = gpt2(d);
  const job = await service.call<{ id: string }>('POST', '/api/v1/jobs', {
    model: { family: 'gpt2', nLayer: 4, nHead: config.nHead, nEmbd: d, nPositions: SEQUENCE, vocabSize: VOCAB },
    trainingData: { datasetId, version: 1 },
    hyperparameters: {
      maxSteps: steps + 5,
      batchSize: BATCH,
      sequenceLength: SEQUENCE,
      learningRate: 0.001,
      logEverySteps: 5,
      evalEverySteps: 100_000,
      checkpointEverySteps: 100_000,
      validationFraction: 0.02,
    },
    outputModelName: `bench-d${d}`,
  });
  let load: unknown;
  if (whileRunning) {
    for (;;) {
      const current = await service.call<{ status: string; currentStep: number }>('GET', `/api/v1/jobs/${job.id}`);
      if (current.status === 'running' && current.currentStep > 0) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    load = await whileRunning(job.id);
  }
  for (;;) {
    const current = await service.call<{ status: string; error: unknown }>('GET', `/api/v1/jobs/${job.id}`);
    if (['succeeded', 'failed', 'cancelled'].includes(current.status)) {
      if (current.status !== 'succeeded') {
        throw new Error(`bench job ${current.status}: ${JSON.stringify(current.error)}`);
      }
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const metrics = await service.call<{ data: MetricPoint[] }>('GET', `/api/v1/jobs/${job.id}/metrics?split=train`);
  // The first window holds the warm-up (kernel compilation, first allocations): leave it out, as the bare loop does.
  const steady = metrics.data.slice(1).filter((point) => point.values.examplesPerSecond);
  const mean = (name: string) => steady.reduce((sum, point) => sum + point.values[name], 0) / steady.length;
  return { jobId: job.id, examplesPerSecond: mean('examplesPerSecond'), flopsPerSecond: mean('flopsPerSecond'), load };
}

function hammer(service: Service, jobId: string, clients: number, seconds: number) {
  return hammerUrl(
    `${service.baseUrl}/api/v1/jobs/${jobId}`,
    { Authorization: `Bearer ${service.key}` },
    clients,
    seconds,
  );
}

async function hammerUrl(url: string, headers: Record<string, string>, clients: number, seconds: number) {
  const latencies: number[] = [];
  const deadline = Date.now() + seconds * 1000;
  let errors = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < deadline) {
        const began = performance.now();
        try {
          const response = await fetch(url, { headers });
          await response.arrayBuffer();
          if (response.status !== 200) {
            throw new Error(String(response.status));
          }
          latencies.push(performance.now() - began);
        } catch {
          errors += 1;
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const quantile = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return {
    clients,
    seconds,
    requests: latencies.length,
    errors,
    requestsPerSecond: latencies.length / seconds,
    p50Ms: quantile(0.5),
    p99Ms: quantile(0.99),
    maxMs: latencies.at(-1),
  };
}

/** The floor on this machine: a bare node:http server answering a fixed JSON body, in its own process. */
async function bareHttpReference(seconds: number) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '-e',
      `require('node:http').createServer((q, r) => { r.setHeader('Content-Type', 'application/json'); r.end(JSON.stringify({ pad: 'x'.repeat(1500) })); }).listen(${port}, '127.0.0.1', () => console.log('up'))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((resolve) => child.stdout.once('data', resolve));
  try {
    return await hammerUrl(`http://127.0.0.1:${port}/`, {}, 50, seconds);
  } finally {
    child.kill();
  }
}

async function main(): Promise<void> {
  const steps = Number(process.argv[2] ?? 30);
  const backend = (process.env.TRAINER_BACKEND ?? 'wasm') as BackendSetting;
  const choice = await selectBackend(backend);
  const matmul = matmulFlops();
  const bare128 = bareLoop(gpt2(128), steps);
  const bare256 = bareLoop(gpt2(256), Math.max(10, Math.floor(steps / 2)));
  const httpFloor = await bareHttpReference(10);

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tuneforge-bench-'));
  const service = new Service();
  try {
    await service.start(dataDir, choice.backend);
    const dataset = await service.call<{ id: string }>('POST', '/api/v1/datasets', {
      name: 'bench-corpus',
      task: 'causal-lm',
      source: 'generated by bench/training.ts',
      license: 'CC0-1.0',
      containsPersonalData: 'no',
      qualityThresholds: { maxNearDuplicateRatio: { fail: null }, maxExactDuplicateRatio: { fail: null } },
    });
    await service.call('POST', `/api/v1/datasets/${dataset.id}/versions`, corpus(3000), 'application/x-ndjson');
    // Reference: the same load on an idle replica (a finished job's record).
    const warmup = await runJob(service, dataset.id, 128, 2);
    const idle = await hammer(service, warmup.jobId, 50, 10);
    const service128 = await runJob(service, dataset.id, 128, steps, (jobId) => hammer(service, jobId, 50, 10));
    const service256 = await runJob(service, dataset.id, 256, Math.max(10, Math.floor(steps / 2)));
    const trainer = await service.call<Record<string, unknown>>('GET', '/api/v1/trainer');
    console.log(
      JSON.stringify(
        {
          backend: choice.backend,
          trainerSlots: trainer.slots,
          steps,
          batchSize: BATCH,
          sequenceLength: SEQUENCE,
          matmul1024FlopsPerSecond: matmul,
          overhead: {
            model: '4 blocks, d=128, sequence 128',
            serviceExamplesPerSecond: service128.examplesPerSecond,
            bareExamplesPerSecond: bare128.examplesPerSecond,
            ratio: service128.examplesPerSecond / bare128.examplesPerSecond,
            target: 0.95,
          },
          efficiency: {
            d128: {
              serviceFlopsPerSecond: service128.flopsPerSecond,
              fractionOfMatmul: service128.flopsPerSecond / matmul,
              bareFractionOfMatmul: bare128.flopsPerSecond / matmul,
            },
            d256: {
              serviceFlopsPerSecond: service256.flopsPerSecond,
              fractionOfMatmul: service256.flopsPerSecond / matmul,
              bareFractionOfMatmul: bare256.flopsPerSecond / matmul,
              serviceExamplesPerSecond: service256.examplesPerSecond,
              bareExamplesPerSecond: bare256.examplesPerSecond,
            },
            target: 0.35,
          },
          responsiveness: { whileTraining: service128.load, idle, bareNodeHttpServer: httpFloor, targetP99Ms: 50 },
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

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
