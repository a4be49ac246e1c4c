/**
 * An activation module for every activation of core and @nabla/activations, with PyTorch's
 * defaults and arguments: outputs against PyTorch 1.13 (fixtures/layers.json), gradients flow.
 */
import type { Runtime, Tensor } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime, fixture, maxAbsDiff, values } from './helpers.js';

const { activations: ref } = fixture<{ activations: Record<string, number[]> }>('layers.json');
let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

const MODULES: Record<string, () => nn.Module> = {
  ReLU: () => new nn.ReLU(),
  Tanh: () => new nn.Tanh(),
  Sigmoid: () => new nn.Sigmoid(),
  SiLU: () => new nn.SiLU(),
  Mish: () => new nn.Mish(),
  GELU: () => new nn.GELU(),
  GELU_tanh: () => new nn.GELU({ approximate: 'tanh' }),
  ELU: () => new nn.ELU(),
  'ELU_0.5': () => new nn.ELU(0.5),
  SELU: () => new nn.SELU(),
  CELU: () => new nn.CELU(),
  CELU_2: () => new nn.CELU(2),
  Softplus: () => new nn.Softplus(),
  Softplus_2_3: () => new nn.Softplus(2, 3),
  LeakyReLU: () => new nn.LeakyReLU(),
  'LeakyReLU_0.2': () => new nn.LeakyReLU(0.2),
  ReLU6: () => new nn.ReLU6(),
  Hardtanh: () => new nn.Hardtanh(),
  'Hardtanh_-2_3': () => new nn.Hardtanh(-2, 3),
  Hardswish: () => new nn.Hardswish(),
  Hardsigmoid: () => new nn.Hardsigmoid(),
  Softsign: () => new nn.Softsign(),
  LogSigmoid: () => new nn.LogSigmoid(),
  Tanhshrink: () => new nn.Tanhshrink(),
};

describe('activation modules match PyTorch (float64)', () => {
  for (const [name, make] of Object.entries(MODULES)) {
    it(name, () => {
      const x = rt.tensor(ref.x!, { dtype: 'float64', requiresGrad: true });
      const y = make().call(x) as Tensor;
      expect(maxAbsDiff(values(y), ref[name]!)).toBeLessThan(1e-12);
      y.sum().backward();
      expect(x.grad).not.toBeNull();
    });
  }

  it('Softmax(dim) and LogSoftmax(dim)', () => {
    const z = rt.tensor(ref.x!, { dtype: 'float64' }).reshape([4, 6]);
    expect(maxAbsDiff(values(new nn.Softmax(1).call(z)), ref.Softmax_1!)).toBeLessThan(1e-12);
    expect(maxAbsDiff(values(new nn.LogSoftmax(0).call(z)), ref.LogSoftmax_0!)).toBeLessThan(1e-12);
    expect(() => new nn.Softmax(undefined as unknown as number)).toThrow(/dim must be an integer/);
  });

  it('print their arguments as PyTorch does', () => {
    expect(new nn.LeakyReLU(0.2).toString()).toBe('LeakyReLU(negative_slope=0.2)');
    expect(new nn.GELU({ approximate: 'tanh' }).toString()).toBe("GELU(approximate='tanh')");
    expect(new nn.Sequential(new nn.Hardtanh(-2, 3)).toString()).toBe('Sequential(\n  (0): Hardtanh(min_val=-2, max_val=3)\n)');
  });
});
