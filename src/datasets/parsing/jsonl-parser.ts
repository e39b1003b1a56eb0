import type { DatasetRecord } from '../dataset-types.js';
import type { LineSink } from './line-splitter.js';
import { INVALID_UTF8, lineTooLong, type ReadItemCollector } from './read-items.js';

const MAX_REASON_LENGTH = 160;
const OPEN_BRACE = 0x7b;

/** JSON Lines: every non-blank line must be one JSON object. Blank (whitespace-only) lines are skipped. */
export class JsonlParser implements LineSink {
  constructor(
    private readonly out: ReadItemCollector,
    private readonly maxLineBytes: number,
  ) {}

  line(text: string, lineNumber: number, bytes: number): void {
    if (text.charCodeAt(0) !== OPEN_BRACE && isBlank(text)) {
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.out.error(lineNumber, `not valid JSON: ${shortReason(error)}`);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.out.error(lineNumber, 'not a JSON object');
      return;
    }
    this.out.row(lineNumber, value as DatasetRecord, bytes);
  }

  invalidLine(_text: string, lineNumber: number): void {
    this.out.error(lineNumber, INVALID_UTF8);
  }

  longLine(lineNumber: number, bytes: number): void {
    this.out.error(lineNumber, lineTooLong(this.maxLineBytes, bytes));
  }

  end(): void {
    // Nothing spans lines in JSONL.
  }
}

/** Only JSON whitespace (space, tab, CR, LF), or nothing at all. */
export function isBlank(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code !== 0x20 && code !== 0x09 && code !== 0x0d && code !== 0x0a) {
      return false;
    }
  }
  return true;
}

/** V8's message, which may quote the input: kept short so one bad line cannot make a huge report. */
function shortReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > MAX_REASON_LENGTH ? `${message.slice(0, MAX_REASON_LENGTH)}…` : message;
}
