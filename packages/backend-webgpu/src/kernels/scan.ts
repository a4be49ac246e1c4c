/**
 * Inclusive cumulative sums and products along one dim (forward or from the row's end), for
 * strided inputs and outputs.
 *
 * - Short rows (<= 64), or many rows (>= 256): one invocation per row runs the scan serially.
 * - A few long rows: one workgroup per row walks it in tiles of 256; each tile is scanned in workgroup
 *   memory (Hillis–Steele: log2 256 = 8 rounds) and offset by the carry of the tiles before it.
 * Accumulation is f32 for float32 and i32 (wrapping, like int32) for int32 and bool, whose
 * results are int32.
 */
import type { DType, View } from '@nabla/core';
import type { KernelContext } from '../context.js';
import { WORKGROUP } from '../dispatcher.js';
import { wgslType } from '../dtypes.js';
import { checkDim, collapse, fmtShape, numelOf, sameShape } from '../geometry.js';
import { entry1d, entryPerRow, groupsFor, META_DECL, offsetWalk } from '../wgsl/common.js';

export type ScanOp = 'cumsum' | 'cumprod';

const SHORT_ROW = 64;
/** With this many rows or more, every row is scanned serially by its own invocation. */
const SERIAL_ROWS = 256;

// Meta: [nRows, len, keptRank, xStep, outStep, xOffset, outOffset, reverse,
//        keptShape, keptXStrides, keptOutStrides]
const KEPT_WALK = offsetWalk('row', 'kr', '8u', [
  { name: 'xb', init: 'args[5]', stridesAt: '8u + kr' },
  { name: 'ob', init: 'args[6]', stridesAt: '8u + kr * 2u' },
], 'k');

function scanSource(op: ScanOp, xDtype: DType, outDtype: DType, short: boolean): string {
  const acc = outDtype === 'float32' ? 'f32' : 'i32';
  const identity = op === 'cumsum' ? (acc === 'f32' ? '0.0' : '0') : acc === 'f32' ? '1.0' : '1';
  const combine = op === 'cumsum' ? 'a + b' : 'a * b';
  const xt = wgslType(xDtype);
  const read = (p: string) => (xt === acc ? `x[xb + ${p} * xs]` : `${acc}(x[xb + ${p} * xs])`);
  const decls = `// ${op} (${xDtype} -> ${outDtype}, ${short ? 'one invocation' : 'one workgroup'} per row)
${META_DECL}
@group(0) @binding(1) var<storage, read_write> out: array<${acc}>;
@group(0) @binding(2) var<storage, read> x: array<${xt}>;
fn combine(a: ${acc}, b: ${acc}) -> ${acc} { return ${combine}; }`;
  const common = `  let kr = args[2];
  let xs = args[3];
  let os = args[4];
  let reverse = args[7] != 0u;
${KEPT_WALK}`;
  if (short) {
    return `${decls}
${entry1d(`  if (gid >= args[0]) { return; }
  let row = gid;
  let len = args[1];
${common}
  var acc: ${acc} = ${identity};
  for (var j = 0u; j < len; j = j + 1u) {
    let p = select(j, len - 1u - j, reverse);
    acc = combine(acc, ${read('p')});
    out[ob + p * os] = acc;
  }`)}`;
  }
  return `${decls}
var<workgroup> tile: array<${acc}, ${WORKGROUP}>;
${entryPerRow(`  let len = select(0u, args[1], live);
${common}
  var carry: ${acc} = ${identity};
  for (var base = 0u; base < len; base = base + ${WORKGROUP}u) {
    let j = base + lid;
    let p = select(j, len - 1u - j, reverse);
    var v: ${acc} = ${identity};
    if (j < len) { v = ${read('p')}; }
    tile[lid] = v;
    workgroupBarrier();
    for (var off = 1u; off < ${WORKGROUP}u; off = off << 1u) {
      var before: ${acc} = ${identity};
      if (lid >= off) { before = tile[lid - off]; }
      workgroupBarrier();
      tile[lid] = combine(before, tile[lid]);
      workgroupBarrier();
    }
    if (j < len) { out[ob + p * os] = combine(carry, tile[lid]); }
    carry = combine(carry, tile[${WORKGROUP - 1}u]);
    workgroupBarrier();
  }`)}`;
}

export function scan(ctx: KernelContext, op: ScanOp, out: View, x: View, dim: number, reverse: boolean): void {
  checkDim(op, dim, x.shape.length);
  if (!sameShape(out.shape, x.shape)) throw new Error(`${op}: out shape ${fmtShape(out.shape)} must equal input shape ${fmtShape(x.shape)}`);
  const want: DType = x.dtype === 'float32' ? 'float32' : 'int32';
  if (out.dtype !== want) throw new Error(`${op}: a ${x.dtype} input needs a ${want} output, got ${out.dtype}`);
  const os = ctx.storage(op, 'out', out);
  const len = x.shape[dim]!;
  const nRows = numelOf(x.shape) / Math.max(len, 1);
  if (len === 0 || nRows === 0) return;
  ctx.apart(op, x, out, (xBuf, xv) => {
    const keep = (_: number, d: number) => d !== dim;
    const g = collapse(xv.shape.filter(keep), [xv.strides.filter(keep), out.strides.filter(keep)]);
    // A workgroup per row only pays when there are too few rows to fill the device: its tile
    // rounds cost barriers, which software adapters (SwiftShader) make very expensive.
    const short = len <= SHORT_ROW || nRows >= SERIAL_ROWS;
    const key = `${op}:${x.dtype}:${short ? 's' : 'g'}`;
    const kernel = ctx.dispatcher.kernel(key, `${op} (${x.dtype})`, () => scanSource(op, x.dtype, out.dtype, short), ['write', 'read']);
    const meta = [nRows, len, g.shape.length, xv.strides[dim]!, out.strides[dim]!, xv.offset, out.offset, reverse ? 1 : 0, ...g.shape, ...g.strides[0]!, ...g.strides[1]!];
    ctx.dispatcher.dispatch(kernel, meta, [os.buffer, xBuf], short ? groupsFor(nRows) : nRows);
  });
}
