import type { DType, TypedArray } from '@nabla/core';

/** WebGL has float32 textures only: int32 and bool are held as floats (int32 exact to 2^24). */
export const WEBGL_DTYPES: readonly DType[] = ['float32', 'int32', 'bool'];

/** The largest magnitude up to which every int32 value survives a float32 texture. */
export const INT32_EXACT_LIMIT = 2 ** 24;

export function isWebGLDType(d: DType): boolean {
  return WEBGL_DTYPES.includes(d);
}

/** Host data as the float32 the textures hold (bool: any non-zero byte is 1). */
export function toFloat32(data: TypedArray, dtype: DType): Float32Array {
  if (data instanceof Float32Array) return data;
  const f = new Float32Array(data.length);
  if (dtype === 'bool') for (let i = 0; i < data.length; i++) f[i] = data[i] ? 1 : 0;
  else f.set(data);
  return f;
}

/** Texture values back as the dtype's typed array. */
export function fromFloat32(values: Float32Array, dtype: DType): TypedArray {
  if (dtype === 'float32') return values;
  if (dtype === 'int32') return Int32Array.from(values, (v) => (Number.isFinite(v) ? Math.trunc(v) : 0));
  return Uint8Array.from(values, (v) => (v !== 0 ? 1 : 0));
}
