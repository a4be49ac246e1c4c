/**
 * saveOnCpu on a GPU MLP: the activations saved for backward wait in host memory, so the device
 * holds (between forward and backward) exactly their size less, and its memory().peakBytes over a
 * training step drops by about their size; the gradients are those of a run without it.
 */
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import { saveOnCpu } from '../src/index.js';
import { collectGarbage } from './helpers.js';

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
if ('reason' in gpu) console.log(`[saveOnCpu webgpu] SKIPPED: ${gpu.reason}`);

describe.skipIf('reason' in gpu)('saveOnCpu on WebGPU', () => {
  const rt = 'rt' in gpu ? gpu.rt : (null as unknown as Runtime);
  afterAll(async () => {
    await rt?.dispose();
  });

  it('lowers the device peak of an MLP step by about the saved activations, with the same gradients', async () => {
    const B = 512;
    const D = 64;
    const L = 8;
    rt.manualSeed(5);
    const x = rt.randn([B, D]).to('webgpu');
    const ws = Array.from({ length: L }, () => rt.randn([D, D]).mul(0.25).to('webgpu').requiresGrad_());
    // Each layer in its own tidy (and, with saveOnCpu, its own scope so the copies land before
    // the next layer): what stays on the device after forward is what the graph saved.
    const forward = async (offload: boolean): Promise<Tensor> => {
      let h = x;
      for (const w of ws) {
        const layer = (): Tensor => rt.tidy(() => h.matmul(w).tanh());
        const next = offload ? saveOnCpu(layer, { runtime: rt }) : layer();
        if (h !== x) h.dispose();
        h = next;
        await rt.synchronize();
      }
      const last = h;
      const loss = rt.tidy(() => (offload ? saveOnCpu(() => last.square().mean(), { runtime: rt }) : last.square().mean()));
      h.dispose();
      await rt.synchronize();
      return loss;
    };
    const step = async (offload: boolean): Promise<{ held: number; peak: number; grads: number[][] }> => {
      await rt.synchronize();
      await collectGarbage(); // what earlier steps dropped goes now, not during the awaits below
      const before = rt.memory().byDevice.webgpu!.numBytes;
      rt.resetPeakMemory();
      const loss = await forward(offload);
      const held = rt.memory().byDevice.webgpu!.numBytes - before;
      loss.backward();
      loss.dispose();
      await rt.synchronize();
      const peak = rt.memory().byDevice.webgpu!.peakBytes - before;
      const grads = await Promise.all(ws.map(async (w) => Array.from(await w.grad!.data())));
      for (const w of ws) {
        w.grad!.dispose();
        w.grad = null;
      }
      return { held, peak, grads };
    };
    await step(false); // warm-up: kernels and buffer pool
    const plain = await step(false);
    const offloaded = await step(true);
    const activations = L * B * D * 4;
    console.log(`[saveOnCpu] webgpu bytes held after forward / step peak: plain ${plain.held} / ${plain.peak}, saveOnCpu ${offloaded.held} / ${offloaded.peak}; saved activations ${activations}`);
    expect(offloaded.grads).toEqual(plain.grads);
    expect(plain.held - offloaded.held).toBe(activations);
    // Backward brings them back one node at a time, beside each formula's own temporaries.
    expect(plain.peak - offloaded.peak).toBeGreaterThanOrEqual(activations - 3 * B * D * 4);
  }, 300_000);
});
