/**
 * A threaded workload as a standalone entry, for worker-source.test.ts to bundle minified (as a
 * production build ships the backend) and run: a GEMM and large tanh/exp on `threads: 2` against
 * one thread.
 */
import { createRuntime, type Runtime } from '@nabla/core';
import type { CpuBackend } from '../backend.js';
import { cpuBackend } from '../plugin.js';
import { seeded } from './seeded.js';

function bits(rt: Runtime): Uint32Array[] {
  return rt.tidy(() => {
    const a = rt.tensor(seeded(200 * 300, 1, 1)).reshape([200, 300]);
    const b = rt.tensor(seeded(300 * 180, 2, 1)).reshape([300, 180]);
    const x = rt.tensor(seeded(1 << 16, 3, 5)).reshape([128, 512]);
    return [a.matmul(b), x.tanh(), x.exp()].map((t) => new Uint32Array((t.dataSync() as Float32Array).slice().buffer));
  });
}

export async function run(): Promise<{ threads: number; describe: string; sameBits: boolean; jobs: number; tasks: number; liveAfterDispose: number }> {
  const one = await createRuntime({ plugins: [cpuBackend()] });
  const two = await createRuntime({ plugins: [cpuBackend({ threads: 2 })] });
  const be = two.backend('cpu') as CpuBackend;
  const pool = be.wasm?.pool ?? null;
  const b1 = bits(one);
  const b2 = bits(two);
  const sameBits = b1.every((u, k) => u.length === b2[k]!.length && u.every((v, i) => v === b2[k]![i]));
  const report = { threads: be.info.threads, describe: be.describe(), sameBits, jobs: pool?.jobs ?? 0, tasks: pool?.tasks ?? 0 };
  await one.dispose();
  await two.dispose();
  return { ...report, liveAfterDispose: pool?.liveWorkers ?? 0 };
}
