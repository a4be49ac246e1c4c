/**
 * Batched matrix product on the WebAssembly SIMD macro-kernel (`gemm-kernel.ts`), float32 in
 * float32 and float64 in float64 (PyTorch's accumulation types on the CPU).
 *
 * Per batch: A and B are staged in the shared memory and packed there by the wasm packers
 * (`gemm-pack.ts`: for each k block, A as MR-tall panels and B as NR-wide panels, zero-padded to
 * full panels), so any strides, transposes included, cost only their packing; then the GotoBLAS
 * loops run over cache blocks: NC columns of B (L3), kc deep (a B micro-panel of kc×NR in L1), MC
 * rows of A (L2). C is accumulated in the memory at its padded size and copied out once.
 */
import { checkBmmShapes, type TypedArray, type View } from '@nabla/core';
import { heapPtr } from '../heap-storage.js';
import { dataOf } from '../storage.js';
import { GEMM_F32, GEMM_F64, KC, MC, NC, type GemmShape } from './gemm-kernel.js';
import { heapCopy } from './bulk.js';
import { heapFill } from './fill.js';
import { align16, type WasmHeap } from './heap.js';
import type { PackSource, ThreadPool } from './pool.js';

export { KC, MC, NC } from './gemm-kernel.js';
/** Multiply-adds per batch below which the JavaScript kernel (no packing) is as fast. */
export const GEMM_MIN_FLOPS = 4096;
/**
 * Multiply-adds per batch from which waking worker threads pays: 2^20 is ~50 µs of one thread's
 * work, several times a futex wake-up; below it (the MLP's 64×256×10 layers) the caller runs alone.
 */
export const THREADS_MIN_FLOPS = 1 << 20;

export type GemmFn = (a: number, b: number, c: number, mc: number, nc: number, kc: number, ldc: number, accumulate: number) => void;
/** `pack_*` of `gemm-pack.ts`: (src, ls, ks, n, kc, dst, zero), byte pointers and strides. */
export type PackFn = (src: number, ls: number, ks: number, n: number, kc: number, dst: number, zero: number) => void;

export interface GemmKernels {
  readonly float32: GemmFn;
  readonly float64: GemmFn;
  /** The packers of each dtype: `a` makes MR-lane panels, `b` NR-lane panels. */
  readonly pack: { readonly float32: { readonly a: PackFn; readonly b: PackFn }; readonly float64: { readonly a: PackFn; readonly b: PackFn } };
}

/**
 * The k-block depth for an inner dimension K: K split into equal blocks of at most KC, so a
 * remainder never runs as a thin block that reloads C for a few steps (1040 = 3 blocks of 347,
 * the last 346, not 2 × 512 + 16). The caller and every worker use this one split, so the reduction order is fixed.
 */
export function kcFor(K: number): number {
  return Math.ceil(K / Math.ceil(K / KC));
}

/**
 * addmm's epilogue, applied while C is copied out: out = alpha · (a·b) + beta · bias, with bias
 * broadcast to [M, N] by its strides (beta = 0 does not read it, as BLAS and PyTorch).
 */
export interface Epilogue {
  readonly bias: TypedArray;
  readonly off: number;
  readonly rs: number;
  readonly cs: number;
  readonly alpha: number;
  readonly beta: number;
}

/** A matrix operand: its data, offset and strides in elements, rows × cols. */
interface Operand {
  readonly data: TypedArray;
  readonly off: number;
  readonly rs: number;
  readonly cs: number;
  readonly rows: number;
  readonly cols: number;
}

/**
 * Runs `out = a · b` batch by batch; the caller has checked that all three share `dtype`. Returns
 * false, having done nothing, when the operands would not fit the memory (the caller then runs
 * the JavaScript kernel).
 *
 * Per batch: A and B are copied into the memory (one `set` of the span they cover when their
 * strides are dense, in any order, so a transposed operand is a plain copy) and packed there by
 * the wasm packers; a batch whose operand is the previous batch's (a broadcast) reuses its
 * panels. Then the cache-block loops run, and C, accumulated at its padded size, is copied out.
 */
export function bmmWasm(heap: WasmHeap, kernels: GemmKernels, out: View, a: View, b: View, pool: ThreadPool | null = null, epilogue: Epilogue | null = null): boolean {
  checkBmmShapes(out, a, b);
  const dtype = out.dtype as 'float32' | 'float64';
  const shape: GemmShape = dtype === 'float32' ? GEMM_F32 : GEMM_F64;
  const kernel = kernels[dtype];
  const pack = kernels.pack[dtype];
  const A = dataOf('bmm', 'a', a);
  const B = dataOf('bmm', 'b', b);
  const O = dataOf('bmm', 'out', out);
  const [nb, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  if (nb === 0 || M === 0 || N === 0) return true;
  if (epilogue !== null && nb !== 1) throw new Error(`bmm: an epilogue takes one batch, got ${nb}`);
  if (epilogue === null && K > 0 && ((N > 1 && b.strides[2] === 0) || (M > 1 && a.strides[1] === 0))) {
    return broadcastProduct(heap, kernels, out, a, b, pool);
  }
  if (epilogue === null && K > 0 && 10 * paddedMacs(N, M, shape) < 9 * paddedMacs(M, N, shape)) {
    return bmmWasm(heap, kernels, transposed(out), transposed(b), transposed(a), pool);
  }
  const { MR, NR } = shape;
  const es = dtype === 'float32' ? 4 : 8;
  const Mp = Math.ceil(M / MR) * MR;
  const Np = Math.ceil(N / NR) * NR;
  const kc = kcFor(K);
  const [ars, acs, brs, bcs] = [a.strides[1]!, a.strides[2]!, b.strides[1]!, b.strides[2]!];
  // Operands in the heap are packed from where they lie; the others are staged first. C is
  // accumulated in place when out is in the heap, dense, a whole number of micro-tiles and no
  // operand's storage (its packing could overlap the writes), and no epilogue is asked for.
  const aAt = heapPtr(a.storage, heap);
  const bAt = heapPtr(b.storage, heap);
  const oAt = heapPtr(out.storage, heap);
  const cInPlace =
    oAt >= 0 && epilogue === null && K > 0 && M % MR === 0 && N % NR === 0 && out.strides[2] === 1 && out.strides[1] === N && out.storage !== a.storage && out.storage !== b.storage;
  const spanA = aAt >= 0 ? 0 : span(M, K, ars, acs);
  const spanB = bAt >= 0 ? 0 : span(K, N, brs, bcs);
  const cBytes = cInPlace ? 0 : Mp * Np * es;
  const aRel = align16(cBytes);
  const bRel = align16(aRel + Mp * K * es);
  const zRel = align16(bRel + K * Np * es);
  const saRel = align16(zRel + 16);
  const sbRel = align16(saRel + spanA * es);
  const end = sbRel + spanB * es;
  if (!heap.fits(end)) return false;
  const S = heap.scratch(end);
  if (S < 0) return false;
  const [aBase, bBase, zBase, sa, sb] = [S + aRel, S + bRel, S + zRel, S + saRel, S + sbRel];
  // Views are read after `scratch`: growing a plain memory detaches them.
  const H = dtype === 'float32' ? heap.f32 : heap.f64;
  H.fill(0, zBase / es, (zBase + 16) / es);
  let lastA = -1;
  let lastB = -1;
  for (let bi = 0; bi < nb; bi++) {
    const ao = a.offset + bi * a.strides[0]!;
    const bo = b.offset + bi * b.strides[0]!;
    // Staged here; packed below or, on the pool, by the threads (each its share of the split operand).
    let pa: PackSource | null = null;
    let pb: PackSource | null = null;
    if (K > 0 && ao !== lastA) {
      const s = aAt >= 0 ? { base: aAt + ao * es, rs: ars * es, cs: acs * es } : stage(H, sa, es, { data: A, off: ao, rs: ars, cs: acs, rows: M, cols: K }, spanA);
      pa = { src: s.base, ls: s.rs, ks: s.cs };
      lastA = ao;
    }
    if (K > 0 && bo !== lastB) {
      const s = bAt >= 0 ? { base: bAt + bo * es, rs: brs * es, cs: bcs * es } : stage(H, sb, es, { data: B, off: bo, rs: brs, cs: bcs, rows: K, cols: N }, spanB);
      pb = { src: s.base, ls: s.cs, ks: s.rs };
      lastB = bo;
    }
    const [oo, ors, ocs] = [out.offset + bi * out.strides[0]!, out.strides[1]!, out.strides[2]!];
    const cBase = cInPlace ? oAt + oo * es : S;
    if (pool !== null && M * N * K >= THREADS_MIN_FLOPS) {
      pool.gemm({ dtype, M, N, zero: zBase, a: pa, b: pb, aBase, bBase, cBase, Mp, Np, K, kc, MR, NR });
    } else {
      for (let k0 = 0; k0 < K; k0 += kc) {
        const d = Math.min(kc, K - k0);
        if (pa !== null) pack.a(pa.src + k0 * pa.ks, pa.ls, pa.ks, M, d, aBase + k0 * Mp * es, zBase);
        if (pb !== null) pack.b(pb.src + k0 * pb.ks, pb.ls, pb.ks, N, d, bBase + k0 * Np * es, zBase);
      }
      blocks(kernel, es, aBase, bBase, cBase, Mp, Np, K, kc);
    }
    if (cInPlace) continue;
    if (epilogue === null && oAt >= 0 && ocs === 1 && K > 0) {
      // Rows into a heap storage: memory.copy (a shared typed array's `set` copies element-wise).
      const copy = heapCopy(heap);
      for (let i = 0; i < M; i++) copy(oAt + (oo + i * ors) * es, cBase + i * Np * es, N * es);
    } else if (epilogue === null) copyOut(H, cBase / es, Np, O, oo, ors, ocs, M, N, K);
    else copyOutAffine(H, cBase / es, Np, O, oo, ors, ocs, M, N, K, epilogue);
  }
  return true;
}

/**
 * The multiply-adds the micro-kernel runs for an M×N output per k step: both dims padded to whole
 * MR×NR tiles. A narrow product (N = 10: the HVP's and MLP's last layer; N = 1: a matrix-vector
 * product) wastes up to NR - 1 columns of every row; its transpose, outᵀ = bᵀ·aᵀ, pads to MR
 * instead (N = 10: 12 rows, not 16 columns; N = 1: 4, not 8). Each element is the same products
 * (a·b = b·a) summed in the same k order, so the result is bit-for-bit the same.
 */
function paddedMacs(M: number, N: number, s: GemmShape): number {
  return Math.ceil(M / s.MR) * s.MR * Math.ceil(N / s.NR) * s.NR;
}

/** A batch of matrices, each transposed (a view). */
function transposed(v: View): View {
  return { ...v, shape: [v.shape[0]!, v.shape[2]!, v.shape[1]!], strides: [v.strides[0]!, v.strides[2]!, v.strides[1]!] };
}

/**
 * A product whose B has one column repeated (stride 0 along N: the expanded ones of a `sum`'s
 * gradient, which double backward multiplies by X, a 256×256 product in the HVP) or whose A has one
 * row repeated: every column (row) of C is the same, so only the first is computed and then copied
 * across. Each element of C is its own sums in the same k order whatever N and M are, so this is
 * bit-for-bit what the full product computes, in 1/N (1/M) of its multiply-adds.
 */
function broadcastProduct(heap: WasmHeap, kernels: GemmKernels, out: View, a: View, b: View, pool: ThreadPool | null): boolean {
  const [nb, M] = [out.shape[0]!, out.shape[1]!];
  const N = out.shape[2]!;
  const cols = N > 1 && b.strides[2] === 0;
  const narrow = (v: View, dim: number): View => ({ ...v, shape: v.shape.map((d, i) => (i === dim ? 1 : d)) });
  const ok = cols ? bmmWasm(heap, kernels, narrow(out, 2), a, narrow(b, 2), pool) : bmmWasm(heap, kernels, narrow(out, 1), narrow(a, 1), b, pool);
  if (!ok) return false;
  // Read after the product: growing a plain memory detaches views of it.
  const O = dataOf('bmm', 'out', out);
  const [os0, ors, ocs] = [out.strides[0]!, out.strides[1]!, out.strides[2]!];
  // On a heap storage, wasm stores: a shared typed array's fill and copyWithin store element by
  // element (relaxed atomics), ~1 ns each, as long as the product they save.
  const oAt = ocs === 1 ? heapPtr(out.storage, heap) : -1;
  const es = O.BYTES_PER_ELEMENT;
  for (let bi = 0; bi < nb; bi++) {
    const oo = out.offset + bi * os0;
    if (cols) {
      for (let i = 0; i < M; i++) {
        const p = oo + i * ors;
        if (oAt >= 0) heapFill(heap, O, p, N, O[p]!);
        else if (ocs === 1) O.fill(O[p]!, p + 1, p + N);
        else for (let j = 1, v = O[p]!; j < N; j++) O[p + j * ocs] = v;
      }
    } else {
      const copy = oAt >= 0 ? heapCopy(heap) : null;
      for (let i = 1; i < M; i++) {
        const p = oo + i * ors;
        if (copy !== null) copy(oAt + p * es, oAt + oo * es, N * es);
        else if (ocs === 1) O.copyWithin(p, oo, oo + N);
        else for (let j = 0; j < N; j++) O[p + j * ocs] = O[oo + j * ocs]!;
      }
    }
  }
  return true;
}

/** Elements a staged copy of a rows×cols operand takes: the span it covers, or rows·cols when that span is sparse. */
function span(rows: number, cols: number, rs: number, cs: number): number {
  if (rows === 0 || cols === 0) return 0;
  const n = rows * cols;
  if (rs < 0 || cs < 0) return n;
  const s = (rows - 1) * rs + (cols - 1) * cs + 1;
  return s <= 2 * n + 16 ? s : n;
}

/**
 * Copies an operand into the memory at byte `at`; returns where it lies and its strides there
 * (bytes). A dense span is one `set` that keeps the strides; anything else is gathered row-major.
 */
function stage(H: TypedArray, at: number, es: number, o: Operand, spanElems: number): { base: number; rs: number; cs: number } {
  const { data, off, rs, cs, rows, cols } = o;
  const dst = at / es;
  if (rs >= 0 && cs >= 0 && spanElems === (rows - 1) * rs + (cols - 1) * cs + 1) {
    H.set(data.subarray(off, off + spanElems), dst);
    return { base: at, rs: rs * es, cs: cs * es };
  }
  for (let i = 0, q = dst; i < rows; i++) for (let j = 0, p = off + i * rs; j < cols; j++, p += cs) H[q++] = data[p]!;
  return { base: at, rs: cols * es, cs: es };
}

/** The cache-block loops on the calling thread (the pool runs the same loops per slice). */
function blocks(kernel: GemmFn, es: number, aBase: number, bBase: number, cBase: number, Mp: number, Np: number, K: number, kcStep: number): void {
  for (let j0 = 0; j0 < Np; j0 += NC) {
    const nc = Math.min(NC, Np - j0);
    for (let k0 = 0; k0 < K; k0 += kcStep) {
      const kc = Math.min(kcStep, K - k0);
      for (let i0 = 0; i0 < Mp; i0 += MC) {
        const mc = Math.min(MC, Mp - i0);
        kernel(aBase + (k0 * Mp + i0 * kc) * es, bBase + (k0 * Np + j0 * kc) * es, cBase + (i0 * Np + j0) * es, mc, nc, kc, Np, k0 > 0 ? 1 : 0);
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
  if (cs === 1 && rs === N && ldc === N) {
    O.set(H.subarray(base, base + M * N), off);
    return;
  }
  // Long rows: one `set` each. Short ones (the MLP's and HVP's N = 10 outputs, 256 rows): a loop,
  // since a subarray per row is an allocation and, from a shared memory, `set` copies element-wise
  // anyway; per row it cost more than the row's multiply-adds.
  const long = cs === 1 && N >= COPY_SET_MIN;
  for (let i = 0; i < M; i++) {
    const src = base + i * ldc;
    if (long) O.set(H.subarray(src, src + N), off + i * rs);
    else for (let j = 0, p = off + i * rs; j < N; j++, p += cs) O[p] = H[src + j]!;
  }
}

/** Row length from which copyOut copies a row with `set` instead of a loop. */
const COPY_SET_MIN = 64;

/** copyOut with addmm's epilogue: one pass over C writes alpha·C + beta·bias (C is zero when K = 0). */
function copyOutAffine(H: TypedArray, base: number, ldc: number, O: TypedArray, off: number, rs: number, cs: number, M: number, N: number, K: number, e: Epilogue): void {
  const { bias, alpha, beta } = e;
  for (let i = 0; i < M; i++) {
    const src = base + i * ldc;
    let p = off + i * rs;
    let q = e.off + i * e.rs;
    if (K === 0) {
      for (let j = 0; j < N; j++, p += cs, q += e.cs) O[p] = beta === 0 ? 0 : beta * bias[q]!;
    } else if (beta === 0) {
      for (let j = 0; j < N; j++, p += cs) O[p] = alpha * H[src + j]!;
    } else if (alpha === 1 && beta === 1) {
      for (let j = 0; j < N; j++, p += cs, q += e.cs) O[p] = H[src + j]! + bias[q]!;
    } else {
      for (let j = 0; j < N; j++, p += cs, q += e.cs) O[p] = alpha * H[src + j]! + beta * bias[q]!;
    }
  }
}
