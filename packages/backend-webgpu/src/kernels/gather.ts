/**
 * gather / scatterAdd / scatter along one dim, for strided views (`index` may be broadcast with stride 0:
 * core builds indexSelect from an expanded index).
 *
 * gather: one invocation per index element copies one 32-bit word (every dtype is one word).
 *
 * scatterAdd: WGSL has atomic add for i32/u32 only, not f32. A compare-and-swap loop on the f32
 * bits would work but adds in whatever order invocations race, so float results would change run
 * to run. Instead one invocation owns each *output* element: it scans the index entries that can
 * target it (same coordinates off `dim`, all positions along `dim`) in ascending order and adds
 * the matching sources in that order — deterministic, free of atomics, and bit-identical to the
 * sequential CPU loop. It costs O(out.numel × index.shape[dim]) reads, which is small for the
 * gradients it serves (gather, indexSelect, max along a dim).
 *
 * An index out of range cannot throw from the GPU: the kernel records it in the status words
 * (first one wins) and the next read or synchronize throws the error, as the CPU would have.
 */
import type { View } from '@nabla/core';
import type { KernelContext } from '../context.js';
import { wgslType } from '../dtypes.js';
import { checkDim, collapse, fmtShape, numelOf, sameShape } from '../geometry.js';
import { entry1d, groupsFor, META_DECL, offsetWalk } from '../wgsl/common.js';

/** index.shape[d] <= target.shape[d] for d != dim (PyTorch's rule), same rank. */
function checkIndexShape(op: string, what: string, index: View, target: View, dim: number): void {
  const ok = index.shape.length === target.shape.length && index.shape.every((n, d) => d === dim || n <= target.shape[d]!);
  if (!ok) {
    throw new Error(`${op}: index shape ${fmtShape(index.shape)} does not fit ${what} shape ${fmtShape(target.shape)} outside dim ${dim}`);
  }
}

const REPORT = `@group(0) @binding(4) var<storage, read_write> status: array<atomic<u32>>;
fn report(code: u32, v: i32, size: u32, dim: u32) {
  let r = atomicCompareExchangeWeak(&status[0], 0u, code);
  if (r.exchanged) {
    atomicStore(&status[1], bitcast<u32>(v));
    atomicStore(&status[2], size);
    atomicStore(&status[3], dim);
  }
}`;

// Meta: [n, rank, outOffset, indexOffset, xOffset, size, xStrideDim, dim, shape, outStrides, indexStrides, xStrides]
const GATHER_SOURCE = `// gather (32-bit words)
${META_DECL}
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<u32>;
@group(0) @binding(3) var<storage, read> idx: array<i32>;
${REPORT}
${entry1d(`  if (gid >= args[0]) { return; }
  let rank = args[1];
${offsetWalk('gid', 'rank', '8u', [
  { name: 'oo', init: 'args[2]', stridesAt: '8u + rank' },
  { name: 'io', init: 'args[3]', stridesAt: '8u + rank * 2u' },
  { name: 'xo', init: 'args[4]', stridesAt: '8u + rank * 3u' },
])}
  let v = idx[io];
  let size = args[5];
  if (v < 0 || u32(v) >= size) {
    report(1u, v, size, args[7]);
    out[oo] = 0u;
    return;
  }
  out[oo] = x[xo + u32(v) * args[6]];`)}`;

/** out[..., i, ...] = x[..., index[..., i, ...], ...] along `dim`. */
export function gather(ctx: KernelContext, out: View, x: View, dim: number, index: View): void {
  checkDim('gather', dim, x.shape.length);
  if (!sameShape(out.shape, index.shape)) {
    throw new Error(`gather: out shape ${fmtShape(out.shape)} must equal index shape ${fmtShape(index.shape)}`);
  }
  checkIndexShape('gather', 'input', index, x, dim);
  if (index.dtype !== 'int32') throw new Error(`gather: index must be int32, got ${index.dtype}`);
  const os = ctx.storage('gather', 'out', out);
  const n = numelOf(index.shape);
  if (n === 0) return;
  ctx.apart('gather', x, out, (xBuf, xv) =>
    ctx.apart('gather', index, out, (iBuf, iv) => {
      const xs = xv.strides.map((s, d) => (d === dim ? 0 : s));
      const g = collapse(iv.shape, [out.strides, iv.strides, xs]);
      const meta = [n, g.shape.length, out.offset, iv.offset, xv.offset, xv.shape[dim]!, xv.strides[dim]!, dim, ...g.shape, ...g.strides.flat()];
      const kernel = ctx.dispatcher.kernel('gather', 'gather', GATHER_SOURCE, ['write', 'read', 'read', 'write']);
      ctx.dispatcher.dispatch(kernel, meta, [os.buffer, xBuf, iBuf, ctx.dispatcher.status], groupsFor(n));
    }),
  );
}

function scatterSource(op: 'scatter' | 'scatterAdd', dtype: View['dtype']): string {
  const t = wgslType(dtype);
  const add =
    op === 'scatter'
      ? (_a: string, b: string) => b
      : dtype === 'bool'
        ? (a: string, b: string) => `(${a} | ${b})`
        : (a: string, b: string) => `(${a} + ${b})`;
  // Meta: [nOut, rank, dim, L, outOffset, indexOffset, srcOffset, size,
  //        outShape, outStrides, indexShape, indexStrides, srcStrides]
  return `// ${op} (${dtype}): one invocation per output element, sources taken in index order
${META_DECL}
@group(0) @binding(1) var<storage, read_write> out: array<${t}>;
@group(0) @binding(2) var<storage, read> src: array<${t}>;
@group(0) @binding(3) var<storage, read> idx: array<i32>;
${REPORT}
${entry1d(`  if (gid >= args[0]) { return; }
  let rank = args[1];
  let dim = args[2];
  let L = args[3];
  var oo = args[4];
  var ib = args[5];
  var sb = args[6];
  let size = args[7];
  var rem = gid;
  var j = 0u;
  var inside = true;
  for (var d = i32(rank) - 1; d >= 0; d = d - 1) {
    let u = u32(d);
    let n = args[8u + u];
    let c = rem % n;
    rem = rem / n;
    oo = oo + c * args[8u + rank + u];
    if (u == dim) {
      j = c;
    } else {
      if (c >= args[8u + rank * 2u + u]) { inside = false; }
      ib = ib + c * args[8u + rank * 3u + u];
      sb = sb + c * args[8u + rank * 4u + u];
    }
  }
  if (!inside) { return; }
  let istep = args[8u + rank * 3u + dim];
  let sstep = args[8u + rank * 4u + dim];
  var acc = out[oo];
  var hit = false;
  for (var i = 0u; i < L; i = i + 1u) {
    let v = idx[ib + i * istep];
    if (j == 0u && (v < 0 || u32(v) >= size)) { report(${op === 'scatter' ? 3 : 2}u, v, size, dim); }
    if (v == i32(j)) {
      acc = ${add('acc', 'src[sb + i * sstep]')};
      hit = true;
    }
  }
  if (hit) { out[oo] = acc; }`)}`;
}

/** out[..., index[..., i, ...], ...] += src[..., i, ...] along `dim` (duplicates accumulate). */
export function scatterAdd(ctx: KernelContext, out: View, dim: number, index: View, src: View): void {
  scatterInto(ctx, 'scatterAdd', out, dim, index, src);
}

/** out[..., index[..., i, ...], ...] = src[..., i, ...] along `dim` (duplicates: the last in index order wins, as on the CPU). */
export function scatter(ctx: KernelContext, out: View, dim: number, index: View, src: View): void {
  scatterInto(ctx, 'scatter', out, dim, index, src);
}

function scatterInto(ctx: KernelContext, op: 'scatter' | 'scatterAdd', out: View, dim: number, index: View, src: View): void {
  checkDim(op, dim, out.shape.length);
  if (!sameShape(src.shape, index.shape)) {
    throw new Error(`${op}: src shape ${fmtShape(src.shape)} must equal index shape ${fmtShape(index.shape)}`);
  }
  checkIndexShape(op, 'out', index, out, dim);
  if (index.dtype !== 'int32') throw new Error(`${op}: index must be int32, got ${index.dtype}`);
  const os = ctx.storage(op, 'out', out);
  if (numelOf(index.shape) === 0) return;
  const nOut = numelOf(out.shape);
  if (nOut === 0) return;
  ctx.apart(op, src, out, (sBuf, sv) =>
    ctx.apart(op, index, out, (iBuf, iv) => {
      const meta = [
        nOut, out.shape.length, dim, iv.shape[dim]!, out.offset, iv.offset, sv.offset, out.shape[dim]!,
        ...out.shape, ...out.strides, ...iv.shape, ...iv.strides, ...sv.strides,
      ];
      const kernel = ctx.dispatcher.kernel(`${op}:${out.dtype}`, `${op} (${out.dtype})`, () => scatterSource(op, out.dtype), [
        'write', 'read', 'read', 'write',
      ]);
      ctx.dispatcher.dispatch(kernel, meta, [os.buffer, sBuf, iBuf, ctx.dispatcher.status], groupsFor(nOut));
    }),
  );
}
