/**
 * Every differentiable op's gradient, checked against finite differences (gradcheck) and its
 * second derivative (gradgradcheck), in float64 on the CPU; then the in-place-through-a-view
 * cases whose numbers come from torch 1.13.
 */
import { autograd, cat, createRuntime, gradcheck, gradgradcheck, stack, where, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
  rt.manualSeed(7);
});

/** Random float64 leaves; `pos` ones lie in [0.5, 1.5) for log, sqrt, pow and division. */
const randn = (...shape: number[]): Tensor => rt.randn(shape, { dtype: 'float64', requiresGrad: true });
const pos = (...shape: number[]): Tensor => rt.rand(shape, { dtype: 'float64' }).add(0.5).requiresGrad_();
const idx = (data: number[] | number[][]): Tensor => rt.tensor(data, { dtype: 'int32' });

type Case = [string, (...xs: Tensor[]) => Tensor, () => Tensor[]];

const CASES: Case[] = [
  ['sqrt, log, rsqrt, reciprocal', (a) => a.sqrt().add(a.log()).add(a.rsqrt()).add(a.reciprocal()), () => [pos(5)]],
  ['log1p, expm1, tan, cos, sin', (a) => a.log1p().add(a.expm1()).add(a.mul(0.5).tan()).add(a.cos()).mul(a.sin()), () => [pos(5)]],
  ['tanh, sigmoid, exp, abs, square, neg', (a) => a.tanh().add(a.sigmoid()).add(a.exp()).add(a.abs()).add(a.square()).neg(), () => [randn(5)]],
  ['div and pow of two tensors, broadcast', (a, b) => a.div(b).add(b.pow(a)), () => [randn(2, 3), pos(3)]],
  ['maximum, minimum and clamp away from ties', (a, b) => a.maximum(b).add(a.minimum(b)).add(a.clamp(-0.5, 0.5)), () => [randn(4), randn(4)]],
  ['sum, mean, prod over dims', (a) => a.sum(0).add(a.mean([0, 1], true).squeeze()).add(a.prod(0)).sum(1), () => [randn(2, 3, 4)]],
  ['amax, amin, max(dim).values, min()', (a) => a.amax(1).add(a.amin(0).sum()).add(a.max(1).values).add(a.min()), () => [randn(3, 4)]],
  ['var, std (correction 0 and 1), norm 1/2/∞', (a) => a.var(1).add(a.std(1, { correction: 0 })).add(a.norm()).add(a.norm(1, 1)).add(a.norm(Infinity, 1)), () => [randn(3, 4)]],
  ['logsumexp, softmax, logSoftmax', (a) => a.logsumexp(1).unsqueeze(1).add(a.softmax(1)).add(a.logSoftmax(0)), () => [randn(3, 4)]],
  ['matmul batched with broadcasting', (a, b) => a.matmul(b), () => [randn(2, 1, 3, 4), randn(3, 4, 2)]],
  ['matmul 1-D × 2-D, dot, outer, mm, bmm', (a, b, c) => a.matmul(b).sum().add(a.dot(a)).add(a.outer(c).mm(b.t()).sum()).add(b.unsqueeze(0).bmm(b.t().unsqueeze(0)).sum()), () => [randn(4), randn(4, 2), randn(2)]],
  ['gather and indexSelect', (a) => a.gather(1, idx([[0, 0], [1, 3], [2, 2]])).sum(1).add(a.indexSelect(1, idx([3, 0, 3])).sum(1)), () => [randn(3, 4)]],
  ['cat and stack', (a, b) => cat([a, b], 1).sum(1).add(stack([a.sum(1), b.sum(1)], 1).prod(1)), () => [randn(2, 3), randn(2, 2)]],
  ['where and maskedFill', (a, b) => where(a.gt(0), a, b).add(a.maskedFill(b.gt(0), 2)), () => [randn(3, 4), randn(4)]],
  ['views: t, permute, expand, flatten, narrow, select', (a) => a.t().permute(1, 0).unsqueeze(0).expand(2, 3, 4).flatten(1).narrow(1, 1, 6).select(0, 1), () => [randn(3, 4)]],
];

describe('gradients of every differentiable op', () => {
  it.each(CASES)('%s: gradcheck', (_name, fn, make) => {
    expect(gradcheck(fn, make())).toBe(true);
  });
  it.each(CASES)('%s: gradgradcheck', (_name, fn, make) => {
    expect(gradgradcheck(fn, make())).toBe(true);
  });
});

describe('prod at zeros', () => {
  const withZeros = (): Tensor => rt.tensor([[0, 2, 3], [0, 2, 0]], { dtype: 'float64', requiresGrad: true });

  it('the gradient of prod with one zero and with two zeros passes gradcheck', () => {
    expect(gradcheck((a) => a.prod(1), [withZeros()])).toBe(true);
  });

  // KNOWN CORE BUG (fails today): prod's backward is not differentiable where x has a zero. The
  // gradient of prod([0, 2, 3]) is [x₁x₂, x₀x₂, x₀x₁] = [6, 0, 0], so its Jacobian (the Hessian)
  // is [[0, 3, 2], [3, 0, 0], [2, 0, 0]] (torch 1.13 gives exactly this), but the entries
  // ∂g₁/∂x₀ = x₂ and ∂g₂/∂x₀ = x₁ come out 0: the formula picks the "one zero" branch with where(),
  // which has no gradient w.r.t. the zero itself. torch.autograd.gradgradcheck passes here.
  it('the Hessian of prod at [0, 2, 3] is [[0, 3, 2], [3, 0, 0], [2, 0, 0]]', () => {
    const x = rt.tensor([0, 2, 3], { dtype: 'float64', requiresGrad: true });
    const [g] = autograd.grad(x.prod(), x, { createGraph: true });
    expect(g!.tolist()).toEqual([6, 0, 0]);
    const rows = [0, 1, 2].map((i) => autograd.grad(g!.select(0, i), x, { retainGraph: true })[0]!.tolist());
    expect(rows).toEqual([
      [0, 3, 2],
      [3, 0, 0],
      [2, 0, 0],
    ]);
  });

  it('gradgradcheck passes for prod with one zero and with two zeros', () => {
    expect(gradgradcheck((a) => a.prod(1), [withZeros()])).toBe(true);
  });
});

describe('in-place ops through views (numbers from torch 1.13)', () => {
  it('an in-place op on a view of a non-leaf rewrites the base\'s history (CopySlices)', () => {
    const x = rt.tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(1);
    y.narrow(0, 0, 1).mul_(2);
    expect(y.tolist()).toEqual([2, 2, 3]);
    expect(y.gradFn!.name()).toBe('CopySlices');
    y.sum().backward();
    expect(x.grad!.tolist()).toEqual([2, 1, 1]);
  });

  it("a view made before its base changed in place follows the base's new history", () => {
    const x = rt.tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(1);
    const v = y.narrow(0, 0, 2);
    y.mul_(3);
    expect(v.tolist()).toEqual([3, 6]);
    v.sum().backward();
    expect(x.grad!.tolist()).toEqual([3, 3, 0]);
  });

  it('(y·y).sum() after scaling part of y in place: d/dx = 2y·(∂y/∂x) = [8, 16, 6]', () => {
    const x = rt.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const y = x.mul(1);
    y.narrow(0, 0, 2).mul_(2);
    y.mul(y).sum().backward();
    expect(x.grad!.tolist()).toEqual([8, 16, 6]);
  });

  it('an in-place op on a view of a leaf that requires grad is refused', () => {
    const x = rt.tensor([1, 2], { requiresGrad: true });
    expect(() => x.narrow(0, 0, 1).add_(1)).toThrow('a view of a leaf Variable that requires grad is being used in an in-place operation');
  });

  it('detach() shares the version counter: zeroing it invalidates the saved output', () => {
    const x = rt.tensor([1, 2], { requiresGrad: true });
    const y = x.exp();
    y.detach().zero_();
    expect(() => y.sum().backward()).toThrow('modified by an inplace operation');
  });

  it('an in-place op on a leaf under noGrad is allowed and keeps it a leaf', () => {
    const x = rt.tensor([1, 2], { requiresGrad: true });
    rt.noGrad(() => x.mul_(2));
    expect(x.isLeaf).toBe(true);
    x.sum().backward();
    expect(x.grad!.tolist()).toEqual([1, 1]);
  });
});
