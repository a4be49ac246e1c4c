/**
 * Core's saved-tensor hooks (rt.savedTensorsHooks, nabla.autograd.graph.savedTensorsHooks) on an
 * asynchronous device: tensors saved for backward go to host memory in pack and come back in
 * unpack, with the gradients (first and second order) of a run without hooks, and less device
 * memory at the peak. Nothing here needs core to read a device value.
 */
import type { Runtime, Tensor } from '@nabla/core';
import { NablaError, autograd } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectGarbage } from './test-utils/gc.js';
import { randoms } from './test-utils/numbers.js';
import { gpuRuntime, probe } from './test-utils/setup.js';

const adapter = await probe();

describe.skipIf(!adapter.ok)('saved-tensor hooks on webgpu', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = (await gpuRuntime())!;
  });
  afterAll(async () => {
    await rt.dispose();
  });

  const gpu = (n: number[], seed: number, scale: number, requiresGrad = false): Tensor =>
    rt.tensor(Float32Array.from(randoms(n.reduce((a, b) => a * b, 1), seed, -scale, scale)), { device: 'webgpu', shape: n, requiresGrad });

  /** Host copies: what `@nabla/hooks`' saveOnCpu does, written out over the core seam. */
  function offload<T>(fn: () => T, counts = { packs: 0, unpacks: 0, released: 0 }): T {
    return rt.savedTensorsHooks(
      (t: Tensor) => {
        counts.packs++;
        if (t.isLeaf && t.requiresGrad) return { keep: t, copy: null as Tensor | null, device: t.device };
        return { keep: null as Tensor | null, copy: t.to('cpu'), device: t.device };
      },
      (h) => {
        counts.unpacks++;
        return h.keep ?? h.copy!.to(h.device);
      },
      fn,
      { release: (h) => (counts.released++, h.copy?.dispose()) },
    );
  }

  it('packs each saved tensor once, unpacks it once, and gives the gradients of a run without hooks (first and second order)', async () => {
    const x = gpu([8, 6], 1, 1);
    const w1 = gpu([6, 10], 2, 0.5, true);
    const w2 = gpu([10, 3], 3, 0.5, true);
    const f = (): Tensor => x.matmul(w1).tanh().matmul(w2).sigmoid().square().mean();
    const run = async (hooked: boolean, counts?: { packs: number; unpacks: number; released: number }): Promise<number[][]> => {
      const loss = hooked ? offload(f, counts) : f();
      const [g1, g2] = autograd.grad(loss, [w1, w2], { createGraph: true }) as Tensor[];
      // Second order: the gradient graph reads the unpacked tensors, wired to the original nodes.
      const [h1] = autograd.grad(g1!.square().sum().add(g2!.sum()), [w1]) as Tensor[];
      return Promise.all([g1!, g2!, h1!].map(async (t) => Array.from(await t.data())));
    };
    const plain = await run(false);
    const counts = { packs: 0, unpacks: 0, released: 0 };
    const hooked = await run(true, counts);
    expect(hooked).toEqual(plain);
    // PyTorch's count (6): mm keeps x only (x needs no gradient, so w1 is not kept); tanh: its
    // output; mm: it and w2; sigmoid: its output; square: its input.
    expect(counts.packs).toBe(6);
    expect(counts.unpacks).toBeGreaterThanOrEqual(6);

    // A first-order backward without retainGraph reads each once and then lets every handle go.
    const once = { packs: 0, unpacks: 0, released: 0 };
    offload(f, once).backward();
    expect(once).toEqual({ packs: 6, unpacks: 6, released: 6 });
  });

  it('names the node and both devices when unpack returns a tensor on the wrong device', async () => {
    const w = gpu([4], 5, 1, true);
    const y = rt.savedTensorsHooks(
      (t: Tensor) => t.to('cpu'),
      (c) => c, // forgot to copy it back
      () => w.exp().sum(),
    );
    let err: unknown = null;
    try {
      y.backward();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NablaError);
    expect((err as Error).message).toMatch(/ExpBackward0: .*returned a tensor of shape \[4\], dtype float32, device cpu, but the tensor saved for backward had shape \[4\], dtype float32, device webgpu/);
  });

  it('keeps the saved activations of an MLP in host memory: the device holds and peaks lower by about their size', async () => {
    const B = 512;
    const D = 64;
    const L = 8;
    const x = gpu([B, D], 10, 1);
    const ws = Array.from({ length: L }, (_, i) => gpu([D, D], 20 + i, 1 / 4, true));
    // Each layer in its own tidy, so what stays on the device after forward is what the graph
    // saved; with hooks, each layer's copies land (and free the device buffers) before the next.
    const forward = async (hooked: boolean): Promise<Tensor> => {
      let h = x;
      for (const w of ws) {
        const layer = (): Tensor => rt.tidy(() => h.matmul(w).tanh());
        const next = hooked ? offload(layer) : layer();
        if (h !== x) h.dispose();
        h = next;
        await rt.synchronize();
      }
      const loss = rt.tidy(() => (hooked ? offload(() => h.square().mean()) : h.square().mean()));
      h.dispose();
      await rt.synchronize();
      return loss;
    };
    const step = async (hooked: boolean): Promise<{ held: number; peak: number }> => {
      await rt.synchronize();
      await collectGarbage(); // earlier tests' device tensors go now, not during the awaits below
      const before = rt.memory().byDevice.webgpu!.numBytes;
      rt.resetPeakMemory();
      const loss = await forward(hooked);
      const held = rt.memory().byDevice.webgpu!.numBytes - before;
      loss.backward();
      loss.dispose();
      for (const w of ws) {
        w.grad!.dispose();
        w.grad = null;
      }
      await rt.synchronize();
      return { held, peak: rt.memory().byDevice.webgpu!.peakBytes - before };
    };
    await step(false); // warm up the kernels and pools
    const without = await step(false);
    const withHooks = await step(true);
    const activations = L * B * D * 4; // the tanh outputs (the last one is also square's input)
    console.log(`[saved-tensor hooks] webgpu bytes held after forward / step peak: without hooks ${without.held} / ${without.peak}, with host copies ${withHooks.held} / ${withHooks.peak}; saved activations ${activations}`);
    expect(without.held - withHooks.held).toBe(activations);
    // Backward brings activations back one node at a time, beside the formulas' own temporaries:
    // the peak drops by all of them but about the few a node needs at once.
    expect(without.peak - withHooks.peak).toBeGreaterThanOrEqual(activations - 3 * B * D * 4);
  });
});
