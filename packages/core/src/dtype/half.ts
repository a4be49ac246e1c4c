/**
 * float16 (IEEE binary16) and bfloat16 bit conversions, exact to the bit as PyTorch's c10 does them.
 *
 * Every backend stores a 16-bit float as its 16 raw bits; arithmetic widens to float32, computes,
 * and narrows back with round-to-nearest-even. These are the host-side conversions (the CPU
 * backend's storage layer, tensor creation and reads); the WebGPU shaders mirror them in WGSL.
 * They work on integer bit patterns so NaN payloads survive, which a round trip through a JS
 * number does not guarantee.
 */

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The bits of `Math.fround(x)`. */
export function float32Bits(x: number): number {
  F32[0] = x;
  return U32[0]!;
}

/** The float32 whose bits are `u` (as a JS number). */
export function float32FromBits(u: number): number {
  U32[0] = u;
  return F32[0]!;
}

/**
 * float32 bits → float16 bits, round to nearest even; NaN keeps its sign and becomes 0x7E00 (c10's
 * `fp16_ieee_from_fp32_value`), overflow goes to ±Inf, tiny values to subnormals or ±0.
 */
export function float32BitsToHalfBits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const man = u & 0x7fffff;
  if (exp === 0xff) return sign | (man !== 0 ? 0x7e00 : 0x7c00);
  // Unbiased exponent e; a float16 normal has e in [-14, 15].
  const e = exp - 127;
  if (e > 15) return sign | 0x7c00;
  if (e >= -14) {
    // Normal: keep 10 of the 23 mantissa bits, round the other 13 to nearest even. A carry out of
    // the mantissa bumps the exponent, and out of e = 15 it lands exactly on Inf (0x7c00).
    const base = ((e + 15) << 10) | (man >>> 13);
    const rest = man & 0x1fff;
    const up = rest > 0x1000 || (rest === 0x1000 && (base & 1) === 1) ? 1 : 0;
    return sign | (base + up);
  }
  if (e < -25) return sign; // below half the smallest subnormal (2^-25): ±0
  // Subnormal: value = m · 2^-24 with m = full significand (implicit 1 included) >> shift.
  const full = man | 0x800000; // 24-bit significand, value = full · 2^(e-23)
  const shift = -e - 1; // (e - 23) - (-24) = e + 1 → shift right by -(e + 1)
  const m = full >>> shift;
  const restMask = (1 << shift) - 1;
  const rest = full & restMask;
  const halfway = 1 << (shift - 1);
  const up = rest > halfway || (rest === halfway && (m & 1) === 1) ? 1 : 0;
  return sign | (m + up);
}

/**
 * float16 bits → float32 bits (exact). A NaN keeps its payload, shifted into the float32 mantissa,
 * and comes out quiet, as PyTorch's (F16C's) conversion gives it.
 */
export function halfBitsToFloat32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let man = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (man << 13) | (man !== 0 ? 0x400000 : 0)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (man << 13)) >>> 0;
  if (man === 0) return sign >>> 0;
  // Subnormal: normalise.
  let e = -14;
  while ((man & 0x400) === 0) {
    man <<= 1;
    e--;
  }
  return (sign | ((e + 127) << 23) | ((man & 0x3ff) << 13)) >>> 0;
}

/**
 * float32 bits → bfloat16 bits, round to nearest even; overflow rounds to ±Inf. Every NaN becomes
 * 0x7FC0, as c10's `round_to_nearest_even` and PyTorch's bfloat16 arithmetic give it (PyTorch
 * 1.13's vectorised `.bfloat16()` cast writes 0xFFFF instead: also a NaN).
 */
export function float32BitsToBfloat16Bits(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return 0x7fc0;
  const lsb = (u >>> 16) & 1;
  return ((u + 0x7fff + lsb) >>> 16) & 0xffff;
}

/** bfloat16 bits → float32 bits (exact: the upper half of a float32). */
export function bfloat16BitsToFloat32Bits(h: number): number {
  return (h << 16) >>> 0;
}

/** A JS number → float16 bits, through float32 first (as PyTorch converts a double to half). */
export function toHalfBits(x: number): number {
  return float32BitsToHalfBits(float32Bits(x));
}

/** float16 bits → its value. */
export function halfBitsToNumber(h: number): number {
  return float32FromBits(halfBitsToFloat32Bits(h));
}

/** A JS number → bfloat16 bits, through float32 first. */
export function toBfloat16Bits(x: number): number {
  return float32BitsToBfloat16Bits(float32Bits(x));
}

/** bfloat16 bits → its value. */
export function bfloat16BitsToNumber(h: number): number {
  return float32FromBits(h << 16);
}

export type HalfDType = 'float16' | 'bfloat16';

export function isHalfDType(d: unknown): d is HalfDType {
  return d === 'float16' || d === 'bfloat16';
}

/**
 * Values (any array of numbers) → 16-bit patterns of `dtype`, each value rounded to float32 first.
 * Works through a float32 alias so NaN payloads of float32 input survive into float16.
 */
export function encodeHalf(dtype: HalfDType, values: ArrayLike<number>, out = new Uint16Array(values.length)): Uint16Array {
  const n = values.length;
  if (values instanceof Float32Array) {
    const u = new Uint32Array(values.buffer, values.byteOffset, n);
    if (dtype === 'float16') for (let i = 0; i < n; i++) out[i] = float32BitsToHalfBits(u[i]!);
    else for (let i = 0; i < n; i++) out[i] = float32BitsToBfloat16Bits(u[i]!);
    return out;
  }
  if (dtype === 'float16') for (let i = 0; i < n; i++) out[i] = toHalfBits(values[i]!);
  else for (let i = 0; i < n; i++) out[i] = toBfloat16Bits(values[i]!);
  return out;
}

/** 16-bit patterns of `dtype` → their values as float32 (exact), written through a bit alias. */
export function decodeHalf(dtype: HalfDType, bits: ArrayLike<number>, out = new Float32Array(bits.length)): Float32Array {
  const n = bits.length;
  const u = new Uint32Array(out.buffer, out.byteOffset, out.length);
  if (dtype === 'float16') for (let i = 0; i < n; i++) u[i] = halfBitsToFloat32Bits(bits[i]!);
  else for (let i = 0; i < n; i++) u[i] = bits[i]! << 16;
  return out;
}
