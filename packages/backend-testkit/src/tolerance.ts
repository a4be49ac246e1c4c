/** How close a device's numbers must be to the CPU backend's, per dtype. */
import type { DType } from '@nabla/core';

export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

/**
 * float32 allows a few ulps of reordering (a GPU sums in a tree, the CPU left to right) and the
 * spread of transcendental implementations; float64 and the integer types must agree closely or
 * exactly.
 */
export const DEFAULT_TOLERANCES: Readonly<Record<DType, Tolerance>> = {
  float32: { rtol: 2e-4, atol: 2e-5 },
  float64: { rtol: 1e-9, atol: 1e-12 },
  int32: { rtol: 0, atol: 0 },
  bool: { rtol: 0, atol: 0 },
  // One or two units in the last place of the 16-bit type (2^-10, 2^-7).
  float16: { rtol: 2e-3, atol: 1e-4 },
  bfloat16: { rtol: 1.6e-2, atol: 1e-3 },
};

/** The first index where `actual` and `expected` differ beyond `tol` (NaN matches NaN), or -1. */
export function firstMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): number {
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) ? !Number.isNaN(a) : !(Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e) || a === e)) return i;
  }
  return -1;
}
