/**
 * Helpers for backend authors: the geometry and argument checks that every backend's kernels need
 * and would otherwise each write again (the CPU and WebGPU backends both use these; so can a third
 * party's). They read only shapes and strides, never data.
 *
 * @example
 * ```ts
 * import { collapseDims } from '@nabla/core';
 * // A transposed 2×3 view and a contiguous output: nothing merges.
 * collapseDims([2, 3], [[1, 2], [3, 1]]); // { shape: [2, 3], strides: [[1, 2], [3, 1]] }
 * // Both contiguous: one flat dim.
 * collapseDims([2, 3], [[3, 1], [3, 1]]); // { shape: [6], strides: [[1], [1]] }
 * ```
 */
import { fmtShape } from '../errors.js';
import type { View } from './types.js';

/** A shape and one stride list per operand, each of the shape's length. */
export interface Geometry {
  shape: number[];
  strides: number[][];
}

/**
 * Drops size-1 dims and merges dim d into d+1 when, for every operand,
 * `strides[d] === strides[d+1] * shape[d+1]` (broadcast dims, stride 0 on both, merge too). Rank 0
 * (or all size-1) comes back as shape `[1]`, strides `[0]`, so kernels always have an innermost
 * dim. Element order is preserved (row-major over the result).
 */
export function collapseDims(shape: readonly number[], strides: readonly (readonly number[])[]): Geometry {
  const k = strides.length;
  const outShape: number[] = [];
  const outStrides: number[][] = [];
  for (let j = 0; j < k; j++) outStrides.push([]);
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

/**
 * Validates the arguments of a reduction kernel (`sum`, `max`, ...): axes sorted, unique and in
 * range, `out` of the input's shape with the reduced dims 1. Returns which dims are reduced.
 */
export function checkReduceAxes(op: string, x: View, out: View, axes: readonly number[]): boolean[] {
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

/** Validates the views of a `bmm` kernel: a [B, M, K], b [B, K, N], out [B, M, N]. */
export function checkBmmShapes(out: View, a: View, b: View): void {
  const ok =
    a.shape.length === 3 &&
    b.shape.length === 3 &&
    out.shape.length === 3 &&
    a.shape[0] === b.shape[0] &&
    a.shape[0] === out.shape[0] &&
    a.shape[2] === b.shape[1] &&
    out.shape[1] === a.shape[1] &&
    out.shape[2] === b.shape[2];
  if (!ok) {
    throw new Error(
      `bmm: expected a [B, M, K], b [B, K, N], out [B, M, N]; got a ${fmtShape(a.shape)}, ` +
        `b ${fmtShape(b.shape)}, out ${fmtShape(out.shape)}`,
    );
  }
}

/**
 * Checks an addmm kernel's views: a [M, K], b [K, N], bias and out [M, N] (the bias already
 * broadcast to out's shape), all of one dtype. Throws a plain Error; core's op has already
 * raised a NablaError for anything a user can pass, so this guards the kernel contract.
 */
export function checkAddmmViews(out: View, bias: View, a: View, b: View): void {
  const ok = out.shape.length === 2 && a.shape.length === 2 && b.shape.length === 2 && bias.shape.length === 2 &&
    a.shape[1] === b.shape[0] && out.shape[0] === a.shape[0] && out.shape[1] === b.shape[1] &&
    bias.shape[0] === out.shape[0] && bias.shape[1] === out.shape[1];
  if (!ok) {
    throw new Error(`addmm: expected a [M, K], b [K, N], bias and out [M, N]; got a ${fmtShape(a.shape)}, b ${fmtShape(b.shape)}, bias ${fmtShape(bias.shape)}, out ${fmtShape(out.shape)}`);
  }
  if (out.dtype !== a.dtype || b.dtype !== a.dtype || bias.dtype !== a.dtype) {
    throw new Error(`addmm: dtypes must match, got ${bias.dtype}, ${a.dtype}, ${b.dtype} -> ${out.dtype}`);
  }
}

/**
 * The size class of a pooled buffer for `numel` elements: `min` at least, then four classes per
 * power of two (2^k, 1.25·2^k, 1.5·2^k, 1.75·2^k), so a pooled buffer wastes at most 25% and
 * near-equal sizes share buffers.
 */
export function sizeClass(numel: number, min: number): number {
  if (numel <= min) return min;
  const base = 2 ** Math.floor(Math.log2(numel - 1));
  const step = base / 4;
  return base + Math.ceil((numel - base) / step) * step;
}

/** Throws unless every element of the view lies inside its storage (a cheap guard against bad views). */
export function checkViewBounds(op: string, what: string, v: View): void {
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

export { isContiguous, numelOf } from '../shape.js';
export { fmtShape } from '../errors.js';
