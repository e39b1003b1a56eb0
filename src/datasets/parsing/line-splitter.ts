import { isUtf8 } from 'node:buffer';

/** Receives the lines of a byte stream, in order. Line numbers are 1-based. */
export interface LineSink {
  /** A line of valid UTF-8 without its ending; `crlf` when it ended in `\r\n` rather than `\n`. */
  line(text: string, lineNumber: number, bytes: number, crlf: boolean): void;
  /** A line that is not valid UTF-8; `text` is decoded with U+FFFD replacement characters. */
  invalidLine(text: string, lineNumber: number, bytes: number, crlf: boolean): void;
  /** A line longer than the limit. Its content was never buffered: `prefix` is its first few bytes. */
  longLine(lineNumber: number, bytes: number, prefix: string): void;
}

const LF = 0x0a;
const CR = 0x0d;
const BOM = [0xef, 0xbb, 0xbf];
const PREFIX_BYTES = 64;

/**
 * Cuts a byte stream into lines at `\n` (a `\r` before it is dropped too) without per-byte
 * JavaScript: `Buffer.indexOf` finds the line ends and `isUtf8` validates a chunk's complete lines
 * in one call. Only the unfinished last line of a chunk is copied, into a buffer that never grows
 * past `maxLineBytes` (+1 for a `\r`); a longer line is counted and skipped, not stored.
 * A UTF-8 byte order mark at the very start is dropped. A lone `\r` is not a line ending.
 */
export class LineSplitter {
  /** Lines seen so far, including blank ones and a last line without a line ending. */
  lines = 0;
  private carry = Buffer.alloc(0);
  private carryLength = 0;
  /** Inside a line that passed the limit: count its bytes until its `\n`. */
  private skipping = false;
  private skippedBytes = 0;
  private skippedPrefix = '';
  private skippedLastByte = 0;
  /** Bytes held back at the start until we know whether they are a byte order mark. */
  private head: Buffer | undefined = Buffer.alloc(0);

  constructor(
    private sink: LineSink,
    private readonly maxLineBytes: number,
  ) {}

  setSink(sink: LineSink): void {
    this.sink = sink;
  }

  push(chunk: Buffer): void {
    if (this.head !== undefined) {
      const head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
      if (head.length < BOM.length) {
        this.head = head;
        return;
      }
      this.head = undefined;
      chunk = startsWithBom(head) ? head.subarray(BOM.length) : head;
    }
    let start = 0;
    const length = chunk.length;
    if (this.carryLength > 0 || this.skipping) {
      const lineEnd = chunk.indexOf(LF);
      if (lineEnd === -1) {
        this.append(chunk, 0, length);
        return;
      }
      this.append(chunk, 0, lineEnd);
      this.finishCarriedLine();
      start = lineEnd + 1;
    }
    if (start >= length) {
      return;
    }
    const lastLineEnd = chunk.lastIndexOf(LF);
    if (lastLineEnd >= start) {
      this.splitLines(chunk, start, lastLineEnd + 1);
      start = lastLineEnd + 1;
    }
    if (start < length) {
      this.append(chunk, start, length);
    }
  }

  /** The stream ended: hand over a last line that had no line ending. */
  end(): void {
    if (this.head !== undefined) {
      const head = this.head;
      this.head = undefined;
      if (head.length > 0) {
        this.push(head);
      }
    }
    if (this.carryLength > 0 || this.skipping) {
      this.finishCarriedLine();
    }
  }

  /** Complete lines in `chunk[start, end)`, which ends with `\n`. */
  private splitLines(chunk: Buffer, start: number, end: number): void {
    const region = chunk.subarray(start, end);
    if (!isUtf8(region)) {
      this.splitLinesChecked(chunk, start, end);
      return;
    }
    // One decode for the whole region. With ASCII text character and byte offsets coincide;
    // otherwise walk the bytes alongside to know each line's size in bytes.
    const text = region.toString('utf8');
    const sink = this.sink;
    const maxLineBytes = this.maxLineBytes;
    const ascii = text.length === region.length;
    let position = 0;
    let bytePosition = start;
    let lineNumber = this.lines;
    while (position < text.length) {
      const newline = text.indexOf('\n', position);
      let lineEnd = newline;
      let crlf = false;
      if (lineEnd > position && text.charCodeAt(lineEnd - 1) === CR) {
        lineEnd -= 1;
        crlf = true;
      }
      let bytes: number;
      if (ascii) {
        bytes = lineEnd - position;
      } else {
        const byteNewline = chunk.indexOf(LF, bytePosition);
        bytes = byteNewline - bytePosition - (crlf ? 1 : 0);
        bytePosition = byteNewline + 1;
      }
      lineNumber += 1;
      if (bytes > maxLineBytes) {
        sink.longLine(lineNumber, bytes, text.slice(position, position + PREFIX_BYTES));
      } else {
        sink.line(text.slice(position, lineEnd), lineNumber, bytes, crlf);
      }
      position = newline + 1;
    }
    this.lines = lineNumber;
  }

  /** Slow path for a region with invalid UTF-8 somewhere: validate line by line. */
  private splitLinesChecked(chunk: Buffer, start: number, end: number): void {
    let position = start;
    while (position < end) {
      const newline = chunk.indexOf(LF, position);
      this.emit(chunk, position, newline);
      position = newline + 1;
    }
  }

  /** One line: `buffer[start, end)` without the `\n` (a trailing `\r` is still there). */
  private emit(buffer: Buffer, start: number, end: number): void {
    let crlf = false;
    if (end > start && buffer[end - 1] === CR) {
      end -= 1;
      crlf = true;
    }
    const bytes = end - start;
    this.lines += 1;
    if (bytes > this.maxLineBytes) {
      this.sink.longLine(this.lines, bytes, buffer.toString('utf8', start, start + PREFIX_BYTES));
      return;
    }
    const line = buffer.subarray(start, end);
    if (isUtf8(line)) {
      this.sink.line(line.toString('utf8'), this.lines, bytes, crlf);
    } else {
      this.sink.invalidLine(line.toString('utf8'), this.lines, bytes, crlf);
    }
  }

  /** Keep `chunk[start, end)` as part of an unfinished line, or count it if the line is too long. */
  private append(chunk: Buffer, start: number, end: number): void {
    const size = end - start;
    if (this.skipping) {
      this.skippedBytes += size;
      if (size > 0) {
        this.skippedLastByte = chunk[end - 1];
      }
      return;
    }
    const needed = this.carryLength + size;
    // +1: the limit is on the content, and a `\r` of a `\r\n` may still be in the carry.
    if (needed > this.maxLineBytes + 1) {
      this.skipping = true;
      this.skippedBytes = needed;
      this.skippedLastByte = size > 0 ? chunk[end - 1] : this.carry[this.carryLength - 1];
      const fromCarry = Math.min(this.carryLength, PREFIX_BYTES);
      this.skippedPrefix =
        this.carry.toString('utf8', 0, fromCarry) +
        chunk.toString('utf8', start, start + Math.min(size, PREFIX_BYTES - fromCarry));
      this.carryLength = 0;
      return;
    }
    if (needed > this.carry.length) {
      const grown = Buffer.allocUnsafe(Math.min(Math.max(needed, this.carry.length * 2, 1024), this.maxLineBytes + 1));
      this.carry.copy(grown, 0, 0, this.carryLength);
      this.carry = grown;
    }
    chunk.copy(this.carry, this.carryLength, start, end);
    this.carryLength = needed;
  }

  private finishCarriedLine(): void {
    if (this.skipping) {
      this.skipping = false;
      this.lines += 1;
      const bytes = this.skippedBytes - (this.skippedLastByte === CR ? 1 : 0);
      this.sink.longLine(this.lines, bytes, this.skippedPrefix);
      this.skippedBytes = 0;
      this.skippedPrefix = '';
      return;
    }
    const length = this.carryLength;
    this.carryLength = 0;
    this.emit(this.carry, 0, length);
  }
}

function startsWithBom(buffer: Buffer): boolean {
  return buffer[0] === BOM[0] && buffer[1] === BOM[1] && buffer[2] === BOM[2];
}
