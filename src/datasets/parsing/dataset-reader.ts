/**
 * Streaming readers for dataset uploads (JSONL or CSV, optionally gzip-compressed) of any size,
 * with bounded memory: at most one chunk plus one line (`maxLineBytes`) is held at a time.
 *
 * Problems with single lines or records are yielded as `RowError`s and reading goes on:
 *   'invalid UTF-8' · 'line is longer than N bytes (M bytes)' · 'not valid JSON: …' · 'not a JSON object'
 *   · 'expected N fields, found M' · 'unterminated quoted field (…)' · 'record is longer than N bytes (…)'
 *   · 'unexpected text after a closing quote' (with `field`).
 * Problems with the upload as a whole throw a `DatasetReadError` (see its codes); an error of the
 * source itself (a client disconnect) is rethrown unchanged.
 *
 * Lines end at `\n` or `\r\n` and are numbered from 1, blank lines included. `ParsedRow.bytes` is
 * the size of the line (CSV: of the record, including line breaks inside it) in the decompressed
 * source, without its final line ending and without a byte order mark.
 */
import { Readable, pipeline } from 'node:stream';
import type { DatasetRecord } from '../dataset-types.js';
import { createGunzip } from 'node:zlib';
import { CsvParser } from './csv-parser.js';
import { DatasetReadError } from './dataset-read-error.js';
import { isBlank, JsonlParser } from './jsonl-parser.js';
import { LineSplitter, type LineSink } from './line-splitter.js';
import { ReadItemCollector, type ReadItem } from './read-items.js';
import { SourceReader, type DatasetSource } from './source-reader.js';

export { DatasetReadError, type DatasetReadErrorCode, type ReadProgress } from './dataset-read-error.js';
export type { ReadItem } from './read-items.js';
export type { DatasetSource } from './source-reader.js';

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_INFLATED_BYTES = 20 * 1024 ** 3;

export interface ReadOptions {
  /** 'auto': the first non-blank line decides: `{` means JSONL, anything else CSV (empty input: JSONL). */
  format: 'jsonl' | 'csv' | 'auto';
  /** Default 'auto': gzip when the data starts with the gzip magic bytes 1f 8b. */
  compression?: 'gzip' | 'none' | 'auto';
  /** Default 1 MiB. A longer line (CSV: record) is a RowError; it is skipped without being buffered. */
  maxLineBytes?: number;
  /**
   * Default 20 GiB. The most decompressed bytes to read (for plain input, the size limit);
   * passing it throws `inflated_too_large` at once, so a gzip bomb is never inflated in full.
   */
  maxInflatedBytes?: number;
  /**
   * The most bytes to take from the source (`input_too_large`). Default: `maxInflatedBytes` for gzip
   * input (which bounds what zlib may skip without output, such as trailing zeros); no separate
   * limit for plain input, where `maxInflatedBytes` already applies.
   */
  maxInputBytes?: number;
  /** Default ','. One character, or 'auto' to pick the most frequent of `, ; TAB |` in the header line. */
  csvDelimiter?: string;
  /** CSV: called once with the header, before any row; throw from it to stop reading. */
  onHeader?: (header: readonly string[]) => void;
}

export interface ReadSummary {
  format: 'jsonl' | 'csv';
  compression: 'gzip' | 'none';
  /** Lines in the decompressed input, blank ones included. */
  lines: number;
  rows: number;
  errorRows: number;
  /** Bytes taken from the source (compressed bytes for gzip). */
  bytesRead: number;
  /** Bytes after decompression (equal to `bytesRead` for plain input). */
  bytesInflated: number;
  /** CSV only. */
  header?: string[];
  /** CSV only: the delimiter used (useful with `csvDelimiter: 'auto'`). */
  csvDelimiter?: string;
}

/** Magic numbers of formats that people upload by mistake; -1 matches any byte. */
const FOREIGN_MAGIC: ReadonlyArray<{ name: string; bytes: number[] }> = [
  { name: 'zip (or xlsx)', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { name: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: 'zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  // 'BZh', the block size digit, then the block magic (pi): 'BZh' alone could start a CSV header.
  { name: 'bzip2', bytes: [0x42, 0x5a, 0x68, -1, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59] },
  { name: '7z', bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  { name: 'xls (OLE)', bytes: [0xd0, 0xcf, 0x11, 0xe0] },
];
const MAGIC_BYTES = 10;
const GZIP_MAGIC = [0x1f, 0x8b];
/** Chunks are split to bound the size of a batch and of the strings decoded at once. */
const MAX_SLICE_BYTES = 128 * 1024;
const GUNZIP_CHUNK_BYTES = 64 * 1024;

/**
 * Reads a dataset, yielding one batch of rows and row errors per chunk of input (empty batches are
 * not yielded). Returns the summary when the input is exhausted. Stopping early (`return()`, or
 * `break` in `for await`) stops the source and the decompressor.
 */
export async function* readDatasetBatches(
  source: DatasetSource,
  options: ReadOptions,
): AsyncGenerator<ReadItem[], ReadSummary, undefined> {
  const read = new DatasetRead(source, options);
  yield* read.batches();
  return read.summary();
}

/**
 * Limits for reading files the service stored itself: they passed the upload limits already, which
 * an operator may have raised, so reading them back must not refuse what was accepted.
 */
export const STORED_FILE_LIMITS = { maxLineBytes: 64 * 1024 * 1024, maxInflatedBytes: Number.MAX_SAFE_INTEGER };

/** Every record of a dataset in order, for work that needs them all at once; unreadable rows are skipped. */
export async function readAllRecords(source: DatasetSource, options: ReadOptions): Promise<DatasetRecord[]> {
  const records: DatasetRecord[] = [];
  for await (const batch of readDatasetBatches(source, options)) {
    for (const item of batch) {
      if (item.kind === 'row') {
        records.push(item.row.record);
      }
    }
  }
  return records;
}

/** Like `readDatasetBatches`, one item at a time (slower per row: prefer the batches in hot paths). */
export async function* readDataset(
  source: DatasetSource,
  options: ReadOptions,
): AsyncGenerator<ReadItem, ReadSummary, undefined> {
  const read = new DatasetRead(source, options);
  for await (const batch of read.batches()) {
    yield* batch;
  }
  return read.summary();
}

interface Settings {
  format: 'jsonl' | 'csv' | 'auto';
  compression: 'gzip' | 'none' | 'auto';
  maxLineBytes: number;
  maxInflatedBytes: number;
  /** undefined: `maxInflatedBytes` for gzip input, unlimited (beyond `maxInflatedBytes`) for plain input. */
  maxInputBytes: number | undefined;
  csvDelimiter: string;
  onHeader: ((header: readonly string[]) => void) | undefined;
}

function resolveSettings(options: ReadOptions): Settings {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const maxInflatedBytes = options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  const maxInputBytes = options.maxInputBytes;
  const csvDelimiter = options.csvDelimiter ?? ',';
  for (const [name, value] of Object.entries({ maxLineBytes, maxInflatedBytes, maxInputBytes: maxInputBytes ?? 1 })) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`${name} must be a positive integer, not ${value}`);
    }
  }
  if (csvDelimiter !== 'auto' && (csvDelimiter.length !== 1 || '"\r\n'.includes(csvDelimiter))) {
    throw new RangeError(`csvDelimiter must be one character other than a quote or line break, or 'auto'`);
  }
  return {
    format: options.format,
    compression: options.compression ?? 'auto',
    maxLineBytes,
    maxInflatedBytes,
    maxInputBytes,
    csvDelimiter,
    onHeader: options.onHeader,
  };
}

/** One read of one source: the stages and the counts the summary is made of. */
class DatasetRead {
  private readonly settings: Settings;
  private readonly input: SourceReader;
  private readonly collector = new ReadItemCollector();
  private readonly formatSniffer: FormatSniffer;
  private readonly splitter: LineSplitter;
  private compression: 'gzip' | 'none' = 'none';
  private bytesInflated = 0;

  constructor(source: DatasetSource, options: ReadOptions) {
    this.settings = resolveSettings(options);
    this.input = new SourceReader(source, this.settings.maxInputBytes ?? Infinity);
    this.formatSniffer = new FormatSniffer(this.settings, this.collector, (parser) => this.splitter.setSink(parser));
    this.splitter = new LineSplitter(this.formatSniffer, this.settings.maxLineBytes);
  }

  async *batches(): AsyncGenerator<ReadItem[], void, undefined> {
    try {
      this.compression = detectCompression(this.settings.compression, await this.input.peek(MAGIC_BYTES));
      if (this.compression === 'gzip') {
        this.input.maxInputBytes = this.settings.maxInputBytes ?? this.settings.maxInflatedBytes;
      }
      const chunks = this.compression === 'gzip' ? gunzip(this.input) : this.input;
      const { maxInflatedBytes } = this.settings;
      for await (const chunk of chunks) {
        this.bytesInflated += chunk.length;
        if (this.bytesInflated > maxInflatedBytes) {
          throw new DatasetReadError(
            'inflated_too_large',
            this.compression === 'gzip'
              ? `The decompressed dataset is larger than ${maxInflatedBytes} bytes`
              : `The dataset is larger than ${maxInflatedBytes} bytes`,
          );
        }
        for (let offset = 0; offset < chunk.length; offset += MAX_SLICE_BYTES) {
          this.splitter.push(
            offset === 0 && chunk.length <= MAX_SLICE_BYTES ? chunk : chunk.subarray(offset, offset + MAX_SLICE_BYTES),
          );
          if (this.collector.items.length > 0) {
            yield this.collector.take();
          }
        }
      }
      this.splitter.end();
      this.formatSniffer.end();
      if (this.collector.items.length > 0) {
        yield this.collector.take();
      }
    } catch (error) {
      if (error instanceof DatasetReadError) {
        error.progress ??= {
          lines: this.splitter.lines,
          bytesRead: this.input.bytesRead,
          bytesInflated: this.bytesInflated,
        };
      }
      throw error;
    } finally {
      this.input.close();
    }
  }

  summary(): ReadSummary {
    const parser = this.formatSniffer.parser;
    const summary: ReadSummary = {
      format: this.formatSniffer.format ?? 'jsonl',
      compression: this.compression,
      lines: this.splitter.lines,
      rows: this.collector.rows,
      errorRows: this.collector.errorRows,
      bytesRead: this.input.bytesRead,
      bytesInflated: this.bytesInflated,
    };
    if (parser instanceof CsvParser) {
      summary.header = parser.header;
      summary.csvDelimiter = parser.resolvedDelimiter;
    }
    return summary;
  }
}

function detectCompression(requested: Settings['compression'], head: Buffer): 'gzip' | 'none' {
  if (requested === 'gzip') {
    return 'gzip';
  }
  if (requested === 'auto' && startsWith(head, GZIP_MAGIC)) {
    return 'gzip';
  }
  const foreign = FOREIGN_MAGIC.find((magic) => startsWith(head, magic.bytes));
  if (foreign !== undefined) {
    throw new DatasetReadError(
      'unknown_format',
      `The upload is ${foreign.name} data: upload JSONL or CSV, plain or gzip-compressed`,
    );
  }
  return 'none';
}

function startsWith(buffer: Buffer, bytes: readonly number[]): boolean {
  return buffer.length >= bytes.length && bytes.every((byte, index) => byte === -1 || buffer[index] === byte);
}

/** Inflates gzip (all members) lazily: the decompressor only runs as far ahead as its buffer allows. */
async function* gunzip(input: SourceReader): AsyncGenerator<Buffer, void, undefined> {
  const inflater = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
  // Errors surface through the iteration of `inflater`, which pipeline destroys with them; destroying
  // `inflater` ends the source through Readable.from's call of `input.return()`.
  pipeline(Readable.from(input, { objectMode: false }), inflater, () => undefined);
  try {
    for await (const chunk of inflater) {
      yield chunk as Buffer;
    }
  } catch (error) {
    throw error === input.failure ? error : gzipError(error);
  } finally {
    inflater.destroy();
  }
}

function gzipError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'Z_BUF_ERROR') {
    return new DatasetReadError('truncated_gzip', 'The gzip data ends too early: the upload is incomplete', {
      cause: error,
    });
  }
  if (typeof code === 'string' && code.startsWith('Z_')) {
    const message = error instanceof Error ? error.message : code;
    return new DatasetReadError('corrupt_gzip', `The gzip data is damaged: ${message}`, { cause: error });
  }
  return error;
}

/**
 * Sits in front of the format parser until the first non-blank line, which decides the format when
 * it is 'auto' and is checked for binary data (a NUL byte: binary files, UTF-16 text) either way.
 * Leading blank lines are skipped in both formats.
 */
class FormatSniffer implements LineSink {
  format: 'jsonl' | 'csv' | undefined;
  parser: JsonlParser | CsvParser | undefined;

  constructor(
    private readonly settings: Settings,
    private readonly collector: ReadItemCollector,
    private readonly onParser: (parser: JsonlParser | CsvParser) => void,
  ) {}

  line(text: string, lineNumber: number, bytes: number, crlf: boolean): void {
    if (this.parser === undefined && isBlank(text)) {
      return;
    }
    (this.parser ?? this.decide(text)).line(text, lineNumber, bytes, crlf);
  }

  invalidLine(text: string, lineNumber: number, bytes: number, crlf: boolean): void {
    (this.parser ?? this.decide(text)).invalidLine(text, lineNumber, bytes, crlf);
  }

  longLine(lineNumber: number, bytes: number, prefix: string): void {
    (this.parser ?? this.decide(prefix)).longLine(lineNumber, bytes);
  }

  end(): void {
    (this.parser ?? this.create(this.settings.format === 'auto' ? 'jsonl' : this.settings.format)).end();
  }

  private decide(firstLine: string): JsonlParser | CsvParser {
    if (firstLine.includes('\u0000')) {
      throw new DatasetReadError(
        'unknown_format',
        'The upload looks like binary data or UTF-16 text: upload UTF-8 JSONL or CSV',
      );
    }
    let format = this.settings.format;
    if (format === 'auto') {
      const first = firstLine.trimStart()[0];
      if (first === '[') {
        throw new DatasetReadError(
          'unknown_format',
          'The upload looks like a JSON array: upload JSON Lines, one object per line',
        );
      }
      format = first === '{' ? 'jsonl' : 'csv';
    }
    return this.create(format);
  }

  private create(format: 'jsonl' | 'csv'): JsonlParser | CsvParser {
    const { maxLineBytes, csvDelimiter, onHeader } = this.settings;
    const parser =
      format === 'jsonl'
        ? new JsonlParser(this.collector, maxLineBytes)
        : new CsvParser(this.collector, { delimiter: csvDelimiter, maxLineBytes, onHeader });
    this.format = format;
    this.parser = parser;
    this.onParser(parser);
    return parser;
  }
}
