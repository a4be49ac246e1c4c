/**
 * The pool's two kinds of work back to back: GEMM jobs (chunks claimed from a job word) and module
 * tasks (generated elementwise kernels, every worker counted out through PENDING). A worker that
 * wakes late for a GEMM job must not run, or miss, the module task posted after it (TASK_GEN):
 * alternating them many times on two threads must give one thread's bits and never hang. Jobs of both
 * dtypes alternating must give one thread's bits too: the kernels are picked by the job's dtype
 * after each claim (`runChunks`). The stall that once broke that (a worker that read one job's
 * dtype, stalled, then claimed the next job's chunks: about once in 60 runs of the wasm-sizes
 * conformance test) is forced here with `stallWorkers`: every wake-up of the worker lands in a
 * later job, and every kind of work must still give one thread's bits.
 */
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { CpuBackend } from '../backend.js';
import { cpuBackend } from '../plugin.js';
import { seeded } from '../test-utils/seeded.js';
import type { ThreadPool } from './pool.js';

const runtimes: Runtime[] = [];
afterAll(async () => {
  await Promise.all(runtimes.map((r) => r.dispose()));
});

function filled(rt: Runtime, shape: number[], seed: number): Tensor {
  return rt.tensor(seeded(shape.reduce((a, b) => a * b, 1), seed)).reshape(shape);
}

/** 128³ products (2^21 multiply-adds: split) alternating with sigmoid over 2^16 elements (split). */
function alternate(rt: Runtime, rounds: number): Float32Array[] {
  const out: Float32Array[] = [];
  rt.tidy(() => {
    const a = filled(rt, [128, 128], 1);
    const b = filled(rt, [128, 128], 2);
    const x = filled(rt, [256, 256], 3);
    let m = a;
    for (let i = 0; i < rounds; i++) {
      m = m.matmul(b).mul(1 / 8);
      const s = x.add(i / rounds).sigmoid();
      if (i % 25 === 24) out.push(m.dataSync() as Float32Array, s.dataSync() as Float32Array);
    }
  });
  return out;
}

/** A one-thread runtime, a two-thread one and the latter's pool (disposed after the file). */
async function runtimePair(): Promise<{ rt1: Runtime; rt2: Runtime; pool: ThreadPool }> {
  const rt1 = await createRuntime({ plugins: [cpuBackend()] });
  const rt2 = await createRuntime({ plugins: [cpuBackend({ threads: 2 })] });
  runtimes.push(rt1, rt2);
  return { rt1, rt2, pool: (rt2.backend('cpu') as CpuBackend).wasm!.pool! };
}

/** How many of the alternating float32/float64 products differ in any bit from one thread's pair `want`. */
function wrongProducts(got: Uint32Array[], want: Uint32Array[]): number {
  return got.filter((g, i) => !g.every((v, j) => v === want[i % 2]![j])).length;
}

/** Every result bit-for-bit its counterpart in `want`. */
function expectSameBits(got: Float32Array[], want: Float32Array[], what: string): void {
  expect(got.length).toBe(want.length);
  for (let k = 0; k < want.length; k++) {
    const w = new Uint32Array(want[k]!.buffer, want[k]!.byteOffset, want[k]!.length);
    const g = new Uint32Array(got[k]!.buffer, got[k]!.byteOffset, got[k]!.length);
    expect(g.every((v, i) => v === w[i]), `${what} ${k}`).toBe(true);
  }
}

describe('GEMM jobs and module tasks on one pool', () => {
  it('alternating 200 times on two threads gives the bits of one thread, and both kinds ran on the pool', async () => {
    const { rt1, rt2, pool } = await runtimePair();
    const want = alternate(rt1, 200);
    const [jobs, tasks] = [pool.jobs, pool.tasks];
    const got = alternate(rt2, 200);
    expect(pool.jobs - jobs, 'GEMM jobs on the pool').toBeGreaterThanOrEqual(200);
    expect(pool.tasks - tasks, 'module tasks on the pool').toBeGreaterThanOrEqual(200);
    expectSameBits(got, want, 'result');
  }, 300_000);

  /** 64·128·128 = 2^20 multiply-adds: split, and short enough (~50 µs) that the caller often finishes a job alone before the worker wakes. */
  const products = (rt: Runtime, rounds: number): Uint32Array[] =>
      rt.tidy(() => {
        const ops = (['float32', 'float64'] as const).map((dtype) => [filled(rt, [64, 128], 4).to(dtype), filled(rt, [128, 128], 5).to(dtype)] as const);
        const out: Uint32Array[] = [];
        for (let i = 0; i < rounds; i++) {
          const [a, b] = ops[i % 2]!;
          const c = a.matmul(b).dataSync();
          out.push(new Uint32Array(c.buffer.slice(c.byteOffset, c.byteOffset + c.byteLength)));
        }
        return out;
      });

  it('float32 and float64 products alternating 400 times on two threads give the bits of one thread', async () => {
    const { rt1, rt2, pool } = await runtimePair();
    const want = products(rt1, 2);
    const jobs = pool.jobs;
    const got = products(rt2, 400);
    expect(pool.jobs - jobs, 'GEMM jobs on the pool').toBe(400);
    expect(wrongProducts(got, want), 'products that differ from one thread\'s').toBe(0);
  }, 300_000);

  it('with every wake-up of the worker made to land in the next job or task, both dtypes and the module tasks still give one thread\'s bits', async () => {
    const { rt1, rt2, pool } = await runtimePair();
    const want = products(rt1, 2);
    const wantMixed = alternate(rt1, 50);
    pool.stallWorkers(5000);
    try {
      const [chunks, mine] = [pool.chunks, pool.callerChunks];
      const got = products(rt2, 200);
      // The worker still takes chunks: of the job after the one that woke it.
      expect(pool.chunks - chunks - (pool.callerChunks - mine), 'chunks the worker ran').toBeGreaterThan(0);
      expect(wrongProducts(got, want), 'products that differ from one thread\'s').toBe(0);
      expectSameBits(alternate(rt2, 50), wantMixed, 'mixed result');
    } finally {
      pool.stallWorkers(0);
    }
  }, 300_000);
});
