/**
 * Row conversions between 16-bit storage (float16/bfloat16 bits in a Uint16Array) and float32
 * words (an Int32Array alias of a Float32Array), the inner loops every 16-bit kernel on the CPU
 * runs. Each function is one monomorphic loop over a strided row, with the conversion inlined:
 * the loops are the whole cost of 16-bit storage, so they avoid calls, closures and unsigned
 * words (an `Int32Array` keeps every value a small integer for the JIT).
 *
 * Bit-exact with core's `halfBitsToFloat32Bits`, `float32BitsToHalfBits` and
 * `float32BitsToBfloat16Bits`: round to nearest even, subnormals, ±Inf, and every NaN written as
 * the canonical quiet NaN of the 16-bit type (sign kept for float16, 0x7FC0 for bfloat16).
 */
import { float32BitsToHalfBits, halfBitsToFloat32Bits, type HalfDType } from '@nabla/core';

let f16Words: Int32Array | null = null;
/** float16 bits → float32 words for all 65,536 patterns (256 KiB, made on first use). */
export function halfWordTable(): Int32Array {
  if (f16Words === null) {
    f16Words = new Int32Array(65536);
    for (let h = 0; h < 65536; h++) f16Words[h] = halfBitsToFloat32Bits(h) | 0;
  }
  return f16Words;
}

/** `n` float16 elements of `src` (from `p`, step `s`) as float32 words into `dst` (from `q`, step `t`). */
export function widenF16Row(src: Uint16Array, p: number, s: number, dst: Int32Array, q: number, t: number, n: number): void {
  const T = halfWordTable();
  if (s === 1 && t === 1) {
    for (let j = 0; j < n; j++) dst[q + j] = T[src[p + j]!]!;
    return;
  }
  for (let j = 0; j < n; j++, p += s, q += t) dst[q] = T[src[p]!]!;
}

/** bfloat16 → float32 words: the bits are the float32's upper half. */
export function widenBf16Row(src: Uint16Array, p: number, s: number, dst: Int32Array, q: number, t: number, n: number): void {
  if (s === 1 && t === 1) {
    for (let j = 0; j < n; j++) dst[q + j] = src[p + j]! << 16;
    return;
  }
  for (let j = 0; j < n; j++, p += s, q += t) dst[q] = src[p]! << 16;
}

/** float32 words of `src` → float16 bits into `dst`, nearest even. */
export function narrowF16Row(src: Int32Array, q: number, t: number, dst: Uint16Array, p: number, s: number, n: number): void {
  for (let j = 0; j < n; j++, p += s, q += t) {
    const u = src[q]!;
    const a = u & 0x7fffffff;
    if (a >= 0x38800000 && a < 0x47800000) {
      // float16-normal range (and the values that round up to Inf): re-bias the exponent and round
      // the 13 dropped bits to nearest even in one add. A carry out of the mantissa steps the
      // exponent; out of the largest one it lands exactly on Inf (0x7C00). No data-dependent branch.
      dst[p] = ((u >>> 16) & 0x8000) | ((a - 0x38000000 + 0xfff + ((a >>> 13) & 1)) >>> 13);
    } else {
      dst[p] = float32BitsToHalfBits(u >>> 0);
    }
  }
}

/** float32 words → bfloat16 bits, nearest even; every NaN becomes 0x7FC0. */
export function narrowBf16Row(src: Int32Array, q: number, t: number, dst: Uint16Array, p: number, s: number, n: number): void {
  for (let j = 0; j < n; j++, p += s, q += t) {
    const x = src[q]!;
    // `| 0` wraps the rounding add the way the unsigned sum does (only its upper 16 bits are kept).
    dst[p] = (x & 0x7fffffff) > 0x7f800000 ? 0x7fc0 : ((x + 0x7fff + ((x >>> 16) & 1)) | 0) >>> 16;
  }
}

export type WidenRow = typeof widenF16Row;
export type NarrowRow = typeof narrowF16Row;

export const WIDEN_ROW: Record<HalfDType, WidenRow> = { float16: widenF16Row, bfloat16: widenBf16Row };
export const NARROW_ROW: Record<HalfDType, NarrowRow> = { float16: narrowF16Row, bfloat16: narrowBf16Row };

/** An Int32Array over the same bytes as a float32 storage's data. */
export function wordsOf(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}
