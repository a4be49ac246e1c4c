/**
 * Stable sort along a dim as a bitonic network over a permutation. Each row of x is laid out
 * contiguously ([O, L], the dim last) and padded to P = 2^⌈log2 L⌉ positions; a float texture
 * [O, P] holds, per position, the row index of the element sitting there. Every pass is one
 * loop-free kernel (position i against i ± j, as the network says), and a pass renders only that
 * permutation: values are read from the rows through it, since a fragment shader writes one
 * value per thread. Keys are (value, index) with NaN the largest and padding past everything, so
 * the order is total — bitonic networks are not stable, but no two keys tie, which makes the
 * result PyTorch's stable sort, ascending and descending alike. log2 P · (log2 P + 1) / 2 passes;
 * then one kernel reads the values and indices out and copies them into the output views.
 */
import { fmtShape, numelOf, type View } from '@nabla/core';
import type { KernelSpec } from '../device.js';
import type { GlStorage } from '../storage.js';
import { viewOf, type KernelContext } from './context.js';
import { toRows } from './reduce.js';

/** `nb_before(a, ia, b, ib, ...)`: whether key (a, ia) goes before (b, ib); padding (index ≥ L) goes last. */
const BEFORE = `float nb_before(float a, float ia, float b, float ib, float L, float desc) {
  if (ia >= L) { return 0.0; }
  if (ib >= L) { return 1.0; }
  bool na = nb_isnan(a);
  bool nb = nb_isnan(b);
  if (na && nb) { return ia < ib ? 1.0 : 0.0; }
  if (desc > 0.5) {
    if (na) { return 1.0; }
    if (nb) { return 0.0; }
    if (a > b) { return 1.0; }
    if (a < b) { return 0.0; }
  } else {
    if (na) { return 0.0; }
    if (nb) { return 1.0; }
    if (a < b) { return 1.0; }
    if (a > b) { return 0.0; }
  }
  return ia < ib ? 1.0 : 0.0;
}`;

export function sort(ctx: KernelContext, values: View, indices: View, x: View, dim: number, descending: boolean): void {
  const rank = x.shape.length;
  if (!Number.isInteger(dim) || dim < 0 || dim >= rank) throw new Error(`sort: dim ${dim} is out of range for rank ${rank}`);
  for (const [what, v] of [['values', values], ['indices', indices]] as const) {
    if (v.shape.length !== rank || v.shape.some((n, d) => n !== x.shape[d])) {
      throw new Error(`sort: ${what} shape ${fmtShape(v.shape)} must equal input shape ${fmtShape(x.shape)}`);
    }
  }
  if (indices.dtype !== 'int32') throw new Error(`sort: indices must be int32, got ${indices.dtype}`);
  if (numelOf(x.shape) === 0) return;
  const { rows, O, R: L } = toRows(ctx, x, [dim]);
  let P = 1;
  while (P < L) P *= 2;
  let perm: GlStorage | null = null;
  let vals: GlStorage | null = null;
  let idx: GlStorage | null = null;
  try {
    perm = ctx.temp(O * P);
    const init = ctx.dev.kernel('sort:init', (): KernelSpec => ({
      source: `function (P) {
  let p = this.thread.x;
  return p - Math.floor(p / P) * P;
}`,
    }));
    const pm = perm;
    ctx.runInto(pm, 'sort', (cls) => ctx.dev.run(init, cls, [P], 'sort'));
    const pass = ctx.dev.kernel('sort:pass', (): KernelSpec => ({
      source: `function (perm, xr, L, P, k, j, desc) {
  let p = this.thread.x;
  let row = Math.floor(p / P);
  let i = p - row * P;
  let hi = 0.0;
  if (i - Math.floor(i / (2 * j)) * (2 * j) >= j) {
    hi = 1.0;
  }
  let q = i + j;
  if (hi > 0.5) {
    q = i - j;
  }
  let up = 0.0;
  if (i - Math.floor(i / (2 * k)) * (2 * k) < k) {
    up = 1.0;
  }
  let ia = perm[row * P + i];
  let ib = perm[row * P + q];
  let a = xr[row * L + Math.min(ia, L - 1)];
  let b = xr[row * L + Math.min(ib, L - 1)];
  let first = nb_before(a, ia, b, ib, L, desc);
  if (hi === up) {
    first = 1.0 - first;
  }
  if (first > 0.5) {
    return ia;
  }
  return ib;
}`,
      nativeFunctions: [
        { name: 'nb_before', source: BEFORE, returnType: 'Number', argumentTypes: { a: 'Number', ia: 'Number', b: 'Number', ib: 'Number', L: 'Number', desc: 'Number' } },
      ],
      helpers: ['nb_isnan'],
    }));
    for (let k = 2; k <= P; k *= 2) {
      for (let j = k / 2; j >= 1; j /= 2) {
        ctx.runInto(pm, 'sort', (cls) => ctx.dev.run(pass, cls, [pm.tex, rows.tex, L, P, k, j, descending ? 1 : 0], 'sort'));
      }
    }
    // Positions [0, L) of each row, compacted from P to L: the indices, and the values through them.
    const read = ctx.dev.kernel('sort:read', (): KernelSpec => ({
      source: `function (perm, xr, L, P, wantValues) {
  let p = this.thread.x;
  let row = Math.floor(p / L);
  let i = p - row * L;
  let ix = perm[row * P + i];
  if (wantValues > 0.5) {
    return xr[row * L + Math.min(ix, L - 1)];
  }
  return ix;
}`,
    }));
    vals = ctx.temp(O * L);
    idx = ctx.temp(O * L);
    ctx.runInto(vals, 'sort', (cls) => ctx.dev.run(read, cls, [pm.tex, rows.tex, L, P, 1], 'sort'));
    ctx.runInto(idx, 'sort', (cls) => ctx.dev.run(read, cls, [pm.tex, rows.tex, L, P, 0], 'sort'));
    const kept = x.shape.map((_, d) => d).filter((d) => d !== dim);
    const order = [...kept, dim];
    const shape = order.map((d) => x.shape[d]!);
    const along = (v: View): View => ({ ...v, shape, strides: order.map((d) => v.strides[d]!) });
    ctx.copy(along(values), viewOf(vals, shape));
    ctx.copy(along(indices), viewOf(idx, shape));
  } finally {
    ctx.release(rows);
    for (const s of [perm, vals, idx]) if (s) ctx.release(s);
  }
}
