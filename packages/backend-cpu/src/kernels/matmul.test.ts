import type { DType, View } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../backend.js';
import { at, contiguousStrides, dense, empty, numel, permuted, randInts, randoms, values, viewOf, storageWith } from '../test-utils/views.js';

const be = new CpuBackend();

function naiveBmm(a: View, b: View): number[] {
  const [B, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  const r: number[] = [];
  for (let bi = 0; bi < B; bi++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += at(a, [bi, i, k]) * at(b, [bi, k, j]);
        r.push(s);
      }
    }
  }
  return r;
}

function check(out: View, a: View, b: View, dtype: DType): void {
  be.kernels.bmm(out, a, b);
  const ref = naiveBmm(a, b);
  const got = values(out);
  expect(got.length).toBe(ref.length);
  got.forEach((v, i) => {
    const r = ref[i]!;
    if (dtype === 'float32') expect(Math.abs(v - r), `[${i}]`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(r)));
    else if (dtype === 'float64') expect(Math.abs(v - r), `[${i}]`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(r)));
    else expect(v, `[${i}]`).toBe(r);
  });
}

describe('bmm', () => {
  const SHAPES: [number, number, number, number][] = [
    [1, 1, 1, 1],
    [1, 3, 5, 7],
    [2, 17, 33, 65],
    [1, 70, 300, 530], // crosses the MC, KC and NC block edges
    [3, 4, 0, 5], // K = 0: zeros
  ];

  for (const dtype of ['float32', 'float64'] as DType[]) {
    it.each(SHAPES)(`${dtype} contiguous [%i, %i, %i] x [.., %i] matches the naive product`, (B, M, K, N) => {
      const a = dense(be, dtype, [B, M, K], randoms(B * M * K, 1));
      const b = dense(be, dtype, [B, K, N], randoms(B * K * N, 2));
      check(empty(be, dtype, [B, M, N]), a, b, dtype);
    });
  }

  it('is exact for int32 and for small-integer float64', () => {
    for (const [M, K, N] of [[9, 13, 11], [20, 30, 25]]) {
      const a = dense(be, 'int32', [2, M, K], randInts(2 * M * K, 3, -100, 100));
      const b = dense(be, 'int32', [2, K, N], randInts(2 * K * N, 4, -100, 100));
      check(empty(be, 'int32', [2, M, N]), a, b, 'int32');
    }
    const a2 = dense(be, 'float64', [1, 40, 50], randInts(2000, 5, -9, 9));
    const b2 = dense(be, 'float64', [1, 50, 60], randInts(3000, 6, -9, 9));
    check(empty(be, 'float64', [1, 40, 60]), a2, b2, 'int32');
  });

  it('handles transposed operands and a transposed out', () => {
    for (const [B, M, K, N] of [[2, 5, 6, 7], [2, 37, 41, 43]] as const) {
      const a = permuted(be, 'float64', [B, M, K], randoms(B * M * K, 7), [0, 2, 1]); // a^T in memory
      const b = permuted(be, 'float64', [B, K, N], randoms(B * K * N, 8), [2, 0, 1]);
      const out = permuted(be, 'float64', [B, M, N], new Array(B * M * N).fill(0), [0, 2, 1]);
      check(out, a, b, 'float64');
    }
  });

  it('broadcasts a batch dim with stride 0', () => {
    const M = 19, K = 23, N = 29;
    const w = randoms(K * N, 9);
    const b = viewOf(storageWith(be, 'float32', w), [4, K, N], [0, N, 1]);
    const a = dense(be, 'float32', [4, M, K], randoms(4 * M * K, 10));
    check(empty(be, 'float32', [4, M, N]), a, b, 'float32');
    const a1 = viewOf(storageWith(be, 'float32', randoms(M * K, 11)), [3, M, K], [0, K, 1]);
    const b1 = dense(be, 'float32', [3, K, N], randoms(3 * K * N, 12));
    check(empty(be, 'float32', [3, M, N]), a1, b1, 'float32');
  });

  it('reads operands at an offset and with padded row strides', () => {
    const M = 33, K = 20, N = 18;
    const a = viewOf(storageWith(be, 'float64', randoms(M * 25 + 4, 13)), [1, M, K], [0, 25, 1], 4);
    const b = viewOf(storageWith(be, 'float64', randoms(K * 2 * N + 1, 14)), [1, K, N], [0, 2 * N, 2], 1);
    const out = viewOf(be.allocate('float64', M * N + 3), [1, M, N], [0, ...contiguousStrides([M, N])], 3);
    check(out, a, b, 'float64');
  });

  it('rounds float32 results once', () => {
    const a = dense(be, 'float32', [1, 1, 3], [1e8, 1, -1e8]);
    const b = dense(be, 'float32', [1, 3, 1], [1, 1, 1]);
    const out = empty(be, 'float32', [1, 1, 1]);
    be.kernels.bmm(out, a, b);
    expect(values(out)).toEqual([1]);
  });

  it('rejects mismatched shapes', () => {
    const a = dense(be, 'float32', [1, 2, 3], randoms(6));
    const b = dense(be, 'float32', [1, 4, 2], randoms(8));
    expect(() => be.kernels.bmm(empty(be, 'float32', [1, 2, 2]), a, b)).toThrow(/bmm: expected a \[B, M, K\]/);
  });

  it('leaves nothing to do for empty batches', () => {
    const a = dense(be, 'float32', [0, 2, 3], []);
    const b = dense(be, 'float32', [0, 3, 2], []);
    const out = empty(be, 'float32', [0, 2, 2]);
    be.kernels.bmm(out, a, b);
    expect(numel(out.shape)).toBe(0);
  });
});

describe('addmm (bias in the epilogue)', () => {
  function checkAddmm(M: number, K: number, N: number, biasShape: 'row' | 'full' | 'col', beta: number, alpha: number): void {
    const a = dense(be, 'float64', [1, M, K], randoms(M * K));
    const b = dense(be, 'float64', [1, K, N], randoms(K * N));
    const ref = naiveBmm(a, b);
    const a2: View = { ...a, shape: [M, K], strides: [K, 1] };
    const b2: View = { ...b, shape: [K, N], strides: [N, 1] };
    const biasData = randoms(biasShape === 'full' ? M * N : biasShape === 'row' ? N : M);
    const bias: View =
      biasShape === 'full' ? { ...dense(be, 'float64', [M, N], biasData) }
      : biasShape === 'row' ? { ...dense(be, 'float64', [N], biasData), shape: [M, N], strides: [0, 1] }
      : { ...dense(be, 'float64', [M], biasData), shape: [M, N], strides: [1, 0] };
    const out = empty(be, 'float64', [M, N]);
    be.kernels.addmm(out, bias, a2, b2, beta, alpha);
    const got = values(out);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        const bv = biasShape === 'full' ? biasData[i * N + j]! : biasShape === 'row' ? biasData[j]! : biasData[i]!;
        const want = alpha * ref[i * N + j]! + beta * bv;
        expect(Math.abs(got[i * N + j]! - want), `[${i}, ${j}]`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)));
      }
    }
  }

  it('small products (no packing), a bias row broadcast over rows', () => checkAddmm(3, 4, 5, 'row', 1, 1));
  it('blocked products (packed GEMM), beta and alpha', () => checkAddmm(37, 70, 41, 'full', 0.5, -2));
  it('a bias column broadcast over columns', () => checkAddmm(9, 3, 6, 'col', 2, 1));

  it('beta = 0 never reads the bias (NaN there is ignored)', () => {
    const a = dense(be, 'float32', [2, 2], [1, 2, 3, 4]);
    const b = dense(be, 'float32', [2, 2], [1, 0, 0, 1]);
    const bias = dense(be, 'float32', [2, 2], [NaN, NaN, NaN, NaN]);
    const out = empty(be, 'float32', [2, 2]);
    be.kernels.addmm(out, bias, a, b, 0, 3);
    expect(values(out)).toEqual([3, 6, 9, 12]);
  });

  it('rejects mismatched shapes, naming them', () => {
    const a = dense(be, 'float32', [2, 3], randoms(6));
    const b = dense(be, 'float32', [2, 2], randoms(4));
    expect(() => be.kernels.addmm(empty(be, 'float32', [2, 2]), empty(be, 'float32', [2, 2]), a, b, 1, 1)).toThrow(/addmm: expected a \[M, K\], b \[K, N\].*got a \[2, 3\], b \[2, 2\]/);
  });
});
