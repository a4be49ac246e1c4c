/**
 * What a read hands the user: a backend gives 16-bit floats as their bit patterns (Uint16Array);
 * `data()`, `dataSync()`, `item()` and `tolist()` give their values, as a Float32Array.
 */
import type { DType, TypedArray } from '../dtype.js';
import { decodeHalf, isHalfDType } from './half.js';

export function hostValues(dtype: DType, data: TypedArray): TypedArray {
  if (!isHalfDType(dtype) || !(data instanceof Uint16Array)) return data;
  return decodeHalf(dtype, data);
}
