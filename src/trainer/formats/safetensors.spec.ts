import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodeSafetensors,
  encodeSafetensors,
  type NamedTensor,
  readSafetensorsHeader,
  SafetensorsError,
} from './safetensors.js';

/** A file from a header object (serialised as given) and raw data bytes, padded like the reference. */
function buildFile(header: unknown, data: number[] | Uint8Array = []): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  const out = Buffer.alloc(8 + padded + data.length, 0x20);
  out.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(out, 8);
  Buffer.from(data).copy(out, 8 + padded);
  return out;
}

function le16(...values: number[]): number[] {
  return values.flatMap((value) => [value & 0xff, value >>> 8]);
}

function assertSafetensorsError(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof SafetensorsError, `not a SafetensorsError: ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

const tensorArbitrary: fc.Arbitrary<NamedTensor> = fc
  .tuple(fc.boolean(), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }))
  .chain(([float, shape]) => {
    const count = shape.reduce((product, dimension) => product * dimension, 1);
    return float
      ? fc
          .array(fc.float(), { minLength: count, maxLength: count })
          .map((values): NamedTensor => ({ dtype: 'F32', shape, data: Float32Array.from(values) }))
      : fc
          .array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: count, maxLength: count })
          .map((values): NamedTensor => ({ dtype: 'I32', shape, data: Int32Array.from(values) }));
  });

const tensorsArbitrary = fc
  .uniqueArray(fc.tuple(fc.string({ unit: 'grapheme', maxLength: 12 }), tensorArbitrary), {
    selector: ([name]) => name,
    maxLength: 6,
  })
  .map((entries) => new Map(entries.filter(([name]) => name !== '__metadata__')));

const metadataArbitrary = fc.dictionary(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), {
  maxKeys: 4,
  noNullPrototype: true,
});

describe('safetensors', () => {
  it('writes the byte layout of the reference implementation', () => {
    const bytes = encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) } });
    const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 54 bytes, padded to 56
    const expected = Buffer.concat([
      Buffer.from([56, 0, 0, 0, 0, 0, 0, 0]),
      Buffer.from(`${json}  `, 'utf8'),
      Buffer.from([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40]), // 1.0f, 2.0f little-endian
    ]);
    assert.deepEqual(bytes, expected);
    const decoded = decodeSafetensors(expected);
    assert.deepEqual(decoded.tensors.get('a'), { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) });
    assert.deepEqual(decoded.metadata, {});
  });

  it('sorts tensors by name and puts __metadata__ first, so equal inputs give equal bytes', () => {
    const b: NamedTensor = { dtype: 'I32', shape: [1], data: Int32Array.from([-1]) };
    const a: NamedTensor = { dtype: 'F32', shape: [], data: Float32Array.from([0.5]) };
    const bytes = encodeSafetensors({ b, a }, { format: 'pt' });
    assert.deepEqual(
      bytes,
      encodeSafetensors(
        new Map([
          ['a', a],
          ['b', b],
        ]),
        { format: 'pt' },
      ),
    );
    const header = readSafetensorsHeader(bytes);
    const text = bytes.subarray(8, header.dataStart).toString('utf8');
    assert.equal(
      text.trimEnd(),
      '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},' +
        '"b":{"dtype":"I32","shape":[1],"data_offsets":[4,8]}}',
    );
    assert.equal(header.dataStart % 8, 0);
    assert.deepEqual(header.tensors, {
      a: { dtype: 'F32', shape: [], dataOffsets: [0, 4] },
      b: { dtype: 'I32', shape: [1], dataOffsets: [4, 8] },
    });
    assert.deepEqual(header.metadata, { format: 'pt' });
  });

  it('converts F16, BF16 and F64 to F32', () => {
    const file = buildFile(
      {
        bf: { dtype: 'BF16', shape: [3], data_offsets: [0, 6] },
        double: { dtype: 'F64', shape: [2], data_offsets: [6, 22] },
        half: { dtype: 'F16', shape: [2, 3], data_offsets: [22, 34] },
      },
      [
        ...le16(0x3f80, 0x4049, 0xff80), // 1, 3.140625, -Infinity
        ...new Uint8Array(Float64Array.from([0.1, -1e300]).buffer),
        ...le16(0x3c00, 0x0001, 0x03ff, 0x7c00, 0x7e00, 0x8000), // 1, 2^-24, 1023 * 2^-24, Infinity, NaN, -0
      ],
    );
    const { tensors } = decodeSafetensors(file);
    assert.deepEqual(tensors.get('bf'), {
      dtype: 'F32',
      shape: [3],
      data: Float32Array.from([1, 3.140625, -Infinity]),
    });
    assert.deepEqual(tensors.get('double'), {
      dtype: 'F32',
      shape: [2],
      data: Float32Array.from([Math.fround(0.1), -Infinity]),
    });
    assert.deepEqual(tensors.get('half'), {
      dtype: 'F32',
      shape: [2, 3],
      data: Float32Array.from([1, 2 ** -24, 1023 * 2 ** -24, Infinity, NaN, -0]),
    });
  });

  it('converts integer and bool dtypes to I32, rejecting I64 values out of int32 range', () => {
    const i64 = new BigInt64Array([-(2n ** 31n), 2n ** 31n - 1n]);
    const file = buildFile(
      {
        a_i64: { dtype: 'I64', shape: [2], data_offsets: [0, 16] },
        b_i16: { dtype: 'I16', shape: [2], data_offsets: [16, 20] },
        c_i8: { dtype: 'I8', shape: [2], data_offsets: [20, 22] },
        d_u8: { dtype: 'U8', shape: [2], data_offsets: [22, 24] },
        e_bool: { dtype: 'BOOL', shape: [3], data_offsets: [24, 27] },
        f_i32: { dtype: 'I32', shape: [1], data_offsets: [27, 31] },
      },
      [...new Uint8Array(i64.buffer), ...le16(0x8000, 0x7fff), 0xff, 0x7f, 0xff, 0x7f, 0, 1, 2, 0xfe, 0xff, 0xff, 0xff],
    );
    const { tensors } = decodeSafetensors(file);
    assert.deepEqual(
      [...tensors.entries()].map(([name, tensor]) => [name, tensor.dtype, [...tensor.data]]),
      [
        ['a_i64', 'I32', [-(2 ** 31), 2 ** 31 - 1]],
        ['b_i16', 'I32', [-32768, 32767]],
        ['c_i8', 'I32', [-1, 127]],
        ['d_u8', 'I32', [255, 127]],
        ['e_bool', 'I32', [0, 1, 1]],
        ['f_i32', 'I32', [-2]],
      ],
    );

    const tooBig = buildFile({ big: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, [
      ...new Uint8Array(new BigInt64Array([2n ** 31n]).buffer),
    ]);
    assertSafetensorsError(() => decodeSafetensors(tooBig), /tensor "big": I64 value 2147483648 at index 0/);
  });

  it('decodes only the tensors asked for, still validating the whole header', () => {
    const bytes = encodeSafetensors({
      keep: { dtype: 'F32', shape: [1], data: Float32Array.from([3]) },
      skip: { dtype: 'I32', shape: [1], data: Int32Array.from([4]) },
    });
    const { tensors } = decodeSafetensors(bytes, { only: (name) => name === 'keep' });
    assert.deepEqual([...tensors.keys()], ['keep']);
  });

  it('handles unaligned input views and the name __proto__', () => {
    // A computed key defines an own property named __proto__ (a plain one would set the prototype).
    const bytes = encodeSafetensors({ ['__proto__']: { dtype: 'F32', shape: [2], data: Float32Array.from([5, 6]) } });
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const header = readSafetensorsHeader(shifted.subarray(1));
    assert.ok(Object.hasOwn(header.tensors, '__proto__'));
    assert.equal(Object.getPrototypeOf(header.tensors), Object.prototype);
    const { tensors } = decodeSafetensors(shifted.subarray(1));
    assert.deepEqual([...(tensors.get('__proto__')?.data ?? [])], [5, 6]);
  });

  it('rejects bad input to the encoder', () => {
    assertSafetensorsError(
      () => encodeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } }),
      /tensor "w": shape \[2, 2\] has 4 elements, data has 3/,
    );
    assertSafetensorsError(
      () => encodeSafetensors({ w: { dtype: 'I32', shape: [1], data: new Float32Array(1) } }),
      /tensor "w": dtype "I32" does not match/,
    );
    assertSafetensorsError(
      () => encodeSafetensors({ w: { dtype: 'F32', shape: [-1], data: new Float32Array(0) } }),
      /tensor "w": shape dimension 0 is -1/,
    );
    assertSafetensorsError(
      () => encodeSafetensors({ __metadata__: { dtype: 'F32', shape: [], data: new Float32Array(1) } }),
      /reserved/,
    );
    assertSafetensorsError(
      () => encodeSafetensors({ ['\ud800']: { dtype: 'F32', shape: [0], data: new Float32Array(0) } }),
      /lone surrogate/,
    );
    assertSafetensorsError(
      () => encodeSafetensors({}, { key: 1 as unknown as string }),
      /metadata "key" is not a string/,
    );
  });

  it('rejects corrupt files with a message naming the problem', () => {
    const valid = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    const eight = new Array<number>(8).fill(0);
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(5), /too short: 5 bytes/],
      [Buffer.from([0, 0, 0, 0, 1, 0, 0, 0]), /header length 4294967296 is over/],
      [Buffer.from([0x00, 0xe2, 0xf5, 0x05, 0, 0, 0, 0]), /header length 100000256 is over/],
      [Buffer.from([16, 0, 0, 0, 0, 0, 0, 0, 123]), /header length 16 runs past the end of the 9-byte file/],
      [buildFile('{"w": '), /not valid JSON/],
      [buildFile('[1, 2]'), /not a JSON object/],
      [buildFile(Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1')), /not valid JSON/],
      [buildFile({ w: 1 }), /tensor "w": entry must be an object/],
      [buildFile({ w: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, [0]), /tensor "w": unknown dtype "F8"/],
      [buildFile({ w: { ...valid.w, shape: [2.5] } }, eight), /tensor "w": shape dimension 0 is 2.5/],
      [buildFile({ w: { ...valid.w, shape: 'x' } }, eight), /tensor "w": shape must be an array/],
      [buildFile({ w: { ...valid.w, shape: [3] } }, eight), /tensor "w": F32 shape \[3\] needs 12 bytes.*hold 8/],
      [buildFile({ w: { ...valid.w, shape: [2 ** 40, 2 ** 20] } }, eight), /tensor "w": .*too many elements/],
      [buildFile({ w: { ...valid.w, data_offsets: [0] } }, eight), /tensor "w": data_offsets must be two/],
      [
        buildFile({ w: { ...valid.w, data_offsets: [8, 0] } }, eight),
        /tensor "w": data_offsets \[8, 0\] are out of range/,
      ],
      [
        buildFile({ w: { ...valid.w, data_offsets: [4, 12] } }, eight),
        /tensor "w": data_offsets \[4, 12\] are out of range/,
      ],
      [buildFile(valid, [...eight, 0]), /1 bytes after the last tensor/],
      [buildFile({ w: { ...valid.w, data_offsets: [4, 12] } }, [...eight, 0, 0, 0, 0]), /tensor "w": hole of 4 bytes/],
      [
        buildFile(
          {
            v: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
            w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
          },
          eight,
        ),
        /tensor "w": data_offsets overlap/,
      ],
      [buildFile({ ...valid, __metadata__: { n: 1 } }, eight), /__metadata__ "n" is not a string/],
      [buildFile({ ...valid, __metadata__: ['x'] }, eight), /__metadata__ must be an object/],
    ];
    for (const [bytes, pattern] of cases) {
      assertSafetensorsError(() => decodeSafetensors(bytes), pattern);
    }
    // A null __metadata__ (what Rust's Option serialises to) is no metadata.
    assert.deepEqual(decodeSafetensors(buildFile({ ...valid, __metadata__: null }, eight)).metadata, {});
  });

  it('round trips arbitrary names, shapes and metadata', () => {
    fc.assert(
      fc.property(tensorsArbitrary, metadataArbitrary, (tensors, metadata) => {
        const bytes = encodeSafetensors(tensors, metadata);
        const decoded = decodeSafetensors(bytes);
        assert.deepEqual(decoded.tensors, tensors);
        assert.deepEqual(decoded.metadata, metadata);
        // Deterministic: the same tensors in another order give the same bytes.
        assert.deepEqual(encodeSafetensors(new Map([...tensors].reverse()), metadata), bytes);
      }),
    );
  });

  it('rejects mutated or truncated files with SafetensorsError only', () => {
    const mutation = fc.record({
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      cut: fc.option(fc.nat()),
    });
    fc.assert(
      fc.property(tensorsArbitrary, metadataArbitrary, mutation, (tensors, metadata, { edits, cut }) => {
        const bytes = encodeSafetensors(tensors, metadata);
        for (const [position, value] of edits) {
          bytes[position % bytes.length] = value;
        }
        const mutated = cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
        try {
          decodeSafetensors(mutated);
        } catch (error) {
          assert.ok(error instanceof SafetensorsError, `unexpected ${String(error)}`);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('rejects arbitrary headers and byte strings with SafetensorsError only', () => {
    const tensorInfo = fc.record(
      {
        dtype: fc.oneof(
          fc.constantFrom('F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'),
          fc.anything(),
        ),
        shape: fc.oneof(fc.array(fc.integer({ min: -1, max: 4 }), { maxLength: 3 }), fc.anything()),
        data_offsets: fc.oneof(
          fc.tuple(fc.integer({ min: -1, max: 40 }), fc.integer({ min: -1, max: 40 })),
          fc.anything(),
        ),
      },
      { requiredKeys: [] },
    );
    const header = fc.oneof(
      fc.dictionary(fc.oneof(fc.string(), fc.constant('__metadata__')), fc.oneof(tensorInfo, fc.anything())),
      fc.jsonValue(),
    );
    const deep = fc
      .nat({ max: 20_000 })
      .map((depth) => `{"w":{"dtype":"F32","shape":${'['.repeat(depth)}${']'.repeat(depth)}}}`);
    const file = fc.oneof(
      fc.tuple(header, fc.uint8Array({ maxLength: 48 })).map(([value, data]) => buildFile(value, data)),
      fc.tuple(deep, fc.uint8Array({ maxLength: 8 })).map(([value, data]) => buildFile(value, data)),
      fc.uint8Array({ maxLength: 64 }),
      fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.uint8Array({ maxLength: 64 })).map(([length, rest]) => {
        const prefix = Buffer.alloc(8);
        prefix.writeBigUInt64LE(length);
        return Buffer.concat([prefix, rest]);
      }),
    );
    fc.assert(
      fc.property(file, (bytes) => {
        try {
          decodeSafetensors(bytes);
        } catch (error) {
          assert.ok(error instanceof SafetensorsError, `unexpected ${String(error)}`);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
