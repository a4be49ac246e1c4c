/**
 * Helpers for walking N-d strided views. Loops over views cost per dimension, so every kernel
 * first simplifies the geometry: size-1 dims are dropped and neighbouring dims that every operand
 * steps through uniformly are merged (a contiguous tensor becomes a single flat dim).
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

/** Every element is the same one (all strides 0 or a single element). */
export function isScalarLike(shape: readonly number[], strides: readonly number[]): boolean {
  for (let d = 0; d < shape.length; d++) if (shape[d] !== 1 && strides[d] !== 0) return false;
  return true;
}

export interface Geometry {
  shape: number[];
  /** One stride list per operand, all of `shape`'s length. */
  strides: number[][];
}

/**
 * Drops size-1 dims and merges dim d into d+1 when, for every operand,
 * `strides[d] === strides[d+1] * shape[d+1]`. Broadcast dims (stride 0 everywhere it is 0) merge
 * too. Rank 0 (or all size-1) comes back as shape `[1]`, strides `[0]`, so callers always have an
 * innermost dim. Element order is preserved (row-major over the result).
 */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): Geometry {
  const k = strides.length;
  const outShape: number[] = [];
  const outStrides: number[][] = [];
  for (let j = 0; j < k; j++) outStrides.push([]);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    let merge = last >= 0;
    for (let j = 0; merge && j < k; j++) {
      if (outStrides[j]![last] !== strides[j]![d]! * n) merge = false;
    }
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

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Throws unless the view's last element lies inside its storage (cheap guard against bad views). */
export function checkBounds(op: string, what: string, v: View): void {
  if (v.shape.length !== v.strides.length) {
    throw new Error(`${op}: ${what} has shape ${fmtShape(v.shape)} but ${v.strides.length} strides`);
  }
  let last = v.offset;
  for (let d = 0; d < v.shape.length; d++) {
    const n = v.shape[d]!;
    if (n === 0) return;
    last += (n - 1) * v.strides[d]!;
  }
  if (v.offset < 0 || last >= v.storage.numel) {
    throw new Error(
      `${op}: ${what} view (shape ${fmtShape(v.shape)}, strides ${fmtShape(v.strides)}, offset ${v.offset}) ` +
        `reaches past its storage of ${v.storage.numel} elements`,
    );
  }
}
