/**
 * Core with an asynchronous device and no GPU: a test backend ("slow") keeps its data in CPU
 * arrays but, like WebGPU, can only be read with `await`, and its reads land after a timer. Copies
 * from it to the CPU return at once; CPU work on them is queued behind the copy in program order
 * (ops/deferred.ts), and gradients flow back across the devices.
 */
import { createRuntime, NablaError, registerKernels, type Backend, type Plugin, type Runtime } from '@nabla/core';
import { cpuBackend, CpuBackend, KERNEL_DTYPES } from '@nabla/backend-cpu';
import { describe, expect, it } from 'vitest';

/** A CPU backend under another name whose reads resolve only after `delayMs`. */
function slowBackend(delayMs = 5): Plugin {
  return {
    name: 'test-slow-device',
    version: '0.0.0',
    install(ctx) {
      const cpu = new CpuBackend();
      const backend: Backend = {
        device: 'slow',
        dtypes: cpu.dtypes,
        readsSync: false,
        describe: () => 'slow (a CPU backend read asynchronously, for tests)',
        allocate: (dtype, numel) => cpu.allocate(dtype, numel),
        release: (s) => cpu.release(s),
        write: (s, data, offset) => cpu.write(s, data, offset),
        read: (view) =>
          new Promise((resolve, reject) =>
            setTimeout(() => {
              try {
                resolve(cpu.readSync(view));
              } catch (e) {
                reject(e as Error);
              }
            }, delayMs),
          ),
        compileElementwise: (spec) => cpu.compileElementwise(spec),
        synchronize: () => Promise.resolve(),
      };
      ctx.registerBackend(backend);
      registerKernels(ctx, { device: 'slow', kernels: cpu.kernels, dtypes: KERNEL_DTYPES });
    },
  };
}

async function runtime(): Promise<Runtime> {
  return createRuntime({ plugins: [cpuBackend(), slowBackend()] });
}

describe('cpu work on data arriving from an asynchronous device', () => {
  it('ops compose at once; sync reads name the async method; values are right once awaited', async () => {
    const rt = await runtime();
    const c = rt.tensor([1, 2, 3], { device: 'slow' }).to('cpu');
    const d = c.mul(2).add(c).matmul(c.reshape([3, 1])).sum();
    let err: unknown = null;
    try {
      d.item();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NablaError);
    expect((err as Error).message).toContain('await');
    expect(await d.itemAsync()).toBe(42);
  });

  it('round-trips through the asynchronous device and back', async () => {
    const rt = await runtime();
    const back = rt.tensor([1, 2, 3], { device: 'slow' }).to('cpu').to('slow').to('cpu');
    expect(await back.tolistAsync()).toEqual([1, 2, 3]);
  });

  it('an in-place write waits for the queued reads of the old values; later reads see it', async () => {
    const rt = await runtime();
    const a = rt.tensor([1, 2, 3]);
    const c = rt.tensor([10, 20, 30], { device: 'slow' }).to('cpu');
    const before = c.mul(a);
    a.add_(100);
    const after = c.mul(a);
    expect(await before.tolistAsync()).toEqual([10, 40, 90]);
    expect(await after.tolistAsync()).toEqual([1010, 2040, 3090]);
    await rt.synchronize();
    expect(a.tolist()).toEqual([101, 102, 103]);
  });

  it('gradients cross both ways and accumulate over passes without blocking', async () => {
    const rt = await runtime();
    const x = rt.tensor([1, 2, 3], { requiresGrad: true });
    x.to('slow').mul(2).sum().backward();
    x.to('slow').mul(x.to('slow')).sum().backward();
    expect(await x.grad!.tolistAsync()).toEqual([4, 6, 8]);
    const w = rt.tensor([1, 2, 3], { device: 'slow', requiresGrad: true });
    w.to('cpu').pow(2).sum().backward();
    expect(await w.grad!.tolistAsync()).toEqual([2, 4, 6]);
  });

  it('a queued kernel that fails rejects what waits for it, with a NablaError naming the op', async () => {
    const rt = await runtime();
    const bad = rt.tensor([1, 2, 3], { device: 'slow' }).to('cpu').gather(0, rt.tensor([5], { dtype: 'int32' }));
    await expect(bad.data()).rejects.toThrow(/gather/);
    rt.tensor([1], { device: 'slow' }).to('cpu').gather(0, rt.tensor([5], { dtype: 'int32' }));
    await expect(rt.synchronize()).rejects.toBeInstanceOf(NablaError);
  });
});
