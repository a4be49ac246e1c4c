/**
 * Strided geometry on the host, before it goes into a kernel's meta words. Dims of size 1 are
 * dropped and neighbouring dims that every operand steps through uniformly are merged, so most
 * kernels see rank 1 (contiguous tensors) or 2 (transposes, broadcasts) whatever the tensor rank.
 */
import type { View } from '@nabla/core';

// Shared with every backend (core's toolkit for backend authors), re-exported under local names.
export { checkReduceAxes as checkAxes, collapseDims as collapse, checkViewBounds as checkBounds, fmtShape, isContiguous, numelOf, type Geometry } from '@nabla/core';

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

export function checkDim(op: string, dim: number, rank: number): void {
  if (!Number.isInteger(dim) || dim < 0 || dim >= rank) throw new Error(`${op}: dim ${dim} is out of range for rank ${rank}`);
}
