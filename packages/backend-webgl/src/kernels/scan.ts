/**
 * cumsum / cumprod along a dim as a Hillis–Steele scan: the input is laid out as rows [O, L]
 * (the dim last), then pass s (s = 1, 2, 4, ... < L) combines every element with the one s
 * before it (after it, in reverse). Each pass is a loop-free kernel over all rows at once —
 * fragment shaders cannot carry a running value across threads, and a per-element loop over the
 * prefix would hit gpu.js's `loopMaxIterations` trap and cost O(L²). ⌈log2 L⌉ passes, then one
 * copy into the output view (int32/bool inputs give int32: exact while |values| ≤ 2^24).
 */
import { fmtShape, numelOf, type View } from '@nabla/core';
import type { KernelSpec } from '../device.js';
import { viewOf, type KernelContext } from './context.js';
import { toRows } from './reduce.js';

export function scan(ctx: KernelContext, op: 'cumsum' | 'cumprod', out: View, x: View, dim: number, reverse: boolean): void {
  const rank = x.shape.length;
  if (!Number.isInteger(dim) || dim < 0 || dim >= Math.max(rank, 1)) throw new Error(`${op}: dim ${dim} is out of range for a tensor of rank ${rank}`);
  if (out.shape.length !== rank || out.shape.some((n, d) => n !== x.shape[d])) {
    throw new Error(`${op}: out shape ${fmtShape(out.shape)} must equal input shape ${fmtShape(x.shape)}`);
  }
  if (numelOf(x.shape) === 0) return;
  if (rank === 0) return ctx.copy(out, x);
  const { rows, R: L } = toRows(ctx, x, [dim]);
  try {
    const sc = ctx.dev.kernel(`scan:${op}`, (): KernelSpec => ({
      source: `function (src, L, s, rev) {
  let p = this.thread.x;
  let row = Math.floor(p / L);
  let j = p - row * L;
  let v = src[p];
  if (rev > 0.5) {
    if (j + s < L) {
      v = v ${op === 'cumsum' ? '+' : '*'} src[p + s];
    }
  } else {
    if (j >= s) {
      v = src[p - s] ${op === 'cumsum' ? '+' : '*'} v;
    }
  }
  return v;
}`,
    }));
    for (let s = 1; s < L; s *= 2) {
      ctx.runInto(rows, op, (cls) => ctx.dev.run(sc, cls, [rows.tex, L, s, reverse ? 1 : 0], op));
    }
    const kept = x.shape.map((_, d) => d).filter((d) => d !== dim);
    const perm = [...kept, dim];
    const shape = perm.map((d) => x.shape[d]!);
    ctx.copy({ ...out, shape, strides: perm.map((d) => out.strides[d]!) }, viewOf(rows, shape));
  } finally {
    ctx.release(rows);
  }
}

