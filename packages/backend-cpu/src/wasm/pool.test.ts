/**
 * Worker threads for GEMM: the same bits with 1 and 2 threads (each element of C is summed by one
 * thread in the same order), rows or columns split, and no worker left after dispose.
 */
import type { View } from '@nabla/core';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../backend.js';
import { cpuBackend } from '../plugin.js';
import { dense, empty, permuted, randoms, storageWith, values, viewOf } from '../test-utils/views.js';
import { wasmElementwise } from './elementwise.js';

const one = new CpuBackend();
const two = new CpuBackend({ threads: 2 });
await two.init();

afterAll(async () => {
  await two.dispose();
});

function product(be: CpuBackend, dtype: 'float32' | 'float64', M: number, K: number, N: number, transposed = false): number[] {
  const out: View = empty(be, dtype, [1, M, N]);
  const A = randoms(M * K, M + K);
  const B = randoms(K * N, K + N);
  // transposed: aᵀ and bᵀ stored (the backward's xᵀ·g and g·Wᵀ), packed by the same wasm packers.
  const a = transposed ? permuted(be, dtype, [1, M, K], A, [0, 2, 1]) : dense(be, dtype, [1, M, K], A);
  const b = transposed ? permuted(be, dtype, [1, K, N], B, [0, 2, 1]) : dense(be, dtype, [1, K, N], B);
  be.kernels.bmm(out, a, b);
  return values(out);
}

describe('GEMM on worker threads', () => {
  it('starts the threads it was asked for and says so', () => {
    expect(two.info).toMatchObject({ kernels: 'wasm-simd', threads: 2 });
    expect(two.describe()).toMatch(/2 threads/);
    expect(one.info.threads).toBe(1);
  });

  for (const dtype of ['float32', 'float64'] as const) {
    it(`${dtype}: bit-for-bit the same results with 1 and 2 threads (row and column splits, odd sizes)`, () => {
      for (const [M, K, N, t] of [[300, 301, 257, false], [67, 700, 33, false], [9, 520, 1500, false], [1024, 64, 64, false], [64, 784, 256, true], [784, 64, 256, true]] as const) {
        const a = product(one, dtype, M, K, N, t);
        const jobs = two.wasm!.pool!.jobs;
        const b = product(two, dtype, M, K, N, t);
        expect(two.wasm!.pool!.jobs, 'ran on the pool').toBe(jobs + 1);
        expect(b.length).toBe(a.length);
        let same = true;
        for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) same = false;
        expect(same, `${M}×${K}×${N}`).toBe(true);
      }
    });
  }

  it('the operand every thread reads is packed in chunks by all threads: same bits as one thread, rows and columns split, transposed', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      // rows split (b packed in chunks) and columns split (a packed in chunks); odd lanes, so the
      // last pack chunk ends in a partial panel; K over two k blocks.
      for (const [M, K, N] of [[1001, 263, 517], [517, 263, 1101], [333, 301, 77]] as const) {
        for (const t of [false, true]) {
          const want = product(one, dtype, M, K, N, t);
          const packs = two.wasm!.pool!.packChunks;
          const got = product(two, dtype, M, K, N, t);
          expect(two.wasm!.pool!.packChunks - packs, `${M}×${K}×${N} packed in chunks`).toBeGreaterThan(M === 333 ? 0 : 1);
          expect(got.every((v, i) => Object.is(v, want[i])), `${dtype} ${M}×${K}×${N}${t ? ' transposed' : ''}`).toBe(true);
        }
      }
    }
    // and against the JavaScript reference
    const got = product(two, 'float64', 517, 263, 1101, true);
    const ref = product(new CpuBackend({ wasm: false }), 'float64', 517, 263, 1101, true);
    expect(got.every((v, i) => Math.abs(v - ref[i]!) < 1e-10)).toBe(true);
  });

  it('three threads (more pack chunks and slices than cores here) give the bits of one thread', async () => {
    const three = new CpuBackend({ threads: 3 });
    await three.init();
    try {
      expect(three.info.threads).toBe(3);
      for (const [M, K, N, t] of [[1001, 263, 517, false], [517, 263, 1101, true]] as const) {
        const want = product(one, 'float32', M, K, N, t);
        const got = product(three, 'float32', M, K, N, t);
        expect(got.every((v, i) => Object.is(v, want[i])), `${M}×${K}×${N}`).toBe(true);
      }
    } finally {
      await three.dispose();
    }
  });

  it('threads pack their own panels: broadcast batches (a shared b, a shared aᵀ) match one thread bit for bit', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const [nb, M, K, N] = [3, 37, 300, 129];
      const run = (be: CpuBackend, shared: 'a' | 'b'): number[] => {
        const out: View = empty(be, dtype, [nb, M, N]);
        const A = randoms((shared === 'a' ? 1 : nb) * M * K, 21);
        const B = randoms((shared === 'b' ? 1 : nb) * K * N, 22);
        // The shared operand has batch stride 0 (packed once, its panels reused); a is stored transposed.
        const a = shared === 'a' ? viewOf(storageWith(be, dtype, A), [nb, M, K], [0, 1, M]) : permuted(be, dtype, [nb, M, K], A, [0, 2, 1]);
        const b = shared === 'b' ? viewOf(storageWith(be, dtype, B), [nb, K, N], [0, N, 1]) : dense(be, dtype, [nb, K, N], B);
        be.kernels.bmm(out, a, b);
        return values(out);
      };
      for (const shared of ['a', 'b'] as const) {
        const jobs = two.wasm!.pool!.jobs;
        const got = run(two, shared);
        expect(two.wasm!.pool!.jobs, 'ran on the pool').toBe(jobs + nb);
        const want = run(one, shared);
        const ref = run(new CpuBackend({ wasm: false }), shared);
        expect(got.every((v, i) => Object.is(v, want[i])), `${dtype}, shared ${shared}`).toBe(true);
        expect(got.every((v, i) => Math.abs(v - ref[i]!) < 1e-3), `${dtype}, shared ${shared} vs JS`).toBe(true);
      }
    }
  });

  it('leaves no worker running after runtime.dispose()', async () => {
    const { createRuntime } = await import('@nabla/core');
    const rt = await createRuntime({ plugins: [cpuBackend({ threads: 2 })] });
    const be = rt.backend('cpu') as CpuBackend;
    expect(be.info.threads).toBe(2);
    const pool = be.wasm!.pool!;
    expect(pool.liveWorkers).toBe(1);
    const x = rt.randn([200, 300]);
    const y = x.matmul(rt.randn([300, 500]));
    expect(y.shape).toEqual([200, 500]);
    await rt.dispose();
    expect(pool.liveWorkers).toBe(0);
    expect(be.info.threads).toBe(1);
  });

  it('generated elementwise kernels run on the shared memory too (same results as one thread)', () => {
    expect(two.wasm!.heap.shared).toBe(true);
    const x = { op: 'input', index: 0 } as const;
    const expr = { op: 'mul', a: x, b: { op: 'tanh', a: x } } as const;
    const s = { name: 'xtanh', expr, inputDtypes: ['float32'], outDtype: 'float32', computeDtype: 'float32', numParams: 0, key: 'pool:xtanh' } as const;
    const xs = randoms(5000, 4, -6, 6);
    const outs = [one.wasm!, two.wasm!].map((w) => {
      const out = empty(one, 'float32', [5000]);
      const k = wasmElementwise(w, s, () => {
        throw new Error('fell back to JavaScript');
      });
      k(out, [dense(one, 'float32', [5000], xs)], []);
      return values(out);
    });
    expect(outs[1]).toEqual(outs[0]);
  });

  it('rejects a bad thread count and a spin that is not a boolean', () => {
    expect(() => new CpuBackend({ threads: 0 })).toThrow(/threads must be a positive integer or 'auto'/);
    expect(() => new CpuBackend({ threads: 2, spin: 'no' as never })).toThrow(/cpu backend: spin must be true or false, got string no/);
  });

  it('spin: false reaches the pool, and products keep their bits', async () => {
    expect(two.wasm!.pool!.spin, 'spin is on by default').toBe(true);
    const passive = new CpuBackend({ threads: 2, spin: false });
    await passive.init();
    try {
      const pool = passive.wasm!.pool!;
      expect(pool.spin).toBe(false);
      const jobs = pool.jobs;
      const got = product(passive, 'float32', 200, 300, 500);
      expect(pool.jobs - jobs, 'GEMM jobs on the pool').toBe(1);
      const want = product(one, 'float32', 200, 300, 500);
      expect(got.length).toBe(want.length);
      expect(got.every((v, i) => Object.is(v, want[i])), 'the bits of one thread').toBe(true);
    } finally {
      await passive.dispose();
    }
  });
});
