/**
 * watch on WebGPU: a recorded step's statistics (gradients, parameters and module outputs) come
 * back in one batched read from the device, and equal a recomputation from the values within
 * float32 rounding.
 */
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import * as nn from '@nabla/nn';
import { afterAll, describe, expect, it } from 'vitest';
import { watch, type Stats } from '../src/index.js';
import { plainStats, spiral, spiralMlp, values } from './helpers.js';

const gpu = await (async (): Promise<{ rt: Runtime } | { reason: string }> => {
  try {
    const mod = await import('@nabla/backend-webgpu');
    const p = await mod.probeNodeAdapter();
    if (!p.ok) return { reason: p.reason };
    return { rt: await createRuntime({ plugins: [cpuBackend(), mod.webgpuBackend(p.options)] }) };
  } catch (e) {
    return { reason: (e as Error).message };
  }
})();
if ('reason' in gpu) console.log(`[watch webgpu] SKIPPED: ${gpu.reason}`);

function close(got: Stats, want: Stats, what: string): void {
  for (const k of ['mean', 'std', 'norm', 'min', 'max'] as const) {
    expect(Math.abs(got[k] - want[k]), `${what} ${k}: ${got[k]} vs ${want[k]}`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(want[k])));
  }
  expect(got.nanCount + got.infCount, what).toBe(want.nanCount + want.infCount);
  const sum = (c: number[]): number => c.reduce((a, b) => a + b, 0);
  expect(sum(got.histogram.counts), `${what} histogram total`).toBe(sum(want.histogram.counts));
  // float32 on the device, float64 here: a value on a bin edge may fall on either side.
  const moved = got.histogram.counts.reduce((s, c, i) => s + Math.abs(c - want.histogram.counts[i]!), 0);
  expect(moved, `${what} histogram`).toBeLessThanOrEqual(4);
}

describe.skipIf('reason' in gpu)('watch on WebGPU', () => {
  const rt = 'rt' in gpu ? gpu.rt : (null as unknown as Runtime);
  afterAll(async () => {
    await rt?.dispose();
  });

  it('reads a recorded step back in one batched read, with the statistics of the values', async () => {
    const model = spiralMlp(rt, 16, { device: 'webgpu' });
    const d = spiral(20);
    const x = rt.tensor(d.x, { shape: [60, 2] }).to('webgpu');
    const y = rt.tensor(d.y, { shape: [60] }).to('webgpu');
    const outs = new Map<string, Tensor>();
    const own = model.namedModules().filter(([n]) => n !== '').map(([n, m]) => m.registerForwardHook((_m, _a, out) => void outs.set(n, (out as Tensor).detach())));
    const rec = watch(model, { log: 'all', bins: 12 });
    nn.crossEntropy(model.call(x), y).backward();
    const backend = rt.backend('webgpu');
    const read = backend.read.bind(backend);
    let reads = 0;
    backend.read = ((...a: Parameters<typeof read>) => (reads++, read(...a))) as typeof read;
    rec.step();
    await rec.flush();
    backend.read = read;
    expect(reads).toBe(1);
    const r = rec.latest()!;
    for (const [name, p] of model.namedParameters()) {
      close(r.grads![name]!, plainStats(await values(p.grad!), 12), `grad ${name}`);
      close(r.params![name]!, plainStats(await values(p), 12), `param ${name}`);
    }
    for (const [name, t] of outs) close(r.acts![name]!, plainStats(await values(t), 12), `act ${name}`);
    rec.remove();
    own.forEach((h) => h.remove());
  }, 300_000);
});
