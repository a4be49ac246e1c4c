/**
 * Batched matmul, tiled along K: each pass adds one K-tile (up to TILE_K products per output
 * element) to the running sums of the pass before, so the shader's loop is bounded by the tile,
 * not by K. gpu.js compiles a loop with a uniform bound as `for (i < loopMaxIterations) { if
 * (!(i < bound)) break; }`, silently cutting longer loops: the kernel is compiled with
 * `loopMaxIterations` set from the tile length (rounded up to a power of two, at least 16) and a
 * K below TILE_K that needs a longer loop compiles a kernel with a larger bound.
 */
import { checkBmmShapes, isContiguous, type View } from '@nabla/core';
import type { GlStorage } from '../storage.js';
import { loopBound, viewOf, type KernelContext } from './context.js';

export const TILE_K = 256;

export function bmm(ctx: KernelContext, out: View, a: View, b: View): void {
  checkBmmShapes(out, a, b);
  const [B, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  const n = B * M * N;
  if (n === 0) return;
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
  const direct = out.offset === 0 && isContiguous(out.shape, out.strides) && (out.storage as GlStorage).numel === n;
  const target = direct ? (out.storage as GlStorage) : ctx.temp(n);
  try {
    const geo = [M, N, a.offset, a.strides[0]!, a.strides[1]!, a.strides[2]!, b.offset, b.strides[0]!, b.strides[1]!, b.strides[2]!];
    let k0 = 0;
    do {
      const kt = Math.min(tile, K - k0);
      const first = k0 === 0;
      ctx.runInto(target, 'bmm', (cls) =>
        ctx.dev.run(sc, cls, [tex(a), tex(b), target.tex, first ? 0 : 1, k0, kt, ...geo], 'bmm'),
      );
      k0 += kt;
    } while (k0 < K);
    if (!direct) ctx.copy(out, viewOf(target, out.shape));
  } finally {
    if (!direct) ctx.release(target);
  }
}

function tex(v: View) {
  return (v.storage as GlStorage).tex;
}
