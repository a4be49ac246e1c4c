/**
 * gather, and scatterAdd / scatter written gather-style (fragment shaders cannot scatter): each output
 * element loops over the index entries along `dim` that could land on it and adds the sources
 * whose index equals its own coordinate, in index order (deterministic, no atomics); scatter keeps
 * the last such source instead, as PyTorch's CPU kernel does. The loop
 * bound is compiled from `index.shape[dim]` (`loopMaxIterations`, see matmul.ts).
 *
 * Indices are validated on the host first: a shader cannot throw, and a wrong index must be an
 * error, not a silently wrong result.
 */
import { numelOf, type View } from '@nabla/core';
import type { GlStorage } from '../storage.js';
import { geometryArgs, mapGeometry, mappedSource } from '../mapped.js';
import { loopBound, type KernelContext } from './context.js';

function checkIndex(ctx: KernelContext, op: string, index: View, dim: number, size: number): void {
  if (index.dtype !== 'int32') throw new Error(`${op}: index must be int32, got ${index.dtype}`);
  const vals = ctx.readSync(index);
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i]!;
    if (!(v >= 0 && v < size)) {
      throw new Error(`${op}: index ${v} is out of range for dimension ${dim} with size ${size} (valid range [0, ${size - 1}])`);
    }
  }
}

function tex(v: View) {
  return (v.storage as GlStorage).tex;
}

export function gather(ctx: KernelContext, out: View, x: View, dim: number, index: View): void {
  if (numelOf(out.shape) === 0) return;
  checkIndex(ctx, 'gather', index, dim, x.shape[dim]!);
  // x is read at base(i with i_dim = 0) + index * stride_dim.
  const xs = x.strides.map((s, d) => (d === dim ? 0 : s));
  const g = mapGeometry('gather', out, [index.strides, xs]);
  const R = g.shape.length;
  const sc = ctx.dev.kernel(`gather:${R}`, () => ({
    source: mappedSource(R, ['xi', 'x'], 2, ['xsd'], ['let iv = xi[a0];', 'return x[a1 + iv * xsd];']),
  }));
  const s = out.storage as GlStorage;
  ctx.runInto(s, 'gather', (cls) => ctx.dev.run(sc, cls, [s.tex, tex(index), tex(x), x.strides[dim]!, ...geometryArgs(out, g, [index.offset, x.offset])], 'gather'));
}

export function scatterAdd(ctx: KernelContext, out: View, dim: number, index: View, src: View): void {
  scatterAlong(ctx, 'scatterAdd', out, dim, index, src);
}

/** scatter: of the sources whose index hits an output element, the last in index order wins. */
export function scatter(ctx: KernelContext, out: View, dim: number, index: View, src: View): void {
  scatterAlong(ctx, 'scatter', out, dim, index, src);
}

function scatterAlong(ctx: KernelContext, op: 'scatterAdd' | 'scatter', out: View, dim: number, index: View, src: View): void {
  if (numelOf(out.shape) === 0 || numelOf(index.shape) === 0) return;
  checkIndex(ctx, op, index, dim, out.shape[dim]!);
  const nd = index.shape[dim]!;
  // Operands are addressed in out's geometry with the dim's stride 0; the loop walks the dim.
  const is = index.strides.map((s, d) => (d === dim ? 0 : s));
  const ss = src.strides.map((s, d) => (d === dim ? 0 : s));
  const g = mapGeometry(op, out, [is, ss], true);
  const R = g.shape.length;
  const dpos = g.order.indexOf(dim);
  const bound = loopBound(nd);
  const bool = op === 'scatterAdd' && out.dtype === 'bool';
  const ish = g.order.map((d, k) => `ish${k}`);
  const conds = g.order.map((d, k) => (k === dpos ? null : `i${k} < ish${k}`)).filter((c): c is string => c !== null);
  const body = [
    'let acc = o[p];',
    ...(conds.length > 0 ? [`if (${conds.join(' && ')}) {`] : ['{']),
    `  for (let t = 0; t < nd; t++) {`,
    `    if (xi[a0 + t * isd] === i${dpos}) {`,
    op === 'scatter' ? '      acc = src[a1 + t * ssd];' : '      acc = acc + src[a1 + t * ssd];',
    '    }',
    '  }',
    '}',
    // bool addition is logical or (values are 0/1, so a sum above 1 is true)
    ...(bool ? ['if (acc > 1.0) {', '  acc = 1.0;', '}'] : []),
    'return acc;',
  ];
  const sc = ctx.dev.kernel(`${op}:${R}:${dpos}:${bound}:${bool}`, () => ({
    source: mappedSource(R, ['xi', 'src'], 2, ['isd', 'ssd', 'nd', ...ish], body),
    loopMaxIterations: bound,
  }));
  const s = out.storage as GlStorage;
  const ishVals = g.order.map((d) => index.shape[d]!);
  ctx.runInto(s, op, (cls) =>
    ctx.dev.run(
      sc,
      cls,
      [s.tex, tex(index), tex(src), index.strides[dim]!, src.strides[dim]!, nd, ...ishVals, ...geometryArgs(out, g, [index.offset, src.offset])],
      op,
    ),
  );
}
