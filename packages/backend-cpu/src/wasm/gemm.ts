/**
 * Batched matrix product on the WebAssembly SIMD macro-kernel (`gemm-kernel.ts`), float32 in
 * float32 and float64 in float64 (PyTorch's accumulation types on the CPU).
 *
 * Per batch: A and B are packed once, whole, into the shared memory (for each KC-deep k block,
 * A as MR-tall panels and B as NR-wide panels, zero-padded to full panels), so any strides cost
 * only their packing; then the GotoBLAS loops run over cache blocks: NC columns of B (L3), KC deep
 * (a B micro-panel of KC×NR in L1), MC rows of A (L2). C is accumulated in the memory at its
 * padded size and copied out once.
 */
import { checkBmmShapes, type TypedArray, type View } from '@nabla/core';
import { dataOf } from '../storage.js';
import { GEMM_F32, GEMM_F64, KC, MC, NC, type GemmShape } from './gemm-kernel.js';
import { align16, ARENA, type WasmHeap } from './heap.js';
import type { ThreadPool } from './pool.js';

export { KC, MC, NC } from './gemm-kernel.js';
/** Multiply-adds per batch below which the JavaScript kernel (no packing) is as fast. */
export const GEMM_MIN_FLOPS = 4096;
/** Multiply-adds per batch from which waking worker threads pays. */
export const THREADS_MIN_FLOPS = 1 << 18;

export type GemmFn = (a: number, b: number, c: number, mc: number, nc: number, kc: number, ldc: number, accumulate: number) => void;

export interface GemmKernels {
  readonly float32: GemmFn;
  readonly float64: GemmFn;
}

/**
 * Runs `out = a · b` batch by batch; the caller has checked that all three share `dtype`. Returns
 * false, having done nothing, when the packed operands would not fit the memory (the caller then
 * runs the JavaScript kernel).
 */
export function bmmWasm(heap: WasmHeap, kernels: GemmKernels, out: View, a: View, b: View, pool: ThreadPool | null = null): boolean {
  checkBmmShapes(out, a, b);
  const dtype = out.dtype as 'float32' | 'float64';
  const shape: GemmShape = dtype === 'float32' ? GEMM_F32 : GEMM_F64;
  const kernel = kernels[dtype];
  const A = dataOf('bmm', 'a', a);
  const B = dataOf('bmm', 'b', b);
  const O = dataOf('bmm', 'out', out);
  const [nb, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  if (nb === 0 || M === 0 || N === 0) return true;
  const { MR, NR } = shape;
  const es = dtype === 'float32' ? 4 : 8;
  const Mp = Math.ceil(M / MR) * MR;
  const Np = Math.ceil(N / NR) * NR;
  const cBase = ARENA;
  const aBase = align16(cBase + Mp * Np * es);
  const bBase = align16(aBase + Mp * K * es);
  if (!heap.fits(bBase + K * Np * es)) return false;
  heap.ensure(bBase + K * Np * es);
  for (let bi = 0; bi < nb; bi++) {
    const H = dtype === 'float32' ? heap.f32 : heap.f64;
    const ao = a.offset + bi * a.strides[0]!;
    const bo = b.offset + bi * b.strides[0]!;
    packA(H, aBase / es, A, ao, a.strides[1]!, a.strides[2]!, M, K, Mp, MR);
    packB(H, bBase / es, B, bo, b.strides[1]!, b.strides[2]!, K, N, Np, NR);
    if (pool !== null && M * N * K >= THREADS_MIN_FLOPS) pool.gemm({ dtype, aBase, bBase, cBase, Mp, Np, K, MR, NR });
    else blocks(kernel, es, aBase, bBase, cBase, Mp, Np, K);
    copyOut(H, cBase / es, Np, O, out.offset + bi * out.strides[0]!, out.strides[1]!, out.strides[2]!, M, N, K);
  }
  return true;
}

/** The cache-block loops on the calling thread (the pool runs the same loops per slice). */
function blocks(kernel: GemmFn, es: number, aBase: number, bBase: number, cBase: number, Mp: number, Np: number, K: number): void {
  for (let j0 = 0; j0 < Np; j0 += NC) {
    const nc = Math.min(NC, Np - j0);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = Math.min(KC, K - k0);
      for (let i0 = 0; i0 < Mp; i0 += MC) {
        const mc = Math.min(MC, Mp - i0);
        kernel(aBase + (k0 * Mp + i0 * kc) * es, bBase + (k0 * Np + j0 * kc) * es, cBase + (i0 * Np + j0) * es, mc, nc, kc, Np, k0 > 0 ? 1 : 0);
      }
    }
  }
}

/** A (M×K, strides rs/cs) → for each k block, MR-tall panels, kc×MR each; rows past M are zero. */
function packA(H: TypedArray, base: number, A: TypedArray, off: number, rs: number, cs: number, M: number, K: number, Mp: number, MR: number): void {
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    const blk = base + k0 * Mp;
    for (let i0 = 0; i0 < Mp; i0 += MR) {
      const panel = blk + i0 * kc;
      for (let r = 0; r < MR; r++) {
        const i = i0 + r;
        let o = panel + r;
        if (i >= M) {
          for (let k = 0; k < kc; k++, o += MR) H[o] = 0;
          continue;
        }
        let p = off + i * rs + k0 * cs;
        for (let k = 0; k < kc; k++, o += MR, p += cs) H[o] = A[p]!;
      }
    }
  }
}

/** B (K×N, strides rs/cs) → for each k block, NR-wide panels, kc×NR each; columns past N are zero. */
function packB(H: TypedArray, base: number, B: TypedArray, off: number, rs: number, cs: number, K: number, N: number, Np: number, NR: number): void {
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    const blk = base + k0 * Np;
    for (let j0 = 0; j0 < Np; j0 += NR) {
      const w = Math.min(NR, N - j0);
      let o = blk + j0 * kc;
      let p = off + k0 * rs + j0 * cs;
      if (w === NR && cs === 1) {
        for (let k = 0; k < kc; k++, o += NR, p += rs) for (let c = 0; c < NR; c++) H[o + c] = B[p + c]!;
      } else {
        for (let k = 0; k < kc; k++, o += NR, p += rs) for (let c = 0; c < NR; c++) H[o + c] = c < w ? B[p + c * cs]! : 0;
      }
    }
  }
}

function copyOut(H: TypedArray, base: number, ldc: number, O: TypedArray, off: number, rs: number, cs: number, M: number, N: number, K: number): void {
  if (K === 0) {
    // No k block ran: the product of empty inner dims is zeros.
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) O[off + i * rs + j * cs] = 0;
    return;
  }
  for (let i = 0; i < M; i++) {
    const src = base + i * ldc;
    if (cs === 1) O.set(H.subarray(src, src + N), off + i * rs);
    else for (let j = 0, p = off + i * rs; j < N; j++, p += cs) O[p] = H[src + j]!;
  }
}
