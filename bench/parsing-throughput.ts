/**
 * Throughput of the dataset reader against the simplest possible reader (readline + JSON.parse),
 * on ~100 MB of JSONL classification rows. Prints JSON.
 *
 *   npx tsc -p . && node dist/bench/parsing-throughput.js [megabytes] [--gzip] [--csv] [--unicode]
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { readDatasetBatches } from '../src/datasets/parsing/dataset-reader.js';
import { readlineJsonRows } from './baseline.js';

const ROUNDS = 5;
const WORDS = ['model', 'data', 'great', 'terrible', 'quick', 'brown', 'fox', 'jumps', 'lazy', 'dog', 'the', 'a'];
const UNICODE_WORDS = ['café', 'naïve', 'привет', '日本語', '🙂', 'ñandú'];
const LABELS = ['positive', 'negative', 'neutral'];

/** The same rows as CSV, every text quoted (the slower path of the CSV parser). */
function toCsv(jsonl: Buffer): Buffer {
  const lines = ['text,label'];
  for (const line of jsonl.toString('utf8').split('\n')) {
    if (line.length > 0) {
      const { text, label } = JSON.parse(line) as { text: string; label: string };
      lines.push(`"${text.replaceAll('"', '""')}",${label}`);
    }
  }
  return Buffer.from(lines.join('\n') + '\n');
}

function generate(megabytes: number, unicode: boolean): Buffer {
  const words = unicode ? [...WORDS, ...UNICODE_WORDS] : WORDS;
  const lines: string[] = [];
  let size = 0;
  let seed = 1;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  while (size < megabytes * 1024 * 1024) {
    const count = 10 + Math.floor(random() * 40);
    const text = Array.from({ length: count }, () => words[Math.floor(random() * words.length)]).join(' ');
    const line = JSON.stringify({ text, label: LABELS[Math.floor(random() * LABELS.length)] });
    lines.push(line);
    size += Buffer.byteLength(line) + 1;
  }
  return Buffer.from(lines.join('\n') + '\n');
}

function baseline(file: string): Promise<number> {
  return readlineJsonRows(file);
}

async function reader(file: string): Promise<number> {
  let rows = 0;
  for await (const batch of readDatasetBatches(createReadStream(file), { format: 'auto' })) {
    rows += batch.length;
  }
  return rows;
}

async function measure(name: string, file: string, run: (file: string) => Promise<number>) {
  const bytes = (await stat(file)).size;
  const speeds: number[] = [];
  let rows = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    const started = process.hrtime.bigint();
    rows = await run(file);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    speeds.push(bytes / 1024 / 1024 / seconds);
  }
  speeds.sort((left, right) => left - right);
  return { name, rows, megabytesPerSecondMedian: round(speeds[Math.floor(ROUNDS / 2)]), best: round(speeds.at(-1)!) };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

async function main(): Promise<void> {
  const megabytes = Number(process.argv.find((argument) => /^\d+$/.test(argument)) ?? 100);
  const gzip = process.argv.includes('--gzip');
  const unicode = process.argv.includes('--unicode');
  const folder = await mkdtemp(path.join(os.tmpdir(), 'parsing-bench-'));
  try {
    const data = generate(megabytes, unicode);
    const file = path.join(folder, 'data.jsonl');
    await writeFile(file, data);
    const results = [
      await measure('baseline readline+JSON.parse', file, baseline),
      await measure('readDatasetBatches', file, reader),
    ];
    const output: Record<string, unknown> = {
      node: process.version,
      megabytes: round(data.length / 1024 / 1024),
      unicode,
      results,
      ratio: Math.round((results[1].megabytesPerSecondMedian / results[0].megabytesPerSecondMedian) * 100) / 100,
    };
    if (process.argv.includes('--csv')) {
      const csv = path.join(folder, 'data.csv');
      await writeFile(csv, toCsv(data));
      output.csv = await measure('readDatasetBatches (csv)', csv, reader);
    }
    if (gzip) {
      const compressed = path.join(folder, 'data.jsonl.gz');
      await writeFile(compressed, gzipSync(data, { level: 6 }));
      // MB/s of decompressed data.
      const gzipResult = await measure('readDatasetBatches (gzip)', compressed, reader);
      const scale = data.length / (await stat(compressed)).size;
      output.gzip = {
        ...gzipResult,
        megabytesPerSecondMedian: round(gzipResult.megabytesPerSecondMedian * scale),
        best: round(gzipResult.best * scale),
      };
    }
    console.log(JSON.stringify(output, null, 2));
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

await main();
