/**
 * A stable sort of every row along one dim.
 *
 * Many rows (>= 256): one invocation per row merge-sorts it in scratch memory — no passes, no
 * barriers, and plenty of parallelism from the rows alone.
 *
 * Fewer rows: a bitonic sorting network over each row padded to a power of two P, in two scratch
 * buffers (the values' raw 32-bit words and their positions):
 * 1. load: row r's elements (strided) go to keys[r·P + p], positions to idx[r·P + p]; the
 *    padding (p >= n) takes positions n..P-1 and sorts after every real element;
 * 2. log2 P · (log2 P + 1) / 2 compare-exchange passes, one dispatch each (WebGPU makes each
 *    dispatch's writes visible to the next), P/2 invocations per row;
 * 3. write: the first n of each row go to the strided values and int32 indices.
 *
 * The network compares (value, position) pairs, a total order, so its result is the stable sort
 * (equal values keep their order, ascending and descending) and does not depend on the device.
 * NaN sorts as the largest value, as PyTorch's: last ascending, first descending.
 */
import type { DType, View } from '@nabla/core';
import type { KernelContext } from '../context.js';
import { wgslType } from '../dtypes.js';
import { checkDim, collapse, fmtShape, numelOf, sameShape } from '../geometry.js';
import { entry1d, groupsFor, META_DECL, offsetWalk } from '../wgsl/common.js';
import { helperSource } from '../wgsl/math.js';

// Meta: [total = rows·P, P, n, keptRank, xStep, xOffset, keptShape, keptXStrides]
const LOAD_SOURCE = `// sort: load rows into padded scratch
${META_DECL}
@group(0) @binding(1) var<storage, read_write> keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> idx: array<u32>;
@group(0) @binding(3) var<storage, read> x: array<u32>;
${entry1d(`  if (gid >= args[0]) { return; }
  let P = args[1];
  let n = args[2];
  let row = gid / P;
  let p = gid % P;
${offsetWalk('row', 'args[3]', '6u', [{ name: 'xb', init: 'args[5]', stridesAt: '6u + args[3]' }], 'k')}
  var v = 0u;
  if (p < n) { v = x[xb + p * args[4]]; }
  keys[gid] = v;
  idx[gid] = p;`)}`;

/** `before(a, b)`: whether element (ka, ia) goes before (kb, ib) in the sorted row. */
function beforeFn(dtype: DType): string {
  const t = wgslType(dtype);
  const key = (w: string) => (t === 'u32' ? w : `bitcast<${t}>(${w})`);
  const nanCheck =
    dtype === 'float32'
      ? `  let na = nb_isnan(ka);
  let nb = nb_isnan(kb);
  if (na || nb) {
    if (na && nb) { return ia < ib; }
    return na == desc;
  }
`
      : '';
  return `fn before(wa: u32, ia: u32, wb: u32, ib: u32, n: u32, desc: bool) -> bool {
  // Padding sorts after every element of the row.
  if (ia >= n || ib >= n) { return ia < ib; }
  let ka = ${key('wa')};
  let kb = ${key('wb')};
${nanCheck}  if (ka == kb) { return ia < ib; }
  return (ka < kb) != desc;
}`;
}

// Meta: [half = rows·P/2, P, j, k, n, descending]
function stepSource(dtype: DType): string {
  return `// sort (${dtype}): one bitonic compare-exchange pass
${META_DECL}
@group(0) @binding(1) var<storage, read_write> keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> idx: array<u32>;
${dtype === 'float32' ? helperSource(['nb_isnan']) : ''}
${beforeFn(dtype)}
${entry1d(`  if (gid >= args[0]) { return; }
  let P = args[1];
  let j = args[2];
  let k = args[3];
  let n = args[4];
  let desc = args[5] != 0u;
  let halfP = P / 2u;
  let row = gid / halfP;
  let q = gid % halfP;
  let i = ((q & ~(j - 1u)) << 1u) | (q & (j - 1u));
  let l = i | j;
  let a = row * P + i;
  let b = row * P + l;
  let wa = keys[a];
  let wb = keys[b];
  let ia = idx[a];
  let ib = idx[b];
  // In a block that sorts up, b must not go before a; in one that sorts down, the reverse.
  let up = (i & k) == 0u;
  var swap = false;
  if (up) { swap = before(wb, ib, wa, ia, n, desc); } else { swap = before(wa, ia, wb, ib, n, desc); }
  if (swap) {
    keys[a] = wb;
    keys[b] = wa;
    idx[a] = ib;
    idx[b] = ia;
  }`)}`;
}

// Meta: [total = rows·n, n, P, keptRank, vStep, iStep, vOffset, iOffset, keptShape, keptVStrides, keptIStrides]
const WRITE_SOURCE = `// sort: write the first n of each padded row
${META_DECL}
@group(0) @binding(1) var<storage, read_write> values: array<u32>;
@group(0) @binding(2) var<storage, read_write> indices: array<i32>;
@group(0) @binding(3) var<storage, read> keys: array<u32>;
@group(0) @binding(4) var<storage, read> idx: array<u32>;
${entry1d(`  if (gid >= args[0]) { return; }
  let n = args[1];
  let P = args[2];
  let row = gid / n;
  let p = gid % n;
${offsetWalk('row', 'args[3]', '8u', [
  { name: 'vb', init: 'args[6]', stridesAt: '8u + args[3]' },
  { name: 'ib', init: 'args[7]', stridesAt: '8u + args[3] * 2u' },
], 'k')}
  values[vb + p * args[4]] = keys[row * P + p];
  indices[ib + p * args[5]] = i32(idx[row * P + p]);`)}`;

/**
 * One invocation per row: a bottom-up merge sort of the row's (word, position) pairs, ping-ponging
 * between the halves of two scratch buffers (words at [0, rows·n), positions at [rows·n, 2·rows·n)).
 * Merging by the same total order gives exactly the network's result.
 */
// Meta: [rows, n, keptRank, xStep, vStep, iStep, xOffset, vOffset, iOffset, descending,
//        keptShape, keptXStrides, keptVStrides, keptIStrides]
function serialSource(dtype: DType): string {
  const merge = (src: string, dst: string) => `for (var lo = 0u; lo < n; lo = lo + 2u * width) {
        let mid = min(lo + width, n);
        let hi = min(lo + 2u * width, n);
        var a = lo;
        var b = mid;
        for (var o = lo; o < hi; o = o + 1u) {
          var takeB = a >= mid;
          if (!takeB && b < hi) {
            takeB = before(${src}[base + b], ${src}[half + base + b], ${src}[base + a], ${src}[half + base + a], n, desc);
          }
          if (takeB) {
            ${dst}[base + o] = ${src}[base + b];
            ${dst}[half + base + o] = ${src}[half + base + b];
            b = b + 1u;
          } else {
            ${dst}[base + o] = ${src}[base + a];
            ${dst}[half + base + o] = ${src}[half + base + a];
            a = a + 1u;
          }
        }
      }`;
  return `// sort (${dtype}): one invocation merge-sorts each row
${META_DECL}
@group(0) @binding(1) var<storage, read_write> values: array<u32>;
@group(0) @binding(2) var<storage, read_write> indices: array<i32>;
@group(0) @binding(3) var<storage, read_write> A: array<u32>;
@group(0) @binding(4) var<storage, read_write> B: array<u32>;
@group(0) @binding(5) var<storage, read> x: array<u32>;
${dtype === 'float32' ? helperSource(['nb_isnan']) : ''}
${beforeFn(dtype)}
${entry1d(`  if (gid >= args[0]) { return; }
  let row = gid;
  let n = args[1];
  let kr = args[2];
  let desc = args[9] != 0u;
  let half = args[0] * n;
  let base = row * n;
${offsetWalk('row', 'kr', '10u', [
  { name: 'xb', init: 'args[6]', stridesAt: '10u + kr' },
  { name: 'vb', init: 'args[7]', stridesAt: '10u + kr * 2u' },
  { name: 'ib', init: 'args[8]', stridesAt: '10u + kr * 3u' },
], 'k')}
  for (var p = 0u; p < n; p = p + 1u) {
    A[base + p] = x[xb + p * args[3]];
    A[half + base + p] = p;
  }
  var inA = true;
  for (var width = 1u; width < n; width = width * 2u) {
    if (inA) {
      ${merge('A', 'B')}
    } else {
      ${merge('B', 'A')}
    }
    inA = !inA;
  }
  for (var p = 0u; p < n; p = p + 1u) {
    if (inA) {
      values[vb + p * args[4]] = A[base + p];
      indices[ib + p * args[5]] = i32(A[half + base + p]);
    } else {
      values[vb + p * args[4]] = B[base + p];
      indices[ib + p * args[5]] = i32(B[half + base + p]);
    }
  }`)}`;
}

/** With this many rows or more, each row is merge-sorted by its own invocation (no passes). */
const SERIAL_ROWS = 256;

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export function sort(ctx: KernelContext, values: View, indices: View, x: View, dim: number, descending: boolean): void {
  checkDim('sort', dim, x.shape.length);
  if (!sameShape(values.shape, x.shape) || !sameShape(indices.shape, x.shape)) {
    throw new Error(`sort: values ${fmtShape(values.shape)} and indices ${fmtShape(indices.shape)} must have the input's shape ${fmtShape(x.shape)}`);
  }
  if (indices.dtype !== 'int32') throw new Error(`sort: indices must be int32, got ${indices.dtype}`);
  if (values.dtype !== x.dtype) throw new Error(`sort: values must have the input's dtype ${x.dtype}, got ${values.dtype}`);
  const vs = ctx.storage('sort', 'values', values);
  const is = ctx.storage('sort', 'indices', indices);
  const xs = ctx.storage('sort', 'input', x);
  const n = x.shape[dim]!;
  const rows = numelOf(x.shape) / Math.max(n, 1);
  if (n === 0 || rows === 0) return;
  const keep = (_: number, d: number) => d !== dim;
  const d = ctx.dispatcher;
  if (rows >= SERIAL_ROWS) {
    ctx.withTemp(2 * rows * n, (a) =>
      ctx.withTemp(2 * rows * n, (b) => {
        const g = collapse(x.shape.filter(keep), [x.strides.filter(keep), values.strides.filter(keep), indices.strides.filter(keep)]);
        const kernel = d.kernel(`sort:serial:${x.dtype}`, `sort (${x.dtype}, per row)`, () => serialSource(x.dtype), ['write', 'write', 'write', 'write', 'read']);
        const meta = [
          rows, n, g.shape.length, x.strides[dim]!, values.strides[dim]!, indices.strides[dim]!, x.offset, values.offset, indices.offset,
          descending ? 1 : 0, ...g.shape, ...g.strides.flat(),
        ];
        d.dispatch(kernel, meta, [vs.buffer, is.buffer, a, b, xs.buffer], groupsFor(rows));
      }),
    );
    return;
  }
  const P = nextPow2(n);
  const total = rows * P;
  ctx.withTemp(total, (keys) =>
    ctx.withTemp(total, (idx) => {
      const gx = collapse(x.shape.filter(keep), [x.strides.filter(keep)]);
      const load = d.kernel('sort:load', 'sort (load)', LOAD_SOURCE, ['write', 'write', 'read']);
      d.dispatch(load, [total, P, n, gx.shape.length, x.strides[dim]!, x.offset, ...gx.shape, ...gx.strides[0]!], [keys, idx, xs.buffer], groupsFor(total));
      const step = d.kernel(`sort:step:${x.dtype}`, `sort (${x.dtype})`, () => stepSource(x.dtype), ['write', 'write']);
      for (let k = 2; k <= P; k *= 2) {
        for (let j = k / 2; j >= 1; j /= 2) d.dispatch(step, [total / 2, P, j, k, n, descending ? 1 : 0], [keys, idx], groupsFor(total / 2));
      }
      const gw = collapse(x.shape.filter(keep), [values.strides.filter(keep), indices.strides.filter(keep)]);
      const write = d.kernel('sort:write', 'sort (write)', WRITE_SOURCE, ['write', 'write', 'read', 'read']);
      const meta = [rows * n, n, P, gw.shape.length, values.strides[dim]!, indices.strides[dim]!, values.offset, indices.offset, ...gw.shape, ...gw.strides[0]!, ...gw.strides[1]!];
      d.dispatch(write, meta, [vs.buffer, is.buffer, keys, idx], groupsFor(rows * n));
    }),
  );
}
