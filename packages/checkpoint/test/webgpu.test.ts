/**
 * On WebGPU (an asynchronous device; software adapters in CI): gradients of checkpointed models
 * match unchecked ones within float32 tolerance, dropout draws the same mask in the rerun (one
 * runtime RNG for every device), a checkpointed backward reads no value back, and the memory
 * savings hold.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autograd, createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { probeNodeAdapter, webgpuBackend } from '@nabla/backend-webgpu';
import * as nn from '@nabla/nn';
import { checkpoint, checkpointSequential, describePlan, isRecomputing, saveMatmuls, sequentialPlan } from '../src/index.js';
import { blockModel, measureStep } from './model.js';

const adapter = await probeNodeAdapter();
if (!adapter.ok) console.log(`[checkpoint webgpu tests] SKIPPED: no WebGPU adapter (${adapter.reason})`);
else console.log(`[checkpoint webgpu tests] adapter: ${adapter.description}`);

/** Full collections, each followed by a turn of the event loop so that finalizers run. */
async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}

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
  }, 600_000);
  afterAll(async () => {
    await rt.dispose();
  }, 600_000);

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
  }, 600_000);

  it('a small CNN (conv, relu, max-pool, linear) with its conv block checkpointed matches the unchecked run', async () => {
    rt.manualSeed(2);
    const conv = new nn.Conv2d(1, 3, 3, { runtime: rt, padding: 1 } as never);
    const pool = new nn.MaxPool2d(2);
    const fc = new nn.Linear(3 * 3 * 3, 2, { runtime: rt });
    conv.to('webgpu');
    fc.to('webgpu');
    const features = (h: Tensor): Tensor => pool.call(conv.call(h).relu());
    const head = (h: Tensor): Tensor => fc.call(h.flatten(1));
    const params = [...conv.parameters(), ...fc.parameters()];
    const x = gpu([2, 1, 6, 6], 4, true);
    const want = autograd.grad(head(features(x)).square().sum(), [x, ...params]);
    const got = autograd.grad(head(checkpoint(features, x)).square().sum(), [x, ...params]);
    for (let i = 0; i < want.length; i++) await expectClose(got[i]!, want[i]!);
  }, 600_000);

  it("the tutorial's memory comparison on the GPU: 20 × Linear(256,256) checkpointed layer by layer, batch 64", async () => {
    rt.manualSeed(1);
    const layers = Array.from({ length: 20 }, () => new nn.Linear(256, 256, { runtime: rt }));
    const model = new nn.Sequential(...layers);
    model.to('webgpu');
    const forward = (x: Tensor, useCheckpoint: boolean): Tensor => {
      let h = x;
      for (const layer of layers) h = useCheckpoint ? checkpoint((y: Tensor) => layer.call(y).relu(), h) : layer.call(h).relu();
      return h;
    };
    const x = rt.randn([64, 256], { device: 'webgpu', requiresGrad: true });
    const plain = measureStep(rt, model, () => forward(x, false), 'webgpu');
    const ck = measureStep(rt, model, () => forward(x, true), 'webgpu');
    await rt.synchronize('webgpu');
    const mb = (b: number): string => (b / 1e6).toFixed(2);
    console.log(
      `[tutorial, webgpu] Memory without checkpointing: ${mb(plain.peak)} MB, with checkpointing: ${mb(ck.peak)} MB, ` +
        `Memory saved: ${((1 - ck.peak / plain.peak) * 100).toFixed(1)}%`,
    );
    expect(ck.peak).toBeLessThan(plain.peak * 0.75);
    const worst = rt.noGrad(() => ck.grads.map((t, i) => t.sub(plain.grads[i]!).abs().max()).reduce((a, b) => a.maximum(b)));
    expect(await worst.itemAsync()).toBeLessThanOrEqual(1e-5);
  }, 900_000);

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
  }, 600_000);

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
  }, 600_000);

  it("'offload': the saved tensors leave the GPU after the forward (host copies) and come back in backward", async () => {
    const ws = [gpu([64, 128], 5, true), gpu([128, 64], 6, true)];
    const f = (h: Tensor): Tensor => h.matmul(ws[0]!).tanh().matmul(ws[1]!).sigmoid();
    const x = gpu([256, 64], 7);
    const bytes = (device: string): number => rt.memory().byDevice[device]?.numBytes ?? 0;
    // Everything made before the measured forward is freed now, not by a finalizer during it.
    const want = rt.tidy(() => autograd.grad(f(x).sum(), ws));
    const forward = async (policy: 'save' | 'offload'): Promise<{ y: Tensor; gpu: number; cpu: number; cpuBefore: number }> => {
      await rt.synchronize('webgpu'); // buffers freed by the previous backward go once their work has run
      // What earlier tests dropped is uncounted now, not by a finalizer in the middle of the
      // measurement (the 20-layer model before this test once took 4 MB off the device's count).
      await collectGarbage();
      const g0 = bytes('webgpu');
      const c0 = bytes('cpu');
      // per saved tensor only (at the 'output' stage 'save' would keep every op's output)
      const y = checkpoint(f, x, { policy: (info) => (info.stage === 'saved' ? policy : undefined) });
      await rt.synchronize('webgpu'); // a copy to the host holds the device buffer until it has landed
      return { y, gpu: bytes('webgpu') - g0, cpu: bytes('cpu') - c0, cpuBefore: c0 };
    };
    const kept = await forward('save');
    const keptGrads = rt.tidy(() => autograd.grad(kept.y.sum(), ws));
    kept.y.dispose();
    const off = await forward('offload');
    // What stays on the device: the output (sigmoid's, which sigmoid also saves). What is saved
    // besides: tanh's output (by tanh and by the second matmul, kept once); the matmul outputs are
    // not saved (tanh and sigmoid save their outputs), x and the weights are kept by reference.
    const out = 256 * 64 * 4;
    const saved = 256 * 128 * 4;
    console.log(`[checkpoint] webgpu bytes after the forward: 'save' ${kept.gpu} on the device; 'offload' ${off.gpu} on the device + ${off.cpu} on the host`);
    expect(kept.gpu).toBe(out + saved);
    expect(off.gpu).toBe(out);
    expect(off.cpu).toBe(saved + out); // host copies of tanh's and sigmoid's outputs
    // backward brings them back: count the uploads to the device, check the gradients
    const backend = rt.backends.get('webgpu')!;
    const write = backend.write.bind(backend);
    let uploads = 0;
    backend.write = (...a) => {
      uploads++;
      return write(...a);
    };
    try {
      const got = autograd.grad(off.y.sum(), ws);
      await rt.synchronize('webgpu');
      expect(uploads).toBeGreaterThanOrEqual(3);
      for (let i = 0; i < ws.length; i++) {
        await expectClose(got[i]!, want[i]!);
        await expectClose(keptGrads[i]!, want[i]!);
      }
    } finally {
      backend.write = write;
    }
    // The host copies went with the graph. At most what was there before: small CPU tensors made
    // earlier (counted until their finalizer runs) may be collected meanwhile.
    expect(bytes('cpu')).toBeLessThanOrEqual(off.cpuBefore);
  }, 600_000);

  it('saveMatmuls on webgpu: the recompute runs no matmul and reads nothing back', async () => {
    const ws = [gpu([16, 32], 8, true), gpu([32, 16], 9, true)];
    const f = (h: Tensor): Tensor => h.matmul(ws[0]!).relu().matmul(ws[1]!).tanh();
    const x = gpu([8, 16], 10);
    const want = autograd.grad(f(x).square().sum(), ws);
    const kernels = rt.kernels;
    const get = kernels.get;
    const backend = rt.backends.get('webgpu')!;
    const read = backend.read.bind(backend);
    let reads = 0;
    let matmuls = 0;
    let recomputes = 0;
    backend.read = (view) => {
      reads++;
      return read(view);
    };
    kernels.get = function (this: typeof kernels, ...a: Parameters<typeof get>) {
      const k = get.apply(this, a) as unknown;
      if (typeof k !== 'function' || a[0] !== 'bmm') return k as never;
      return ((...args: unknown[]) => {
        if (isRecomputing()) matmuls++;
        return (k as (...args: unknown[]) => unknown)(...args);
      }) as never;
    } as typeof get;
    let got: (Tensor | null)[];
    try {
      const counted = (h: Tensor): Tensor => {
        if (isRecomputing()) recomputes++;
        return f(h);
      };
      got = autograd.grad(checkpoint(counted, x, { policy: saveMatmuls }).square().sum(), ws);
      await rt.synchronize('webgpu');
    } finally {
      kernels.get = get;
      backend.read = read;
    }
    expect(recomputes).toBe(1);
    expect(matmuls).toBe(0);
    expect(reads).toBe(0);
    for (let i = 0; i < ws.length; i++) await expectClose(got[i]!, want[i]!);
  }, 600_000);

  // The model is 16 blocks at batch 4096; the software adapter in CI (SwiftShader) runs
  // about 30 M multiply-adds a second, minutes per step at that size. So this test runs 8 of the
  // blocks at batch 64 (activations scale with both; sequential.test.ts runs the 16 blocks on the
  // cpu with a budget of half the peak, apps/bench batch 4096): 4 segments are then 2 blocks
  // each, still under half the peak. With 8 blocks no plan fits half the peak (each boundary
  // kept is a larger share), so the budget here is three quarters of it: still below the
  // unchecked peak, so the planner must checkpoint to meet it.
  const BATCH = 64;
  const BLOCKS = 8;
  it(`measured savings: ${BLOCKS} blocks Linear(128,512)+ReLU+Linear(512,128), batch ${BATCH}`, async () => {
    const { model, x } = blockModel(rt, 'webgpu', BATCH, BLOCKS);
    const plain = measureStep(rt, model, () => model.call(x) as Tensor, 'webgpu');
    const sqrt = measureStep(rt, model, () => checkpointSequential(model, 4, x), 'webgpu');
    const budget = Math.round(plain.peak * 0.75);
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
