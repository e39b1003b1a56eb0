/**
 * ZIP (PKWARE APPNOTE 6.3), streamed: the writer emits entries with data descriptors (sizes and
 * CRC after the data) and ZIP64 records where sizes or offsets pass 4 GiB; the reader works from the
 * central directory over random access (a stored upload read by ranges), so any conforming archive
 * reads, whatever wrote it, with bounded memory.
 */
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { ArchiveError, ByteReader } from './byte-reader.js';
import { safeEntryName, type TarSourceEntry } from './tar.js';

const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EXTRA = 0x0001;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
const STORED = 0;
const DEFLATED = 8;
const MAX32 = 0xffffffff;
const MAX16 = 0xffff;

export type ZipSourceEntry = TarSourceEntry;

interface WrittenEntry {
  name: Buffer;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  offset: number;
}

function dosDateTime(date: Date): { time: number; date: number } {
  const year = Math.max(1980, date.getUTCFullYear());
  return {
    time: (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | Math.floor(date.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate(),
  };
}

/** A ZIP stream of `entries`, deflated unless `compress` is false (safetensors barely compress). */
export async function* writeZip(
  entries: Iterable<ZipSourceEntry>,
  options: { compress?: boolean; modified?: Date } = {},
): AsyncGenerator<Buffer> {
  const method = options.compress === false ? STORED : DEFLATED;
  const stamp = dosDateTime(options.modified ?? new Date(Date.UTC(1980, 0, 1)));
  const written: WrittenEntry[] = [];
  let offset = 0;
  const emit = (buffer: Buffer) => {
    offset += buffer.length;
    return buffer;
  };
  for (const entry of entries) {
    const name = Buffer.from(safeEntryName(entry.name), 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_HEADER, 0);
    local.writeUInt16LE(45, 4);
    local.writeUInt16LE(FLAG_DATA_DESCRIPTOR | FLAG_UTF8, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(stamp.time, 10);
    local.writeUInt16LE(stamp.date, 12);
    // CRC and sizes follow the data in the descriptor.
    local.writeUInt16LE(name.length, 26);
    const entryOffset = offset;
    yield emit(local);
    yield emit(name);
    let crc = 0;
    let size = 0;
    let compressedSize = 0;
    const source = Readable.from(await entry.body(), { objectMode: false });
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, callback: TransformCallback) {
        crc = zlib.crc32(chunk, crc);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    const body = method === DEFLATED ? source.pipe(measure).pipe(zlib.createDeflateRaw()) : source.pipe(measure);
    source.on('error', (error) => body.destroy(error));
    for await (const chunk of body as AsyncIterable<Buffer>) {
      compressedSize += chunk.length;
      yield emit(chunk);
    }
    if (size !== entry.size) {
      throw new ArchiveError(`zip: ${entry.name} has ${size} bytes, not the ${entry.size} announced`);
    }
    const zip64 = size >= MAX32 || compressedSize >= MAX32;
    const descriptor = Buffer.alloc(zip64 ? 24 : 16);
    descriptor.writeUInt32LE(DATA_DESCRIPTOR, 0);
    descriptor.writeUInt32LE(crc, 4);
    if (zip64) {
      descriptor.writeBigUInt64LE(BigInt(compressedSize), 8);
      descriptor.writeBigUInt64LE(BigInt(size), 16);
    } else {
      descriptor.writeUInt32LE(compressedSize, 8);
      descriptor.writeUInt32LE(size, 12);
    }
    yield emit(descriptor);
    written.push({ name, method, crc, compressedSize, size, offset: entryOffset });
  }

  const directoryOffset = offset;
  for (const entry of written) {
    const extra: Buffer[] = [];
    const needs64 = entry.size >= MAX32 || entry.compressedSize >= MAX32 || entry.offset >= MAX32;
    if (needs64) {
      const values = [entry.size, entry.compressedSize, entry.offset];
      const extraField = Buffer.alloc(4 + 8 * values.length);
      extraField.writeUInt16LE(ZIP64_EXTRA, 0);
      extraField.writeUInt16LE(8 * values.length, 2);
      values.forEach((value, index) => extraField.writeBigUInt64LE(BigInt(value), 4 + 8 * index));
      extra.push(extraField);
    }
    const extraBytes = Buffer.concat(extra);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(CENTRAL_HEADER, 0);
    header.writeUInt16LE((3 << 8) | 45, 4);
    header.writeUInt16LE(45, 6);
    header.writeUInt16LE(FLAG_DATA_DESCRIPTOR | FLAG_UTF8, 8);
    header.writeUInt16LE(entry.method, 10);
    header.writeUInt16LE(stamp.time, 12);
    header.writeUInt16LE(stamp.date, 14);
    header.writeUInt32LE(entry.crc, 16);
    header.writeUInt32LE(needs64 ? MAX32 : entry.compressedSize, 20);
    header.writeUInt32LE(needs64 ? MAX32 : entry.size, 24);
    header.writeUInt16LE(entry.name.length, 28);
    header.writeUInt16LE(extraBytes.length, 30);
    // Unix mode 0644 for a regular file, in the high half of the external attributes.
    header.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    header.writeUInt32LE(needs64 ? MAX32 : entry.offset, 42);
    yield emit(header);
    yield emit(entry.name);
    yield emit(extraBytes);
  }
  const directorySize = offset - directoryOffset;
  const needs64 = written.length >= MAX16 || directorySize >= MAX32 || directoryOffset >= MAX32;
  if (needs64) {
    const zip64End = Buffer.alloc(56);
    const zip64EndOffset = offset;
    zip64End.writeUInt32LE(ZIP64_END, 0);
    zip64End.writeBigUInt64LE(44n, 4);
    zip64End.writeUInt16LE(45, 12);
    zip64End.writeUInt16LE(45, 14);
    zip64End.writeBigUInt64LE(BigInt(written.length), 24);
    zip64End.writeBigUInt64LE(BigInt(written.length), 32);
    zip64End.writeBigUInt64LE(BigInt(directorySize), 40);
    zip64End.writeBigUInt64LE(BigInt(directoryOffset), 48);
    yield emit(zip64End);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(ZIP64_LOCATOR, 0);
    locator.writeBigUInt64LE(BigInt(zip64EndOffset), 8);
    locator.writeUInt32LE(1, 16);
    yield emit(locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
  end.writeUInt16LE(Math.min(written.length, MAX16), 8);
  end.writeUInt16LE(Math.min(written.length, MAX16), 10);
  end.writeUInt32LE(Math.min(directorySize, MAX32), 12);
  end.writeUInt32LE(Math.min(directoryOffset, MAX32), 16);
  yield emit(end);
}

/** Bytes of a stored file by range (`end` inclusive), as an ArtifactStore `get` gives them. */
export interface RandomAccessSource {
  size: number;
  read(start: number, end: number): Promise<AsyncIterable<Uint8Array>>;
}

export interface ZipEntry {
  name: string;
  size: number;
  compressedSize: number;
  type: 'file' | 'directory';
  /** The entry's bytes, inflated; the stream fails when the CRC or the size does not match. */
  open(): Promise<Readable>;
}

async function readRange(source: RandomAccessSource, start: number, length: number): Promise<Buffer> {
  if (start < 0 || start + length > source.size) {
    throw new ArchiveError('zip: a record points outside the file');
  }
  const reader = new ByteReader(await source.read(start, start + length - 1));
  try {
    return Buffer.from(await reader.readExactly(length));
  } finally {
    await reader.close();
  }
}

/** Largest central directory read at once: a model bundle has a handful of entries. */
const MAX_DIRECTORY_BYTES = 16 << 20;

/** The entries of a ZIP file, from its central directory. */
export async function readZip(source: RandomAccessSource): Promise<ZipEntry[]> {
  const tailLength = Math.min(source.size, 22 + MAX16);
  const tail = await readRange(source, source.size - tailLength, tailLength);
  let endAt = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY) {
      endAt = i;
      break;
    }
  }
  if (endAt < 0) {
    throw new ArchiveError('zip: no end-of-central-directory record (not a zip file, or a truncated one)');
  }
  let count = tail.readUInt16LE(endAt + 10);
  let directorySize = tail.readUInt32LE(endAt + 12);
  let directoryOffset = tail.readUInt32LE(endAt + 16);
  if (endAt >= 20 && tail.readUInt32LE(endAt - 20) === ZIP64_LOCATOR) {
    const zip64EndOffset = Number(tail.readBigUInt64LE(endAt - 20 + 8));
    const zip64End = await readRange(source, zip64EndOffset, 56);
    if (zip64End.readUInt32LE(0) !== ZIP64_END) {
      throw new ArchiveError('zip: the ZIP64 end record is missing');
    }
    count = Number(zip64End.readBigUInt64LE(32));
    directorySize = Number(zip64End.readBigUInt64LE(40));
    directoryOffset = Number(zip64End.readBigUInt64LE(48));
  }
  if (directorySize > MAX_DIRECTORY_BYTES) {
    throw new ArchiveError('zip: the central directory is too large');
  }
  const directory = await readRange(source, directoryOffset, directorySize);
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let index = 0; index < count; index++) {
    if (at + 46 > directory.length || directory.readUInt32LE(at) !== CENTRAL_HEADER) {
      throw new ArchiveError('zip: the central directory is corrupt');
    }
    const flags = directory.readUInt16LE(at + 8);
    const method = directory.readUInt16LE(at + 10);
    const crc = directory.readUInt32LE(at + 16);
    let compressedSize = directory.readUInt32LE(at + 20);
    let size = directory.readUInt32LE(at + 24);
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    let localOffset = directory.readUInt32LE(at + 42);
    const rawName = directory.subarray(at + 46, at + 46 + nameLength).toString(flags & FLAG_UTF8 ? 'utf8' : 'latin1');
    const extra = directory.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength);
    for (let e = 0; e + 4 <= extra.length;) {
      const id = extra.readUInt16LE(e);
      const length = extra.readUInt16LE(e + 2);
      if (id === ZIP64_EXTRA) {
        let field = e + 4;
        // Only the values saturated in the fixed header are present, in this order.
        if (size === MAX32) {
          size = Number(extra.readBigUInt64LE(field));
          field += 8;
        }
        if (compressedSize === MAX32) {
          compressedSize = Number(extra.readBigUInt64LE(field));
          field += 8;
        }
        if (localOffset === MAX32) {
          localOffset = Number(extra.readBigUInt64LE(field));
        }
      }
      e += 4 + length;
    }
    at += 46 + nameLength + extraLength + commentLength;
    if (flags & 0x0001) {
      throw new ArchiveError(`zip: ${JSON.stringify(rawName)} is encrypted`);
    }
    if (method !== STORED && method !== DEFLATED) {
      throw new ArchiveError(
        `zip: ${JSON.stringify(rawName)} uses compression method ${method} (only stored and deflate)`,
      );
    }
    const directoryEntry = rawName.endsWith('/');
    const name = safeEntryName(rawName);
    entries.push({
      name,
      size,
      compressedSize,
      type: directoryEntry ? 'directory' : 'file',
      open: async () => {
        const local = await readRange(source, localOffset, 30);
        if (local.readUInt32LE(0) !== LOCAL_HEADER) {
          throw new ArchiveError(`zip: the local header of ${name} is missing`);
        }
        const dataStart = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
        if (dataStart + compressedSize > source.size) {
          throw new ArchiveError(`zip: ${name} runs past the end of the file`);
        }
        const raw = Readable.from(
          compressedSize === 0 ? [] : await source.read(dataStart, dataStart + compressedSize - 1),
          { objectMode: false },
        );
        const check = crcCheck(name, crc, size);
        const done = method === STORED ? pipeline(raw, check) : pipeline(raw, zlib.createInflateRaw(), check);
        done.catch((error: unknown) => check.destroy(error as Error));
        return check;
      },
    });
  }
  return entries;
}

function crcCheck(name: string, expectedCrc: number, expectedSize: number): Transform {
  let crc = 0;
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      crc = zlib.crc32(chunk, crc);
      size += chunk.length;
      if (size > expectedSize) {
        callback(new ArchiveError(`zip: ${name} is longer than its recorded size`));
        return;
      }
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (size !== expectedSize || crc !== expectedCrc) {
        callback(new ArchiveError(`zip: ${name} fails its CRC or size check (corrupt archive)`));
        return;
      }
      callback();
    },
  });
}
