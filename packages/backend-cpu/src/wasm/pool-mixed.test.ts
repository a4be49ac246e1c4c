/**
 * The pool's two kinds of work back to back: GEMM jobs (chunks claimed from a job word) and module
 * tasks (generated elementwise kernels, every worker counted out through PENDING). A worker that
 * wakes late for a GEMM job must not run, or miss, the module task posted after it (TASK_GEN):
 * alternating them many times on two threads must give one thread's bits and never hang.
 */
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { CpuBackend } from '../backend.js';
import { cpuBackend } from '../plugin.js';
import { seeded } from '../test-utils/seeded.js';

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

describe('GEMM jobs and module tasks on one pool', () => {
  it('alternating 200 times on two threads gives the bits of one thread, and both kinds ran on the pool', async () => {
    const rt1 = await createRuntime({ plugins: [cpuBackend()] });
    const rt2 = await createRuntime({ plugins: [cpuBackend({ threads: 2 })] });
    runtimes.push(rt1, rt2);
    const pool = (rt2.backend('cpu') as CpuBackend).wasm!.pool!;
    const want = alternate(rt1, 200);
    const [jobs, tasks] = [pool.jobs, pool.tasks];
    const got = alternate(rt2, 200);
    expect(pool.jobs - jobs, 'GEMM jobs on the pool').toBeGreaterThanOrEqual(200);
    expect(pool.tasks - tasks, 'module tasks on the pool').toBeGreaterThanOrEqual(200);
    expect(got.length).toBe(want.length);
    for (let k = 0; k < want.length; k++) {
      const w = new Uint32Array(want[k]!.buffer, want[k]!.byteOffset, want[k]!.length);
      const g = new Uint32Array(got[k]!.buffer, got[k]!.byteOffset, got[k]!.length);
      expect(g.every((v, i) => v === w[i]), `result ${k}`).toBe(true);
    }
  }, 300_000);
});
