/**
 * Reductions (sum, prod, max, min) over any set of axes, and argmax/argmin over one axis, for
 * strided inputs and outputs.
 *
 * The host splits the input's dims into kept and reduced ones and collapses each group; the
 * kernel then sees "rows": one per output element, each a walk over the reduced dims.
 * - Long rows (> 32 elements): one workgroup of 256 invocations per row. Each invocation folds a
 *   strided slice of the row, then the workgroup combines the 256 partials as a tree in
 *   workgroup memory (pairwise, so float sums of long rows stay accurate).
 * - Short rows: one invocation per row folds it serially (a workgroup per row of 1 would idle
 *   255 invocations).
 * Accumulation is f32 for float32 inputs and i32 (wrapping, like int32) for int32 and bool; float16
 * on a device with `shader-f16` (`native16`) is read as `array<f16>`, accumulated in f32 and
 * rounded once, as PyTorch does.
 * max/min propagate NaN; argmax/argmin keep the first index of the extreme and treat NaN as the
 * extreme (the first NaN wins), as PyTorch does.
 */
import type { DType, View } from '@nabla/core';
import type { KernelContext } from '../context.js';
import { WORKGROUP } from '../dispatcher.js';
import { wgslType } from '../dtypes.js';
import { checkAxes, collapse, numelOf } from '../geometry.js';
import { entry1d, entryPerRow, groupsFor, META_DECL, offsetWalk } from '../wgsl/common.js';
import { helperSource } from '../wgsl/math.js';

export type ReduceOp = 'sum' | 'prod' | 'max' | 'min';

/** Rows up to this long are folded by a single invocation. */
const SHORT_ROW = 32;

interface Acc {
  readonly type: 'f32' | 'i32';
  readonly identity: string;
  readonly combine: (a: string, b: string) => string;
  readonly helpers: readonly string[];
}

function accFor(op: ReduceOp, dtype: DType): Acc {
  const float = dtype === 'float32' || dtype === 'float16';
  const type = float ? 'f32' : 'i32';
  switch (op) {
    case 'sum':
      return { type, identity: float ? '0.0' : '0', combine: (a, b) => `${a} + ${b}`, helpers: [] };
    case 'prod':
      return { type, identity: float ? '1.0' : '1', combine: (a, b) => `${a} * ${b}`, helpers: [] };
    case 'max':
      return float
        ? { type, identity: '-nb_inf()', combine: (a, b) => `nb_max(${a}, ${b})`, helpers: ['nb_max', 'nb_inf'] }
        : { type, identity: '(-2147483647 - 1)', combine: (a, b) => `max(${a}, ${b})`, helpers: [] };
    case 'min':
      return float
        ? { type, identity: 'nb_inf()', combine: (a, b) => `nb_min(${a}, ${b})`, helpers: ['nb_min', 'nb_inf'] }
        : { type, identity: '2147483647', combine: (a, b) => `min(${a}, ${b})`, helpers: [] };
  }
}

/** The WGSL element type of a binding: float16 only reaches here on a native-f16 device. */
function ty(dtype: DType): string {
  return dtype === 'float16' ? 'f16' : wgslType(dtype);
}

function load(raw: string, dtype: DType, acc: 'f32' | 'i32'): string {
  const t = ty(dtype);
  return t === acc ? raw : `${acc}(${raw})`;
}

function store(v: string, dtype: DType): string {
  if (dtype === 'bool') return `select(0u, 1u, ${v} != 0)`;
  return `${ty(dtype)}(${v})`;
}

// Meta: [nOut, R, keptRank, reducedRank, xOffset, outOffset,
//        keptShape, keptXStrides, keptOutStrides, reducedShape, reducedXStrides]
const KEPT_WALK = offsetWalk('row', 'kr', '6u', [
  { name: 'xb', init: 'args[4]', stridesAt: '6u + kr' },
  { name: 'ob', init: 'args[5]', stridesAt: '6u + kr * 2u' },
], 'k');
const ROW_WALK = offsetWalk('r', 'rr', 'rs', [{ name: 'xo', init: 'xb', stridesAt: 'rs + rr' }], 'q');

function reduceSource(op: ReduceOp, xDtype: DType, outDtype: DType, short: boolean): string {
  const acc = accFor(op, xDtype);
  const f16 = xDtype === 'float16' || outDtype === 'float16';
  const decls = `${f16 ? 'enable f16;\n' : ''}// reduce ${op} (${xDtype} -> ${outDtype}, ${short ? 'one invocation' : 'one workgroup'} per row)
${META_DECL}
@group(0) @binding(1) var<storage, read_write> out: array<${ty(outDtype)}>;
@group(0) @binding(2) var<storage, read> x: array<${ty(xDtype)}>;
${helperSource(acc.helpers)}
fn combine(a: ${acc.type}, b: ${acc.type}) -> ${acc.type} { return ${acc.combine('a', 'b')}; }`;
  const fold = `  var acc: ${acc.type} = ${acc.identity};
  let rs = 6u + kr * 3u;`;
  if (short) {
    return `${decls}
${entry1d(`  if (gid >= args[0]) { return; }
  let row = gid;
  let R = args[1];
  let kr = args[2];
  let rr = args[3];
${KEPT_WALK}
${fold}
  for (var r = 0u; r < R; r = r + 1u) {
  ${ROW_WALK}
    acc = combine(acc, ${load('x[xo]', xDtype, acc.type)});
  }
  out[ob] = ${store('acc', outDtype)};`)}`;
  }
  return `${decls}
var<workgroup> partial: array<${acc.type}, ${WORKGROUP}>;
${entryPerRow(`  let R = select(0u, args[1], live);
  let kr = args[2];
  let rr = args[3];
${KEPT_WALK}
${fold}
  for (var r = lid; r < R; r = r + ${WORKGROUP}u) {
  ${ROW_WALK}
    acc = combine(acc, ${load('x[xo]', xDtype, acc.type)});
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { partial[lid] = combine(partial[lid], partial[lid + s]); }
    workgroupBarrier();
  }
  if (live && lid == 0u) { out[ob] = ${store('partial[0]', outDtype)}; }`)}`;
}

/** `native16`: float16 operands are bound as `array<f16>` (the device has `shader-f16`). */
export function reduce(ctx: KernelContext, op: ReduceOp, out: View, x: View, axes: readonly number[], native16 = false): void {
  const reduced = checkAxes(op, x, out, axes);
  if (!native16 && (x.dtype === 'float16' || out.dtype === 'float16')) throw new Error(`${op}: float16 needs a device with shader-f16 here (the half bridge widens it otherwise)`);
  const os = ctx.storage(op, 'out', out);
  const nOut = numelOf(out.shape);
  if (nOut === 0) return;
  if (numelOf(x.shape) === 0 && (op === 'max' || op === 'min')) throw new Error(`${op}: cannot reduce over an empty dimension`);
  ctx.apart(op, x, out, (xBuf, xv) => {
    const keep = (_: number, d: number) => !reduced[d];
    const red = (_: number, d: number) => reduced[d]!;
    const gk = collapse(xv.shape.filter(keep), [xv.strides.filter(keep), out.strides.filter(keep)]);
    const gr = collapse(xv.shape.filter(red), [xv.strides.filter(red)]);
    const R = numelOf(xv.shape.filter(red));
    const short = R <= SHORT_ROW;
    const name = `reduce ${op} (${x.dtype} -> ${out.dtype})`;
    const kernel = ctx.dispatcher.kernel(
      `reduce:${op}:${x.dtype}:${out.dtype}:${short ? 's' : 'g'}`,
      name,
      () => reduceSource(op, x.dtype, out.dtype, short),
      ['write', 'read'],
    );
    const meta = [nOut, R, gk.shape.length, gr.shape.length, xv.offset, out.offset, ...gk.shape, ...gk.strides[0]!, ...gk.strides[1]!, ...gr.shape, ...gr.strides[0]!];
    ctx.dispatcher.dispatch(kernel, meta, [os.buffer, xBuf], short ? groupsFor(nOut) : nOut);
  });
}

// Meta: [nOut, len, keptRank, step, xOffset, outOffset, keptShape, keptXStrides, keptOutStrides]
const ARG_WALK = offsetWalk('row', 'kr', '6u', [
  { name: 'xb', init: 'args[4]', stridesAt: '6u + kr' },
  { name: 'ob', init: 'args[5]', stridesAt: '6u + kr * 2u' },
], 'k');

function argSource(op: 'argmax' | 'argmin', dtype: DType, short: boolean): string {
  const t = wgslType(dtype);
  const float = dtype === 'float32';
  const cmp = op === 'argmax' ? '>' : '<';
  const nanRule = float
    ? `  let bn = nb_isnan(bv);
  let vn = nb_isnan(v);
  if (bn || vn) {
    if (bn && vn) { return i < bi; }
    return vn;
  }\n`
    : '';
  const decls = `// ${op} (${dtype}, ${short ? 'one invocation' : 'one workgroup'} per row)
${META_DECL}
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
@group(0) @binding(2) var<storage, read> x: array<${t}>;
${float ? helperSource(['nb_isnan']) : ''}
const NONE = 0xffffffffu;
// Whether (v, i) beats the current best (bv, bi): the extreme value, NaN above all, then the lower index.
fn better(bv: ${t}, bi: u32, v: ${t}, i: u32) -> bool {
  if (i == NONE) { return false; }
  if (bi == NONE) { return true; }
${nanRule}  if (v ${cmp} bv) { return true; }
  return v == bv && i < bi;
}`;
  const scan = (start: string, step: string) => `  var bv: ${t} = ${t}(0);
  var bi = NONE;
  for (var r = ${start}; r < len; r = r + ${step}) {
    let v = x[xb + r * xstep];
    if (better(bv, bi, v, r)) { bv = v; bi = r; }
  }`;
  if (short) {
    return `${decls}
${entry1d(`  if (gid >= args[0]) { return; }
  let row = gid;
  let len = args[1];
  let kr = args[2];
  let xstep = args[3];
${ARG_WALK}
${scan('0u', '1u')}
  out[ob] = i32(bi);`)}`;
  }
  return `${decls}
var<workgroup> pv: array<${t}, ${WORKGROUP}>;
var<workgroup> pi: array<u32, ${WORKGROUP}>;
${entryPerRow(`  let len = select(0u, args[1], live);
  let kr = args[2];
  let xstep = args[3];
${ARG_WALK}
${scan('lid', `${WORKGROUP}u`)}
  pv[lid] = bv;
  pi[lid] = bi;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s && better(pv[lid], pi[lid], pv[lid + s], pi[lid + s])) {
      pv[lid] = pv[lid + s];
      pi[lid] = pi[lid + s];
    }
    workgroupBarrier();
  }
  if (live && lid == 0u) { out[ob] = i32(pi[0]); }`)}`;
}

export function argReduce(ctx: KernelContext, op: 'argmax' | 'argmin', out: View, x: View, axes: readonly number[]): void {
  if (axes.length !== 1) throw new Error(`${op}: reduces exactly one axis, got [${axes.join(', ')}]`);
  checkAxes(op, x, out, axes);
  if (out.dtype !== 'int32') throw new Error(`${op}: out must be int32, got ${out.dtype}`);
  if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new Error(`${op}: unsupported dtype ${x.dtype}`);
  const os = ctx.storage(op, 'out', out);
  const nOut = numelOf(out.shape);
  if (nOut === 0) return;
  const ax = axes[0]!;
  const len = x.shape[ax]!;
  if (len === 0) throw new Error(`${op}: cannot reduce over an empty dimension`);
  ctx.apart(op, x, out, (xBuf, xv) => {
    const keep = (_: number, d: number) => d !== ax;
    const g = collapse(xv.shape.filter(keep), [xv.strides.filter(keep), out.strides.filter(keep)]);
    const short = len <= SHORT_ROW;
    const kernel = ctx.dispatcher.kernel(`${op}:${x.dtype}:${short ? 's' : 'g'}`, `${op} (${x.dtype})`, () => argSource(op, x.dtype, short), ['write', 'read']);
    const meta = [nOut, len, g.shape.length, xv.strides[ax]!, xv.offset, out.offset, ...g.shape, ...g.strides[0]!, ...g.strides[1]!];
    ctx.dispatcher.dispatch(kernel, meta, [os.buffer, xBuf], short ? groupsFor(nOut) : nOut);
  });
}

