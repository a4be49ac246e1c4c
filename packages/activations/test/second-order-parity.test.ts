/**
 * Gradients of the piecewise-linear activations are themselves differentiable (createGraph), with
 * PyTorch's node names (HardtanhBackwardBackward0, ...) and PyTorch 1.13's first and second
 * derivatives at and around the kinks: fixtures/second-order.json, from fixtures/make_fixtures.py.
 */
import { readFileSync } from 'node:fs';
import { autograd, createRuntime, gradgradcheck, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { activations, hardtanh, leakyRelu, relu6 } from '../src/index.js';

interface Recorded {
  x: number[];
  out: number[];
  node: string;
  grad: number[];
  gradNode: string | null;
  gradRequiresGrad: boolean;
  grad2: number[] | null;
}
const { cases } = JSON.parse(readFileSync(new URL('../fixtures/second-order.json', import.meta.url), 'utf8')) as { cases: Record<string, Recorded> };

const FNS: Record<string, (x: Tensor) => Tensor> = {
  hardtanh: (x) => hardtanh(x),
  hardtanh_range: (x) => hardtanh(x, -0.5, 2),
  relu6: (x) => relu6(x),
  leaky_relu: (x) => leakyRelu(x, 0.1),
  hardtanh_square: (x) => hardtanh(x).pow(2),
  relu6_square: (x) => relu6(x).pow(2),
  leaky_relu_square: (x) => leakyRelu(x, 0.1).pow(2),
};

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend(), activations()] });
});

const weights = (n: number, period: number, shift: number): number[] =>
  Array.from({ length: n }, (_, i) => 1 + ((i % period) - shift) / (period === 5 ? 4 : 2));

function expectClose(t: Tensor, want: number[], what: string): void {
  const got = t.tolist() as number[];
  want.forEach((w, i) => expect(Math.abs(got[i]! - w), `${what}[${i}]: got ${got[i]}, expected ${w}`).toBeLessThanOrEqual(1e-12));
}

describe('second derivatives of activations against PyTorch 1.13', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, () => {
      const fn = FNS[name]!;
      const x = rt.tensor(c.x, { dtype: 'float64', requiresGrad: true });
      const out = fn(x);
      expectClose(out, c.out, 'out');
      expect(out.gradFn!.name()).toBe(c.node);
      const [g] = autograd.grad(out.mul(rt.tensor(weights(out.numel(), 5, 2), { dtype: 'float64' })).sum(), x, { createGraph: true });
      expectClose(g!, c.grad, 'grad');
      expect(g!.requiresGrad).toBe(c.gradRequiresGrad);
      expect(g!.gradFn?.name() ?? null).toBe(c.gradNode);
      const [g2] = autograd.grad(g!.mul(rt.tensor(weights(g!.numel(), 3, 1), { dtype: 'float64' })).sum(), x, { allowUnused: true });
      expectClose(g2 ?? rt.zerosLike(x), c.grad2!, 'grad2');
    });
  }

  it('gradgradcheck away from the kinks', () => {
    const x = rt.tensor([-1.7, -0.3, 0.4, 0.9, 3.1, 6.6], { dtype: 'float64', requiresGrad: true });
    for (const fn of Object.values(FNS)) expect(gradgradcheck(fn, [x])).toBe(true);
  });
});
