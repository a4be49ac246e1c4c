/**
 * The workers' keep-awake after a task or a GEMM job (`WORKER_SPIN_MS`, `GEMM_SPIN_MS`, pool.ts) is
 * bounded: after a burst of work close together (when they spin), an idle worker is soon asleep in
 * `Atomics.wait` again.
 * `Atomics.notify` on the generation word counts the sleepers it wakes (a spinning worker is not
 * one); waking a sleeping worker without a new generation is harmless (it finds nothing to run).
 */
import { describe, expect, it } from 'vitest';
import { ModuleBuilder, ValType } from './emitter.js';
import { GEMM_SPIN_MS, WORKER_SPIN_MS } from './pool.js';
import { createRuntime } from '@nabla/core';
import type { CpuBackend } from '../backend.js';
import { cpuBackend } from '../plugin.js';
import { runModuleTask, writeDescriptor } from './pool-tasks.js';
import { WasmRuntime } from './runtime.js';

/** A module whose `run(n, at)` adds 1 to the float64 at byte `at`. */
function counterModule(rt: WasmRuntime): Uint8Array {
  const mod = new ModuleBuilder(rt.heap.memoryType());
  const f = mod.func('run', [ValType.i32, ValType.i32]);
  f.get(1).get(1).mem('f64.load', 3).f64c(1).op('f64.add').mem('f64.store', 3);
  return mod.encode();
}

/** Whether the worker is found asleep on the generation word within 2 s (a spinning one is not counted by notify). */
async function backAsleep(control: Int32Array): Promise<boolean> {
  for (let tries = 0; tries < 400; tries++) {
    await new Promise((r) => setTimeout(r, 5));
    if (Atomics.notify(control, 0) === 1) return true;
  }
  return false;
}

describe('worker keep-awake', () => {
  it('is bounded: after a burst of close tasks the worker is back asleep', async () => {
    expect(WORKER_SPIN_MS).toBeGreaterThan(0);
    expect(WORKER_SPIN_MS).toBeLessThanOrEqual(1);
    const rt = WasmRuntime.create(true)!;
    try {
      expect((await rt.startThreads(2)).threads).toBe(2);
      const pool = rt.pool!;
      const control = (pool as unknown as { control: Int32Array }).control;
      rt.heap.ensure(1 << 16);
      const [desc, bytes, counter, mark] = [8192, 12288, 16384, 20480];
      const code = counterModule(rt);
      rt.heap.u8.set(code, bytes);
      const F = new Float64Array(rt.heap.memory.buffer, mark, 1);
      F[0] = 0;
      const own = new Map<number, (...a: number[]) => void>();
      const rounds = 200;
      for (let r = 0; r < rounds; r++) {
        writeDescriptor(rt.heap.memory.buffer, desc, { moduleId: 9, bytesPtr: bytes, bytesLen: code.length, counterPtr: counter, total: 1, chunk: 1, base: [0, mark], stride: [0, 0] });
        // Back to back, the worker's task taken back when it is late: it sees tasks close together.
        pool.runTasks([0, desc], () => {}, (d) => runModuleTask(rt.heap.memory, d, own));
      }
      expect(F[0]).toBe(rounds);
      // A worker that never stopped spinning would never be found asleep.
      expect(await backAsleep(control), 'the worker went back to Atomics.wait').toBe(true);
    } finally {
      await rt.dispose();
    }
    expect(rt.pool).toBeNull();
  });

  it('is bounded after GEMM jobs too: after a burst of products the worker is back asleep', async () => {
    expect(GEMM_SPIN_MS).toBeGreaterThan(0);
    expect(GEMM_SPIN_MS).toBeLessThanOrEqual(WORKER_SPIN_MS);
    const rt = await createRuntime({ plugins: [cpuBackend({ threads: 2 })] });
    try {
      const pool = (rt.backend('cpu') as CpuBackend).wasm!.pool!;
      expect(pool.spin).toBe(true);
      const control = (pool as unknown as { control: Int32Array }).control;
      const jobs = pool.jobs;
      rt.tidy(() => {
        const a = rt.ones([128, 128]);
        // 2^21 multiply-adds each: on the pool, back to back (the worker sees them close together).
        for (let i = 0; i < 100; i++) a.matmul(a);
      });
      expect(pool.jobs - jobs, 'GEMM jobs on the pool').toBe(100);
      expect(await backAsleep(control), 'the worker went back to Atomics.wait').toBe(true);
    } finally {
      await rt.dispose();
    }
  });
});
