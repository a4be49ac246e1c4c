/**
 * Batched matmul (and addmm: the same products, then an epilogue pass), tiled along K: each pass
 * adds one K-tile (up to TILE_K products per output element) to the running sums of the pass
 * before, so the shader's loop is bounded by the tile, not by K. gpu.js compiles a loop with a uniform bound as `for (i < loopMaxIterations) { if
 * (!(i < bound)) break; }`, silently cutting longer loops: the kernel is compiled with
 * `loopMaxIterations` set from the tile length (rounded up to a power of two, at least 16) and a
 * K below TILE_K that needs a longer loop compiles a kernel with a larger bound.
 */
import { checkAddmmViews, checkBmmShapes, isContiguous, type Expr, type View } from '@nabla/core';
import type { GlStorage } from '../storage.js';
import { loopBound, viewOf, type KernelContext } from './context.js';

export const TILE_K = 256;

export function bmm(ctx: KernelContext, out: View, a: View, b: View): void {
  checkBmmShapes(out, a, b);
  const [B, M] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  const n = B * M * N;
  if (n === 0) return;
  const direct = out.offset === 0 && isContiguous(out.shape, out.strides) && (out.storage as GlStorage).numel === n;
  const target = direct ? (out.storage as GlStorage) : ctx.temp(n);
  try {
    products(ctx, 'bmm', target, a, b);
    if (!direct) ctx.copy(out, viewOf(target, out.shape));
  } finally {
    if (!direct) ctx.release(target);
  }
}

const T: Expr = { op: 'input', index: 0 };
const BIAS: Expr = { op: 'input', index: 1 };
const SCALED: Expr = { op: 'mul', a: { op: 'param', index: 1 }, b: T };
/** alpha · t (+ beta · bias): with beta = 0 the bias is not read, so NaN in it does not spread (PyTorch). */
const EPILOGUE: Expr = { op: 'add', a: { op: 'mul', a: { op: 'param', index: 0 }, b: BIAS }, b: SCALED };

/**
 * out [M, N] = beta · bias + alpha · (a · b): the tiled products into a scratch [M, N], then one
 * epilogue pass that scales them, adds the (broadcast) bias and writes the output view.
 */
export function addmm(ctx: KernelContext, out: View, bias: View, a: View, b: View, beta: number, alpha: number): void {
  checkAddmmViews(out, bias, a, b);
  const [M, N] = out.shape as [number, number];
  if (M * N === 0) return;
  const batched = (v: View): View => ({ ...v, shape: [1, ...v.shape], strides: [0, ...v.strides] });
  const t = ctx.temp(M * N);
  try {
    products(ctx, 'addmm', t, batched(a), batched(b)); // K = 0: one pass of empty sums, zeros
    const tv = viewOf(t, [M, N]);
    if (beta === 0) ctx.elementwise('addmm', 'nb.addmm0', SCALED, out, [tv], [0, alpha], ['float32']);
    else ctx.elementwise('addmm', 'nb.addmm', EPILOGUE, out, [tv, bias], [beta, alpha], ['float32', bias.dtype]);
  } finally {
    ctx.release(t);
  }
}

/** The products of a [B, M, K] and b [B, K, N] into the contiguous float32 storage `target`, one K-tile per pass. */
function products(ctx: KernelContext, what: string, target: GlStorage, a: View, b: View): void {
  const [, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  const tile = Math.min(K, TILE_K);
  const bound = loopBound(tile);
  const sc = ctx.dev.kernel(`bmm:${bound}`, () => ({
    source: `function (a, b, acc, hasAcc, k0, kt, M, N, ao, as0, as1, as2, bo, bs0, bs1, bs2) {
  let p = this.thread.x;
  let bb = Math.floor(p / (M * N));
  let rem = p - bb * M * N;
  let m = Math.floor(rem / N);
  let n = rem - m * N;
  let s = 0.0;
  if (hasAcc > 0.5) {
    s = acc[p];
  }
  let ar = ao + bb * as0 + m * as1 + k0 * as2;
  let bc = bo + bb * bs0 + n * bs2 + k0 * bs1;
  for (let k = 0; k < kt; k++) {
    s = s + a[ar + k * as2] * b[bc + k * bs1];
  }
  return s;
}`,
    loopMaxIterations: bound,
  }));
  const geo = [M, N, a.offset, a.strides[0]!, a.strides[1]!, a.strides[2]!, b.offset, b.strides[0]!, b.strides[1]!, b.strides[2]!];
  let k0 = 0;
  do {
    const kt = Math.min(tile, K - k0);
    const first = k0 === 0;
    ctx.runInto(target, what, (cls) => ctx.dev.run(sc, cls, [tex(a), tex(b), target.tex, first ? 0 : 1, k0, kt, ...geo], what));
    k0 += kt;
  } while (k0 < K);
}

function tex(v: View) {
  return (v.storage as GlStorage).tex;
}
