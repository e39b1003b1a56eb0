/**
 * POSIX tar (ustar, with pax extended headers for long names and large sizes, and GNU long names
 * on reading), streamed both ways: a model bundle of gigabytes never sits in memory.
 */
import { Readable } from 'node:stream';
import { ArchiveError, ByteReader } from './byte-reader.js';

const BLOCK = 512;

export interface TarEntry {
  /** Path inside the archive, `/`-separated, never absolute, never with `..`. */
  name: string;
  size: number;
  type: 'file' | 'directory' | 'other';
  /** The entry's bytes; must be read to the end (or `skip`ped) before the next entry is asked for. */
  body: Readable;
}

function field(header: Uint8Array, offset: number, length: number): string {
  let end = offset;
  while (end < offset + length && header[end] !== 0) {
    end++;
  }
  return Buffer.from(header.subarray(offset, end)).toString('utf8');
}

function octal(header: Uint8Array, offset: number, length: number, what: string): number {
  // GNU base-256 for values past 8 GiB: the first byte has its high bit set.
  if (header[offset] & 0x80) {
    let value = header[offset] & 0x7f;
    for (let i = offset + 1; i < offset + length; i++) {
      value = value * 256 + header[i];
    }
    if (!Number.isSafeInteger(value)) {
      throw new ArchiveError(`tar header: ${what} is too large`);
    }
    return value;
  }
  const text = field(header, offset, length).trim();
  if (text === '') {
    return 0;
  }
  if (!/^[0-7]+$/.test(text)) {
    throw new ArchiveError(`tar header: ${what} is not an octal number`);
  }
  return parseInt(text, 8);
}

function checksumMatches(header: Uint8Array): boolean {
  const stored = octal(header, 148, 8, 'checksum');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) {
    sum += i >= 148 && i < 156 ? 32 : header[i];
  }
  return sum === stored;
}

/** A safe relative path: no absolute paths, no `..`, no empty segments beyond a trailing slash. */
export function safeEntryName(raw: string): string {
  const name = raw.replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, '');
  if (name === '' || name.startsWith('/') || name.split('/').some((part) => part === '..' || part === '')) {
    throw new ArchiveError(`unsafe path in archive: ${JSON.stringify(raw.slice(0, 200))}`);
  }
  if (name.includes('\0')) {
    throw new ArchiveError('a path in the archive holds a NUL byte');
  }
  return name;
}

function parsePax(text: string): Map<string, string> {
  const records = new Map<string, string>();
  let rest = Buffer.from(text, 'utf8');
  while (rest.length > 0) {
    const space = rest.indexOf(0x20);
    const length = Number(rest.subarray(0, space).toString('ascii'));
    if (space <= 0 || !Number.isSafeInteger(length) || length <= space || length > rest.length) {
      throw new ArchiveError('tar: malformed pax extended header');
    }
    const record = rest.subarray(space + 1, length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) {
      records.set(record.slice(0, equals), record.slice(equals + 1));
    }
    rest = rest.subarray(length);
  }
  return records;
}

/** Pax and GNU long-name records are at most this large: they hold a path, not data. */
const MAX_META_BYTES = 1 << 20;

/** The entries of a tar stream, in order. */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(source);
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let emptyBlocks = 0;
  for (;;) {
    const header = await reader.readExactly(BLOCK, { allowEnd: true });
    if (header === undefined) {
      if (emptyBlocks === 0) {
        throw new ArchiveError('tar: the archive ends without its end-of-archive blocks');
      }
      return;
    }
    if (header.every((byte) => byte === 0)) {
      emptyBlocks++;
      if (emptyBlocks === 2) {
        return;
      }
      continue;
    }
    emptyBlocks = 0;
    if (!checksumMatches(header)) {
      throw new ArchiveError('tar: a header checksum does not match (not a tar file, or a corrupt one)');
    }
    const typeFlag = String.fromCharCode(header[156] || 0x30);
    const headerSize = octal(header, 124, 12, 'size');
    const size = pax.has('size') ? Number(pax.get('size')) : headerSize;
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new ArchiveError('tar: an entry size is invalid');
    }
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (typeFlag === 'x' || typeFlag === 'g' || typeFlag === 'L') {
      if (size > MAX_META_BYTES) {
        throw new ArchiveError('tar: an extended header is too large');
      }
      const data = Buffer.from(await reader.readExactly(size));
      await reader.skip(padding);
      if (typeFlag === 'x') {
        pax = parsePax(data.toString('utf8'));
      } else if (typeFlag === 'L') {
        longName = data.toString('utf8').replace(/\0+$/, '');
      }
      continue;
    }
    const prefix = field(header, 345, 155);
    const shortName = field(header, 0, 100);
    const rawName = pax.get('path') ?? longName ?? (prefix ? `${prefix}/${shortName}` : shortName);
    pax = new Map();
    longName = undefined;
    const type = typeFlag === '0' || typeFlag === '7' ? 'file' : typeFlag === '5' ? 'directory' : 'other';
    const end = reader.position + size;
    const body = Readable.from(reader.stream(size), { objectMode: false });
    yield { name: safeEntryName(rawName), size, type, body };
    if (!body.readableEnded && !body.destroyed) {
      // The caller did not read this entry: stop its stream, then skip what it left.
      await new Promise<void>((resolve) => {
        body.once('close', resolve);
        body.destroy();
      });
    }
    await reader.skip(end - reader.position);
    await reader.skip(padding);
  }
}

function writeString(header: Buffer, value: string, offset: number, length: number): void {
  header.write(value, offset, Math.min(length, Buffer.byteLength(value)), 'utf8');
}

function writeOctal(header: Buffer, value: number, offset: number, length: number): void {
  header.write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length, 'ascii');
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  // The length counts its own digits.
  const base = Buffer.byteLength(body);
  let total = base + String(base).length;
  if (String(total).length > String(base).length) {
    total = base + String(total).length;
  }
  return `${total}${body}`;
}

function headerBlock(name: string, size: number, typeFlag: string, modifiedSeconds: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  writeString(header, name, 0, 100);
  writeOctal(header, typeFlag === '5' ? 0o755 : 0o644, 100, 8);
  writeOctal(header, 0, 108, 8);
  writeOctal(header, 0, 116, 8);
  writeOctal(header, size, 124, 12);
  writeOctal(header, modifiedSeconds, 136, 12);
  header.fill(0x20, 148, 156);
  header.write(typeFlag, 156, 1, 'ascii');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const byte of header) {
    sum += byte;
  }
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return header;
}

export interface TarSourceEntry {
  name: string;
  size: number;
  body: () => Promise<AsyncIterable<Uint8Array>> | AsyncIterable<Uint8Array>;
}

/** Largest size the 12-byte octal field holds; larger entries get a pax `size` record. */
const MAX_OCTAL_SIZE = 0o77777777777;

/**
 * A tar stream of `entries` (each read only when its turn comes). Names longer than 100 bytes or
 * sizes past 8 GiB get a pax extended header, which every current tar reads.
 */
export async function* writeTar(entries: Iterable<TarSourceEntry>, modified = new Date(0)): AsyncGenerator<Buffer> {
  const seconds = Math.floor(modified.getTime() / 1000);
  for (const entry of entries) {
    const name = safeEntryName(entry.name);
    const records: string[] = [];
    if (Buffer.byteLength(name) > 100) {
      records.push(paxRecord('path', name));
    }
    if (entry.size > MAX_OCTAL_SIZE) {
      records.push(paxRecord('size', String(entry.size)));
    }
    if (records.length > 0) {
      const pax = Buffer.from(records.join(''), 'utf8');
      yield headerBlock(`PaxHeaders/${name}`.slice(0, 100), pax.length, 'x', seconds);
      yield pax;
      yield Buffer.alloc((BLOCK - (pax.length % BLOCK)) % BLOCK);
    }
    yield headerBlock(name.slice(0, 100), Math.min(entry.size, MAX_OCTAL_SIZE), '0', seconds);
    let written = 0;
    for await (const chunk of await entry.body()) {
      written += chunk.length;
      if (written > entry.size) {
        throw new ArchiveError(`tar: ${name} is longer than the ${entry.size} bytes announced`);
      }
      yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
    if (written !== entry.size) {
      throw new ArchiveError(`tar: ${name} has ${written} bytes, not the ${entry.size} announced`);
    }
    yield Buffer.alloc((BLOCK - (entry.size % BLOCK)) % BLOCK);
  }
  yield Buffer.alloc(BLOCK * 2);
}
