import type { DatasetRecord } from '../dataset-types.js';
import { DatasetReadError } from './dataset-read-error.js';
import type { LineSink } from './line-splitter.js';
import { INVALID_UTF8, lineTooLong, type ReadItemCollector } from './read-items.js';

const QUOTE = 0x22;
/** Candidates when the delimiter is sniffed from the header line; the first wins a tie. */
const SNIFFED_DELIMITERS = [',', ';', '\t', '|'];

export interface CsvParserOptions {
  /** One character, or 'auto' to pick the most frequent of `, ; TAB |` in the header line. */
  delimiter: string;
  maxLineBytes: number;
  /** Called once with the header, before any row; may throw to stop reading. */
  onHeader?: (header: readonly string[]) => void;
}

/**
 * RFC 4180 CSV over the lines of a LineSplitter. The first record is the header (trimmed, non-empty,
 * unique names); every later record becomes an object of strings keyed by header name.
 *
 * - A quoted field may hold delimiters, `""` for a quote, and line breaks (kept as they were: `\n` or
 *   `\r\n`); its record is reported at the line where it starts.
 * - Lenient where common writers are sloppy: a quote inside an unquoted field is kept as a character.
 *   Text between a closing quote and the next delimiter makes the record an error.
 * - Empty lines between records are skipped (so a one-column CSV cannot hold an empty value).
 * - A record may not grow past `maxLineBytes`. When a quoted field does (often a stray quote), the
 *   record is reported as too long and reading resyncs at the next line, which starts a new record:
 *   the rest of the runaway field may then show up as further errors.
 */
export class CsvParser implements LineSink {
  header: string[] | undefined;
  private delimiter: string;
  private readonly maxLineBytes: number;
  private readonly onHeader: ((header: readonly string[]) => void) | undefined;
  private headerHasProto = false;

  // The record being read: only non-empty while a quoted field spans lines.
  private fields: string[] = [];
  private field = '';
  private inQuotes = false;
  private recordLine = 0;
  private recordBytes = 0;
  private recordCrlf = false;
  private recordError: string | undefined;
  private recordErrorField: string | undefined;

  constructor(
    private readonly out: ReadItemCollector,
    options: CsvParserOptions,
  ) {
    this.delimiter = options.delimiter;
    this.maxLineBytes = options.maxLineBytes;
    this.onHeader = options.onHeader;
  }

  /** The delimiter in use (known once the header line has been seen). */
  get resolvedDelimiter(): string {
    return this.delimiter;
  }

  line(text: string, lineNumber: number, bytes: number, crlf: boolean): void {
    if (this.inQuotes) {
      this.continueRecord(text, bytes, crlf);
      return;
    }
    if (text.length === 0) {
      return;
    }
    if (this.header !== undefined && text.indexOf('"') === -1) {
      this.finishRecord(text.split(this.delimiter), lineNumber, bytes);
      return;
    }
    this.startRecord(text, lineNumber, bytes, crlf);
  }

  invalidLine(text: string, lineNumber: number, bytes: number, crlf: boolean): void {
    if (this.header === undefined) {
      throw new DatasetReadError('csv_invalid_header', `The CSV header (line ${lineNumber}) is not valid UTF-8`);
    }
    // Parse the replacement-decoded text anyway, so quotes keep their meaning for the lines after it.
    if (this.inQuotes) {
      this.continueRecord(text, bytes, crlf, INVALID_UTF8);
    } else {
      this.startRecord(text, lineNumber, bytes, crlf, INVALID_UTF8);
    }
  }

  longLine(lineNumber: number, bytes: number): void {
    if (this.header === undefined) {
      throw new DatasetReadError(
        'csv_invalid_header',
        `The CSV header (line ${lineNumber}) is longer than ${this.maxLineBytes} bytes`,
      );
    }
    if (this.inQuotes) {
      this.out.error(this.recordLine, this.recordTooLong(this.recordBytes + bytes));
      this.resetRecord();
      return;
    }
    this.out.error(lineNumber, lineTooLong(this.maxLineBytes, bytes));
  }

  end(): void {
    if (this.inQuotes) {
      if (this.header === undefined) {
        throw new DatasetReadError('csv_invalid_header', 'The CSV header has an unterminated quoted field');
      }
      this.out.error(this.recordLine, `unterminated quoted field (the record starts at line ${this.recordLine})`);
      this.resetRecord();
    }
    if (this.header === undefined) {
      throw new DatasetReadError('csv_no_header', 'The CSV file is empty: it needs a header row');
    }
  }

  private startRecord(text: string, lineNumber: number, bytes: number, crlf: boolean, error?: string): void {
    if (this.header === undefined && this.delimiter === 'auto') {
      this.delimiter = sniffDelimiter(text);
    }
    this.recordLine = lineNumber;
    this.recordBytes = bytes;
    this.recordCrlf = crlf;
    this.recordError = error;
    this.recordErrorField = undefined;
    if (this.parse(text)) {
      this.finishParsedRecord();
    }
  }

  private continueRecord(text: string, bytes: number, crlf: boolean, error?: string): void {
    const size = this.recordBytes + (this.recordCrlf ? 2 : 1) + bytes;
    if (size > this.maxLineBytes) {
      if (this.header === undefined) {
        throw new DatasetReadError('csv_invalid_header', `The CSV header is longer than ${this.maxLineBytes} bytes`);
      }
      this.out.error(this.recordLine, this.recordTooLong(size));
      this.resetRecord();
      return;
    }
    this.field += this.recordCrlf ? '\r\n' : '\n';
    this.recordBytes = size;
    this.recordCrlf = crlf;
    if (error !== undefined && this.recordError === undefined) {
      this.recordError = error;
    }
    if (this.parse(text)) {
      this.finishParsedRecord();
    }
  }

  /** Reads `text` into the record in progress; true when the record ends with this line. */
  private parse(text: string): boolean {
    const delimiter = this.delimiter;
    const length = text.length;
    let position = 0;
    for (;;) {
      if (this.inQuotes) {
        const quote = text.indexOf('"', position);
        if (quote === -1) {
          this.field += text.slice(position);
          return false;
        }
        if (text.charCodeAt(quote + 1) === QUOTE) {
          this.field += text.slice(position, quote + 1);
          position = quote + 2;
          continue;
        }
        this.field += text.slice(position, quote);
        this.inQuotes = false;
        position = quote + 1;
        if (position >= length) {
          this.fields.push(this.field);
          this.field = '';
          return true;
        }
        if (text[position] !== delimiter) {
          this.noteError('unexpected text after a closing quote');
          const next = text.indexOf(delimiter, position);
          if (next === -1) {
            this.fields.push(this.field + text.slice(position));
            this.field = '';
            return true;
          }
          this.field += text.slice(position, next);
          position = next;
        }
        this.fields.push(this.field);
        this.field = '';
        position += 1;
        continue;
      }
      if (text.charCodeAt(position) === QUOTE) {
        this.inQuotes = true;
        position += 1;
        continue;
      }
      const next = text.indexOf(delimiter, position);
      if (next === -1) {
        this.fields.push(text.slice(position));
        return true;
      }
      this.fields.push(text.slice(position, next));
      position = next + 1;
    }
  }

  private noteError(reason: string): void {
    if (this.recordError === undefined) {
      this.recordError = reason;
      this.recordErrorField = this.header?.[this.fields.length];
    }
  }

  private finishParsedRecord(): void {
    const fields = this.fields;
    const error = this.recordError;
    const errorField = this.recordErrorField;
    this.resetRecord();
    if (error !== undefined) {
      if (this.header === undefined) {
        throw new DatasetReadError('csv_invalid_header', `The CSV header is malformed: ${error}`);
      }
      this.out.error(this.recordLine, error, errorField);
      return;
    }
    this.finishRecord(fields, this.recordLine, this.recordBytes);
  }

  private finishRecord(fields: string[], lineNumber: number, bytes: number): void {
    const header = this.header;
    if (header === undefined) {
      this.setHeader(fields);
      return;
    }
    if (fields.length !== header.length) {
      this.out.error(lineNumber, `expected ${header.length} fields, found ${fields.length}`);
      return;
    }
    const record: DatasetRecord = {};
    if (this.headerHasProto) {
      for (let index = 0; index < header.length; index += 1) {
        Object.defineProperty(record, header[index], {
          value: fields[index],
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    } else {
      for (let index = 0; index < header.length; index += 1) {
        record[header[index]] = fields[index];
      }
    }
    this.out.row(lineNumber, record, bytes);
  }

  private setHeader(fields: string[]): void {
    const header = fields.map((name) => name.trim());
    const seen = new Set<string>();
    for (const [index, name] of header.entries()) {
      if (name.length === 0) {
        throw new DatasetReadError('csv_invalid_header', `Column ${index + 1} of the CSV header has no name`);
      }
      if (seen.has(name)) {
        throw new DatasetReadError('csv_duplicate_header', `The CSV header names the column "${name}" twice`);
      }
      seen.add(name);
    }
    this.header = header;
    // Plain assignment of `__proto__` would set the prototype instead of a field.
    this.headerHasProto = seen.has('__proto__');
    this.onHeader?.(header);
  }

  private resetRecord(): void {
    this.fields = [];
    this.field = '';
    this.inQuotes = false;
  }

  private recordTooLong(bytes: number): string {
    return `record is longer than ${this.maxLineBytes} bytes (at least ${bytes} bytes)`;
  }
}

/** The candidate delimiter that occurs most often outside quotes in the header line. */
export function sniffDelimiter(headerLine: string): string {
  const unquoted = headerLine
    .split('"')
    .filter((_part, index) => index % 2 === 0)
    .join('');
  let best = SNIFFED_DELIMITERS[0];
  let bestCount = 0;
  for (const candidate of SNIFFED_DELIMITERS) {
    const count = unquoted.split(candidate).length - 1;
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  return best;
}
