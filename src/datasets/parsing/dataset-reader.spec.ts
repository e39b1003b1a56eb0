import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { readDataset, readDatasetBatches, type ReadOptions } from './dataset-reader.js';
import { chunked, readAll, readFailure } from './parsing-test-helpers.js';

const JSONL: ReadOptions = { format: 'jsonl' };
const CSV: ReadOptions = { format: 'csv' };
const AUTO: ReadOptions = { format: 'auto' };
const CHUNKINGS = [1, 2, 3, 7, 64 * 1024];

describe('readDataset: JSONL', () => {
  it('yields objects with their line numbers and byte sizes, skipping blank lines', async () => {
    const { rows, errors, summary } = await readAll('{"text":"a","label":"x"}\n\n   \n{"text":"é"}\n', JSONL);
    assert.deepEqual(errors, []);
    assert.deepEqual(rows, [
      { line: 1, record: { text: 'a', label: 'x' }, bytes: 24 },
      { line: 4, record: { text: 'é' }, bytes: 13 },
    ]);
    assert.deepEqual(summary, {
      format: 'jsonl',
      compression: 'none',
      lines: 4,
      rows: 2,
      errorRows: 0,
      bytesRead: 44,
      bytesInflated: 44,
    });
  });

  it('accepts CRLF line endings, a UTF-8 byte order mark, and a last line without a line ending', async () => {
    for (const size of CHUNKINGS) {
      const { rows, errors, summary } = await readAll('\ufeff{"a":1}\r\n\r\n{"b":2}\r\n{"c":3}', AUTO, size);
      assert.deepEqual(errors, []);
      assert.deepEqual(rows, [
        { line: 1, record: { a: 1 }, bytes: 7 },
        { line: 3, record: { b: 2 }, bytes: 7 },
        { line: 4, record: { c: 3 }, bytes: 7 },
      ]);
      assert.equal(summary.lines, 4);
      assert.equal(summary.format, 'jsonl');
    }
  });

  it('reports lines that are not JSON, or not JSON objects, and goes on', async () => {
    const { rows, errors } = await readAll('{"a":1}\n{"a":\n[1,2]\n"text"\n42\nnull\n{"b":2}\n', JSONL);
    assert.deepEqual(
      rows.map((row) => row.line),
      [1, 7],
    );
    assert.equal(errors.length, 5);
    assert.equal(errors[0].line, 2);
    assert.match(errors[0].reason, /^not valid JSON: /);
    assert.deepEqual(
      errors.slice(1).map((error) => [error.line, error.reason]),
      [
        [3, 'not a JSON object'],
        [4, 'not a JSON object'],
        [5, 'not a JSON object'],
        [6, 'not a JSON object'],
      ],
    );
  });

  it('keeps the reason for bad JSON short even when the line is long', async () => {
    const { errors } = await readAll(`{"a": ${'x'.repeat(10_000)}}\n`, JSONL);
    assert.equal(errors.length, 1);
    assert.ok(errors[0].reason.length < 200, errors[0].reason);
  });

  it('decodes multi-byte characters split across chunks, one byte at a time', async () => {
    const text = 'héllo wörld 日本語 🙂🎉 ñ';
    const { rows, errors } = await readAll(`{"text":${JSON.stringify(text)}}\n{"x":"€"}\n`, JSONL, 1);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      rows.map((row) => row.record),
      [{ text }, { x: '€' }],
    );
    assert.equal(rows[0].bytes, Buffer.byteLength(`{"text":${JSON.stringify(text)}}`));
  });

  it('reports invalid UTF-8 per line and goes on', async () => {
    const invalid = [
      [0xff], // never valid
      [0xc3], // a lead byte without its continuation
      [0x80], // a lone continuation byte
      [0xc0, 0xaf], // overlong '/'
      [0xed, 0xa0, 0x80], // an encoded UTF-16 surrogate
      [0xf4, 0x90, 0x80, 0x80], // beyond U+10FFFF
    ];
    const parts: Buffer[] = [];
    for (const bytes of invalid) {
      parts.push(Buffer.from('{"text":"a'), Buffer.from(bytes), Buffer.from('"}\n{"ok":true}\n'));
    }
    for (const size of CHUNKINGS) {
      const { rows, errors } = await readAll(Buffer.concat(parts), JSONL, size);
      assert.deepEqual(
        errors,
        invalid.map((_bytes, index) => ({ line: index * 2 + 1, reason: 'invalid UTF-8' })),
      );
      assert.equal(rows.length, invalid.length);
      assert.ok(rows.every((row) => row.line % 2 === 0));
    }
  });

  it('treats a wrong format as bad lines when the format was given', async () => {
    const { rows, errors } = await readAll('text,label\nhello,positive\n', JSONL);
    assert.equal(rows.length, 0);
    assert.deepEqual(
      errors.map((error) => error.line),
      [1, 2],
    );
    assert.ok(errors.every((error) => error.reason.startsWith('not valid JSON')));
  });

  it('reads an empty upload as JSONL without rows', async () => {
    for (const input of ['', '\n\n', '\ufeff']) {
      const { rows, errors, summary } = await readAll(input, AUTO);
      assert.deepEqual([rows, errors, summary.format, summary.rows], [[], [], 'jsonl', 0]);
    }
  });
});

describe('readDataset: maxLineBytes', () => {
  const line = (size: number) => `{"t":"${'x'.repeat(size - 8)}"}`;

  it('accepts a line of exactly the limit, with either line ending', async () => {
    for (const size of [1, 5, 64 * 1024]) {
      const { rows, errors } = await readAll(`${line(100)}\n${line(100)}\r\n`, { ...JSONL, maxLineBytes: 100 }, size);
      assert.deepEqual(errors, []);
      assert.deepEqual(
        rows.map((row) => row.bytes),
        [100, 100],
      );
    }
  });

  it('reports a longer line and reads on, however the line is chunked', async () => {
    const input = `${line(50)}\n${line(101)}\r\n${line(50)}\n${line(5000)}\n${line(50)}\n${line(102)}`;
    for (const size of [1, 3, 64, 99, 100, 101, 64 * 1024]) {
      const { rows, errors, summary } = await readAll(input, { ...JSONL, maxLineBytes: 100 }, size);
      assert.deepEqual(errors, [
        { line: 2, reason: 'line is longer than 100 bytes (101 bytes)' },
        { line: 4, reason: 'line is longer than 100 bytes (5000 bytes)' },
        { line: 6, reason: 'line is longer than 100 bytes (102 bytes)' },
      ]);
      assert.deepEqual(
        rows.map((row) => row.line),
        [1, 3, 5],
      );
      assert.equal(summary.lines, 6);
    }
  });

  it('does not buffer an over-long line', async () => {
    // A 64 MiB line made of one reused 64 KiB chunk: memory stays flat unless the reader keeps it.
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    async function* source() {
      yield Buffer.from('{"a":1}\n{"t":"');
      for (let index = 0; index < 1024; index += 1) {
        yield chunk;
        await Promise.resolve();
      }
      yield Buffer.from('"}\n{"b":2}\n');
    }
    const before = process.memoryUsage().arrayBuffers;
    const { rows, errors } = await readAll(source(), { ...JSONL, maxLineBytes: 1024 * 1024 });
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.equal(rows.length, 2);
    assert.deepEqual(errors, [
      { line: 2, reason: `line is longer than 1048576 bytes (${64 * 1024 * 1024 + 8} bytes)` },
    ]);
    assert.ok(grown < 16 * 1024 * 1024, `array buffers grew by ${grown} bytes`);
  });
});

describe('readDataset: CSV', () => {
  it('reads records keyed by the header, with quoted delimiters, quotes and line breaks', async () => {
    const input = 'text,label\r\nhello,pos\r\n"a, b","say ""hi"""\r\n"two\r\nlines\nhere",neg\r\n,\r\n';
    for (const size of CHUNKINGS) {
      const { rows, errors, summary } = await readAll(input, AUTO, size);
      assert.deepEqual(errors, []);
      assert.deepEqual(rows, [
        { line: 2, record: { text: 'hello', label: 'pos' }, bytes: 9 },
        { line: 3, record: { text: 'a, b', label: 'say "hi"' }, bytes: 19 },
        { line: 4, record: { text: 'two\r\nlines\nhere', label: 'neg' }, bytes: 21 },
        { line: 7, record: { text: '', label: '' }, bytes: 1 },
      ]);
      assert.deepEqual(summary.header, ['text', 'label']);
      assert.equal(summary.format, 'csv');
      assert.equal(summary.lines, 7);
      assert.equal(summary.csvDelimiter, ',');
    }
  });

  it('trims header names, skips blank lines and keeps a quote inside an unquoted field', async () => {
    const { rows, errors, summary } = await readAll('\n text , label\n\nsay "hi",x\n\n', CSV);
    assert.deepEqual(errors, []);
    assert.deepEqual(summary.header, ['text', 'label']);
    assert.deepEqual(rows, [{ line: 4, record: { text: 'say "hi"', label: 'x' }, bytes: 10 }]);
  });

  it('reports ragged rows and reads on', async () => {
    const { rows, errors } = await readAll('a,b,c\n1,2,3\n1,2,3,4\n1,2\n"x,y",2,3\n', CSV);
    assert.deepEqual(errors, [
      { line: 3, reason: 'expected 3 fields, found 4' },
      { line: 4, reason: 'expected 3 fields, found 2' },
    ]);
    assert.deepEqual(
      rows.map((row) => row.record),
      [
        { a: '1', b: '2', c: '3' },
        { a: 'x,y', b: '2', c: '3' },
      ],
    );
  });

  it('reports text after a closing quote, naming the field', async () => {
    const { rows, errors } = await readAll('a,b\n1,"x"y\n2,3\n', CSV);
    assert.deepEqual(errors, [{ line: 2, field: 'b', reason: 'unexpected text after a closing quote' }]);
    assert.equal(rows.length, 1);
  });

  it('reports a quoted field left open at the end, at the line where its record starts', async () => {
    for (const size of [1, 64 * 1024]) {
      const { rows, errors } = await readAll('a,b\n1,2\n3,"open\nand on\n', CSV, size);
      assert.deepEqual(errors, [{ line: 3, reason: 'unterminated quoted field (the record starts at line 3)' }]);
      assert.equal(rows.length, 1);
    }
  });

  it('stops a quoted field at maxLineBytes and resyncs at the next line', async () => {
    const input = `a,b\n1,"${'x'.repeat(30)}\n${'y'.repeat(30)}\n${'z'.repeat(30)}\n2,3\n`;
    const { rows, errors } = await readAll(input, { ...CSV, maxLineBytes: 50 });
    assert.equal(errors[0].line, 2);
    assert.match(errors[0].reason, /^record is longer than 50 bytes/);
    // After the resync the rest of the runaway field is read as records of its own.
    assert.deepEqual(errors.slice(1), [{ line: 4, reason: 'expected 2 fields, found 1' }]);
    assert.deepEqual(rows, [{ line: 5, record: { a: '2', b: '3' }, bytes: 3 }]);
  });

  it('reports an over-long line and reads on', async () => {
    const { rows, errors } = await readAll(`a,b\n1,${'x'.repeat(100)}\n2,3\n`, { ...CSV, maxLineBytes: 50 }, 7);
    assert.deepEqual(errors, [{ line: 2, reason: 'line is longer than 50 bytes (102 bytes)' }]);
    assert.equal(rows.length, 1);
  });

  it('reports invalid UTF-8 for the record, keeping the quoting of the lines after it', async () => {
    const input = Buffer.concat([
      Buffer.from('a,b\n1,"bad '),
      Buffer.from([0xfe]),
      Buffer.from('\nstill quoted, b"\n2,"x\n'),
      Buffer.from([0xc3]),
      Buffer.from('"\n3,4\n'),
    ]);
    for (const size of [1, 64 * 1024]) {
      const { rows, errors } = await readAll(input, CSV, size);
      assert.deepEqual(errors, [
        { line: 2, reason: 'invalid UTF-8' },
        { line: 4, reason: 'invalid UTF-8' },
      ]);
      assert.deepEqual(rows, [{ line: 6, record: { a: '3', b: '4' }, bytes: 3 }]);
    }
  });

  it('uses the given delimiter, or sniffs one from the header', async () => {
    const semicolons = 'text;label\n"a;b";x\n';
    assert.deepEqual((await readAll(semicolons, { ...CSV, csvDelimiter: ';' })).rows[0].record, {
      text: 'a;b',
      label: 'x',
    });
    const sniffed = await readAll(semicolons, { ...AUTO, csvDelimiter: 'auto' });
    assert.equal(sniffed.summary.csvDelimiter, ';');
    assert.deepEqual(sniffed.rows[0].record, { text: 'a;b', label: 'x' });
    const tabs = await readAll('"a,b"\tc\n1\t2\n', { ...CSV, csvDelimiter: 'auto' });
    assert.equal(tabs.summary.csvDelimiter, '\t');
    assert.deepEqual(tabs.rows[0].record, { 'a,b': '1', c: '2' });
  });

  it('keeps a column named __proto__ as a field', async () => {
    const { rows } = await readAll('__proto__,b\n1,2\n', CSV);
    const record = rows[0].record;
    assert.equal(Object.getPrototypeOf(record), Object.prototype);
    assert.deepEqual(Object.entries(record), [
      ['__proto__', '1'],
      ['b', '2'],
    ]);
  });

  it('hands the header to onHeader before any row, which can stop reading (a missing label column)', async () => {
    const seen: string[][] = [];
    const { rows } = await readAll('text,label\n1,2\n', { ...CSV, onHeader: (header) => void seen.push([...header]) });
    assert.deepEqual(seen, [['text', 'label']]);
    assert.equal(rows.length, 1);

    const missingLabel = new Error('the label column "label" is missing');
    const reader = readDataset(chunked('text,category\nhello,x\n'), {
      ...CSV,
      onHeader: (header) => {
        if (!header.includes('label')) {
          throw missingLabel;
        }
      },
    });
    await assert.rejects(reader.next(), missingLabel);
  });

  it('needs a header with unique, non-empty names', async () => {
    for (const input of ['', '\n\n  \n', '\ufeff']) {
      assert.equal((await readFailure(input, CSV)).code, 'csv_no_header');
    }
    assert.equal((await readFailure('a,b,a\n1,2,3\n', CSV)).code, 'csv_duplicate_header');
    assert.equal((await readFailure('a, ,b\n1,2,3\n', CSV)).code, 'csv_invalid_header');
    assert.equal((await readFailure('a,"b\n', CSV)).code, 'csv_invalid_header');
    assert.equal((await readFailure('a,"b"c\n', CSV)).code, 'csv_invalid_header');
    assert.equal((await readFailure(Buffer.from([0x61, 0x2c, 0xff, 0x0a]), CSV)).code, 'csv_invalid_header');
    assert.equal(
      (await readFailure(`a,${'b'.repeat(100)}\n`, { ...CSV, maxLineBytes: 50 })).code,
      'csv_invalid_header',
    );
  });
});

describe('readDataset: what the upload is', () => {
  it('sniffs JSONL from a leading brace and CSV otherwise', async () => {
    assert.equal((await readAll('\n  {"a":1}\n', AUTO)).summary.format, 'jsonl');
    assert.equal((await readAll('a,b\n1,2\n', AUTO)).summary.format, 'csv');
  });

  it('refuses binary data, UTF-16 text, JSON arrays and other compression formats', async () => {
    const cases: Array<[string, Buffer, ReadOptions]> = [
      ['NUL bytes', Buffer.from('abc\u0000def\n1\n'), AUTO],
      ['NUL bytes, format given', Buffer.from('{"a":\u0000}\n'), JSONL],
      ['UTF-16LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n', 'utf16le')]), AUTO],
      ['JSON array', Buffer.from('[\n{"a":1}\n]\n'), AUTO],
      ['zip', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00]), AUTO],
      ['xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00]), { ...AUTO, compression: 'none' }],
      ['zstd', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x01]), CSV],
      ['bzip2', Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(4)]), AUTO],
    ];
    for (const [name, input, options] of cases) {
      const error = await readFailure(input, options, 1);
      assert.equal(error.code, 'unknown_format', name);
    }
  });

  it('reads a CSV whose header happens to start like a bzip2 file', async () => {
    assert.deepEqual((await readAll('BZh,x\n1,2\n', AUTO)).rows[0].record, { BZh: '1', x: '2' });
  });

  it('stops at maxInflatedBytes for plain input too', async () => {
    const input = '{"a":1}\n'.repeat(1000);
    const error = await readFailure(input, { ...JSONL, maxInflatedBytes: 4000 }, 1000);
    assert.equal(error.code, 'inflated_too_large');
    assert.equal(error.progress?.bytesInflated, 5000);
    assert.equal((await readAll(input, { ...JSONL, maxInflatedBytes: 8000 })).rows.length, 1000);
  });

  it('stops at maxInputBytes', async () => {
    const input = gzipSync('{"a":1}\n'.repeat(1000));
    const error = await readFailure(input, { ...JSONL, maxInputBytes: 20 }, 10);
    assert.equal(error.code, 'input_too_large');
  });

  it('rejects bad options', async () => {
    for (const options of [
      { ...CSV, csvDelimiter: '"' },
      { ...CSV, csvDelimiter: ';;' },
      { ...JSONL, maxLineBytes: 0 },
    ]) {
      await assert.rejects(readDatasetBatches(chunked('a\n'), options).next(), RangeError);
    }
  });
});

describe('readDataset: gzip', () => {
  const rowsText = Array.from({ length: 2000 }, (_value, index) => JSON.stringify({ text: `row ${index}` })).join('\n');

  it('inflates gzip, found by its magic bytes or as told, in any chunking', async () => {
    const compressed = gzipSync(rowsText);
    for (const options of [AUTO, { ...JSONL, compression: 'gzip' } as const]) {
      for (const size of [1, 13, 64 * 1024]) {
        const { rows, errors, summary } = await readAll(compressed, options, size);
        assert.equal(errors.length, 0);
        assert.equal(rows.length, 2000);
        assert.deepEqual(rows[1999], { line: 2000, record: { text: 'row 1999' }, bytes: 19 });
        assert.equal(summary.compression, 'gzip');
        assert.equal(summary.bytesRead, compressed.length);
        assert.equal(summary.bytesInflated, Buffer.byteLength(rowsText));
      }
    }
  });

  it('reads every member of a multi-member gzip file', async () => {
    const compressed = Buffer.concat([gzipSync('{"a":1}\n{"a":'), gzipSync('2}\n')]);
    const { rows } = await readAll(compressed, AUTO, 5);
    assert.deepEqual(
      rows.map((row) => row.record),
      [{ a: 1 }, { a: 2 }],
    );
  });

  it('stops a gzip bomb as soon as it passes maxInflatedBytes', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    const limit = 1024 * 1024;
    const started = process.hrtime.bigint();
    const error = await readFailure(bomb, { ...AUTO, maxInflatedBytes: limit }, 16 * 1024);
    const milliseconds = Number(process.hrtime.bigint() - started) / 1e6;
    assert.equal(error.code, 'inflated_too_large');
    const inflated = error.progress?.bytesInflated ?? 0;
    assert.ok(inflated > limit && inflated <= limit + 64 * 1024, `inflated ${inflated} bytes`);
    assert.ok(milliseconds < 2000, `took ${milliseconds} ms`);
  });

  it('reports gzip cut off half way as truncated', async () => {
    const compressed = gzipSync(rowsText);
    for (const cut of [3, 10, Math.floor(compressed.length / 2), compressed.length - 4]) {
      const error = await readFailure(compressed.subarray(0, cut), AUTO, 100);
      assert.equal(error.code, 'truncated_gzip', `cut at ${cut}`);
    }
  });

  it('reports damaged gzip as corrupt', async () => {
    const compressed = gzipSync(rowsText);
    const damaged = Buffer.from(compressed);
    damaged.fill(0xff, 20, 40);
    const badChecksum = Buffer.from(compressed);
    badChecksum[badChecksum.length - 6] ^= 0xff;
    for (const input of [damaged, badChecksum, Buffer.concat([compressed, Buffer.from('garbage')])]) {
      assert.equal((await readFailure(input, AUTO)).code, 'corrupt_gzip');
    }
    assert.equal((await readFailure('{"a":1}\n', { ...JSONL, compression: 'gzip' })).code, 'corrupt_gzip');
  });
});

describe('readDataset: the source and the consumer', () => {
  for (const gzip of [false, true]) {
    const label = gzip ? 'gzip' : 'plain';

    it(`passes the source's own error on promptly (${label})`, async () => {
      const data = '{"a":1}\n'.repeat(10);
      const disconnect = new Error('client disconnected');
      const source = new PassThrough();
      source.write(gzip ? gzipSync(data).subarray(0, 30) : data);
      setTimeout(() => source.destroy(disconnect), 20);
      const started = Date.now();
      await assert.rejects(readAll(source, AUTO), (error) => error === disconnect);
      assert.ok(Date.now() - started < 1000);
    });

    it(`stops the source when the consumer stops early (${label})`, async () => {
      const data = Buffer.from('{"a":1}\n'.repeat(100_000));
      const source = Readable.from(chunked(gzip ? gzipSync(data) : data, 4096), { objectMode: false });
      const reader = readDatasetBatches(source, AUTO);
      const first = await reader.next();
      assert.equal(first.done, false);
      await reader.return(undefined as never);
      await delay(10);
      assert.ok(source.destroyed);
    });
  }

  it('ends an async-iterable source when the consumer stops early', async () => {
    let finished = false;
    async function* source() {
      try {
        yield Buffer.from('{"a":1}\n');
        yield Buffer.from('{"a":2}\n');
        await delay(60_000);
      } finally {
        finished = true;
      }
    }
    for await (const item of readDataset(source(), AUTO)) {
      assert.equal(item.kind, 'row');
      break;
    }
    await delay(1);
    assert.ok(finished);
  });

  it('yields the same items one at a time as in batches', async () => {
    const input = '{"a":1}\nbad\n{"a":2}\n';
    const flat = [];
    const reader = readDataset(chunked(input, 3), JSONL);
    for (;;) {
      const next = await reader.next();
      if (next.done) {
        assert.equal(next.value.rows, 2);
        break;
      }
      flat.push(next.value);
    }
    assert.deepEqual(flat, (await readAll(input, JSONL, 3)).items);
  });

  it('accepts string chunks and typed arrays from a Node stream', async () => {
    const { rows } = await readAll(Readable.from(['{"a":', '1}\n', new Uint8Array([0x7b, 0x7d, 0x0a])]), AUTO);
    assert.deepEqual(
      rows.map((row) => row.record),
      [{ a: 1 }, {}],
    );
  });
});
