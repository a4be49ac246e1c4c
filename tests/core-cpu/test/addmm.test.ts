/** addmm: one node (AddmmBackward0), PyTorch's beta/alpha, gradcheck/gradgradcheck and errors. Values vs PyTorch: parity-gradients.test.ts. */
import * as nabla from '@nabla/core';
import { createRuntime, NablaError, registerKernels, type Plugin, type PluginContextBase, type Tensor } from '@nabla/core';
import { cpuBackend, CpuBackend, KERNEL_DTYPES } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(async () => {
  await nabla.use(cpuBackend());
});

const f64 = (shape: number[], requiresGrad = true): Tensor => nabla.randn(shape, { dtype: 'float64', requiresGrad });

describe('addmm', () => {
  it('passes gradcheck and gradgradcheck for every input shape of the bias, beta and alpha', () => {
    nabla.manualSeed(3);
    for (const biasShape of [[4], [3, 4], [3, 1], [1, 4], []]) {
      const fn = (b: Tensor, m1: Tensor, m2: Tensor): Tensor => nabla.addmm(b, m1, m2, { beta: 0.5, alpha: -1.5 });
      const inputs = [f64(biasShape), f64([3, 5]), f64([5, 4])];
      expect(nabla.gradcheck(fn, inputs)).toBe(true);
      expect(nabla.gradgradcheck(fn, inputs)).toBe(true);
    }
  });

  it('matches beta · input + alpha · mat1 @ mat2 on transposed (strided) operands, as a method too', () => {
    nabla.manualSeed(4);
    const b = f64([6], false);
    const m1 = f64([7, 5], false).t();
    const m2 = f64([6, 7], false).t();
    const got = b.addmm(m1, m2, { beta: 2, alpha: 0.25 });
    const want = m1.mm(m2).mul(0.25).add(b.mul(2));
    expect(got.sub(want).abs().max().item()).toBeLessThan(1e-12);
  });

  it('ignores input when beta = 0, NaN included (PyTorch)', () => {
    const b = nabla.full([2], NaN);
    const r = nabla.addmm(b, nabla.eye(2), nabla.ones([2, 2]), { beta: 0 });
    expect(r.tolist()).toEqual([[1, 1], [1, 1]]);
  });

  it('records a single AddmmBackward0 node whose next functions are the three inputs', () => {
    const [b, m1, m2] = [f64([2]), f64([3, 4]), f64([4, 2])];
    const y = nabla.addmm(b!, m1!, m2!);
    expect(y.gradFn!.name()).toBe('AddmmBackward0');
    expect(y.gradFn!.nextFunctions.map(([n]) => n?.name())).toEqual(['AccumulateGrad', 'AccumulateGrad', 'AccumulateGrad']);
  });

  it('says which shapes and dtypes are wrong', () => {
    const m = nabla.zeros([2, 3]);
    expect(() => nabla.addmm(nabla.zeros([2]), m, nabla.zeros([2, 2]))).toThrow(/addmm.*mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x2\)/);
    expect(() => nabla.addmm(nabla.zeros([2]), nabla.zeros([3]), m)).toThrow(/mat1 must be a matrix, got 1-D/);
    expect(() => nabla.addmm(nabla.zeros([5]), m, nabla.zeros([3, 4]))).toThrow(NablaError);
    expect(() => nabla.addmm(nabla.zeros([4], { dtype: 'float64' }), m, nabla.zeros([3, 4]))).toThrow(/same dtype, but got float64, float32 and float32/);
  });
});

/** The CPU backend registered without its addmm kernel, as a third-party backend may be. */
function cpuWithoutAddmm(): Plugin {
  return {
    name: 'cpu-without-addmm',
    version: '0.0.0',
    install(ctx: PluginContextBase) {
      const be = new CpuBackend();
      ctx.registerBackend(be);
      const { addmm: _, ...kernels } = be.kernels;
      registerKernels(ctx, { device: be.device, kernels, dtypes: KERNEL_DTYPES });
    },
  };
}

describe('addmm on a backend without an addmm kernel', () => {
  it('is composed from mm and elementwise ops, with the same values and the same single node', async () => {
    const rt = await createRuntime({ plugins: [cpuWithoutAddmm()] });
    expect(rt.kernels.has('addmm', 'cpu', 'float64')).toBe(false);
    const b = rt.tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const m1 = rt.tensor([[1, -1, 0.5], [2, 0, 1]], { dtype: 'float64', requiresGrad: true });
    const m2 = rt.tensor([[0.5, 1], [-1, 2], [1, 1]], { dtype: 'float64', requiresGrad: true });
    const y = nabla.addmm(b, m1, m2, { beta: 0.5, alpha: -2 });
    expect(y.tolist()).toEqual([[-3.5, 2], [-3.5, -5]]); // torch.addmm(..., beta=0.5, alpha=-2)
    expect(y.gradFn!.name()).toBe('AddmmBackward0');
    expect(nabla.gradgradcheck((x, p, q) => nabla.addmm(x, p, q, { beta: 0.5, alpha: -2 }), [b, m1, m2])).toBe(true);
    await rt.dispose();
  });
});
