/**
 * addmm on the WebAssembly GEMM (the bias applied as C is copied out) against the JavaScript addmm:
 * both float dtypes, a bias row / column / full / transposed, alpha and beta (beta = 0 ignoring a
 * NaN bias), K = 0, transposed operands as nn's Linear passes them (x · Wᵀ), a transposed output,
 * and the same bits on 1 and 2 threads.
 */
import type { DType, View } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../backend.js';
import { wasmTestBackends } from '../test-utils/backends.js';
import { dense, empty, permuted, randoms, storageWith, values, viewOf } from '../test-utils/views.js';
import { bmmWasm } from './gemm.js';

const { js, one, two } = await wasmTestBackends();

type BiasKind = 'row' | 'col' | 'full' | 'transposed';

interface Case {
  readonly M: number;
  readonly K: number;
  readonly N: number;
  readonly bias: BiasKind;
  readonly beta: number;
  readonly alpha: number;
  /** b stored as its transpose (Linear's weight.t()). */
  readonly bT?: boolean;
  readonly outT?: boolean;
  readonly nanBias?: boolean;
}

function run(be: CpuBackend, dtype: DType, c: Case): number[] {
  const { M, K, N } = c;
  const a = dense(be, dtype, [M, K], randoms(M * K, M + 1));
  const B = randoms(K * N, N + 2);
  const b = c.bT ? permuted(be, dtype, [K, N], B, [1, 0]) : dense(be, dtype, [K, N], B);
  const fill = (n: number): number[] => (c.nanBias ? new Array<number>(n).fill(NaN) : randoms(n, 3));
  const bias: View =
    c.bias === 'row' ? viewOf(storageWith(be, dtype, fill(N)), [M, N], [0, 1])
    : c.bias === 'col' ? viewOf(storageWith(be, dtype, fill(M)), [M, N], [1, 0])
    : c.bias === 'full' ? dense(be, dtype, [M, N], fill(M * N))
    : permuted(be, dtype, [M, N], fill(M * N), [1, 0]);
  const out = c.outT ? permuted(be, dtype, [M, N], new Array<number>(M * N).fill(77), [1, 0]) : empty(be, dtype, [M, N]);
  be.kernels.addmm(out, bias, a, b, c.beta, c.alpha);
  return values(out);
}

const CASES: Case[] = [
  { M: 64, K: 784, N: 256, bias: 'row', beta: 1, alpha: 1, bT: true },
  { M: 37, K: 70, N: 41, bias: 'full', beta: 0.5, alpha: -2 },
  { M: 9, K: 33, N: 19, bias: 'col', beta: 2, alpha: 1, outT: true },
  { M: 21, K: 50, N: 13, bias: 'transposed', beta: -1, alpha: 0.25, bT: true },
  { M: 17, K: 40, N: 23, bias: 'row', beta: 0, alpha: 3, nanBias: true },
  { M: 130, K: 260, N: 70, bias: 'row', beta: 1, alpha: 1, bT: true },
];

describe('wasm addmm vs the JavaScript addmm', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`${dtype}: bias row/column/full/transposed, alpha and beta, transposed b and out`, () => {
      for (const c of CASES) {
        const want = run(js, dtype, c);
        const got = run(one, dtype, c);
        const tol = dtype === 'float32' ? 3e-6 * Math.sqrt(c.K) : 1e-13 * c.K;
        const what = JSON.stringify(c);
        expect(got.length, what).toBe(want.length);
        for (let i = 0; i < got.length; i++) {
          if (!(Math.abs(got[i]! - want[i]!) <= tol * (1 + Math.abs(want[i]!)))) expect(got[i], `${what} [${i}]`).toBe(want[i]);
        }
        const threaded = run(two, dtype, c);
        expect(threaded.every((v, i) => Object.is(v, got[i])), `${what}: 2 threads bit for bit`).toBe(true);
      }
    });
  }

  it('K = 0: the product is zeros, so out = beta · bias (the epilogue on bmmWasm directly; the backend sends K = 0 to JavaScript)', () => {
    const w = one.wasm!;
    const biasRow = randoms(9, 4);
    const out = empty(one, 'float32', [1, 7, 9]);
    const ok = bmmWasm(w.heap, w.gemm, out, dense(one, 'float32', [1, 7, 0], []), dense(one, 'float32', [1, 0, 9], []), null, {
      bias: Float32Array.from(biasRow), off: 0, rs: 0, cs: 1, alpha: 5, beta: 2,
    });
    expect(ok).toBe(true);
    expect(values(out)).toEqual(Array.from({ length: 7 * 9 }, (_, i) => Math.fround(2 * Math.fround(biasRow[i % 9]!))));
  });
});
