/**
 * Throughput and memory of the quality profiler, isolated from I/O: ~100 MB of realistic JSONL
 * classification rows are generated in memory, then timed (best of ROUNDS):
 * - baselines: JSON.parse of every line in memory, and readline + JSON.parse of the same lines
 *   from a file (the baseline of the upload target: read+validate+profile at >= 0.5x its MB/s);
 * - validate: validateRow of every parsed record;
 * - profile: QualityProfiler.addRows + finish on the parsed records, without near-duplicates (the
 *   per-row cost), with the default near-duplicate sample, and with the real personal-data detector.
 * The ratios count the reader as costing what the baseline costs (the project's reader is faster,
 * so the real pipeline does better); the 1 GB estimate scales the per-row costs and keeps the
 * near-duplicate sample's fixed cost. bench/dataset-ingest.ts measures the real pipeline. Prints JSON.
 *
 *   npx tsc -p . && node --expose-gc dist/bench/profiler-throughput.js [megabytes] [--near-cap N]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ParsedRow } from '../src/datasets/dataset-types.js';
import { findPersonalData, maskValue, type PersonalDataType } from '../src/datasets/privacy/personal-data.js';
import { QualityProfiler, type QualityProfilerOptions } from '../src/datasets/quality/quality-profiler.js';
import type { QualityReport } from '../src/datasets/quality/quality-report.js';
import { validateRow } from '../src/datasets/quality/row-validator.js';
import { readlineJsonRows } from './baseline.js';

const ROUNDS = 3;
const LABELS: [string, number][] = [
  ['positive', 0.5],
  ['negative', 0.3],
  ['neutral', 0.15],
  ['mixed', 0.05],
];
const SCHEMA = { inputFields: ['text'], labelField: 'label' };

/** mulberry32: a small seeded generator, so every run profiles the same data. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function vocabulary(random: () => number, size: number): string[] {
  const onsets = [
    'b',
    'c',
    'd',
    'f',
    'g',
    'h',
    'l',
    'm',
    'n',
    'p',
    'r',
    's',
    't',
    'v',
    'w',
    'st',
    'tr',
    'ch',
    'sh',
    '',
  ];
  const vowels = ['a', 'e', 'i', 'o', 'u', 'ea', 'ou', 'ai'];
  const codas = ['', '', 'n', 'r', 's', 't', 'l', 'ng', 'ck', 'd'];
  const words = new Set<string>();
  while (words.size < size) {
    const syllables = 1 + Math.floor(random() * random() * 4);
    let word = '';
    for (let index = 0; index < syllables; index += 1) {
      word += onsets[Math.floor(random() * onsets.length)] + vowels[Math.floor(random() * vowels.length)];
      word += codas[Math.floor(random() * codas.length)];
    }
    words.add(word);
  }
  return [...words];
}

/** Zipf(1.05) over the vocabulary, by inverse CDF. */
function zipfSampler(random: () => number, size: number): () => number {
  const cdf = new Float64Array(size);
  let total = 0;
  for (let rank = 0; rank < size; rank += 1) {
    total += 1 / (rank + 1) ** 1.05;
    cdf[rank] = total;
  }
  return () => {
    const target = random() * total;
    let low = 0;
    let high = size - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (cdf[middle] < target) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  };
}

/**
 * Review-like rows: 2–5 sentences of Zipf words with capitals, commas, the odd number; 1% exact
 * duplicates (re-cased), 0.5% near-duplicates, 0.2% with an e-mail address, 2% with non-ASCII text.
 */
function generate(megabytes: number): string[] {
  const random = generator(42);
  const words = vocabulary(random, 50_000);
  const nextWord = zipfSampler(random, words.length);
  const accents = ['café', 'naïve', 'don’t', 'résumé', 'über'];
  const lines: string[] = [];
  const texts: string[] = [];
  let size = 0;
  while (size < megabytes * 1_000_000) {
    let text: string;
    const roll = random();
    if (roll < 0.01 && texts.length > 0) {
      text = texts[Math.floor(random() * texts.length)].toUpperCase();
    } else if (roll < 0.015 && texts.length > 0) {
      text = `${texts[Math.floor(random() * texts.length)]} Indeed.`;
    } else {
      const sentences: string[] = [];
      const sentenceCount = 2 + Math.floor(random() * 4);
      for (let sentence = 0; sentence < sentenceCount; sentence += 1) {
        const length = 6 + Math.floor(random() * 18);
        const parts: string[] = [];
        for (let index = 0; index < length; index += 1) {
          let word = words[nextWord()];
          if (index === 0) {
            word = word[0].toUpperCase() + word.slice(1);
          }
          const extra = random();
          if (extra < 0.02) {
            word = String(Math.floor(random() * 1000));
          } else if (extra < 0.06 && index < length - 1) {
            word += ',';
          }
          parts.push(word);
        }
        sentences.push(`${parts.join(' ')}${random() < 0.1 ? '!' : '.'}`);
      }
      if (random() < 0.002) {
        sentences.push(`Write to ${words[nextWord()]}.${words[nextWord()]}@example.com for details.`);
      }
      if (random() < 0.02) {
        sentences.push(`The ${accents[Math.floor(random() * accents.length)]} part was fine.`);
      }
      text = sentences.join(' ');
      if (texts.length < 100_000) {
        texts.push(text);
      }
    }
    const labelRoll = random();
    let cumulative = 0;
    let label = LABELS[LABELS.length - 1][0];
    for (const [name, share] of LABELS) {
      cumulative += share;
      if (labelRoll < cumulative) {
        label = name;
        break;
      }
    }
    const line = JSON.stringify({ text, label });
    lines.push(line);
    size += Buffer.byteLength(line) + 1;
  }
  return lines;
}

function seconds(start: number): number {
  return (performance.now() - start) / 1000;
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function best(runs: number[]): number {
  return Math.min(...runs);
}

/** The target's baseline: read the lines of a file with readline and JSON.parse each. */
async function readlineBaseline(file: string): Promise<number> {
  const start = performance.now();
  const rows = await readlineJsonRows(file, 1 << 20);
  if (rows === 0) {
    throw new Error('nothing read');
  }
  return seconds(start);
}

type Options = Omit<QualityProfilerOptions<PersonalDataType>, 'task' | 'schema'>;

/** addRows in batches of 1000 (as the reader hands them over) and finish. */
function profileOnce(rows: ParsedRow[], options: Options): { time: number; report: QualityReport; heapGrowth: number } {
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const start = performance.now();
  const profiler = new QualityProfiler<PersonalDataType>({ task: 'classification', schema: SCHEMA, ...options });
  for (let offset = 0; offset < rows.length; offset += 1000) {
    profiler.addRows(rows.slice(offset, offset + 1000));
  }
  const report = profiler.finish();
  const time = seconds(start);
  collectGarbage();
  // The profiler is still referenced here: what it holds at the end.
  const heapGrowth = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - heapBefore;
  void profiler;
  return { time, report, heapGrowth };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const megabytes = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 100);
  const capIndex = args.indexOf('--near-cap');
  const nearDuplicateSampleCap = capIndex >= 0 ? Number(args[capIndex + 1]) : undefined;

  const lines = generate(megabytes);
  const bytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
  const rows: ParsedRow[] = lines.map((line, index) => ({
    line: index + 1,
    record: JSON.parse(line) as Record<string, unknown>,
    bytes: Buffer.byteLength(line),
  }));
  const folder = await mkdtemp(path.join(os.tmpdir(), 'profiler-bench-'));
  const file = path.join(folder, 'data.jsonl');
  await writeFile(file, lines.join('\n') + '\n');

  const runs = { parse: [] as number[], readline: [] as number[], validate: [] as number[], perRow: [] as number[] };
  const profiles = { plain: [] as number[], detector: [] as number[] };
  let report: QualityReport | undefined;
  let heapGrowth = 0;
  try {
    for (let round = 0; round < ROUNDS; round += 1) {
      collectGarbage();
      let start = performance.now();
      let keys = 0;
      for (const line of lines) {
        keys += (JSON.parse(line) as { label: string }).label.length;
      }
      runs.parse.push(seconds(start));
      if (keys === 0) {
        throw new Error('nothing parsed');
      }
      runs.readline.push(await readlineBaseline(file));

      start = performance.now();
      let invalid = 0;
      for (const row of rows) {
        if (validateRow(row.record, 'classification', SCHEMA, row.line)) {
          invalid += 1;
        }
      }
      runs.validate.push(seconds(start));
      if (invalid > 0) {
        throw new Error(`${invalid} generated rows are invalid`);
      }

      runs.perRow.push(profileOnce(rows, { nearDuplicateSampleCap: 0 }).time);
      const plain = profileOnce(rows, { nearDuplicateSampleCap });
      profiles.plain.push(plain.time);
      heapGrowth = plain.heapGrowth;
      const withDetector = profileOnce(rows, {
        nearDuplicateSampleCap,
        detectPersonalData: findPersonalData,
        maskValue,
      });
      profiles.detector.push(withDetector.time);
      report = withDetector.report;
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
  if (!report) {
    throw new Error('no report');
  }

  const parse = best(runs.parse);
  const readline = best(runs.readline);
  const validate = best(runs.validate);
  const perRow = best(runs.perRow);
  const profile = best(profiles.plain);
  const profileWithDetector = best(profiles.detector);
  const sampled = report.duplicates.near.sampleSize;
  const nearDuplicateSeconds = Math.max(0, profile - perRow);
  const megabytesTotal = bytes / 1e6;
  const rate = (time: number) => ({
    seconds: Number(time.toFixed(3)),
    rowsPerSecond: Math.round(rows.length / time),
    megabytesPerSecond: Number((megabytesTotal / time).toFixed(1)),
  });
  // At 1 GB the per-row costs scale and the near-duplicate sample does not.
  const scale = 1e9 / bytes;
  const at1GB = (profileTime: number) =>
    (readline * scale) /
    (readline * scale + validate * scale + (profileTime - nearDuplicateSeconds) * scale + nearDuplicateSeconds);
  console.log(
    JSON.stringify(
      {
        node: process.version,
        rows: rows.length,
        megabytes: Number(megabytesTotal.toFixed(1)),
        meanRowBytes: Math.round(bytes / rows.length),
        rounds: ROUNDS,
        note: 'best of the rounds; profile = addRows (batches of 1000) + finish on parsed records',
        baselineJsonParse: rate(parse),
        baselineReadlineJsonParse: rate(readline),
        validate: rate(validate),
        profileWithoutNearDuplicates: rate(perRow),
        profile: rate(profile),
        profileWithDetector: rate(profileWithDetector),
        nearDuplicates: {
          sampleSize: sampled,
          sampled: report.duplicates.near.sampled,
          secondsForSample: Number(nearDuplicateSeconds.toFixed(3)),
          microsecondsPerSampledRow: sampled > 0 ? Number(((nearDuplicateSeconds / sampled) * 1e6).toFixed(1)) : 0,
          duplicateRows: report.duplicates.near.duplicateRows,
        },
        ratios: {
          note: 'MB/s of (read + validate + profile) over the MB/s of the baseline, counting the reader as the baseline itself',
          versusJsonParse: Number((parse / (parse + validate + profileWithDetector)).toFixed(3)),
          versusReadline: Number((readline / (readline + validate + profileWithDetector)).toFixed(3)),
          versusReadlineEstimatedAt1GB: Number(at1GB(profileWithDetector).toFixed(3)),
        },
        exactDuplicateRows: report.duplicates.exact.duplicateRows,
        vocabulary: { size: report.diversity.vocabularySize, exact: report.diversity.vocabularyExact },
        memory: {
          ...report.memory,
          profilerHeapBytes: heapGrowth,
          peakRssBytes: process.resourceUsage().maxRSS * 1024,
          note: 'peak RSS includes the generated lines and parsed records held for the benchmark',
        },
        verdict: report.overall.verdict,
        reasons: report.overall.reasons,
      },
      null,
      2,
    ),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
