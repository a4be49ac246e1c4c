/**
 * The worker host in Node (worker_threads), and the pool driven the way a browser's main thread
 * drives it: a caller that may not sleep in Atomics.wait and spins instead. The Web Worker host
 * itself runs in headless Chromium (test/browser-threads.test.ts).
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../backend.js';
import { dense, empty, randoms, values } from '../test-utils/views.js';
import { wasmElementwise } from './elementwise.js';
import { bmmWasm } from './gemm.js';
import { writeDescriptor } from './pool-tasks.js';
import { WasmRuntime } from './runtime.js';
import { autoThreads, mayBlock, workerHost, type WorkerHost } from './worker-host.js';

async function nodeHost(): Promise<WorkerHost> {
  const host = await workerHost();
  if (typeof host === 'string') throw new Error(host);
  return host;
}

describe('the worker host in Node', () => {
  it('is worker_threads, and the caller may block', async () => {
    const host = await nodeHost();
    expect(host.kind).toBe('worker_threads');
    expect(host.callerMayBlock).toBe(true);
    expect(mayBlock()).toBe(true);
  });

  it("'auto' is the cores this process may use, at most 8", async () => {
    expect(await autoThreads()).toBe(Math.min(8, availableParallelism()));
  });

  it('runs the body with its start-up data (shared memory arrives shared), reports a failure, terminates', async () => {
    const host = await nodeHost();
    const shared = new Int32Array(new SharedArrayBuffer(8));
    const ok = host.spawn('const a = new Int32Array(workerData.buf); a[1] = workerData.value; Atomics.store(a, 0, 1); Atomics.notify(a, 0);', { buf: shared.buffer, value: 42 }, (e) => {
      throw e;
    });
    const deadline = Date.now() + 30_000;
    while (Atomics.load(shared, 0) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(shared[1]).toBe(42);
    await ok.terminate();

    let failed: Error | null = null;
    const bad = host.spawn("throw new Error('boom at start-up');", {}, (e) => (failed = e));
    while (failed === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect((failed as Error | null)?.message).toMatch(/boom at start-up/);
    await bad.terminate();
  });
});

describe('a pool whose caller may not block (how a browser main thread runs it)', () => {
  it('spins instead of Atomics.wait and gives the bits of one thread (GEMM and elementwise tasks)', async () => {
    const node = await nodeHost();
    const spinning: WorkerHost = { kind: node.kind, callerMayBlock: false, spawn: (b, d, e) => node.spawn(b, d, e) };
    const rt = WasmRuntime.create(true)!;
    const solo = WasmRuntime.create()!;
    try {
      expect(await rt.startThreads(2, spinning)).toEqual({ threads: 2 });
      expect(rt.workers).toEqual({ kind: 'worker_threads', callerMayBlock: false });
      const pool = rt.pool!;
      const be = new CpuBackend({ wasm: false });

      // A GEMM past the threads' threshold (2^20 multiply-adds), rows split.
      const [M, K, N] = [150, 170, 130];
      const A = randoms(M * K, 1);
      const B = randoms(K * N, 2);
      const products = [rt, solo].map((w) => {
        const out = empty(be, 'float32', [1, M, N]);
        expect(bmmWasm(w.heap, w.gemm, out, dense(be, 'float32', [1, M, K], A), dense(be, 'float32', [1, K, N], B), w.pool)).toBe(true);
        return values(out);
      });
      expect(pool.jobs).toBe(1);
      expect(products[0]!.every((v, i) => Object.is(v, products[1]![i]))).toBe(true);

      // tanh on 2^16 elements: a module task shipped to the worker.
      const x = { op: 'input', index: 0 } as const;
      const spec = { name: 'tanh', expr: { op: 'tanh', a: x }, inputDtypes: ['float32'], outDtype: 'float32', computeDtype: 'float32', numParams: 0, key: 'host:tanh' } as const;
      const n = 1 << 16;
      const xs = randoms(n, 3, -5, 5);
      const outs = [rt, solo].map((w) => {
        const out = empty(be, 'float32', [n]);
        wasmElementwise(w, spec, () => {
          throw new Error('fell back to JavaScript');
        })(out, [dense(be, 'float32', [n], xs)], []);
        return values(out);
      });
      expect(pool.tasks).toBe(1);
      expect(outs[0]!.every((v, i) => Object.is(v, outs[1]![i]))).toBe(true);
    } finally {
      await rt.dispose();
      await solo.dispose();
    }
    expect(rt.pool).toBeNull();
  });

  it('a worker whose task throws makes the caller throw, now and on every later job, instead of hanging', async () => {
    for (const callerMayBlock of [true, false]) {
      const node = await nodeHost();
      const rt = WasmRuntime.create(true)!;
      try {
        expect((await rt.startThreads(2, { kind: node.kind, callerMayBlock, spawn: (b, d, e) => node.spawn(b, d, e) })).threads).toBe(2);
        const pool = rt.pool!;
        // A task whose module bytes are not WebAssembly: the worker's compile throws.
        rt.heap.ensure(1 << 16);
        const [desc, bytes, counter] = [8192, 12288, 16384];
        rt.heap.u8.fill(0xff, bytes, bytes + 16);
        writeDescriptor(rt.heap.memory.buffer, desc, { moduleId: 1e6, bytesPtr: bytes, bytesLen: 16, counterPtr: counter, total: 1, chunk: 1, base: [0], stride: [0] });
        // Before the failure flag the caller returned as if the task had run, then hung on the next.
        expect(() => pool.runTasks([0, desc], () => {}), `callerMayBlock ${callerMayBlock}`).toThrow(/a worker thread failed/);
        expect(() => pool.runTasks([0, 0], () => {})).toThrow(/a worker thread failed/);
      } finally {
        await rt.dispose();
      }
    }
  });

  it('a host that cannot start its workers leaves one thread and says why', async () => {
    const rt = WasmRuntime.create(true)!;
    const broken: WorkerHost = {
      kind: 'web-worker',
      callerMayBlock: false,
      spawn: () => {
        throw new Error('blob: workers are blocked by the Content-Security-Policy');
      },
    };
    expect(await rt.startThreads(2, broken)).toEqual({ threads: 1, note: 'web-worker: blob: workers are blocked by the Content-Security-Policy' });
    expect(rt.pool).toBeNull();
    await rt.dispose();
  });
});
