import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../platform/config/config.js';
import { TransformRunError, TransformRunner, type TransformRunRequest } from './transform-runner.js';

const jsonl = (rows: unknown[]) => Buffer.from(rows.map((row) => `${JSON.stringify(row)}\n`).join(''));

describe('TransformRunner', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'transform-runner-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const request = (rows: unknown[], steps: TransformRunRequest['steps']): TransformRunRequest => ({
    source: Readable.from([jsonl(rows)]),
    format: 'jsonl',
    compression: 'none',
    steps,
    task: 'classification',
    schema: { inputFields: ['text'], labelField: 'label' },
  });
  const runs = () => readdir(path.join(dataDir, 'tmp', 'transforms'));

  it('streams the parent through a worker and leaves the outputs as JSON Lines until disposed', async () => {
    const runner = new TransformRunner(loadConfig({ DATA_DIR: dataDir }));
    const run = await runner.run(
      request(
        [
          { text: 'A', label: 'x' },
          { text: 'a', label: 'y' },
          { text: 'b', label: 'x' },
        ],
        [{ op: 'dedupe', mode: 'exact' }],
      ),
    );
    assert.deepEqual(
      run.outputs.map((output) => [output.name, output.rows]),
      [['all', 2]],
    );
    let text = '';
    for await (const chunk of run.outputs[0].open()) {
      text += String(chunk);
    }
    assert.equal(text, '{"text":"A","label":"x"}\n{"text":"b","label":"x"}\n');
    assert.equal(Buffer.byteLength(text), run.outputs[0].bytes);
    assert.equal(run.report[0].rowsOut, 2);
    await run.dispose();
    assert.deepEqual(await runs(), []);
  });

  it('reports a spec that does not fit the rows, and removes its folder', async () => {
    const runner = new TransformRunner(loadConfig({ DATA_DIR: dataDir }));
    await assert.rejects(
      runner.run(request([{ text: 'a', label: 'x' }], [{ op: 'normalize', fields: ['text'], method: 'zscore' }])),
      (error: unknown) =>
        error instanceof TransformRunError && error.failure.kind === 'spec' && /non-numeric/.test(error.message),
    );
    assert.deepEqual(await runs(), []);
  });

  it('ends a worker that passes TRANSFORM_WORKER_MEMORY without ending the process', async () => {
    const runner = new TransformRunner(loadConfig({ DATA_DIR: dataDir, TRANSFORM_WORKER_MEMORY: '64mb' }));
    // Distinct rows: near-dedupe keeps a signature and 16 band keys for each, about 2 KB a row.
    const rows = Array.from({ length: 120_000 }, (_, index) => ({
      text: `${index.toString(36)} ${(index * 7919).toString(36)} ${(index * 104729).toString(36)} w${index % 97}`,
      label: 'x',
    }));
    await assert.rejects(
      runner.run(request(rows, [{ op: 'dedupe', mode: 'near' }])),
      (error: unknown) => error instanceof TransformRunError && error.failure.kind === 'memory',
    );
    assert.deepEqual(await runs(), []);
  });
});
