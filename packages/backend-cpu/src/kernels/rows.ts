/**
 * Walking the rows of a view along one dim: every kernel that treats a dim as a sequence (sort,
 * cumulative sums) visits each row once with the base offsets of its operands.
 */
import type { View } from '@nabla/core';
import { collapse, forEachRow } from '../strided.js';

/**
 * Calls `row(bases)` once per row along `dim` of `views[0].shape` (every view has that shape);
 * `bases[k]` is view k's offset of the row's first element, and the row steps by `strides[dim]`.
 */
export function forEachRowAlong(views: readonly View[], dim: number, row: (bases: readonly number[]) => void): void {
  const shape = views[0]!.shape;
  const keep = (_: number, d: number) => d !== dim;
  const g = collapse(shape.filter(keep), views.map((v) => v.strides.filter(keep)));
  const last = g.shape.length - 1;
  const steps = g.strides.map((s) => s[last]!);
  const k = views.length;
  const cur = new Array<number>(k);
  forEachRow(g.shape, g.strides, views.map((v) => v.offset), (bases, n) => {
    for (let j = 0; j < k; j++) cur[j] = bases[j]!;
    for (let q = 0; q < n; q++) {
      row(cur);
      for (let j = 0; j < k; j++) cur[j] = cur[j]! + steps[j]!;
    }
  });
}

export function checkAlong(op: string, dim: number, rank: number): void {
  if (!Number.isInteger(dim) || dim < 0 || dim >= rank) throw new Error(`${op}: dim ${dim} is out of range for rank ${rank}`);
}
