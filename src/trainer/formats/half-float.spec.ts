import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBf16, decodeF16, f16BitsToF32Bits } from './half-float.js';

function f16(...halves: number[]): Float32Array {
  const bytes = new Uint8Array(2 * halves.length);
  halves.forEach((half, index) => {
    bytes[2 * index] = half & 0xff;
    bytes[2 * index + 1] = half >>> 8;
  });
  const out = new Float32Array(halves.length);
  decodeF16(bytes, out);
  return out;
}

function bf16(...halves: number[]): Float32Array {
  const bytes = new Uint8Array(2 * halves.length);
  halves.forEach((half, index) => {
    bytes[2 * index] = half & 0xff;
    bytes[2 * index + 1] = half >>> 8;
  });
  const out = new Float32Array(halves.length);
  decodeBf16(bytes, out);
  return out;
}

function bitsOf(value: Float32Array): number[] {
  return [...new Uint32Array(value.buffer, value.byteOffset, value.length)];
}

describe('half-float', () => {
  it('converts hand-computed F16 values, subnormals, infinities and NaN', () => {
    assert.deepEqual(
      [...f16(0x3c00, 0xc000, 0x7bff, 0x3555, 0x0400, 0x0001, 0x03ff, 0x8001)],
      [
        1,
        -2,
        65504, // largest finite F16
        1365 / 4096, // (1 + 341/1024) / 4
        2 ** -14, // smallest normal
        2 ** -24, // smallest subnormal
        1023 * 2 ** -24, // largest subnormal
        -(2 ** -24),
      ],
    );
    const [positiveInfinity, negativeInfinity, nan, negativeZero, zero] = f16(0x7c00, 0xfc00, 0x7e00, 0x8000, 0x0000);
    assert.equal(positiveInfinity, Infinity);
    assert.equal(negativeInfinity, -Infinity);
    assert.ok(Number.isNaN(nan));
    assert.ok(Object.is(negativeZero, -0));
    assert.ok(Object.is(zero, 0));
    // NaN payloads and signs survive bit for bit.
    assert.deepEqual(bitsOf(f16(0x7e00, 0xfd01)), [0x7fc00000, 0xffa02000]);
  });

  it('agrees with the textbook F16 formula on all 65536 patterns', () => {
    for (let half = 0; half < 0x10000; half += 1) {
      const sign = half & 0x8000 ? -1 : 1;
      const exponent = (half >>> 10) & 0x1f;
      const mantissa = half & 0x3ff;
      const actual = new Float32Array(new Uint32Array([f16BitsToF32Bits(half)]).buffer)[0];
      if (exponent === 0x1f) {
        assert.ok(mantissa === 0 ? actual === sign * Infinity : Number.isNaN(actual), `0x${half.toString(16)}`);
        continue;
      }
      const expected =
        exponent === 0 ? sign * mantissa * 2 ** -24 : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
      assert.ok(Object.is(actual, expected), `0x${half.toString(16)}: ${actual} !== ${expected}`);
    }
  });

  it('converts hand-computed BF16 values, subnormals, infinities and NaN', () => {
    assert.deepEqual(
      [...bf16(0x3f80, 0xc040, 0x4049, 0x0001, 0x0080, 0x7f7f)],
      [
        1,
        -3,
        3.140625,
        2 ** -133, // float32 subnormal 0x00010000
        2 ** -126, // smallest normal float32
        (2 - 2 ** -7) * 2 ** 127, // largest finite BF16
      ],
    );
    const [positiveInfinity, negativeInfinity, nan, negativeZero] = bf16(0x7f80, 0xff80, 0x7fc1, 0x8000);
    assert.equal(positiveInfinity, Infinity);
    assert.equal(negativeInfinity, -Infinity);
    assert.ok(Number.isNaN(nan));
    assert.ok(Object.is(negativeZero, -0));
    assert.deepEqual(bitsOf(bf16(0x7fc1)), [0x7fc10000]);
  });
});
