/**
 * IEEE 754 binary16 (F16) and bfloat16 (BF16) to float32, bit-exact: results are written as uint32 bit
 * patterns so NaN payloads and signed zeros survive (Node 20 has no Float16Array).
 */

/** The float32 bit pattern of an F16 bit pattern (`half` in 0..0xffff). */
export function f16BitsToF32Bits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >>> 10) & 0x1f;
  let mantissa = half & 0x3ff;
  if (exponent === 0x1f) {
    // Inf stays Inf, NaN keeps its payload (shifted into float32's wider mantissa).
    return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  }
  if (exponent !== 0) {
    // Rebias the exponent from 15 to 127.
    return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  }
  if (mantissa === 0) {
    return sign >>> 0;
  }
  // Subnormal in F16, normal in F32: shift until the implicit leading 1 appears.
  let shifts = 0;
  while ((mantissa & 0x400) === 0) {
    mantissa <<= 1;
    shifts += 1;
  }
  return (sign | ((113 - shifts) << 23) | ((mantissa & 0x3ff) << 13)) >>> 0;
}

let f16Table: Uint32Array | undefined;

/** All 65536 conversions, built once (256 KiB): a lookup beats the branches in a hot loop. */
function f16ToF32Table(): Uint32Array {
  if (f16Table === undefined) {
    f16Table = new Uint32Array(0x10000);
    for (let half = 0; half < 0x10000; half += 1) {
      f16Table[half] = f16BitsToF32Bits(half);
    }
  }
  return f16Table;
}

/** Converts little-endian F16 values in `bytes` into `out` (bytes.length must be 2 * out.length). */
export function decodeF16(bytes: Uint8Array, out: Float32Array): void {
  const table = f16ToF32Table();
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let index = 0; index < out.length; index += 1) {
    bits[index] = table[bytes[2 * index] | (bytes[2 * index + 1] << 8)];
  }
}

/** Converts little-endian BF16 values in `bytes` into `out`: BF16 is the top half of a float32. */
export function decodeBf16(bytes: Uint8Array, out: Float32Array): void {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let index = 0; index < out.length; index += 1) {
    bits[index] = ((bytes[2 * index] << 16) | (bytes[2 * index + 1] << 24)) >>> 0;
  }
}
