import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { ParsedRow } from '../dataset-types.js';
import { readAll } from './parsing-test-helpers.js';

const RUNS = { numRuns: 150 };
const GZIP_RUNS = { numRuns: 60 };

/** Characters that break naive readers, mixed with any printable grapheme (emoji, CJK, combining marks). */
const trickyUnit = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.constantFrom('"', '\\', '\n', '\r', '\r\n', ',', ';', '\t', '\u2028', '\u0001', ' ', '{'),
  },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
);
const trickyString = fc.string({ unit: trickyUnit, maxLength: 12 });

/** Chunk sizes the input is cut into, cycled: many tiny ones, some large. */
const chunkSizes = fc.array(fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 9, max: 5000 })), {
  minLength: 1,
  maxLength: 8,
});

const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    trickyString,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    tie('object'),
  ),
  object: fc.dictionary(trickyString, tie('value'), { maxKeys: 5 }),
}));
const records = fc.array(jsonValue.object, { maxLength: 25 });

interface Serialised {
  data: string;
  expected: ParsedRow[];
  lines: number;
}

/** JSONL with random line endings and blank lines, and the rows a reader must find in it. */
function toJsonl(values: Array<Record<string, unknown>>, endings: boolean[], blanks: boolean[]): Serialised {
  let data = '';
  let line = 1;
  const expected: ParsedRow[] = [];
  values.forEach((value, index) => {
    if (blanks[index % blanks.length]) {
      data += '\n';
      line += 1;
    }
    const text = JSON.stringify(value);
    expected.push({ line, record: JSON.parse(text) as Record<string, unknown>, bytes: Buffer.byteLength(text) });
    data += text + (endings[index % endings.length] ? '\r\n' : '\n');
    line += 1;
  });
  return { data, expected, lines: line - 1 };
}

/** One field as RFC 4180 writes it: quoted when it must be (or when `quote` says so). */
function csvField(value: string, quote: boolean): string {
  return quote || /[",\r\n]/.test(value) || value.length === 0 ? `"${value.replaceAll('"', '""')}"` : value;
}

function toCsv(header: string[], table: string[][], quoting: boolean[], endings: boolean[]): Serialised {
  let counter = 0;
  const row = (cells: string[]) => cells.map((cell) => csvField(cell, quoting[counter++ % quoting.length])).join(',');
  const headerText = row(header);
  let data = headerText + '\n';
  let line = 2 + countLineFeeds(headerText);
  const expected: ParsedRow[] = [];
  table.forEach((cells, index) => {
    const text = row(cells);
    expected.push({
      line,
      record: Object.fromEntries(header.map((name, column) => [name, cells[column]])),
      bytes: Buffer.byteLength(text),
    });
    data += text + (endings[index % endings.length] ? '\r\n' : '\n');
    line += 1 + countLineFeeds(text);
  });
  return { data, expected, lines: line - 1 };
}

function countLineFeeds(text: string): number {
  return text.split('\n').length - 1;
}

const csvTables = fc
  .uniqueArray(
    fc
      .string({ unit: trickyUnit, minLength: 1, maxLength: 8 })
      .map((name) => name.trim())
      .filter((name) => name.length > 0 && name !== '__proto__'),
    { minLength: 1, maxLength: 5 },
  )
  .chain((header) =>
    fc.record({
      header: fc.constant(header),
      table: fc.array(fc.array(trickyString, { minLength: header.length, maxLength: header.length }), {
        maxLength: 20,
      }),
      quoting: fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }),
      endings: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
    }),
  );

const jsonlInputs = fc.record({
  values: records,
  endings: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
  blanks: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
  bom: fc.boolean(),
});

async function assertRoundTrip(
  input: Serialised,
  bytes: Buffer,
  format: 'jsonl' | 'csv' | 'auto',
  sizes: number[],
): Promise<void> {
  const { rows, errors, summary } = await readAll(bytes, { format }, sizes);
  assert.deepEqual(errors, []);
  assert.deepEqual(rows, input.expected);
  assert.equal(summary.rows, input.expected.length);
  assert.equal(summary.lines, input.lines);
}

describe('readDataset: round trips (property-based)', () => {
  it('reads back any JSONL, however it is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(jsonlInputs, chunkSizes, async ({ values, endings, blanks, bom }, sizes) => {
        const input = toJsonl(values, endings, blanks);
        await assertRoundTrip(input, Buffer.from((bom ? '\ufeff' : '') + input.data), 'auto', sizes);
      }),
      RUNS,
    );
  });

  it('reads back any RFC 4180 CSV, however it is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(csvTables, chunkSizes, async ({ header, table, quoting, endings }, sizes) => {
        const input = toCsv(header, table, quoting, endings);
        await assertRoundTrip(input, Buffer.from(input.data), 'csv', sizes);
      }),
      RUNS,
    );
  });

  it('reads back JSONL and CSV through gzip, however the compressed bytes are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(jsonlInputs, csvTables, chunkSizes, async (jsonl, csv, sizes) => {
        const jsonlInput = toJsonl(jsonl.values, jsonl.endings, jsonl.blanks);
        await assertRoundTrip(jsonlInput, gzipSync(jsonlInput.data), 'auto', sizes);
        const csvInput = toCsv(csv.header, csv.table, csv.quoting, csv.endings);
        await assertRoundTrip(csvInput, gzipSync(csvInput.data), 'csv', sizes);
      }),
      GZIP_RUNS,
    );
  });
});
