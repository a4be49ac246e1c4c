/**
 * Stable softmax / log-softmax along a dim: per row the max (a reduction tree), the sum of
 * exp(x - max) (a tree whose first pass applies the exponential), then one elementwise pass:
 * exp(x - max) / sum, or x - max - log(sum).
 */
import { numelOf, type Expr, type View } from '@nabla/core';
import type { GlStorage } from '../storage.js';
import { type KernelContext } from './context.js';
import { reduceRows, rowsAsOut, toRows } from './reduce.js';

const X: Expr = { op: 'input', index: 0 };
const M: Expr = { op: 'input', index: 1 };
const S: Expr = { op: 'input', index: 2 };
const SHIFTED: Expr = { op: 'sub', a: X, b: M };
const SOFTMAX: Expr = { op: 'div', a: { op: 'exp', a: SHIFTED }, b: S };
const LOG_SOFTMAX: Expr = { op: 'sub', a: SHIFTED, b: { op: 'log', a: S } };

export function softmaxAlong(ctx: KernelContext, op: 'softmax' | 'logSoftmax', out: View, x: View, dim: number): void {
  if (numelOf(x.shape) === 0) return;
  const { rows, O, R } = toRows(ctx, x, [dim]);
  let m: GlStorage | null = null;
  let s: GlStorage | null = null;
  try {
    m = reduceRows(ctx, 'max', rows, O, R);
    s = reduceRows(ctx, 'sumexp', rows, O, R, m);
    const rowShape = x.shape.map((n, d) => (d === dim ? 1 : n));
    const mv = { ...rowsAsOut(m, { ...out, shape: rowShape }), shape: x.shape };
    const sv = { ...rowsAsOut(s, { ...out, shape: rowShape }), shape: x.shape };
    // Broadcast along dim: stride 0.
    const strides = mv.strides.map((st, d) => (d === dim ? 0 : st));
    ctx.elementwise(op, `nb.${op}`, op === 'softmax' ? SOFTMAX : LOG_SOFTMAX, out, [x, { ...mv, strides }, { ...sv, strides }], [], [x.dtype, 'float32', 'float32']);
  } finally {
    ctx.release(rows);
    if (m) ctx.release(m);
    if (s) ctx.release(s);
  }
}
