/**
 * The dtypes the WebGPU device holds and how each lives in WGSL.
 *
 * Every element is one 32-bit word: float32 as `f32`, int32 as `i32`, and bool as `u32` holding
 * 0 or 1 (WGSL storage buffers have no 8-bit type). Because all dtypes are 4 bytes wide, buffers
 * are pooled across dtypes and copies (reads, gather) move raw `u32` words whatever the dtype.
 * float64 is not available: WGSL has no 64-bit float. float16/bfloat16 are the exception to one
 * word per element: two 16-bit patterns per word (half-storage.ts), and kernels see float32
 * stand-ins, never a 16-bit view.
 */
import type { DType, TypedArray } from '@nabla/core';

export const WEBGPU_DTYPES: readonly DType[] = ['float32', 'int32', 'bool', 'float16', 'bfloat16'];

/** Bytes per element on the device, for every dtype. */
export const ELEMENT_BYTES = 4;

/** The WGSL scalar type a storage buffer of `dtype` holds. */
export type WgslScalar = 'f32' | 'i32' | 'u32';

export function wgslType(dtype: DType): WgslScalar {
  switch (dtype) {
    case 'float32':
      return 'f32';
    case 'int32':
      return 'i32';
    case 'bool':
      return 'u32';
    default:
      throw new Error(`webgpu: dtype ${dtype} has no WGSL type (the webgpu device holds ${WEBGPU_DTYPES.join(', ')})`);
  }
}

export function isWebGpuDType(d: unknown): d is DType {
  return d === 'float32' || d === 'int32' || d === 'bool' || d === 'float16' || d === 'bfloat16';
}

/** The host array type `read` returns for `dtype` (bool: Uint8Array of 0/1). */
export function hostArray(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'bool':
      return new Uint8Array(n);
    case 'float16':
    case 'bfloat16':
      // Their bit patterns (see half-storage.ts).
      return new Uint16Array(n);
    default:
      throw new Error(`webgpu: unsupported dtype ${dtype}`);
  }
}

/** Whether `a` is the host array type of `dtype` (subclasses such as Node's Buffer count). */
export function matchesDType(a: ArrayBufferView, dtype: DType): boolean {
  if (dtype === 'float32') return a instanceof Float32Array;
  if (dtype === 'int32') return a instanceof Int32Array;
  if (dtype === 'bool') return a instanceof Uint8Array;
  if (dtype === 'float16' || dtype === 'bfloat16') return a instanceof Uint16Array;
  return false;
}

/** Host data as the 32-bit words the device stores (bool bytes become 0/1 words). */
export function toDeviceWords(data: TypedArray, dtype: DType): Float32Array | Int32Array | Uint32Array {
  if (dtype === 'bool') {
    const w = new Uint32Array(data.length);
    for (let i = 0; i < data.length; i++) w[i] = data[i] !== 0 ? 1 : 0;
    return w;
  }
  return data as Float32Array | Int32Array;
}

/** Device words (a copy of the mapped range) as the host array of `dtype`. */
export function fromDeviceWords(words: ArrayBuffer, dtype: DType, n: number): TypedArray {
  if (dtype === 'float32') return new Float32Array(words, 0, n);
  if (dtype === 'int32') return new Int32Array(words, 0, n);
  const u = new Uint32Array(words, 0, n);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = u[i] !== 0 ? 1 : 0;
  return out;
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The bit pattern of `v` rounded to f32 (NaN and ±inf included), as a u32 meta word. */
export function f32Bits(v: number): number {
  F32[0] = v;
  return U32[0]!;
}

/** `v` as an i32 meta word: truncated toward zero and saturated (±inf → i32 limits, NaN → 0). */
export function i32Bits(v: number): number {
  if (v !== v) return 0;
  const t = Math.trunc(v);
  const c = t > 2147483647 ? 2147483647 : t < -2147483648 ? -2147483648 : t;
  return c >>> 0;
}
