/**
 * Helpers for walking N-d strided views. Loops over views cost per dimension, so every kernel
 * first simplifies the geometry: size-1 dims are dropped and neighbouring dims that every operand
 * steps through uniformly are merged (a contiguous tensor becomes a single flat dim).
 */
import { collapseDims, fmtShape as shapeText, type Geometry, type View } from '@nabla/core';

// Shared with every backend (core's toolkit for backend authors), re-exported under local names.
export { collapseDims as collapse, checkViewBounds as checkBounds, fmtShape, isContiguous, numelOf, type Geometry } from '@nabla/core';

/** Every element is the same one (all strides 0 or a single element). */
export function isScalarLike(shape: readonly number[], strides: readonly number[]): boolean {
  for (let d = 0; d < shape.length; d++) if (shape[d] !== 1 && strides[d] !== 0) return false;
  return true;
}

/**
 * Reorders dims so that `strides[lead]` decreases (stable). Walking the output in its own memory
 * order keeps writes sequential when core writes into a transposed view.
 */
export function orderByStrides(shape: readonly number[], strides: readonly (readonly number[])[], lead: number): Geometry {
  const ls = strides[lead]!;
  let sorted = true;
  for (let d = 1; d < shape.length && sorted; d++) if (ls[d - 1]! < ls[d]!) sorted = false;
  if (sorted) return { shape: shape.slice(), strides: strides.map((s) => s.slice()) };
  const perm = shape.map((_, i) => i).sort((a, b) => ls[b]! - ls[a]! || a - b);
  return { shape: perm.map((p) => shape[p]!), strides: strides.map((s) => perm.map((p) => s[p]!)) };
}

/**
 * Calls `row(bases, n)` once per innermost row of `shape` (row-major), where `bases[j]` is operand
 * j's offset of the row's first element; the caller steps through the row with `strides[j][last]`.
 * `bases` is reused between calls. `shape` must have rank >= 1 (see `collapse`).
 */
export function forEachRow(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  offsets: readonly number[],
  row: (bases: number[], n: number) => void,
): void {
  const rank = shape.length;
  const k = strides.length;
  const inner = shape[rank - 1]!;
  if (inner === 0) return;
  let outer = 1;
  for (let d = 0; d < rank - 1; d++) outer *= shape[d]!;
  if (outer === 0) return;
  const bases = offsets.slice();
  const visible = offsets.slice();
  const idx = new Array<number>(rank).fill(0);
  for (let r = 0; r < outer; r++) {
    for (let j = 0; j < k; j++) visible[j] = bases[j]!;
    row(visible, inner);
    for (let d = rank - 2; d >= 0; d--) {
      for (let j = 0; j < k; j++) bases[j] = bases[j]! + strides[j]![d]!;
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
      for (let j = 0; j < k; j++) bases[j] = bases[j]! - strides[j]![d]! * shape[d]!;
    }
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}


/**
 * The geometry an elementwise kernel walks: the output's strides, then each input's, every input
 * checked to have the output's shape (core broadcasts before calling a kernel), with the dims put
 * in the output's memory order and collapsed.
 */
export function elementwiseGeometry(op: string, out: View, inputs: readonly View[]): Geometry {
  const shape = out.shape;
  const strides: (readonly number[])[] = [out.strides];
  for (let k = 0; k < inputs.length; k++) {
    const v = inputs[k]!;
    if (!sameShape(v.shape, shape)) {
      throw new Error(`${op}: input ${k} has shape ${shapeText(v.shape)}, expected the output's ${shapeText(shape)}`);
    }
    strides.push(v.strides);
  }
  const ordered = orderByStrides(shape, strides, 0);
  return collapseDims(ordered.shape, ordered.strides);
}
