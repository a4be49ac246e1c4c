/**
 * What a user meets at the edge of the device: mixing devices in one op, dtypes WGSL lacks,
 * synchronous reads, copies both ways that keep autograd connected, and a lost device.
 */
import { NablaError, where, type Runtime, type Tensor } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from './backend.js';
import { gpuRuntime, probe } from './test-utils/setup.js';

const adapter = await probe();

function errorOf(fn: () => unknown): NablaError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NablaError);
    return e as NablaError;
  }
  throw new Error('expected an error, none was thrown');
}

async function rejectionOf(p: Promise<unknown>): Promise<NablaError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(NablaError);
    return e as NablaError;
  }
  throw new Error('expected a rejection, the promise resolved');
}

describe.skipIf(!adapter.ok)('webgpu device rules', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = (await gpuRuntime())!;
  });
  afterAll(async () => {
    await rt.dispose();
  });

  it('an op on a cpu tensor and a webgpu tensor names both devices and copies nothing', () => {
    const a = rt.tensor([1, 2, 3]);
    const b = rt.tensor([1, 2, 3], { device: 'webgpu' });
    for (const [op, fn] of [
      ['add', () => a.add(b)],
      ['matmul', () => a.reshape([1, 3]).matmul(b.reshape([3, 1]))],
      ['where', () => where(a.gt(0), a, b)],
    ] as const) {
      const e = errorOf(fn);
      expect(e.message).toContain(op);
      expect(e.message).toContain('cpu');
      expect(e.message).toContain('webgpu');
    }
  });

  it('float64 on the device is a clear error', () => {
    expect(errorOf(() => rt.tensor([1, 2], { device: 'webgpu', dtype: 'float64' })).message).toMatch(/webgpu.*float64/);
    expect(errorOf(() => rt.tensor([1, 2], { dtype: 'float64' }).to('webgpu')).message).toMatch(/webgpu.*float64/);
    expect(errorOf(() => rt.tensor([1, 2], { device: 'webgpu' }).to('float64')).message).toMatch(/float64/);
  });

  it('synchronous reads name the asynchronous method to use', async () => {
    const t = rt.tensor([1.5, 2], { device: 'webgpu' });
    expect(errorOf(() => t.dataSync()).message).toContain('await tensor.data()');
    expect(errorOf(() => t.sum().item()).message).toContain('await tensor.itemAsync()');
    expect(errorOf(() => t.tolist()).message).toContain('await tensor.tolistAsync()');
    expect(await t.sum().itemAsync()).toBe(3.5);
    expect(await t.tolistAsync()).toEqual([1.5, 2]);
  });

  it("the gradient of to('webgpu') flows back to the cpu leaf, and accumulates over passes", async () => {
    const x = rt.tensor([1, 2, 3], { requiresGrad: true });
    x.to('webgpu').mul(2).sum().backward();
    expect(x.grad!.device).toBe('cpu');
    expect(await x.grad!.tolistAsync()).toEqual([2, 2, 2]);
    // Two passes whose gradients are still in flight, and one path that meets another.
    x.to('webgpu').mul(3).sum().backward();
    x.to('webgpu').mul(x.to('webgpu')).sum().backward();
    expect(await x.grad!.tolistAsync()).toEqual([2 + 3 + 2, 2 + 3 + 4, 2 + 3 + 6]);
    await rt.synchronize();
    expect(x.grad!.tolist()).toEqual([7, 9, 11]);
  });

  it("the gradient of to('cpu') flows back to the webgpu leaf", async () => {
    const w = rt.tensor([1, 2, 3], { device: 'webgpu', requiresGrad: true });
    const c = w.to('cpu');
    await rt.synchronize();
    c.pow(2).sum().backward();
    expect(w.grad!.device).toBe('webgpu');
    expect(await w.grad!.tolistAsync()).toEqual([2, 4, 6]);
  });

  it('an invalid WGSL kernel surfaces as a NablaError naming it (and its source), not as silence', async () => {
    const own = (await gpuRuntime())!;
    try {
      const be = own.backend('webgpu') as WebGpuBackend;
      // What a third-party kernel with a WGSL typo would do.
      be.dispatcher.kernel('test:broken', "elementwise 'broken' (float32)", 'fn main( { this is not WGSL }', ['write']);
      const e = await rejectionOf(own.synchronize());
      expect(e.message).toContain("the WGSL kernel elementwise 'broken' (float32) is invalid");
      expect(e.message).toContain('this is not WGSL');
    } finally {
      await own.dispose().catch(() => undefined);
    }
  });

  it("code written for the cpu runs unchanged after setDefaultDevice('webgpu'), gradients included", async () => {
    const own = (await gpuRuntime())!;
    try {
      const run = (): Tensor => {
        own.manualSeed(3);
        const w = own.randn([4, 3], { requiresGrad: true });
        const x = own.linspace(-1, 1, 8).reshape([2, 4]);
        x.matmul(w).tanh().softmax(1).mul(own.arange(3)).sum().backward();
        return w;
      };
      const onCpu = run();
      own.setDefaultDevice('webgpu');
      const onGpu = run();
      expect(onGpu.device).toBe('webgpu');
      const a = onCpu.grad!.dataSync();
      const b = await onGpu.grad!.data();
      a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThan(1e-5));
    } finally {
      await own.dispose();
    }
  });

  it('a lost device surfaces as a NablaError on the next op and read, not as wrong values', async () => {
    const own = (await gpuRuntime())!;
    try {
      const t = own.tensor([1, 2, 3], { device: 'webgpu' });
      (own.backend('webgpu') as WebGpuBackend).gpuDevice.destroy();
      await new Promise((r) => setTimeout(r, 20));
      expect(errorOf(() => t.exp()).message).toMatch(/device was lost/);
      expect((await rejectionOf(t.data())).message).toMatch(/device was lost/);
    } finally {
      await own.dispose().catch(() => undefined);
    }
  });
});
