/**
 * The WebAssembly SIMD GEMM against the JavaScript bmm (the reference, float64 accumulation):
 * sizes around every register and cache block edge (MR, NR, KC, MC, NC), transposed and offset
 * operands, broadcast batches, strided outputs, empty dims, float32 and float64.
 */
import type { DType, View } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../backend.js';
import { dense, empty, permuted, randoms, storageWith, values, viewOf } from '../test-utils/views.js';
import { GEMM_F32, GEMM_F64, hasRelaxedMadd } from './gemm-kernel.js';
import { bmmWasm, kcFor, KC, MC, NC } from './gemm.js';
import { WasmRuntime } from './runtime.js';

const js = new CpuBackend({ wasm: false });
/** Both micro-kernels: mul then add (every engine), and relaxed SIMD's madd where the engine has it. */
const KERNELS = [
  { name: 'f32x4.mul + add', rt: WasmRuntime.create(false, {}, false) },
  { name: 'relaxed_madd', rt: hasRelaxedMadd() ? WasmRuntime.create(false, {}, true) : null },
];
// The runtime of the kernel under test (set by each kernel's describe block).
let rt = KERNELS[0]!.rt!;

type Make = (b: CpuBackend) => { out: View; a: View; b: View };

function check(dtype: DType, make: Make, what: string): void {
  const w = make(js);
  bmmWasm(rt.heap, rt.gemm, w.out, w.a, w.b);
  const r = make(js);
  js.kernels.bmm(r.out, r.a, r.b);
  const got = values(w.out);
  const want = values(r.out);
  const K = w.a.shape[2]!;
  // float32 accumulates in float32 (as PyTorch does), the reference in float64.
  const tol = dtype === 'float32' ? 2e-6 * Math.sqrt(K + 1) : 1e-13 * (K + 1);
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= tol * (1 + Math.abs(want[i]!)))) {
      expect(got[i], `${what} [${i}]`).toBe(want[i]);
    }
  }
}

function plain(dtype: DType, nb: number, M: number, K: number, N: number, seed = 1): Make {
  return (b) => ({
    out: empty(b, dtype, [nb, M, N]),
    a: dense(b, dtype, [nb, M, K], randoms(nb * M * K, seed)),
    b: dense(b, dtype, [nb, K, N], randoms(nb * K * N, seed + 1)),
  });
}

describe('wasm GEMM vs the JavaScript bmm', () => {
  for (const kernel of KERNELS) {
    // Node 20 compiles relaxed SIMD only with --experimental-wasm-relaxed-simd: vitest.config.ts
    // runs this file a second time with it, so the skip below never hides the FMA kernel in CI.
    const why = kernel.rt === null ? ' — skipped: this engine has no relaxed SIMD (Node 20 without --experimental-wasm-relaxed-simd)' : '';
    describe.skipIf(kernel.rt === null)(`micro-kernel ${kernel.name}${why}`, () => {
      beforeAll(() => {
        rt = kernel.rt!;
        expect(rt.fma).toBe(kernel.name === 'relaxed_madd');
      });
      for (const dtype of ['float32', 'float64'] as const) {
        const { MR, NR } = dtype === 'float32' ? GEMM_F32 : GEMM_F64;
        it(`${dtype}: sizes around the register block (${MR}×${NR}) edges`, () => {
          for (const M of [1, MR - 1, MR, MR + 1, 2 * MR + 3]) {
            for (const N of [1, NR - 1, NR, NR + 1, 3 * NR + 1]) {
              for (const K of [1, 2, 7, 33]) check(dtype, plain(dtype, 1, M, K, N, M * 100 + N * 10 + K), `${M}×${K}×${N}`);
            }
          }
        });
        it(`${dtype}: sizes around the cache blocks (KC ${KC}, MC ${MC}, NC ${NC})`, () => {
          for (const [M, K, N] of [
            [MC - 1, KC - 1, 9],
            [MC, KC, NR],
            [MC + 1, KC + 1, 2 * NR + 1],
            [2 * MC + 5, 2 * KC + 3, 17],
            [5, 40, NC + 3],
          ] as const) {
            check(dtype, plain(dtype, 1, M, K, N, M + K + N), `${M}×${K}×${N}`);
          }
        });
        it(`${dtype}: transposed and offset operands, broadcast batch, strided output`, () => {
          const [nb, M, K, N] = [3, 13, 21, 19];
          const A = randoms(nb * M * K, 5);
          const B = randoms(K * N, 6);
          check(dtype, (b) => ({
            // a is stored as [nb][K][M] (each matrix transposed), b once for every batch (stride 0).
            out: empty(b, dtype, [nb, M, N]),
            a: permuted(b, dtype, [nb, M, K], A, [0, 2, 1]),
            b: viewOf(storageWith(b, dtype, [9, 9, ...B]), [nb, K, N], [0, N, 1], 2),
          }), 'transposed a, broadcast b');
          check(dtype, (b) => ({
            // out written transposed (column-major per batch), b transposed.
            out: permuted(b, dtype, [nb, M, N], new Array(nb * M * N).fill(0), [0, 2, 1]),
            a: dense(b, dtype, [nb, M, K], A),
            b: permuted(b, dtype, [nb, K, N], randoms(nb * K * N, 7), [0, 2, 1]),
          }), 'transposed out and b');
        });
        it(`${dtype}: the MLP step's products, transposed operands packed in place, k split around KC`, () => {
          // x·W, dW = xᵀ·g (A transposed), dx = g·Wᵀ (B transposed), both transposed; K near every k-block split.
          for (const [M, K, N] of [[64, 784, 256], [23, 255, 19], [17, KC + 1, 13], [9, 2 * KC - 1, 11], [5, 2 * KC + 1, 3 * NR + 2]] as const) {
            for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
              const A = randoms(M * K, M + K);
              const B = randoms(K * N, K + N);
              check(dtype, (b) => ({
                out: empty(b, dtype, [1, M, N]),
                a: ta ? permuted(b, dtype, [1, M, K], A, [0, 2, 1]) : dense(b, dtype, [1, M, K], A),
                b: tb ? permuted(b, dtype, [1, K, N], B, [0, 2, 1]) : dense(b, dtype, [1, K, N], B),
              }), `${M}×${K}×${N} ${ta ? 'aᵀ' : 'a'} ${tb ? 'bᵀ' : 'b'}`);
            }
          }
        });
        it(`${dtype}: panels of lanes contiguous along k (row-major a, transposed b) are transposed in registers: every k remainder, full and partial panels`, () => {
          // The packers take 16 bytes of k steps per lane at a time (4 for float32, 2 for float64) and
          // finish the rest one by one; a partial panel (M or N past a multiple of MR, NR) goes one by one.
          for (const K of [1, 2, 3, 4, 5, 6, 7, 8, 9, KC + 3]) {
            for (const [M, N] of [[MR, NR], [2 * MR, 2 * NR], [2 * MR + 1, NR + 3]] as const) {
              const A = randoms(M * K, M * 7 + K);
              const B = randoms(K * N, N * 5 + K);
              check(dtype, (b) => ({
                out: empty(b, dtype, [1, M, N]),
                a: dense(b, dtype, [1, M, K], A),
                b: permuted(b, dtype, [1, K, N], B, [0, 2, 1]),
              }), `${M}×${K}×${N} a, bᵀ`);
            }
          }
        });
        it(`${dtype}: sparse strides are gathered, stride-0 rows and columns copied as they are`, () => {
          const [M, K, N] = [2 * MR + 1, 37, 2 * NR + 3];
          // a: every third column of a wide matrix, rows 7·K apart (its span is far larger than M·K).
          const wide = randoms(M * 7 * K, 11);
          check(dtype, (b) => ({
            out: empty(b, dtype, [1, M, N]),
            a: viewOf(storageWith(b, dtype, wide), [1, M, K], [0, 7 * K, 3], 2),
            b: dense(b, dtype, [1, K, N], randoms(K * N, 12)),
          }), 'strided a');
          // b: one row broadcast down K (row stride 0); a: one column broadcast across K.
          check(dtype, (b) => ({
            out: empty(b, dtype, [2, M, N]),
            a: viewOf(storageWith(b, dtype, randoms(2 * M, 13)), [2, M, K], [M, 1, 0]),
            b: viewOf(storageWith(b, dtype, randoms(N + 1, 14)), [2, K, N], [0, 0, 1], 1),
          }), 'stride-0 rows and columns');
        });
        it(`${dtype}: b with one column repeated (column stride 0) and a with one row repeated: the first computed, copied across, bit-for-bit the full product`, () => {
          const [nb, M, K, N] = [2, 2 * MR + 3, 2 * KC + 5, 3 * NR + 2];
          const col = randoms(nb * K, 21);
          const row = randoms(nb * K, 22);
          const A = randoms(nb * M * K, 23);
          const B = randoms(nb * K * N, 24);
          const cases: [string, Make, Make][] = [
            // b[k, j] = col[k] for every j (the expanded ones of a sum's gradient); out written transposed.
            ['b columns repeated', (b) => ({
              out: permuted(b, dtype, [nb, M, N], new Array(nb * M * N).fill(0), [0, 2, 1]),
              a: dense(b, dtype, [nb, M, K], A),
              b: viewOf(storageWith(b, dtype, col), [nb, K, N], [K, 1, 0]),
            }), (b) => ({
              out: empty(b, dtype, [nb, M, N]),
              a: dense(b, dtype, [nb, M, K], A),
              b: dense(b, dtype, [nb, K, N], Array.from({ length: nb * K * N }, (_, i) => col[Math.floor(i / N)]!)),
            })],
            // A scalar expanded to [K, N] (both strides 0).
            ['b constant', (b) => ({
              out: empty(b, dtype, [nb, M, N]),
              a: dense(b, dtype, [nb, M, K], A),
              b: viewOf(storageWith(b, dtype, [0.75]), [nb, K, N], [0, 0, 0]),
            }), (b) => ({
              out: empty(b, dtype, [nb, M, N]),
              a: dense(b, dtype, [nb, M, K], A),
              b: dense(b, dtype, [nb, K, N], new Array(nb * K * N).fill(0.75)),
            })],
            // a[i, k] = row[k] for every i.
            ['a rows repeated', (b) => ({
              out: empty(b, dtype, [nb, M, N]),
              a: viewOf(storageWith(b, dtype, row), [nb, M, K], [K, 0, 1]),
              b: dense(b, dtype, [nb, K, N], B),
            }), (b) => ({
              out: empty(b, dtype, [nb, M, N]),
              a: dense(b, dtype, [nb, M, K], Array.from({ length: nb * M * K }, (_, i) => row[Math.floor(i / (M * K)) * K + (i % K)]!)),
              b: dense(b, dtype, [nb, K, N], B),
            })],
          ];
          for (const [what, make, materialized] of cases) {
            check(dtype, make, what);
            const w = make(js);
            bmmWasm(rt.heap, rt.gemm, w.out, w.a, w.b);
            const f = materialized(js);
            bmmWasm(rt.heap, rt.gemm, f.out, f.a, f.b);
            expect(values(w.out), what).toEqual(values(f.out));
          }
        });
        it(`${dtype}: narrow products (N under NR) run transposed, bit-for-bit the columns of a wide product`, () => {
          // outᵀ = bᵀ·aᵀ pads N to MR instead of NR: the same products in the same k order.
          for (const M of [5, 64, 67]) {
            for (const N of [1, 2, 3, 5, 10]) {
              for (const [K, ta] of [[64, false], [300, true]] as const) {
                const W = 16; // wider than every N here, and not transposed itself (16 is a multiple of MR and NR)
                const A = randoms(M * K, M + N + K);
                const wide = randoms(K * W, M * N + K);
                const narrowB = Array.from({ length: K * N }, (_, i) => wide[Math.floor(i / N) * W + (i % N)]!);
                const a = (b: CpuBackend): View => (ta ? permuted(b, dtype, [1, M, K], A, [0, 2, 1]) : dense(b, dtype, [1, M, K], A));
                const make: Make = (b) => ({ out: empty(b, dtype, [1, M, N]), a: a(b), b: dense(b, dtype, [1, K, N], narrowB) });
                const what = `${M}×${K}×${N}${ta ? ' aᵀ' : ''}`;
                check(dtype, make, what);
                const n = make(js);
                bmmWasm(rt.heap, rt.gemm, n.out, n.a, n.b);
                const w = { out: empty(js, dtype, [1, M, W]), a: a(js), b: dense(js, dtype, [1, K, W], wide) };
                bmmWasm(rt.heap, rt.gemm, w.out, w.a, w.b);
                const full = values(w.out);
                expect(values(n.out), what).toEqual(Array.from({ length: M * N }, (_, i) => full[Math.floor(i / N) * W + (i % N)]!));
              }
            }
          }
        });
        it(`${dtype}: a broadcast a (batch stride 0) against per-batch b, and the reverse`, () => {
          const [nb, M, K, N] = [4, 3 * MR + 1, 70, 2 * NR + 1];
          check(dtype, (b) => ({
            out: empty(b, dtype, [nb, M, N]),
            a: viewOf(storageWith(b, dtype, randoms(M * K, 15)), [nb, M, K], [0, K, 1]),
            b: dense(b, dtype, [nb, K, N], randoms(nb * K * N, 16)),
          }), 'broadcast a');
          check(dtype, (b) => ({
            out: empty(b, dtype, [nb, M, N]),
            a: dense(b, dtype, [nb, M, K], randoms(nb * M * K, 17)),
            b: permuted(b, dtype, [nb, K, N], randoms(nb * K * N, 18), [0, 2, 1]),
          }), 'per-batch transposed b');
        });
        it(`${dtype}: empty dims`, () => {
          check(dtype, plain(dtype, 2, 9, 0, 11), 'K = 0 gives zeros');
          check(dtype, plain(dtype, 2, 0, 5, 11), 'M = 0');
          check(dtype, plain(dtype, 0, 9, 5, 11), 'no batches');
        });
      }

    });
  }

  it('splits K into equal blocks of at most KC', () => {
    expect([1, 7, KC, KC + 1, 2 * KC + 16, 2 * KC + 1].map(kcFor)).toEqual([1, 7, KC, Math.ceil((KC + 1) / 2), Math.ceil((2 * KC + 16) / 3), Math.ceil((2 * KC + 1) / 3)]);
  });

  it('declines (returns false, output untouched) when the packed operands would not fit the memory', () => {
    const small = WasmRuntime.create()!;
    small.heap.fits = () => false;
    const m = plain('float32', 1, 40, 50, 60, 9)(js);
    expect(bmmWasm(small.heap, small.gemm, m.out, m.a, m.b)).toBe(false);
    expect(values(m.out).every((v) => v === 77)).toBe(true);
  });

  it('the backend sends float products to wasm and agrees with wasm: false', () => {
    const be = new CpuBackend();
    for (const dtype of ['float32', 'float64'] as const) {
      const make = plain(dtype, 2, 70, 90, 50, 3);
      const w = make(be);
      be.kernels.bmm(w.out, w.a, w.b);
      const r = make(js);
      js.kernels.bmm(r.out, r.a, r.b);
      const got = values(w.out);
      const want = values(r.out);
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(dtype === 'float32' ? 1e-4 : 1e-12);
    }
    expect(be.wasm).not.toBeNull();
    expect(be.pooledBytes()).toBeGreaterThan(0); // the wasm memory is reported
  });
});
