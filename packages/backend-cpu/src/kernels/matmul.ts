/**
 * Batched matrix product out[b] = a[b] · b[b] for any strides.
 *
 * Per batch, the classic GotoBLAS/BLIS structure: B is packed in KC×NC blocks into NR-wide column
 * panels and A in MC×KC blocks into MR-tall row panels, both as float64 in reused scratch, so the
 * micro-kernel reads two small sequential streams whatever the original strides (a transposed
 * operand costs only its packing). The 4×4 micro-kernel keeps its 16 sums in locals: 8 loads per
 * 16 multiply-adds and no stores inside the k loop, which is what makes it several times faster
 * than an i-k-j loop in JavaScript. Partial panels are zero-padded, so edges need no special loop.
 * Sums go to a float64 C buffer for the batch and are converted to out's dtype once at the end;
 * int32 products are therefore exact while |sums| < 2^53, then wrap on store.
 */
import { checkBmmShapes, type TypedArray, type View } from '@nabla/core';
import { dataOf, type Scratch } from '../storage.js';
import { fmtShape } from '../strided.js';

const MR = 4;
const NR = 4;
const KC = 256;
const MC = 64;
const NC = 512;
/** Below this many multiply-adds per batch, packing costs more than it saves. */
const SMALL = 4096;

export function bmm(out: View, a: View, b: View, scratch: Scratch): void {
  checkBmmShapes(out, a, b);
  product(out, a, b, null, scratch);
}

/**
 * out [M, N] = beta · bias + alpha · (a [M, K] · b [K, N]), bias broadcast to out's shape (stride
 * 0). The bias is added in the product's epilogue, where each sum is stored: no second pass over
 * out, no temporary. beta = 0 does not read the bias (NaN there is ignored, as BLAS and PyTorch).
 */
export function addmm(out: View, bias: View, a: View, b: View, beta: number, alpha: number, scratch: Scratch): void {
  const ok = out.shape.length === 2 && a.shape.length === 2 && b.shape.length === 2 && bias.shape.length === 2 &&
    a.shape[1] === b.shape[0] && out.shape[0] === a.shape[0] && out.shape[1] === b.shape[1] &&
    bias.shape[0] === out.shape[0] && bias.shape[1] === out.shape[1];
  if (!ok) {
    throw new Error(`addmm: expected a [M, K], b [K, N], bias and out [M, N]; got a ${fmtShape(a.shape)}, b ${fmtShape(b.shape)}, bias ${fmtShape(bias.shape)}, out ${fmtShape(out.shape)}`);
  }
  const batch = (v: View): View => ({ ...v, shape: [1, ...v.shape], strides: [0, ...v.strides] });
  product(batch(out), batch(a), batch(b), { bias: dataOf('addmm', 'bias', bias), bo: bias.offset, bs1: bias.strides[0]!, bs2: bias.strides[1]!, beta, alpha }, scratch);
}

/** What addmm adds when a sum is stored: out[i, j] = alpha · sum + beta · bias[i, j]. */
interface Epilogue {
  bias: TypedArray;
  bo: number;
  bs1: number;
  bs2: number;
  beta: number;
  alpha: number;
}

function product(out: View, a: View, b: View, ep: Epilogue | null, scratch: Scratch): void {
  const A = dataOf('bmm', 'a', a);
  const B = dataOf('bmm', 'b', b);
  const O = dataOf('bmm', 'out', out);
  const [nb, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  if (nb === 0 || M === 0 || N === 0) return;
  const [as0, as1, as2] = a.strides as [number, number, number];
  const [bs0, bs1, bs2] = b.strides as [number, number, number];
  const [os0, os1, os2] = out.strides as [number, number, number];
  const bool = out.dtype === 'bool';
  const small = M * N * K <= SMALL;
  const C = scratch.f64('bmm.c', M * N);
  for (let bi = 0; bi < nb; bi++) {
    const ao = a.offset + bi * as0;
    const bo = b.offset + bi * bs0;
    const oo = out.offset + bi * os0;
    if (small) smallGemm(M, N, K, A, ao, as1, as2, B, bo, bs1, bs2, C);
    else {
      C.fill(0, 0, M * N);
      gemm(M, N, K, A, ao, as1, as2, B, bo, bs1, bs2, C, scratch);
    }
    if (ep !== null) {
      const { bias, bs1: r1, bs2: r2, beta, alpha } = ep;
      for (let i = 0; i < M; i++) {
        let p = oo + i * os1;
        let q = ep.bo + i * r1;
        const ci = i * N;
        if (beta === 0) for (let j = 0; j < N; j++, p += os2) O[p] = alpha * C[ci + j]!;
        else for (let j = 0; j < N; j++, p += os2, q += r2) O[p] = alpha * C[ci + j]! + beta * bias[q]!;
      }
      continue;
    }
    for (let i = 0; i < M; i++) {
      let p = oo + i * os1;
      const ci = i * N;
      if (bool) for (let j = 0; j < N; j++, p += os2) O[p] = C[ci + j] !== 0 ? 1 : 0;
      else for (let j = 0; j < N; j++, p += os2) O[p] = C[ci + j]!;
    }
  }
}

/** C[M×N, dense row-major] = A·B for small products (no packing). */
function smallGemm(
  M: number, N: number, K: number,
  A: TypedArray, ao: number, as1: number, as2: number,
  B: TypedArray, bo: number, bs1: number, bs2: number,
  C: Float64Array,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      let pa = ao + i * as1;
      let pb = bo + j * bs2;
      for (let k = 0; k < K; k++, pa += as2, pb += bs1) s += A[pa]! * B[pb]!;
      C[i * N + j] = s;
    }
  }
}

/** C[M×N, dense row-major] += A·B with A, B given by offset and strides. */
function gemm(
  M: number, N: number, K: number,
  A: TypedArray, ao: number, as1: number, as2: number,
  B: TypedArray, bo: number, bs1: number, bs2: number,
  C: Float64Array, scratch: Scratch,
): void {
  const Ap = scratch.f64('bmm.a', (MC + MR) * KC);
  const Bp = scratch.f64('bmm.b', KC * (NC + NR));
  for (let j0 = 0; j0 < N; j0 += NC) {
    const nc = Math.min(NC, N - j0);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = Math.min(KC, K - k0);
      packB(Bp, B, bo + k0 * bs1 + j0 * bs2, bs1, bs2, kc, nc);
      for (let i0 = 0; i0 < M; i0 += MC) {
        const mc = Math.min(MC, M - i0);
        packA(Ap, A, ao + i0 * as1 + k0 * as2, as1, as2, mc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const w = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const h = Math.min(MR, mc - ir);
            micro(Ap, ir * kc, Bp, jr * kc, kc, C, (i0 + ir) * N + j0 + jr, N, h, w);
          }
        }
      }
    }
  }
}

/** B block (kc×nc) → NR-wide panels: panel p holds rows k = 0..kc-1 of columns p·NR..p·NR+NR-1. */
function packB(Bp: Float64Array, B: TypedArray, off: number, rs: number, cs: number, kc: number, nc: number): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const w = Math.min(NR, nc - jr);
    let o = jr * kc;
    let row = off + jr * cs;
    if (w === NR) {
      for (let k = 0; k < kc; k++, o += NR, row += rs) {
        Bp[o] = B[row]!;
        Bp[o + 1] = B[row + cs]!;
        Bp[o + 2] = B[row + 2 * cs]!;
        Bp[o + 3] = B[row + 3 * cs]!;
      }
    } else {
      for (let k = 0; k < kc; k++, o += NR, row += rs) {
        for (let c = 0; c < NR; c++) Bp[o + c] = c < w ? B[row + c * cs]! : 0;
      }
    }
  }
}

/** A block (mc×kc) → MR-tall panels: panel p holds columns k = 0..kc-1 of rows p·MR..p·MR+MR-1. */
function packA(Ap: Float64Array, A: TypedArray, off: number, rs: number, cs: number, mc: number, kc: number): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const h = Math.min(MR, mc - ir);
    let o = ir * kc;
    let col = off + ir * rs;
    if (h === MR) {
      for (let k = 0; k < kc; k++, o += MR, col += cs) {
        Ap[o] = A[col]!;
        Ap[o + 1] = A[col + rs]!;
        Ap[o + 2] = A[col + 2 * rs]!;
        Ap[o + 3] = A[col + 3 * rs]!;
      }
    } else {
      for (let k = 0; k < kc; k++, o += MR, col += cs) {
        for (let r = 0; r < MR; r++) Ap[o + r] = r < h ? A[col + r * rs]! : 0;
      }
    }
  }
}

function micro(
  Ap: Float64Array, pa: number, Bp: Float64Array, pb: number, kc: number,
  C: Float64Array, ci: number, ldc: number, h: number, w: number,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let k = 0; k < kc; k++, pa += MR, pb += NR) {
    const a0 = Ap[pa]!, a1 = Ap[pa + 1]!, a2 = Ap[pa + 2]!, a3 = Ap[pa + 3]!;
    const b0 = Bp[pb]!, b1 = Bp[pb + 1]!, b2 = Bp[pb + 2]!, b3 = Bp[pb + 3]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (h === MR && w === NR) {
    C[ci] += c00; C[ci + 1] += c01; C[ci + 2] += c02; C[ci + 3] += c03;
    ci += ldc;
    C[ci] += c10; C[ci + 1] += c11; C[ci + 2] += c12; C[ci + 3] += c13;
    ci += ldc;
    C[ci] += c20; C[ci + 1] += c21; C[ci + 2] += c22; C[ci + 3] += c23;
    ci += ldc;
    C[ci] += c30; C[ci + 1] += c31; C[ci + 2] += c32; C[ci + 3] += c33;
    return;
  }
  const t = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) C[ci + r * ldc + c] += t[r * NR + c]!;
}
