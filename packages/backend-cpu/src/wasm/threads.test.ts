/**
 * Threads through the public API: a runtime with `threads: 2` gives the same bits as one with a
 * single thread for whole training steps (forward, backward, the update) and for large elementwise
 * and reduction work, and `runtime.dispose()` leaves no worker behind — counted two ways: the
 * `WORKER` async resources Node creates per worker_threads Worker (async_hooks), and, on Linux, the
 * process's OS threads (/proc/self/task).
 */
import { createHook } from 'node:async_hooks';
import { existsSync, readdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { CpuBackend } from '../backend.js';
import { cpuBackend } from '../plugin.js';
import { seeded } from '../test-utils/seeded.js';

/** Worker async resources alive now (created and not yet destroyed). */
const workers = new Set<number>();
const hook = createHook({
  init(id, type) {
    if (type === 'WORKER') workers.add(id);
  },
  destroy(id) {
    workers.delete(id);
  },
}).enable();
afterAll(() => {
  hook.disable();
});
// libuv starts its thread pool (4 threads) on the first asynchronous fs call: start it now, so it
// cannot appear in the middle of a count below.
await stat('.');

const TASKS = '/proc/self/task';
const osThreads = (): number | null => (existsSync(TASKS) ? readdirSync(TASKS).length : null);
if (osThreads() === null) console.log('[backend-cpu threads test] no /proc/self/task here: the OS-thread count is not checked (the async_hooks count still is)');

/** Waits (a bounded while) for `f` to hold: a terminated thread leaves the task list a moment after. */
async function eventually(f: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Deterministic float32 data (no RNG state shared between runtimes). */
function filled(rt: Runtime, shape: number[], seed: number, scale = 1): Tensor {
  return rt.tensor(seeded(shape.reduce((a, b) => a * b, 1), seed, scale)).reshape(shape);
}

/** Two MLP SGD steps (784-256-256-10, batch 64) and large elementwise/reduction work; every result's bytes. */
function workload(rt: Runtime): Float32Array[] {
  const out: Float32Array[] = [];
  const sizes = [784, 256, 256, 10];
  const params: Tensor[] = [];
  for (let i = 0; i < 3; i++) {
    params.push(filled(rt, [sizes[i]!, sizes[i + 1]!], 10 + i, 0.05).requiresGrad_());
    params.push(filled(rt, [sizes[i + 1]!], 20 + i, 0.01).requiresGrad_());
  }
  const x = filled(rt, [64, 784], 1);
  const t = filled(rt, [64, 10], 2);
  for (let step = 0; step < 2; step++) {
    rt.tidy(() => {
      let h = x;
      for (let i = 0; i < 3; i++) {
        h = h.matmul(params[2 * i]!).add(params[2 * i + 1]!);
        if (i < 2) h = h.tanh();
      }
      const loss = h.sub(t).square().mean();
      out.push(loss.dataSync() as Float32Array);
      loss.backward();
      rt.noGrad(() => {
        for (const p of params) {
          out.push(p.grad!.dataSync() as Float32Array);
          p.sub_(p.grad!.mul(0.1));
          p.grad = null;
        }
      });
    });
  }
  const big = filled(rt, [1000, 1000], 3, 4).requiresGrad_();
  rt.tidy(() => {
    const y = big.sigmoid().mul(big); // silu, fused or not
    out.push(y.dataSync() as Float32Array);
    out.push(y.sum([1]).dataSync() as Float32Array, y.amax([0]).dataSync() as Float32Array);
    y.sum().backward();
    out.push(big.grad!.dataSync() as Float32Array);
    out.push(big.matmul(big.transpose(0, 1)).dataSync() as Float32Array);
  });
  for (const p of [...params, x, t, big]) p.dispose();
  return out;
}

describe('threads through the public API', () => {
  it('1 and 2 threads give the same bits: MLP steps, gradients, large elementwise work, reductions, a 1000² matmul', async () => {
    const rt1 = await createRuntime({ plugins: [cpuBackend()] });
    const rt2 = await createRuntime({ plugins: [cpuBackend({ threads: 2 })] });
    const be2 = rt2.backend('cpu') as CpuBackend;
    expect(be2.info).toMatchObject({ kernels: 'wasm-simd', threads: 2 });
    try {
      const a = workload(rt1);
      const jobs = be2.wasm!.pool!.jobs;
      const b = workload(rt2);
      expect(be2.wasm!.pool!.jobs, 'the threaded run used the pool').toBeGreaterThan(jobs);
      expect(b.length).toBe(a.length);
      for (let k = 0; k < a.length; k++) {
        const x = new Uint32Array(a[k]!.buffer, a[k]!.byteOffset, a[k]!.length);
        const y = new Uint32Array(b[k]!.buffer, b[k]!.byteOffset, b[k]!.length);
        let diff = -1;
        for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) {
          diff = i;
          break;
        }
        expect(diff, `result ${k} (length ${x.length}): first differing element ${diff}: ${a[k]![diff]} vs ${b[k]![diff]}`).toBe(-1);
      }
    } finally {
      await rt1.dispose();
      await rt2.dispose();
    }
  });

  it('runtime.dispose() leaves no worker: none alive by async_hooks, OS threads back to where they were', async () => {
    // The previous test's runtime is disposed; its worker's async resource goes a moment later.
    expect(await eventually(() => workers.size === 0)).toBe(true);
    const threads0 = osThreads();
    for (const n of [2, 3, 'auto'] as const) {
      const rt = await createRuntime({ plugins: [cpuBackend({ threads: n })] });
      const be = rt.backend('cpu') as CpuBackend;
      const want = be.info.threads;
      expect(want).toBeGreaterThan(n === 'auto' ? 0 : 1);
      // The caller is the first thread: n - 1 workers.
      expect(workers.size).toBe(want - 1);
      if (threads0 !== null) expect(osThreads()).toBe(threads0 + want - 1);
      const y = filled(rt, [300, 400], 1).matmul(filled(rt, [400, 200], 2));
      expect(y.shape).toEqual([300, 200]);
      await rt.dispose();
      expect(be.info.threads).toBe(1);
      expect(await eventually(() => workers.size === 0), `WORKER resources left after dispose (threads: ${n}): ${workers.size}`).toBe(true);
      if (threads0 !== null) expect(await eventually(() => osThreads() === threads0), `OS threads after dispose (threads: ${n}): ${osThreads()}, before ${threads0}`).toBe(true);
    }
  });

  it('creating and disposing threaded runtimes over and over does not pile up threads', async () => {
    expect(await eventually(() => workers.size === 0)).toBe(true);
    const threads0 = osThreads();
    for (let i = 0; i < 5; i++) {
      const rt = await createRuntime({ plugins: [cpuBackend({ threads: 2 })] });
      filled(rt, [200, 300], i).matmul(filled(rt, [300, 500], i + 1)).dispose();
      await rt.dispose();
    }
    expect(await eventually(() => workers.size === 0)).toBe(true);
    if (threads0 !== null) expect(await eventually(() => osThreads() === threads0)).toBe(true);
  });
});
