import type { DatasetRecord, ParsedRow, RowError } from '../dataset-types.js';

/** What the readers yield: a usable row, or why a line/record is not one. */
export type ReadItem = { kind: 'row'; row: ParsedRow } | { kind: 'error'; error: RowError };

/** Where the format parsers put their rows and errors; the reader hands `items` out as one batch. */
export class ReadItemCollector {
  items: ReadItem[] = [];
  rows = 0;
  errorRows = 0;

  row(line: number, record: DatasetRecord, bytes: number): void {
    this.rows += 1;
    this.items.push({ kind: 'row', row: { line, record, bytes } });
  }

  error(line: number, reason: string, field?: string): void {
    this.errorRows += 1;
    this.items.push({ kind: 'error', error: field === undefined ? { line, reason } : { line, field, reason } });
  }

  /** The items collected since the last call. */
  take(): ReadItem[] {
    const items = this.items;
    this.items = [];
    return items;
  }
}

/** Reasons shared by both formats. */
export const INVALID_UTF8 = 'invalid UTF-8';

export function lineTooLong(maxLineBytes: number, bytes: number): string {
  return `line is longer than ${maxLineBytes} bytes (${bytes} bytes)`;
}
