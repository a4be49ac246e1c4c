/**
 * `nabla.finfo(dtype)`: the limits of a floating dtype, with PyTorch's values (`torch.finfo`).
 */
import { dtypeNames, isDType, parseDType, type DType } from '../dtype.js';
import { NablaError } from '../errors.js';

/** Machine limits of a floating dtype, as `torch.finfo`. */
export interface FInfo {
  readonly dtype: 'float16' | 'bfloat16' | 'float32' | 'float64';
  /** Bits one element occupies. */
  readonly bits: number;
  /** The gap between 1 and the next larger value. */
  readonly eps: number;
  /** The largest finite value. */
  readonly max: number;
  /** The most negative finite value (`-max`). */
  readonly min: number;
  /** The smallest positive normal value (PyTorch's `tiny`, also `smallestNormal`). */
  readonly tiny: number;
  /** The smallest positive normal value (the same as `tiny`). */
  readonly smallestNormal: number;
  /** The approximate decimal resolution, 10^-digits. */
  readonly resolution: number;
}

function info(dtype: FInfo['dtype'], bits: number, mantissa: number, maxExp: number, minExp: number, resolution: number): FInfo {
  const max = (2 - 2 ** -mantissa) * 2 ** maxExp;
  const tiny = 2 ** minExp;
  return Object.freeze({ dtype, bits, eps: 2 ** -mantissa, max, min: -max, tiny, smallestNormal: tiny, resolution });
}

const TABLE: Readonly<Record<FInfo['dtype'], FInfo>> = {
  float16: info('float16', 16, 10, 15, -14, 0.001),
  bfloat16: info('bfloat16', 16, 7, 127, -126, 0.01),
  float32: info('float32', 32, 23, 127, -126, 1e-6),
  float64: info('float64', 64, 52, 1023, -1022, 1e-15),
};

/**
 * The limits of a floating dtype (default float32), with PyTorch's values.
 *
 * @example
 * nabla.finfo('float16').max;  // 65504
 * nabla.finfo('bfloat16').eps; // 0.0078125
 * nabla.finfo('half').tiny;    // 6.103515625e-5
 */
export function finfo(dtype: DType | 'half' | 'float' | 'double' = 'float32'): FInfo {
  const d = parseDType(dtype);
  if (d === null) {
    throw new NablaError(`finfo(): unknown dtype ${JSON.stringify(dtype)} (valid dtypes: ${dtypeNames()})`, { op: 'finfo' });
  }
  if (d === 'int32' || d === 'bool' || !isDType(d)) {
    throw new NablaError(`finfo(): ${d} is not a floating point dtype (use float16, bfloat16, float32 or float64)`, { op: 'finfo' });
  }
  return TABLE[d];
}
