/**
 * tanh's and sigmoid's backward formulas are ops of their own (core's activation-backward.ts,
 * PyTorch's tanh_backward / sigmoid_backward), so a 16-bit gradient rounds once. Being ops with
 * gradients, they must stay differentiable: in float64, the backward itself is checked numerically
 * w.r.t. both of its inputs (the incoming gradient and the saved output) and to second order, and
 * the graph names PyTorch's nodes. softmax/logSoftmax's 16-bit backward (softmax-backward.ts) keeps
 * double backward working through its casts.
 */
import { autograd, createRuntime, gradcheck, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
  rt.manualSeed(11);
});

const randn = (...shape: number[]): Tensor => rt.randn(shape, { dtype: 'float64', requiresGrad: true });

/** The gradient of `act` at x for an incoming gradient v, as a differentiable function of both. */
const backwardOf = (act: (x: Tensor) => Tensor) => (x: Tensor, v: Tensor): Tensor => autograd.grad(act(x), x, { gradOutputs: v, createGraph: true })[0]!;

describe.each([
  ['tanh', (x: Tensor) => x.tanh(), 'TanhBackwardBackward0'],
  ['sigmoid', (x: Tensor) => x.sigmoid(), 'SigmoidBackwardBackward0'],
] as const)('%s backward as one op', (_name, act, node) => {
  it('is checked numerically w.r.t. the incoming gradient and the input (gradcheck of the backward)', () => {
    expect(gradcheck(backwardOf(act), [randn(3, 4), randn(3, 4)])).toBe(true);
  });
  it("to second order: the backward's own gradient (TanhBackwardBackward0 …) is differentiable and checked numerically", () => {
    // gradcheck of x, v, u ↦ ∂/∂(x, v) ⟨backward(x, v), u⟩: third derivatives of the activation.
    const second = (x: Tensor, v: Tensor, u: Tensor): Tensor => {
      const [gx, gv] = autograd.grad(backwardOf(act)(x, v), [x, v], { gradOutputs: u, createGraph: true });
      return gx!.add(gv!);
    };
    expect(gradcheck(second, [randn(5), randn(5), randn(5)])).toBe(true);
  });
  it(`records ${node} when differentiated with createGraph`, () => {
    const x = randn(4);
    const g = backwardOf(act)(x, rt.onesLike(x));
    expect(g.gradFn?.name()).toBe(node);
  });
});

describe.each(['float16', 'bfloat16'] as const)('%s softmax and logSoftmax backward', (dtype) => {
  it('double backward reaches a 16-bit leaf through the float32 formula, with the 16-bit dtype', () => {
    for (const f of [(x: Tensor) => x.softmax(1), (x: Tensor) => x.logSoftmax(1)]) {
      const x = rt.randn([3, 5]).to(dtype).requiresGrad_();
      const [g] = autograd.grad(f(x).mul(rt.randn([3, 5]).to(dtype)).sum(), x, { createGraph: true });
      expect(g!.dtype).toBe(dtype);
      const [gg] = autograd.grad(g!.square().sum(), x);
      expect(gg!.dtype).toBe(dtype);
      expect(gg!.shape).toEqual([3, 5]);
      expect(gg!.float().isfinite().all().item()).toBeTruthy();
    }
  });
});
