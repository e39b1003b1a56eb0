import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * The reference every dataset benchmark compares against: read a file's lines with readline and
 * JSON.parse each non-empty one. Returns the rows read.
 */
export async function readlineJsonRows(file: string, highWaterMark?: number): Promise<number> {
  let rows = 0;
  const input = createReadStream(file, highWaterMark === undefined ? {} : { highWaterMark });
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (line.length > 0) {
      JSON.parse(line);
      rows += 1;
    }
  }
  return rows;
}
