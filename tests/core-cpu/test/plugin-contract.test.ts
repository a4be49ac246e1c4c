/**
 * The plugin contract's conveniences for authors (issue 15): the documented DI tokens a plugin
 * resolves from its context, `registerKernels` for a whole table (optional kernels left out), and
 * the error for a registration without a function.
 */
import {
  BACKEND_REGISTRY, createRuntime, EVENTS, GRAD_MODE, KERNEL_REGISTRY, MEMORY, NablaError, registerKernels, RNG, RUNTIME,
  type KernelSignatures, type Plugin, type Runtime,
} from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { CpuBackend, KERNEL_DTYPES } from '../../../packages/backend-cpu/src/backend.js';
import { describe, expect, it } from 'vitest';

describe('DI tokens', () => {
  it("resolve to the installing runtime's own services, in plugins and from the runtime", async () => {
    const seen: Record<string, unknown> = {};
    const kernelsSeen: string[] = [];
    const probe: Plugin = {
      name: 'probe',
      version: '1.0.0',
      install(ctx) {
        seen.runtime = ctx.resolve(RUNTIME);
        seen.devices = ctx.resolve(BACKEND_REGISTRY).devices();
        seen.sum = ctx.resolve(KERNEL_REGISTRY).has('sum', 'cpu', 'float32');
        seen.events = ctx.resolve(EVENTS);
        ctx.resolve(EVENTS).on('kernel:register', (e) => kernelsSeen.push(`${e.kernel}@${e.device}`));
      },
    };
    const a = await createRuntime({ plugins: [cpuBackend(), probe] });
    expect(seen.runtime).toBe(a);
    expect(seen.devices).toEqual(['cpu']);
    expect(seen.sum).toBe(true);
    expect(seen.events).toBe(a.events);
    expect(a.resolve(GRAD_MODE)).toBe(a.gradMode);
    expect(a.resolve(MEMORY)).toBe(a.memoryTracker);
    expect(a.resolve(RNG)).toBe(a.rng);

    // Another runtime resolves its own services: nothing is shared.
    const b: Runtime = await createRuntime({ plugins: [cpuBackend()] });
    expect(b.resolve(RUNTIME)).toBe(b);
    expect(b.resolve(EVENTS)).not.toBe(a.resolve(EVENTS));
    expect(b.resolve(BACKEND_REGISTRY)).not.toBe(a.resolve(BACKEND_REGISTRY));

    // The listener a plugin attached through EVENTS hears later registrations in its runtime only.
    await b.use({ name: 'late-b', version: '1.0.0', install: (ctx) => registerKernels(ctx, { device: 'cpu', kernels: { sum: () => {} }, dtypes: ['float32'], override: true }) });
    expect(kernelsSeen).toEqual([]);
    await a.use({ name: 'late-a', version: '1.0.0', install: (ctx) => registerKernels(ctx, { device: 'cpu', kernels: { sum: () => {} }, dtypes: ['float32'], override: true }) });
    expect(kernelsSeen).toEqual(['sum@cpu']);
  });

  it('an unknown token is a NablaError naming the runtime and the token', async () => {
    const rt = await createRuntime();
    const err = (() => {
      try {
        rt.resolve(Symbol('my-service'));
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected an error');
    })();
    expect(err).toBeInstanceOf(NablaError);
    expect(err.message).toContain(rt.label);
    expect(err.message).toContain('my-service');
  });
});

describe('registerKernels', () => {
  it('registers a table without the optional kernels (addmm, softmax, logSoftmax): core composes them', async () => {
    const cpu = new CpuBackend();
    // Typed as KernelSignatures with the optional keys simply absent: no Omit<> needed.
    const { addmm: _a, softmax: _s, logSoftmax: _l, ...required } = cpu.kernels;
    const table: KernelSignatures = required;
    const plugin: Plugin = {
      name: 'bare-cpu',
      version: '1.0.0',
      install(ctx) {
        ctx.registerBackend(cpu);
        registerKernels(ctx, { device: 'cpu', kernels: table, dtypes: KERNEL_DTYPES });
      },
    };
    const rt = await createRuntime({ plugins: [plugin] });
    expect(rt.kernels.has('sum', 'cpu', 'float64')).toBe(true);
    expect(rt.kernels.has('softmax', 'cpu', 'float64')).toBe(false);
    expect(rt.kernels.has('addmm', 'cpu', 'float64')).toBe(false);
    const x = rt.tensor([[1, 2, 3], [0, 0, 1000]], { dtype: 'float64', requiresGrad: true });
    const y = x.softmax(1);
    (y.sum(1).tolist() as number[]).forEach((s) => expect(s).toBeCloseTo(1, 14));
    expect(Boolean(y.isfinite().all().item())).toBe(true); // stable: the 1000 does not overflow
    y.index([':', 0]).sum().backward();
    expect(x.grad!.shape).toEqual([2, 3]);
    const ref = await createRuntime({ plugins: [cpuBackend()] });
    const xr = ref.tensor([[1, 2, 3], [0, 0, 1000]], { dtype: 'float64', requiresGrad: true });
    xr.softmax(1).index([':', 0]).sum().backward();
    const [g, gr] = [x.grad!.tolist() as number[][], xr.grad!.tolist() as number[][]];
    g.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(gr[i]![j]!, 12)));
  });

  it('a registration without a function is refused, naming the plugin, the kernel and the device', async () => {
    const rt = await createRuntime();
    const bad: Plugin = {
      name: 'bad-plugin',
      version: '1.0.0',
      install(ctx) {
        ctx.registerKernel({ name: 'softmax', device: 'toy', dtypes: ['float32'], kernel: undefined as never });
      },
    };
    const err = await rt.use(bad).then(() => null, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(NablaError);
    expect(err!.message).toContain("bad-plugin registered kernel 'softmax' for device 'toy' without a function");
  });
});
