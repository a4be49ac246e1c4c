import type { Backend, KernelRegistration, PluginContextBase } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from './backend.js';
import { cpuBackend } from './index.js';

function fakeContext() {
  const backends: Backend[] = [];
  const kernels: KernelRegistration[] = [];
  const ctx: PluginContextBase = {
    registerBackend: (b) => void backends.push(b),
    registerKernel: (reg) => void kernels.push(reg as KernelRegistration),
    registerElementwiseKernel: () => {
      throw new Error('not expected');
    },
  };
  return { ctx, backends, kernels };
}

describe('cpuBackend plugin', () => {
  it('has the plugin metadata', () => {
    const p = cpuBackend();
    expect(p.name).toBe('@nabla/backend-cpu');
    expect(p.version).toBe('0.1.0');
    expect(p.coreRange).toBe('^0.1.0');
  });

  it('registers the cpu backend and every structured kernel with its dtypes', async () => {
    const { ctx, backends, kernels } = fakeContext();
    await cpuBackend({ maxPooledBytes: 1024 }).install(ctx as never);
    expect(backends).toHaveLength(1);
    expect(backends[0]).toBeInstanceOf(CpuBackend);
    expect(backends[0]!.device).toBe('cpu');
    // Each kernel is registered once for its own dtypes and once more, through the half bridge,
    // for float16/bfloat16 (every kernel has a float32 version).
    const wide = kernels.filter((k) => !k.dtypes.includes('float16'));
    const half = kernels.filter((k) => k.dtypes.includes('float16'));
    const byName = Object.fromEntries(wide.map((k) => [k.name, k]));
    const names = ['addmm', 'argmax', 'argmin', 'bmm', 'cumprod', 'cumsum', 'gather', 'logSoftmax', 'max', 'min', 'prod', 'scatter', 'scatterAdd', 'softmax', 'sort', 'sum'];
    expect(Object.keys(byName).sort()).toEqual(names);
    expect(half.map((k) => k.name).sort()).toEqual(names);
    for (const k of half) expect(k.dtypes).toEqual(['float16', 'bfloat16']);
    for (const k of kernels) {
      expect(k.device).toBe('cpu');
      expect(typeof k.kernel).toBe('function');
    }
    expect(byName.sum!.dtypes).toEqual(['float32', 'float64', 'int32', 'bool']);
    expect(byName.bmm!.dtypes).toEqual(['float32', 'float64', 'int32']);
    expect(byName.softmax!.dtypes).toEqual(['float32', 'float64']);
    expect(byName.gather!.dtypes).toEqual(['float32', 'float64', 'int32', 'bool']);
    expect(byName.sort!.dtypes).toEqual(['float32', 'float64', 'int32', 'bool']);
    expect(byName.cumsum!.dtypes).toEqual(['float32', 'float64', 'int32', 'bool']);
  });

  it('registers kernels bound to the registered backend', async () => {
    const { ctx, backends, kernels } = fakeContext();
    await cpuBackend().install(ctx as never);
    const be = backends[0] as CpuBackend;
    const x = be.allocate('float32', 4);
    be.write(x, new Float32Array([1, 2, 3, 4]));
    const out = be.allocate('float32', 1);
    const sum = kernels.find((k) => k.name === 'sum')!.kernel as CpuBackend['kernels']['sum'];
    sum({ storage: out, dtype: 'float32', shape: [1, 1], strides: [1, 1], offset: 0 }, { storage: x, dtype: 'float32', shape: [2, 2], strides: [2, 1], offset: 0 }, [0, 1]);
    expect(Array.from(be.readSync({ storage: out, dtype: 'float32', shape: [1], strides: [1], offset: 0 }))).toEqual([10]);
  });
});
