/**
 * Data still arriving from the GPU: `to('cpu')` returns at once, and cpu ops on the copy are
 * queued behind it (core's ops/deferred.ts) instead of refused, in program order per storage, so
 * nothing reads a half-copied buffer or a value written after it was read.
 */
import { NablaError, type Runtime } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuRuntime, probe } from './test-utils/setup.js';

const adapter = await probe();

describe.skipIf(!adapter.ok)('cpu work on tensors still arriving from webgpu', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = (await gpuRuntime())!;
  });
  afterAll(async () => {
    await rt.dispose();
  });

  it("to('cpu') then to('webgpu') round-trips the values (not the copy's empty buffer)", async () => {
    const g = rt.tensor([1, 2, 3], { device: 'webgpu' });
    const back = g.to('cpu').to('webgpu');
    expect(await back.tolistAsync()).toEqual([1, 2, 3]);
  });

  it('ops on the copy compose at once; sync reads say to await; the values are right', async () => {
    const g = rt.tensor([1, 2, 3], { device: 'webgpu' });
    const c = g.to('cpu');
    const d = c.mul(2).add(c).matmul(c.reshape([3, 1])).sum().exp().log();
    expect(() => d.item()).toThrow(NablaError);
    expect(String(d)).toContain('arriving from another device');
    expect(await d.itemAsync()).toBeCloseTo(3 * (1 + 4 + 9), 4);
    await rt.synchronize();
    expect(d.item()).toBeCloseTo(42, 4);
  });

  it('an in-place write waits for the queued kernels that read the old values', async () => {
    const a = rt.tensor([1, 2, 3]);
    const c = rt.tensor([10, 20, 30], { device: 'webgpu' }).to('cpu');
    const prod = c.mul(a); // queued behind the copy; reads a
    a.add_(100); // must not overtake that read
    expect(await prod.tolistAsync()).toEqual([10, 40, 90]);
    await rt.synchronize();
    expect(a.tolist()).toEqual([101, 102, 103]);
  });

  it('gradients flow through the queued work back to the webgpu leaf', async () => {
    const w = rt.tensor([1, 2, 3], { device: 'webgpu', requiresGrad: true });
    const loss = w.to('cpu').pow(2).mul(rt.tensor([1, 10, 100])).sum();
    loss.backward();
    expect(w.grad!.device).toBe('webgpu');
    expect(await w.grad!.tolistAsync()).toEqual([2, 40, 600]);
  });

  it('a queued kernel that fails rejects the reads that wait for it with a NablaError', async () => {
    const c = rt.tensor([1, 2, 3], { device: 'webgpu' }).to('cpu');
    const bad = c.gather(0, rt.tensor([0, 7], { dtype: 'int32' }));
    let err: unknown = null;
    try {
      await bad.data();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NablaError);
    expect((err as Error).message).toMatch(/gather/);
    // synchronize() reports a failure nobody has awaited yet.
    rt.tensor([1, 2, 3], { device: 'webgpu' }).to('cpu').gather(0, rt.tensor([9], { dtype: 'int32' }));
    await expect(rt.synchronize()).rejects.toBeInstanceOf(NablaError);
    // The runtime stays usable.
    expect(await rt.tensor([4], { device: 'webgpu' }).to('cpu').add(1).itemAsync()).toBe(5);
  });

  it('a queued kernel that fails while synchronize() drains the devices still rejects that call', async () => {
    // The copy lands and the gather fails during the (slowed) drain, before synchronize() looks at
    // the copies in flight: the failure must not be lost between the two (a race CI once hit).
    const gpu = rt.backends.all().find((b) => b.device === 'webgpu')!;
    const drain = gpu.synchronize.bind(gpu);
    gpu.synchronize = async () => {
      await drain();
      await new Promise((r) => setTimeout(r, 100));
    };
    try {
      rt.tensor([1, 2, 3], { device: 'webgpu' }).to('cpu').gather(0, rt.tensor([9], { dtype: 'int32' }));
      await expect(rt.synchronize()).rejects.toBeInstanceOf(NablaError);
    } finally {
      gpu.synchronize = drain;
    }
    expect(await rt.tensor([4], { device: 'webgpu' }).to('cpu').add(1).itemAsync()).toBe(5);
  });
});
