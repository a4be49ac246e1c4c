/**
 * The typed arrays behind each dtype. Kept local (rather than importing core's helpers at run
 * time) so this package only needs `@nabla/core` for types.
 */
import type { DType, TypedArray } from '@nabla/core';

export const CPU_DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool', 'float16', 'bfloat16'];

type Ctor = {
  new (n: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
};

const CTORS: Record<DType, Ctor> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  bool: Uint8Array,
  // The 16-bit floats' raw bits (see half-storage.ts).
  float16: Uint16Array,
  bfloat16: Uint16Array,
};

export function isCpuDType(d: unknown): d is DType {
  return d === 'float32' || d === 'float64' || d === 'int32' || d === 'bool' || d === 'float16' || d === 'bfloat16';
}

export function newTypedArray(dtype: DType, n: number): TypedArray {
  return new CTORS[dtype](n);
}

/** The typed array class that holds `dtype`, for views over memory the backend manages itself (heap blocks, slabs). */
export function typedArrayClass(dtype: DType): Ctor {
  return CTORS[dtype];
}

export function bytesPer(dtype: DType): number {
  return CTORS[dtype].BYTES_PER_ELEMENT;
}

/** Whether `a` is the typed array type that holds `dtype` (subclasses such as Node's Buffer count). */
export function matchesDType(a: ArrayBufferView, dtype: DType): boolean {
  return a instanceof CTORS[dtype];
}
