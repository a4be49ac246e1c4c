/**
 * Fused, numerically stable softmax / logSoftmax along one dim of a strided view:
 * softmax = e^{x-m} / Σ e^{x-m}, logSoftmax = x - m - log Σ e^{x-m}, with m the row maximum.
 *
 * One workgroup per row for rows longer than 32 (three strided passes — max, sum of
 * exponentials, write — each finished by a tree in workgroup memory), one invocation per row for
 * shorter ones. A row of all -inf gives NaN (as PyTorch), -inf entries next to finite ones give
 * 0 / -inf, and a NaN anywhere in a row makes the whole row NaN.
 */
import type { View } from '@nabla/core';
import type { KernelContext } from '../context.js';
import { WORKGROUP } from '../dispatcher.js';
import { checkDim, collapse, fmtShape, numelOf, sameShape } from '../geometry.js';
import { entry1d, entryPerRow, groupsFor, META_DECL, offsetWalk } from '../wgsl/common.js';
import { helperSource } from '../wgsl/math.js';

const SHORT_ROW = 32;

// Meta: [nRows, len, keptRank, xStep, outStep, xOffset, outOffset, keptShape, keptXStrides, keptOutStrides]
const KEPT_WALK = offsetWalk('row', 'kr', '7u', [
  { name: 'xb', init: 'args[5]', stridesAt: '7u + kr' },
  { name: 'ob', init: 'args[6]', stridesAt: '7u + kr * 2u' },
], 'k');

function softmaxSource(op: 'softmax' | 'logSoftmax', short: boolean): string {
  const write = op === 'softmax' ? 'nb_exp(v - m) / s' : 'v - m - nb_log(s)';
  const decls = `// ${op} (float32, ${short ? 'one invocation' : 'one workgroup'} per row)
${META_DECL}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
${helperSource(['nb_max', 'nb_exp', 'nb_log', 'nb_inf'])}`;
  const pass = (start: string, step: string, body: string) =>
    `for (var j = ${start}; j < len; j = j + ${step}) {\n    let v = x[xb + j * xs];\n    ${body}\n  }`;
  const writeLoop = (start: string, step: string) =>
    `for (var j = ${start}; j < len; j = j + ${step}) {\n    let v = x[xb + j * xs];\n    out[ob + j * os] = ${write};\n  }`;
  if (short) {
    return `${decls}
${entry1d(`  if (gid >= args[0]) { return; }
  let row = gid;
  let len = args[1];
  let kr = args[2];
  let xs = args[3];
  let os = args[4];
${KEPT_WALK}
  var m = -nb_inf();
  ${pass('0u', '1u', 'm = nb_max(m, v);')}
  var s = 0.0;
  ${pass('0u', '1u', 's = s + nb_exp(v - m);')}
  ${writeLoop('0u', '1u')}`)}`;
  }
  const tree = (combine: string) => `partial[lid] = acc;
  workgroupBarrier();
  for (var k = ${WORKGROUP / 2}u; k > 0u; k = k >> 1u) {
    if (lid < k) { partial[lid] = ${combine}; }
    workgroupBarrier();
  }`;
  return `${decls}
var<workgroup> partial: array<f32, ${WORKGROUP}>;
${entryPerRow(`  let len = select(0u, args[1], live);
  let kr = args[2];
  let xs = args[3];
  let os = args[4];
${KEPT_WALK}
  var acc = -nb_inf();
  ${pass('lid', `${WORKGROUP}u`, 'acc = nb_max(acc, v);')}
  ${tree('nb_max(partial[lid], partial[lid + k])')}
  let m = partial[0];
  workgroupBarrier();
  acc = 0.0;
  ${pass('lid', `${WORKGROUP}u`, 'acc = acc + nb_exp(v - m);')}
  ${tree('partial[lid] + partial[lid + k]')}
  let s = partial[0];
  ${writeLoop('lid', `${WORKGROUP}u`)}`)}`;
}

export function softmax(ctx: KernelContext, op: 'softmax' | 'logSoftmax', out: View, x: View, dim: number): void {
  checkDim(op, dim, x.shape.length);
  if (!sameShape(out.shape, x.shape)) throw new Error(`${op}: out shape ${fmtShape(out.shape)} must equal input shape ${fmtShape(x.shape)}`);
  if (x.dtype !== 'float32' || out.dtype !== 'float32') throw new Error(`${op}: expects float32, got ${x.dtype} -> ${out.dtype}`);
  const os = ctx.storage(op, 'out', out);
  const len = x.shape[dim]!;
  const nRows = numelOf(x.shape) / Math.max(len, 1);
  if (len === 0 || nRows === 0) return;
  ctx.apart(op, x, out, (xBuf, xv) => {
    const keep = (_: number, d: number) => d !== dim;
    const g = collapse(xv.shape.filter(keep), [xv.strides.filter(keep), out.strides.filter(keep)]);
    const short = len <= SHORT_ROW;
    const kernel = ctx.dispatcher.kernel(`${op}:${short ? 's' : 'g'}`, `${op} (float32)`, () => softmaxSource(op, short), ['write', 'read']);
    const meta = [nRows, len, g.shape.length, xv.strides[dim]!, out.strides[dim]!, xv.offset, out.offset, ...g.shape, ...g.strides[0]!, ...g.strides[1]!];
    ctx.dispatcher.dispatch(kernel, meta, [os.buffer, xBuf], short ? groupsFor(nRows) : nRows);
  });
}
