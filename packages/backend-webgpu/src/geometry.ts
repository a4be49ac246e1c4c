/**
 * Strided geometry on the host, before it goes into a kernel's meta words. Dims of size 1 are
 * dropped and neighbouring dims that every operand steps through uniformly are merged, so most
 * kernels see rank 1 (contiguous tensors) or 2 (transposes, broadcasts) whatever the tensor rank.
 */
import type { View } from '@nabla/core';

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

/** Row-major contiguous (size-1 dims may carry any stride). */
export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    if (n === 1) continue;
    if (strides[d] !== expected) return false;
    expected *= n;
  }
  return true;
}

export interface Geometry {
  shape: number[];
  /** One stride list per operand, each of `shape`'s length. */
  strides: number[][];
}

/**
 * Drops size-1 dims and merges dim d into d+1 when, for every operand,
 * `strides[d] === strides[d+1] * shape[d+1]`. Rank 0 (or all size-1) comes back as shape `[1]`,
 * strides `[0]`. Element order is preserved (row-major over the result).
 */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): Geometry {
  const k = strides.length;
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    let merge = last >= 0;
    for (let j = 0; merge && j < k; j++) if (outStrides[j]![last] !== strides[j]![d]! * n) merge = false;
    if (merge) {
      outShape[last] = outShape[last]! * n;
      for (let j = 0; j < k; j++) outStrides[j]![last] = strides[j]![d]!;
    } else {
      outShape.push(n);
      for (let j = 0; j < k; j++) outStrides[j]!.push(strides[j]![d]!);
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    for (let j = 0; j < k; j++) outStrides[j]!.push(0);
  }
  return { shape: outShape, strides: outStrides };
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/** Throws unless every element of the view lies inside its storage. */
export function checkBounds(op: string, what: string, v: View): void {
  if (v.shape.length !== v.strides.length) {
    throw new Error(`${op}: ${what} has shape ${fmtShape(v.shape)} but ${v.strides.length} strides`);
  }
  let last = v.offset;
  for (let d = 0; d < v.shape.length; d++) {
    const n = v.shape[d]!;
    if (n === 0) return;
    if (v.strides[d]! < 0) throw new Error(`${op}: ${what} has a negative stride ${fmtShape(v.strides)}`);
    last += (n - 1) * v.strides[d]!;
  }
  if (v.offset < 0 || last >= v.storage.numel) {
    throw new Error(
      `${op}: ${what} view (shape ${fmtShape(v.shape)}, strides ${fmtShape(v.strides)}, offset ${v.offset}) ` +
        `reaches past its storage of ${v.storage.numel} elements`,
    );
  }
}

/** Validates a reduction's axes and output shape; returns which dims are reduced. */
export function checkAxes(op: string, x: View, out: View, axes: readonly number[]): boolean[] {
  const rank = x.shape.length;
  const reduced = new Array<boolean>(rank).fill(false);
  let prev = -1;
  for (const a of axes) {
    if (!Number.isInteger(a) || a < 0 || a >= rank || a <= prev) {
      throw new Error(`${op}: axes must be sorted, unique and within [0, ${rank}), got [${axes.join(', ')}]`);
    }
    reduced[a] = true;
    prev = a;
  }
  const expected = x.shape.map((n, d) => (reduced[d] ? 1 : n));
  if (out.shape.length !== rank || expected.some((n, d) => out.shape[d] !== n)) {
    throw new Error(`${op}: out has shape ${fmtShape(out.shape)}, expected ${fmtShape(expected)} for input ${fmtShape(x.shape)}`);
  }
  return reduced;
}

export function checkDim(op: string, dim: number, rank: number): void {
  if (!Number.isInteger(dim) || dim < 0 || dim >= rank) throw new Error(`${op}: dim ${dim} is out of range for rank ${rank}`);
}
