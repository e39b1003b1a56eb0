/**
 * The Hugging Face safetensors format: an 8-byte little-endian u64 header length N, N bytes of JSON
 * header (padded with spaces to a multiple of 8), then the tensors' bytes, sorted, contiguous, with
 * offsets relative to the start of that byte buffer.
 *
 * Files come from users and the hub, so every field is checked before it is used: a corrupt or
 * hostile file ends in a SafetensorsError naming the problem, never a RangeError or a huge allocation.
 */
import { decodeBf16, decodeF16 } from './half-float.js';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface NamedTensor {
  dtype: 'F32' | 'I32';
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface DecodedSafetensors {
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
}

export interface SafetensorsTensorInfo {
  dtype: SafetensorsDtype;
  shape: number[];
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  tensors: Record<string, SafetensorsTensorInfo>;
  metadata: Record<string, string>;
  /** Where the byte buffer starts in the file: 8 + N. */
  dataStart: number;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

const DTYPE_SIZES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** The reference implementation's limit: no legitimate header comes near it. */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_SIZES, value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own-property assignment: a tensor called "__proto__" must not replace the record's prototype. */
function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The element count of `shape`, or an error when a dimension is not a non-negative safe integer. */
function elementCount(shape: unknown, what: string): number {
  if (!Array.isArray(shape)) {
    throw new SafetensorsError(`${what}: shape must be an array of non-negative integers`);
  }
  let count = 1;
  for (const [axis, dimension] of (shape as unknown[]).entries()) {
    if (typeof dimension !== 'number' || !Number.isSafeInteger(dimension) || dimension < 0) {
      throw new SafetensorsError(
        `${what}: shape dimension ${axis} is ${summarize(dimension)}, not a non-negative integer`,
      );
    }
    count *= dimension;
  }
  // A product past 2^53 is inexact, and no file holds that many elements anyway.
  if (!Number.isSafeInteger(count)) {
    throw new SafetensorsError(`${what}: shape ${shapeText(shape as number[])} has too many elements`);
  }
  return count;
}

/** Names come from the file: quote them, and cut the very long ones so errors stay readable. */
function describe(name: string): string {
  return `tensor ${describeString(name)}`;
}

/** A short description of an untrusted value: never JSON.stringify it (deep nesting overflows the stack). */
function summarize(value: unknown): string {
  if (typeof value === 'string') {
    return describeString(value);
  }
  if (Array.isArray(value)) {
    return `an array of ${value.length}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return String(value);
  }
  return `a${typeof value === 'object' ? 'n object' : ` ${typeof value}`}`;
}

function describeString(value: string): string {
  return value.length > 200 ? `${JSON.stringify(value.slice(0, 200))}...` : JSON.stringify(value);
}

function shapeText(shape: number[]): string {
  return shape.length > 16
    ? `[${shape.slice(0, 16).join(', ')}, ... (${shape.length} dimensions)]`
    : `[${shape.join(', ')}]`;
}

/**
 * Parses and validates the header; the offsets are checked against the file's actual length.
 * `bytes` may be just the start of the file (at least the header) when `fileLength` says how long
 * the whole file is, so a large file can be checked before its tensors are read.
 */
export function readSafetensorsHeader(bytes: Uint8Array, fileLength = bytes.length): SafetensorsHeader {
  if (bytes.length < 8) {
    throw new SafetensorsError(`file too short: ${bytes.length} bytes, the header length alone takes 8`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  if (high !== 0 || low > MAX_HEADER_BYTES) {
    throw new SafetensorsError(`header length ${high * 2 ** 32 + low} is over the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const headerLength = low;
  const dataStart = 8 + headerLength;
  if (dataStart > fileLength) {
    throw new SafetensorsError(`header length ${headerLength} runs past the end of the ${fileLength}-byte file`);
  }
  if (dataStart > bytes.length) {
    throw new SafetensorsError(`only ${bytes.length} bytes were given of a ${headerLength}-byte header`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    throw new SafetensorsError('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) {
    throw new SafetensorsError('header is not a JSON object');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SafetensorsError(`header is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isPlainObject(parsed)) {
    throw new SafetensorsError('header is not a JSON object');
  }

  const dataLength = fileLength - dataStart;
  const tensors: Record<string, SafetensorsTensorInfo> = {};
  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (name === METADATA_KEY) {
      if (value === null) {
        continue;
      }
      if (!isPlainObject(value)) {
        throw new SafetensorsError('__metadata__ must be an object of strings');
      }
      for (const [key, entry] of Object.entries(value)) {
        if (typeof entry !== 'string') {
          throw new SafetensorsError(`__metadata__ ${describeString(key)} is not a string`);
        }
        setOwn(metadata, key, entry);
      }
      continue;
    }
    const what = describe(name);
    if (!isPlainObject(value)) {
      throw new SafetensorsError(`${what}: entry must be an object with dtype, shape and data_offsets`);
    }
    const { dtype, shape, data_offsets: offsets } = value;
    if (!isDtype(dtype)) {
      throw new SafetensorsError(`${what}: unknown dtype ${summarize(dtype)}`);
    }
    const count = elementCount(shape, what);
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((offset) => typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0)
    ) {
      throw new SafetensorsError(`${what}: data_offsets must be two non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength) {
      throw new SafetensorsError(
        `${what}: data_offsets [${begin}, ${end}] are out of range (byte buffer is ${dataLength} bytes)`,
      );
    }
    const expected = count * DTYPE_SIZES[dtype];
    if (end - begin !== expected) {
      throw new SafetensorsError(
        `${what}: ${dtype} shape ${shapeText(shape as number[])} needs ${expected} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`,
      );
    }
    setOwn(tensors, name, { dtype, shape: [...(shape as number[])], dataOffsets: [begin, end] });
    spans.push({ name, begin, end });
  }

  // Sorted by offset the tensors must tile the byte buffer exactly: no overlap, no hole, no tail.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let position = 0;
  for (const span of spans) {
    if (span.begin < position) {
      throw new SafetensorsError(`${describe(span.name)}: data_offsets overlap the previous tensor`);
    }
    if (span.begin > position) {
      throw new SafetensorsError(`${describe(span.name)}: hole of ${span.begin - position} bytes before its data`);
    }
    position = span.end;
  }
  if (position !== dataLength) {
    throw new SafetensorsError(`${dataLength - position} bytes after the last tensor belong to no tensor`);
  }
  return { tensors, metadata, dataStart };
}

function readInts(
  name: string,
  dtype: 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL',
  view: DataView,
  out: Int32Array,
): void {
  const count = out.length;
  switch (dtype) {
    case 'I64':
      for (let index = 0; index < count; index += 1) {
        const value = view.getBigInt64(8 * index, true);
        if (value < -2147483648n || value > 2147483647n) {
          throw new SafetensorsError(`${describe(name)}: I64 value ${value} at index ${index} does not fit in int32`);
        }
        out[index] = Number(value);
      }
      return;
    case 'I32':
      for (let index = 0; index < count; index += 1) {
        out[index] = view.getInt32(4 * index, true);
      }
      return;
    case 'I16':
      for (let index = 0; index < count; index += 1) {
        out[index] = view.getInt16(2 * index, true);
      }
      return;
    case 'I8':
      for (let index = 0; index < count; index += 1) {
        out[index] = view.getInt8(index);
      }
      return;
    case 'U8':
      for (let index = 0; index < count; index += 1) {
        out[index] = view.getUint8(index);
      }
      return;
    case 'BOOL':
      for (let index = 0; index < count; index += 1) {
        out[index] = view.getUint8(index) === 0 ? 0 : 1;
      }
      return;
  }
}

function decodeTensor(name: string, info: SafetensorsTensorInfo, bytes: Uint8Array): NamedTensor {
  const count = info.shape.reduce((product, dimension) => product * dimension, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (info.dtype) {
    case 'F32': {
      const data = new Float32Array(count);
      if (LITTLE_ENDIAN_HOST) {
        // A copy, not a view: the input may be unaligned and the caller may reuse its buffer.
        new Uint8Array(data.buffer).set(bytes);
      } else {
        for (let index = 0; index < count; index += 1) {
          data[index] = view.getFloat32(4 * index, true);
        }
      }
      return { dtype: 'F32', shape: info.shape, data };
    }
    case 'F64': {
      const data = new Float32Array(count);
      for (let index = 0; index < count; index += 1) {
        data[index] = view.getFloat64(8 * index, true);
      }
      return { dtype: 'F32', shape: info.shape, data };
    }
    case 'F16': {
      const data = new Float32Array(count);
      decodeF16(bytes, data);
      return { dtype: 'F32', shape: info.shape, data };
    }
    case 'BF16': {
      const data = new Float32Array(count);
      decodeBf16(bytes, data);
      return { dtype: 'F32', shape: info.shape, data };
    }
    case 'I64':
    case 'I32':
    case 'I16':
    case 'I8':
    case 'U8':
    case 'BOOL': {
      const data = new Int32Array(count);
      readInts(name, info.dtype, view, data);
      return { dtype: 'I32', shape: info.shape, data };
    }
  }
}

/**
 * Decodes a whole file into F32/I32 tensors: F16, BF16 and F64 become F32; I64 (when it fits), I16, I8,
 * U8 and BOOL become I32. `only` picks the tensors to convert; the whole header is validated regardless.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  options: { only?: (name: string) => boolean } = {},
): DecodedSafetensors {
  const header = readSafetensorsHeader(bytes);
  const tensors = new Map<string, NamedTensor>();
  // File order (a JS object would move integer-like names first).
  const ordered = Object.entries(header.tensors).sort(
    ([, a], [, b]) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1],
  );
  for (const [name, info] of ordered) {
    if (options.only !== undefined && !options.only(name)) {
      continue;
    }
    const [begin, end] = info.dataOffsets;
    tensors.set(name, decodeTensor(name, info, bytes.subarray(header.dataStart + begin, header.dataStart + end)));
  }
  return { tensors, metadata: header.metadata };
}

/** A lone surrogate cannot be written as UTF-8 JSON that other readers accept. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Encodes tensors sorted by name, so the same tensors give the same bytes. `__metadata__` (when
 * given and not empty) comes first in the header, as in the reference implementation.
 */
export function encodeSafetensors(
  tensors: Map<string, NamedTensor> | Record<string, NamedTensor>,
  metadata?: Record<string, string>,
): Buffer {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  const parts: string[] = [];
  const metadataEntries = metadata === undefined ? [] : Object.entries(metadata);
  if (metadataEntries.length > 0) {
    const fields = metadataEntries.map(([key, value]) => {
      if (typeof value !== 'string') {
        throw new SafetensorsError(`metadata ${describeString(key)} is not a string`);
      }
      if (LONE_SURROGATE.test(key) || LONE_SURROGATE.test(value)) {
        throw new SafetensorsError(`metadata ${describeString(key)} contains a lone surrogate`);
      }
      return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
    });
    parts.push(`"${METADATA_KEY}":{${fields.join(',')}}`);
  }

  let offset = 0;
  for (const [name, tensor] of entries) {
    const what = describe(name);
    if (name === METADATA_KEY) {
      throw new SafetensorsError(`${what}: the name is reserved for metadata`);
    }
    if (LONE_SURROGATE.test(name)) {
      throw new SafetensorsError(`${what}: the name contains a lone surrogate`);
    }
    const count = elementCount(tensor.shape, what);
    const dataMatches =
      (tensor.dtype === 'F32' && tensor.data instanceof Float32Array) ||
      (tensor.dtype === 'I32' && tensor.data instanceof Int32Array);
    if (!dataMatches) {
      throw new SafetensorsError(`${what}: dtype ${summarize(tensor.dtype)} does not match its data's type`);
    }
    if (tensor.data.length !== count) {
      throw new SafetensorsError(
        `${what}: shape ${shapeText(tensor.shape)} has ${count} elements, data has ${tensor.data.length}`,
      );
    }
    const end = offset + tensor.data.byteLength;
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${tensor.dtype}","shape":${JSON.stringify(tensor.shape)},"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }

  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const headerLength = Math.ceil(json.length / 8) * 8;
  if (headerLength > MAX_HEADER_BYTES) {
    throw new SafetensorsError(`header of ${headerLength} bytes is over the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const out = Buffer.alloc(8 + headerLength + offset);
  out.writeUInt32LE(headerLength, 0);
  out.writeUInt32LE(0, 4);
  json.copy(out, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);

  let position = 8 + headerLength;
  for (const [, tensor] of entries) {
    const { data } = tensor;
    if (LITTLE_ENDIAN_HOST) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), position);
    } else {
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
      for (let index = 0; index < data.length; index += 1) {
        if (data instanceof Float32Array) {
          view.setFloat32(position + 4 * index, data[index], true);
        } else {
          view.setInt32(position + 4 * index, data[index], true);
        }
      }
    }
    position += data.byteLength;
  }
  return out;
}

/** The header length a file's first 8 bytes announce (validated against the same limit as the reader). */
export function safetensorsHeaderLength(first8: Uint8Array): number {
  if (first8.length < 8) {
    throw new SafetensorsError(`file too short: ${first8.length} bytes, the header length alone takes 8`);
  }
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const low = view.getUint32(0, true);
  if (view.getUint32(4, true) !== 0 || low > MAX_HEADER_BYTES) {
    throw new SafetensorsError(`header length is over the ${MAX_HEADER_BYTES}-byte limit`);
  }
  return low;
}

/**
 * The first 8 + N bytes of a file whose tensors keep the given offsets (in the given order), with
 * new names or metadata: renaming tensors rewrites the header only, the data bytes stream as they are.
 */
export function encodeSafetensorsHeader(
  entries: Array<{ name: string; dtype: SafetensorsDtype; shape: number[]; dataOffsets: [number, number] }>,
  metadata: Record<string, string> = {},
): Buffer {
  const parts: string[] = [];
  const metadataEntries = Object.entries(metadata);
  if (metadataEntries.length > 0) {
    parts.push(
      `"${METADATA_KEY}":{${metadataEntries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(',')}}`,
    );
  }
  for (const entry of entries) {
    if (entry.name === METADATA_KEY || LONE_SURROGATE.test(entry.name)) {
      throw new SafetensorsError(`${describe(entry.name)}: not a valid tensor name`);
    }
    parts.push(
      `${JSON.stringify(entry.name)}:{"dtype":"${entry.dtype}","shape":${JSON.stringify(entry.shape)},"data_offsets":[${entry.dataOffsets[0]},${entry.dataOffsets[1]}]}`,
    );
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = Buffer.alloc(8 + headerLength, 0x20);
  out.writeUInt32LE(headerLength, 0);
  out.writeUInt32LE(0, 4);
  json.copy(out, 8);
  return out;
}
