/**
 * On WebGPU (an asynchronous device; software adapters in CI): gradients of checkpointed models
 * match unchecked ones within float32 tolerance, dropout draws the same mask in the rerun (one
 * runtime RNG for every device), a checkpointed backward reads no value back, and the memory
 * savings hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autograd, createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { probeNodeAdapter, webgpuBackend } from '@nabla/backend-webgpu';
import * as nn from '@nabla/nn';
import { checkpoint, checkpointSequential, describePlan, sequentialPlan } from '../src/index.js';
import { blockModel, measureStep } from './model.js';

const adapter = await probeNodeAdapter();
if (!adapter.ok) console.log(`[checkpoint webgpu tests] SKIPPED: no WebGPU adapter (${adapter.reason})`);
else console.log(`[checkpoint webgpu tests] adapter: ${adapter.description}`);

const values = async (t: Tensor): Promise<number[]> => Array.from(t.device === 'cpu' ? t.dataSync() : await t.data());

async function expectClose(a: Tensor | null, b: Tensor | null, tol = 1e-5): Promise<void> {
  const x = await values(a!);
  const y = await values(b!);
  expect(x.length).toBe(y.length);
  x.forEach((v, i) => expect(Math.abs(v - y[i]!), `element ${i}: ${v} vs ${y[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(y[i]!))));
}

describe.skipIf(!adapter.ok)('checkpoint on webgpu', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ plugins: [cpuBackend(), webgpuBackend(adapter.ok ? adapter.options : {})] });
  });
  afterAll(async () => {
    await rt.dispose();
  }, 60_000);

  const gpu = (shape: number[], seed: number, requiresGrad = false, device = 'webgpu'): Tensor => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, (_, i) => ((i * 2654435761 + seed * 40503) % 4294967296) / 4294967296 - 0.5);
    return rt.tensor(data, { shape, device, requiresGrad });
  };

  it('an MLP checkpointed per segment, nested checkpoints and createGraph match the unchecked run', async () => {
    const ws = [gpu([8, 8], 1, true), gpu([8, 8], 2, true)];
    const f = (h: Tensor): Tensor => h.matmul(ws[0]!).tanh().matmul(ws[1]!).sigmoid().mul(h);
    const nested = (h: Tensor): Tensor => checkpoint(f, h.exp()).add(h);
    const plainNested = (h: Tensor): Tensor => f(h.exp()).add(h);
    const x = gpu([4, 8], 3, true);
    for (const [ck, plain] of [
      [(h: Tensor) => checkpoint(f, h), f],
      [(h: Tensor) => checkpoint(nested, h), plainNested],
    ] as const) {
      const want = autograd.grad(plain(x).sum(), [x, ...ws]);
      const got = autograd.grad(ck(x).sum(), [x, ...ws]);
      for (let i = 0; i < want.length; i++) await expectClose(got[i]!, want[i]!);
    }
    const [g1] = autograd.grad(f(x).sum(), [x], { createGraph: true });
    const [h1] = autograd.grad(g1!.square().sum(), [x]);
    const [g2] = autograd.grad(checkpoint(f, x).sum(), [x], { createGraph: true });
    const [h2] = autograd.grad(g2!.square().sum(), [x]);
    await expectClose(g2!, g1!);
    await expectClose(h2!, h1!, 1e-4);
  });

  it('dropout draws the same mask in the rerun as in the forward, and as on the cpu', async () => {
    const drop = new nn.Dropout(0.5);
    const f = (h: Tensor): Tensor => drop.call(h.exp()).mul(h);
    const grads: number[][] = [];
    for (const [device, ck] of [['webgpu', false], ['webgpu', true], ['cpu', true]] as const) {
      rt.manualSeed(21);
      const x = gpu([64], 4, true, device);
      (ck ? checkpoint(f, x) : f(x)).sum().backward();
      grads.push(await values(x.grad!));
    }
    expect(grads[0]!.filter((v) => v === 0).length).toBeGreaterThan(10);
    for (const g of grads.slice(1)) g.forEach((v, i) => expect(Math.abs(v - grads[0]![i]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(v))));
  });

  it('a checkpointed backward reads no value back from the device', async () => {
    const backend = rt.backends.get('webgpu')!;
    const read = backend.read.bind(backend);
    let reads = 0;
    backend.read = (view) => {
      reads++;
      return read(view);
    };
    try {
      const { model, x } = blockModel(rt, 'webgpu', 32, 4);
      rt.manualSeed(1);
      const drop = new nn.Dropout(0.2);
      const y = checkpointSequential([...model.children(), drop], 2, x);
      y.sum().backward();
      await rt.synchronize('webgpu');
      expect(reads).toBe(0);
    } finally {
      backend.read = read;
    }
  });

  // The batch is 4096; the software adapter in CI (SwiftShader) needs minutes per step at
  // that size, so this test runs batch 64 (activations scale with the batch; apps/bench runs 4096).
  const BATCH = 64;
  it(`measured savings: 16 blocks Linear(128,512)+ReLU+Linear(512,128), batch ${BATCH}`, async () => {
    const { model, x } = blockModel(rt, 'webgpu', BATCH);
    const plain = measureStep(rt, model, () => model.call(x) as Tensor, 'webgpu');
    const sqrt = measureStep(rt, model, () => checkpointSequential(model, 4, x), 'webgpu');
    const budget = Math.round(plain.peak * 0.5);
    const budgeted = measureStep(rt, model, () => checkpointSequential(model, { memoryBudget: budget }, x), 'webgpu');
    await rt.synchronize('webgpu');
    const mb = (b: number): string => (b / 2 ** 20).toFixed(2);
    console.log(
      `[checkpoint] webgpu batch ${BATCH} peak above the step's start: plain ${mb(plain.peak)} MiB, 4 segments ${mb(sqrt.peak)} MiB ` +
        `(${((100 * sqrt.peak) / plain.peak).toFixed(0)}%), budget ${mb(budget)} MiB -> ${mb(budgeted.peak)} MiB ` +
        `(plan ${describePlan(sequentialPlan(model, { memoryBudget: budget }, x).segments)})`,
    );
    expect(sqrt.peak).toBeLessThanOrEqual(plain.peak * 0.5);
    expect(budgeted.peak).toBeLessThanOrEqual(budget);
    // One read per mode: the largest relative difference over every parameter's gradient.
    for (const g of [sqrt, budgeted]) {
      const worst = rt.noGrad(() =>
        g.grads
          .map((t, i) => t.sub(plain.grads[i]!).abs().div(plain.grads[i]!.abs().add(1)).max())
          .reduce((a, b) => a.maximum(b)),
      );
      expect(await worst.itemAsync()).toBeLessThanOrEqual(1e-4);
    }
  }, 900_000);
});
