/**
 * Reductions as multi-pass trees: the input is first laid out as [rows, R] (kept dims, then
 * reduced dims), then each pass reduces groups of GROUP consecutive elements of every row
 * (a fixed-length loop: no `loopMaxIterations` trap), until each row is one value, which is
 * copied into the output view. argmax/argmin scan each row in one pass (first occurrence wins,
 * NaN counts as the largest), with the loop bound compiled from the row length.
 */
import { checkReduceAxes, numelOf, type View } from '@nabla/core';
import type { KernelSpec } from '../device.js';
import type { GlStorage } from '../storage.js';
import { contiguousStrides, loopBound, viewOf, type KernelContext } from './context.js';

export const GROUP = 64;

export type ReduceOp = 'sum' | 'prod' | 'max' | 'min';
type PassOp = ReduceOp | 'sumexp';

const INIT: Record<PassOp, string> = {
  sum: 'return 0.0;',
  sumexp: 'return 0.0;',
  prod: 'return 1.0;',
  max: 'return -1.0 / nb_zero;',
  min: 'return 1.0 / nb_zero;',
};

const STEP: Record<PassOp, string> = {
  sum: 'return acc + v;',
  sumexp: 'return acc + nb_exp(v - m);',
  prod: 'return acc * v;',
  max: 'return nb_max(acc, v);',
  min: 'return nb_min(acc, v);',
};

function passKernel(ctx: KernelContext, op: PassOp) {
  return ctx.dev.kernel(`reduce:${op}`, (): KernelSpec => ({
    source: `function (src, mt, R, Rn, z) {
  let p = this.thread.x;
  let row = Math.floor(p / Rn);
  let j = p - row * Rn;
  let base = row * R + j * ${GROUP};
  let m = mt[row];
  let acc = nb_init(z);
  for (let t = 0; t < ${GROUP}; t++) {
    if (j * ${GROUP} + t < R) {
      acc = nb_step(acc, src[base + t], m);
    }
  }
  return acc;
}`,
    nativeFunctions: [
      {
        name: 'nb_init',
        source: `float nb_init(float z) { nb_zero = z; ${INIT[op]} }`,
        returnType: 'Number',
        argumentTypes: { z: 'Number' },
      },
      {
        name: 'nb_step',
        source: `float nb_step(float acc, float v, float m) { ${STEP[op]} }`,
        returnType: 'Number',
        argumentTypes: { acc: 'Number', v: 'Number', m: 'Number' },
      },
    ],
    helpers: ['nb_zero', 'nb_max', 'nb_min', 'nb_exp'],
  }));
}

/** x laid out as contiguous [rows, R] with `axes` last, in a scratch storage. */
export function toRows(ctx: KernelContext, x: View, axes: readonly number[]): { rows: GlStorage; O: number; R: number } {
  const reduced = new Set(axes);
  const kept = x.shape.map((_, d) => d).filter((d) => !reduced.has(d));
  const perm = [...kept, ...axes];
  const shape = perm.map((d) => x.shape[d]!);
  const O = kept.reduce((a, d) => a * x.shape[d]!, 1);
  const R = axes.reduce((a, d) => a * x.shape[d]!, 1);
  const rows = ctx.temp(O * R);
  try {
    ctx.copy(viewOf(rows, shape), { ...x, shape, strides: perm.map((d) => x.strides[d]!) });
  } catch (e) {
    ctx.release(rows);
    throw e;
  }
  return { rows, O, R };
}

/** Reduces each row of `rows` ([O, R], contiguous) to one value: a scratch storage of O. */
export function reduceRows(ctx: KernelContext, op: ReduceOp | 'sumexp', rows: GlStorage, O: number, R: number, m?: GlStorage): GlStorage {
  let cur = rows;
  let len = R;
  let first = true;
  try {
    do {
      const Rn = Math.max(1, Math.ceil(len / GROUP));
      const next = ctx.temp(O * Rn);
      const passOp: PassOp = op === 'sumexp' && !first ? 'sum' : op;
      const sc = passKernel(ctx, passOp);
      const src = cur;
      try {
        ctx.runInto(next, `reduce:${passOp}`, (cls) => ctx.dev.run(sc, cls, [src.tex, (m ?? src).tex, len, Rn, 0], `reduce:${passOp}`));
      } catch (e) {
        ctx.release(next);
        throw e;
      }
      if (cur !== rows) ctx.release(cur);
      cur = next;
      len = Rn;
      first = false;
    } while (len > 1);
  } catch (e) {
    if (cur !== rows) ctx.release(cur);
    throw e;
  }
  return cur;
}

/** The view of a [O] row result in the shape of `out` (kept dims contiguous, reduced dims 1). */
export function rowsAsOut(result: GlStorage, out: View): View {
  return viewOf(result, out.shape, contiguousStrides(out.shape));
}

export function reduce(ctx: KernelContext, op: ReduceOp, out: View, x: View, axes: readonly number[]): void {
  checkReduceAxes(op, x, out, axes);
  if (numelOf(out.shape) === 0) return;
  const { rows, O, R } = toRows(ctx, x, axes);
  let result: GlStorage | null = null;
  try {
    result = reduceRows(ctx, op, rows, O, R);
    ctx.copy(out, rowsAsOut(result, out));
  } finally {
    ctx.release(rows);
    if (result) ctx.release(result);
  }
}

export function argReduce(ctx: KernelContext, op: 'argmax' | 'argmin', out: View, x: View, axes: readonly number[]): void {
  checkReduceAxes(op, x, out, axes);
  if (axes.length !== 1) throw new Error(`${op}: expected exactly one axis, got [${axes.join(', ')}]`);
  if (numelOf(out.shape) === 0) return;
  const { rows, O, R } = toRows(ctx, x, axes);
  const bound = loopBound(R);
  const better = op === 'argmax' ? 'v > best' : 'v < best';
  const sc = ctx.dev.kernel(`${op}:${bound}`, (): KernelSpec => ({
    source: `function (src, R, z) {
  let row = this.thread.x;
  let base = row * R;
  let best = src[base];
  let bi = 0.0;
  for (let t = 1; t < R; t++) {
    let v = src[base + t];
    if (nb_better(v, best, z) > 0.5) {
      best = v;
      bi = t * 1.0;
    }
  }
  return bi;
}`,
    loopMaxIterations: bound,
    nativeFunctions: [
      {
        name: 'nb_better',
        // NaN is the largest (and the smallest): the first NaN wins and stays.
        source: `float nb_better(float v, float best, float z) { nb_zero = z; if (nb_isnan(best)) { return 0.0; } if (nb_isnan(v) || ${better}) { return 1.0; } return 0.0; }`,
        returnType: 'Number',
        argumentTypes: { v: 'Number', best: 'Number', z: 'Number' },
      },
    ],
    helpers: ['nb_zero', 'nb_isnan'],
  }));
  const idx = ctx.temp(O);
  try {
    ctx.runInto(idx, op, (cls) => ctx.dev.run(sc, cls, [rows.tex, R, 0], op));
    ctx.copy(out, rowsAsOut(idx, out));
  } finally {
    ctx.release(rows);
    ctx.release(idx);
  }
}
