/**
 * Products with a repeated column of B (stride 0 along N: the expanded ones of a `sum`'s gradient
 * that double backward multiplies by X) or a repeated row of A, through the backend as core calls
 * it: outputs large enough to live in the wasm heap (where the copies across are wasm stores),
 * 1 and 2 threads, against the materialized operand bit-for-bit and the JavaScript bmm.
 */
import type { DType, View } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import type { CpuBackend } from '../backend.js';
import { heapPtr } from '../heap-storage.js';
import { wasmTestBackends } from '../test-utils/backends.js';
import { dense, empty, permuted, randoms, storageWith, values, viewOf } from '../test-utils/views.js';

const { js, one, two } = await wasmTestBackends();

type Make = (be: CpuBackend) => { out: View; a: View; b: View };

function product(be: CpuBackend, make: Make): { got: number[]; inHeap: boolean } {
  const m = make(be);
  be.kernels.bmm(m.out, m.a, m.b);
  return { got: values(m.out), inHeap: be.wasm !== null && heapPtr(m.out.storage, be.wasm.heap) >= 0 };
}

describe('GEMM with a repeated column of b or row of a', () => {
  for (const dtype of ['float32', 'float64'] as const satisfies readonly DType[]) {
    it(`${dtype}: heap outputs, 1 and 2 threads, bit-for-bit the materialized product`, () => {
      // 64×256×256 (the HVP's X · ones) and odd sizes around the register blocks.
      for (const [nb, M, K, N] of [[1, 64, 256, 256], [2, 67, 131, 75], [1, 129, 70, 300]] as const) {
        const col = randoms(nb * K, M + 1);
        const row = randoms(nb * K, M + 2);
        const A = randoms(nb * M * K, M + 3);
        const B = randoms(nb * K * N, M + 4);
        const cases: [string, Make, Make][] = [
          ['b columns repeated', (be) => ({ out: empty(be, dtype, [nb, M, N]), a: dense(be, dtype, [nb, M, K], A), b: viewOf(storageWith(be, dtype, col), [nb, K, N], [K, 1, 0]) }),
            (be) => ({ out: empty(be, dtype, [nb, M, N]), a: dense(be, dtype, [nb, M, K], A), b: dense(be, dtype, [nb, K, N], Array.from({ length: nb * K * N }, (_, i) => col[Math.floor(i / N)]!)) })],
          ['ones expanded, out transposed', (be) => ({ out: permuted(be, dtype, [nb, M, N], new Array(nb * M * N).fill(0), [0, 2, 1]), a: dense(be, dtype, [nb, M, K], A), b: viewOf(storageWith(be, dtype, [1]), [nb, K, N], [0, 0, 0]) }),
            (be) => ({ out: empty(be, dtype, [nb, M, N]), a: dense(be, dtype, [nb, M, K], A), b: dense(be, dtype, [nb, K, N], new Array(nb * K * N).fill(1)) })],
          ['a rows repeated', (be) => ({ out: empty(be, dtype, [nb, M, N]), a: viewOf(storageWith(be, dtype, row), [nb, M, K], [K, 0, 1]), b: dense(be, dtype, [nb, K, N], B) }),
            (be) => ({ out: empty(be, dtype, [nb, M, N]), a: dense(be, dtype, [nb, M, K], Array.from({ length: nb * M * K }, (_, i) => row[Math.floor(i / (M * K)) * K + (i % K)]!)), b: dense(be, dtype, [nb, K, N], B) })],
        ];
        for (const [what, make, materialized] of cases) {
          const tag = `${what} ${nb}×${M}×${K}×${N}`;
          const r1 = product(one, make);
          const r2 = product(two, make);
          const full = product(one, materialized);
          expect(r1.inHeap || what.includes('transposed'), `${tag}: out in the heap`).toBe(true);
          expect(r1.got, tag).toEqual(full.got);
          expect(r2.got, `${tag}, 2 threads`).toEqual(r1.got);
          const want = product(js, make).got;
          const tol = dtype === 'float32' ? 2e-6 * Math.sqrt(K + 1) : 1e-13 * (K + 1);
          for (let i = 0; i < want.length; i++) {
            if (!(Math.abs(r1.got[i]! - want[i]!) <= tol * (1 + Math.abs(want[i]!)))) expect(r1.got[i], `${tag} [${i}]`).toBe(want[i]);
          }
        }
      }
    });
  }
});
