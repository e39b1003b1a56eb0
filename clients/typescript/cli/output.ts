/**
 * What the CLI prints: JSON documents with `--json`, a redrawn status line on a terminal, and plain
 * lines (one per event) when the output is a pipe or a CI log.
 */
export class Output {
  private liveLine = false;

  constructor(
    readonly json: boolean,
    private readonly out: NodeJS.WriteStream = process.stdout,
    private readonly err: NodeJS.WriteStream = process.stderr,
  ) {}

  get interactive(): boolean {
    return !this.json && this.out.isTTY === true;
  }

  /** The command's result: the JSON document, or a human summary. */
  result(value: unknown, human: string): void {
    this.endLive();
    this.out.write(this.json ? `${JSON.stringify(value)}\n` : `${human}\n`);
  }

  /** A line of a running command (events, progress). With `--json` each is one JSON document. */
  line(text: string, value?: unknown): void {
    this.endLive();
    if (this.json) {
      if (value !== undefined) {
        this.out.write(`${JSON.stringify(value)}\n`);
      }
      return;
    }
    this.out.write(`${text}\n`);
  }

  /** A status line redrawn in place on a terminal; nothing when not interactive (lines carry it). */
  live(text: string): void {
    if (!this.interactive) {
      return;
    }
    const width = this.out.columns ?? 100;
    this.out.write(`\r\x1b[2K${text.length > width ? text.slice(0, width - 1) : text}`);
    this.liveLine = true;
  }

  warn(text: string): void {
    this.endLive();
    this.err.write(`${text}\n`);
  }

  private endLive(): void {
    if (this.liveLine) {
      this.out.write('\n');
      this.liveLine = false;
    }
  }
}

/** `[#####.....] 50%` */
export function progressBar(fraction: number, width = 24): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(clamped * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(clamped * 100)}%`;
}
