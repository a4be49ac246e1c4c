/**
 * `runTasks`' `takeBack` (pool.ts): once the caller is done it claims the tasks of workers that
 * have not woken yet and runs them itself, instead of waiting for their wake-up. Every worker's
 * task must still run exactly once (by the worker or by the caller), whichever wins the claim, in
 * both of the caller's waiting modes, between GEMM-free and mixed rounds.
 */
import { describe, expect, it } from 'vitest';
import { ModuleBuilder, ValType } from './emitter.js';
import { runModuleTask, writeDescriptor } from './pool-tasks.js';
import { WasmRuntime } from './runtime.js';
import { workerHost } from './worker-host.js';

/** A module whose `run(n, at)` adds 1 to the float64 at byte `at`: counts the runs of a task. */
function counterModule(rt: WasmRuntime): Uint8Array {
  const mod = new ModuleBuilder(rt.heap.memoryType());
  const f = mod.func('run', [ValType.i32, ValType.i32]);
  f.get(1).get(1).mem('f64.load', 3).f64c(1).op('f64.add').mem('f64.store', 3);
  return mod.encode();
}

describe('runTasks with takeBack', () => {
  it('runs every worker task exactly once, by the worker or by the caller', async () => {
    const host = await workerHost();
    if (typeof host === 'string') throw new Error(host);
    for (const callerMayBlock of [true, false]) {
      const rt = WasmRuntime.create(true)!;
      try {
        expect((await rt.startThreads(2, { kind: host.kind, callerMayBlock, spawn: (b, d, e) => host.spawn(b, d, e) })).threads).toBe(2);
        const pool = rt.pool!;
        rt.heap.ensure(1 << 16);
        const [desc, bytes, counter, mark] = [8192, 12288, 16384, 20480];
        const code = counterModule(rt);
        rt.heap.u8.set(code, bytes);
        const own = new Map<number, (...a: number[]) => void>();
        const F = new Float64Array(rt.heap.memory.buffer, mark, 1);
        let byCaller = 0;
        const rounds = 300;
        for (let r = 0; r < rounds; r++) {
          F[0] = 0;
          // One chunk, one run: `total` 1 with the mark as a constant argument.
          writeDescriptor(rt.heap.memory.buffer, desc, { moduleId: 7, bytesPtr: bytes, bytesLen: code.length, counterPtr: counter, total: 1, chunk: 1, base: [0, mark], stride: [0, 0] });
          // Odd rounds give the worker time to wake first; even ones take its task back at once.
          const wait = r % 2 === 1 ? () => { const t = Date.now(); while (Atomics.load(new Int32Array(rt.heap.memory.buffer, counter, 1), 0) === 0 && Date.now() - t < 20); } : () => {};
          pool.runTasks([0, desc], wait, (d) => {
            byCaller++;
            runModuleTask(rt.heap.memory, d, own);
          });
          expect(F[0], `round ${r}, callerMayBlock ${callerMayBlock}`).toBe(1);
        }
        expect(pool.takenBack).toBe(byCaller);
        // The caller's no-op `own` is done before a worker wakes: some tasks were taken back.
        expect(byCaller).toBeGreaterThan(0);
        // Without takeBack the caller waits for the worker, which runs its task.
        F[0] = 0;
        writeDescriptor(rt.heap.memory.buffer, desc, { moduleId: 7, bytesPtr: bytes, bytesLen: code.length, counterPtr: counter, total: 1, chunk: 1, base: [0, mark], stride: [0, 0] });
        pool.runTasks([0, desc], () => {});
        expect(F[0]).toBe(1);
        expect(pool.takenBack).toBe(byCaller);
      } finally {
        await rt.dispose();
      }
    }
  });
});
