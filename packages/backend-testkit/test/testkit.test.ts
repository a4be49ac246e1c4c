/**
 * The testkit checks itself: a faithful copy of the CPU backend under another device name passes
 * every case in both float dtypes, and copies with one planted bug — in a forward expression, in a
 * kernel only the backward pass uses — fail exactly the cases that exercise the bug, saying where.
 */
import { registerKernels, type ElementwiseSpec, type KernelSignatures, type Plugin, type View } from '@nabla/core';
import { CpuBackend, KERNEL_DTYPES } from '@nabla/backend-cpu';
import { describe, expect, it } from 'vitest';
import { CASES, checkBackend } from '../src/index.js';

/** The CPU backend registered as device `device`, with `patch` applied to its kernels. */
function mirror(device: string, patch: { exp?: boolean; scatterAdd?: KernelSignatures['scatterAdd'] } = {}): Plugin {
  return {
    name: `mirror-${device}`,
    version: '1.0.0',
    install(ctx) {
      const cpu = new CpuBackend();
      const backend = Object.create(cpu, {
        device: { value: device },
        compileElementwise: {
          value(spec: ElementwiseSpec) {
            const k = cpu.compileElementwise(spec);
            if (!(patch.exp && spec.name === 'exp')) return k;
            // The planted bug: exp is off by 0.1% (a bad polynomial, say).
            return (out: View, inputs: readonly View[], params: readonly number[]) => {
              k(out, inputs, params);
              const data = (out.storage as unknown as { data: Float32Array | Float64Array }).data;
              const n = out.shape.reduce((a, b) => a * b, 1);
              for (let i = out.offset; i < out.offset + n; i++) data[i]! *= 1.001;
            };
          },
        },
      }) as CpuBackend;
      ctx.registerBackend(backend);
      registerKernels(ctx, { device, kernels: { ...cpu.kernels, ...(patch.scatterAdd ? { scatterAdd: patch.scatterAdd } : {}) }, dtypes: KERNEL_DTYPES });
    },
  };
}

describe('checkBackend', () => {
  it('passes a faithful copy of the CPU backend, every case in float32 and float64', async () => {
    const report = await checkBackend({ device: 'mirror', plugins: [mirror('mirror')] });
    console.log(`[backend-testkit] ${report.summary()}`);
    expect(report.failures).toEqual([]);
    expect(report.passed.length).toBe(CASES.length * 2);
    expect(report.dtypes).toEqual(['float32', 'float64']);
  });

  it('fails the forward cases of a wrong expression kernel, naming the case, output and index', async () => {
    const report = await checkBackend({ device: 'bad-exp', plugins: [mirror('bad-exp', { exp: true })], dtypes: ['float64'] });
    const failed = report.failures.map((f) => f.case);
        // Exactly the programs that run exp forward or in their gradient (the CPU's fused softmax does not).
    expect(failed.sort()).toEqual(['reduce/logsumexp', 'softmax/logSoftmax of large logits', 'unary/exp', 'view/narrow and select']);
    expect(report.failures.find((f) => f.case === 'unary/exp')!.message).toMatch(/^output 0\[\d+\] \(flat\) is .*, the cpu gives/);
  });

  it('fails a kernel that only the backward pass uses (a scatterAdd that loses an element)', async () => {
    const cpu = new CpuBackend();
    const overwrite: KernelSignatures['scatterAdd'] = (out, dim, index, src) => {
      // The planted bug: the first element of every result is lost.
      cpu.kernels.scatterAdd(out, dim, index, src);
      const data = (out.storage as unknown as { data: Float64Array }).data;
      data[out.offset] = 0;
    };
    const report = await checkBackend({ device: 'bad-scatter', plugins: [mirror('bad-scatter', { scatterAdd: overwrite })], dtypes: ['float64'] });
    const gather = report.failures.find((f) => f.case === 'index/gather (scatterAdd in backward)');
    expect(gather?.message).toMatch(/^gradient of input 0/);
  });

  it('runs only the cases a filter keeps', async () => {
    const report = await checkBackend({ device: 'mirror', plugins: [mirror('mirror')], filter: (c) => c.startsWith('linalg/'), dtypes: ['float32'] });
    expect(report.passed.length).toBe(CASES.filter((c) => c.name.startsWith('linalg/')).length);
  });
});
