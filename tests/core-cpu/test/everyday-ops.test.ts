/**
 * The everyday ops of issue 8 on the CPU: gradients (gradcheck and gradgradcheck in float64),
 * the semantics PyTorch users rely on (stable sort, NaN order, dims, dtypes, casts, the *Like
 * factories) and NablaErrors for bad input. PyTorch's numbers are in everyday-parity.test.ts.
 */
import { allclose, autograd, createRuntime, gradcheck, gradgradcheck, isclose, NablaError, type Runtime, type Tensor } from '@nabla/core';
import * as nabla from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
  rt.manualSeed(11);
});

const randn = (...shape: number[]): Tensor => rt.randn(shape, { dtype: 'float64', requiresGrad: true });
const f64 = (data: number[] | number[][], requiresGrad = true): Tensor => rt.tensor(data, { dtype: 'float64', requiresGrad });

function nablaError(fn: () => unknown): NablaError {
  let err: unknown = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a NablaError to be thrown').toBeInstanceOf(NablaError);
  return err as NablaError;
}

type Case = [string, (...xs: Tensor[]) => Tensor, () => Tensor[]];

const CASES: Case[] = [
  ['sort along the last dim, ascending', (a) => a.sort().values, () => [randn(3, 5)]],
  ['sort along dim 0, descending, of a transposed view', (a) => a.t().sort(0, true).values, () => [randn(4, 3)]],
  ['sort of a 3-D tensor along dim 1 with stable', (a) => a.sort({ dim: 1, stable: true }).values.mul(a), () => [randn(2, 4, 3)]],
  ['topk largest along the last dim', (a) => a.topk(2).values, () => [randn(3, 5)]],
  ['topk smallest along dim 0, times the input', (a) => a.topk(3, 0, false).values.sum(0).mul(a.sum(0)), () => [randn(4, 3)]],
  ['cumsum along each dim', (a) => a.cumsum(0).add(a.cumsum(1)).add(a.cumsum(-1).square()), () => [randn(3, 4)]],
  ['cumprod of random values along dim 1', (a) => a.cumprod(1), () => [randn(3, 5)]],
  ['cumprod along dim 0 of a 3-D tensor', (a) => a.cumprod(0), () => [randn(3, 2, 2)]],
  ['cumprod with one zero per row', (a) => a.cumprod(1), () => [f64([[2, 0, 3, 0.5], [0, 1.5, 2, -1], [1.5, 2, -0.5, 0]])]],
  ['cumprod with two and three zeros in a row', (a) => a.cumprod(1), () => [f64([[2, 0, 3, 0, 4], [0, 0, 1.5, 0, 2]])]],
  ['cumprod composed: (cumprod(x)·x).sum along dim 0', (a) => a.cumprod(0).mul(a).sum(0), () => [f64([[1.5, 0], [0, 2], [3, -1]])]],
  ['nanToNum of finite values and of NaN, ±inf', (a) => a.nanToNum(0, 10, -10).mul(a.nanToNum(1, 2, -2)), () => [f64([1.5, NaN, Infinity, -Infinity, -0.5])]],
];

describe('gradients of sort, topk, cumsum, cumprod, nanToNum (float64)', () => {
  it.each(CASES)('%s: gradcheck', (_name, fn, make) => {
    expect(gradcheck(fn, make())).toBe(true);
  });
  it.each(CASES)('%s: gradgradcheck', (_name, fn, make) => {
    expect(gradgradcheck(fn, make())).toBe(true);
  });

  it('cumprod: the first-order gradient (O(n)) equals the differentiable one (O(n²)) with zeros', () => {
    const x = f64([[2, 0, 3, 0, 4, 1.5], [1.5, -2, 0, 0.5, 3, 0], [0.5, 1.5, -1, 2, 3, 4]]);
    const w = rt.randn([3, 6], { dtype: 'float64' });
    const [plain] = autograd.grad(x.cumprod(1), x, { gradOutputs: w });
    const [graph] = autograd.grad(x.cumprod(1), x, { gradOutputs: w, createGraph: true });
    expect(graph!.requiresGrad).toBe(true);
    expect(allclose(plain!, graph!.detach(), 1e-12, 1e-12)).toBe(true);
  });

  it('the graph nodes are named as in PyTorch', () => {
    const x = randn(4);
    expect(x.sort().values.gradFn!.name()).toBe('SortBackward0');
    expect(x.sort({ stable: true }).values.gradFn!.name()).toBe('SortBackward1');
    expect(x.topk(2).values.gradFn!.name()).toBe('TopkBackward0');
    expect(x.cumsum(0).gradFn!.name()).toBe('CumsumBackward0');
    expect(x.cumprod(0).gradFn!.name()).toBe('CumprodBackward0');
    expect(x.nanToNum().gradFn!.name()).toBe('NanToNumBackward0');
    expect(x.float().gradFn!.name()).toBe('ToCopyBackward0');
    expect(x.sort().indices.requiresGrad).toBe(false);
  });
});

describe('sort and topk', () => {
  it('is stable and puts NaN last ascending, first descending (PyTorch)', () => {
    const x = rt.tensor([3, NaN, 1, NaN, 2, 2, -0, 0]);
    const up = x.sort();
    expect(up.values.tolist()).toEqual([-0, 0, 1, 2, 2, 3, NaN, NaN]);
    expect(up.indices.tolist()).toEqual([6, 7, 2, 4, 5, 0, 1, 3]);
    const down = x.sort({ descending: true });
    expect(down.values.tolist()).toEqual([NaN, NaN, 3, 2, 2, 1, -0, 0]);
    expect(down.indices.tolist()).toEqual([1, 3, 0, 4, 5, 2, 6, 7]);
    expect(up.indices.dtype).toBe('int32');
  });

  it('sorts int32 and bool tensors, a 0-d tensor and an empty one', () => {
    expect(rt.tensor([3, -1, 2], { dtype: 'int32' }).sort().values.tolist()).toEqual([-1, 2, 3]);
    const b = rt.tensor([true, false, true]).sort();
    expect(b.values.dtype).toBe('bool');
    expect(b.indices.tolist()).toEqual([1, 0, 2]);
    const s = rt.tensor(2.5).sort();
    expect(s.values.shape).toEqual([]);
    expect(s.indices.item()).toBe(0);
    expect(rt.zeros([2, 0]).sort().values.shape).toEqual([2, 0]);
  });

  it('topk returns fresh tensors of k along the dim, and k = 0 an empty one', () => {
    const x = rt.tensor([[1, 5, 3, 4], [8, 2, 7, 6]]);
    const t = x.topk(2);
    expect(t.values.tolist()).toEqual([[5, 4], [8, 7]]);
    expect(t.indices.tolist()).toEqual([[1, 3], [0, 2]]);
    expect(t.values.isContiguous()).toBe(true);
    expect(x.topk(1, 0, false).values.tolist()).toEqual([[1, 2, 3, 4]]);
    expect(x.topk(0).values.shape).toEqual([2, 0]);
    expect(nabla.topk(x, 2, { dim: 0, largest: false }).indices.tolist()).toEqual([[0, 1, 0, 0], [1, 0, 1, 1]]);
  });

  it('the gradient goes back to where each value came from', () => {
    const x = f64([[3, 1, 2], [0, 5, 4]]);
    x.topk(2).values.mul(rt.tensor([[10, 20], [30, 40]], { dtype: 'float64' })).sum().backward();
    expect(x.grad!.tolist()).toEqual([[10, 0, 20], [0, 30, 40]]);
  });

  it('errors name the op, the dim and the size', () => {
    const x = rt.zeros([2, 3]);
    const e = nablaError(() => x.sort(2));
    expect(e.message).toBe('sort: Dimension out of range (expected to be in range of [-2, 1], but got 2)');
    expect(nablaError(() => x.topk(4)).message).toContain('topk: selected index k out of range (k = 4, size of dim 1 is 3');
    expect(nablaError(() => x.topk(-1)).message).toContain('selected index k out of range');
    expect(nablaError(() => x.topk(1.5)).message).toContain('k = 1.5');
    expect(nablaError(() => x.topk(3, 0)).message).toContain('size of dim 0 is 2');
  });
});

describe('cumsum and cumprod', () => {
  it('int32 and bool inputs give int32; a dtype option casts first', () => {
    const c = rt.tensor([true, false, true]).cumsum(0);
    expect(c.dtype).toBe('int32');
    expect(c.tolist()).toEqual([1, 1, 2]);
    expect(rt.tensor([2, -3, 4], { dtype: 'int32' }).cumprod(0).tolist()).toEqual([2, -6, -24]);
    const d = rt.tensor([1, 2], { dtype: 'int32' }).cumsum(0, { dtype: 'float64' });
    expect(d.dtype).toBe('float64');
    expect(d.tolist()).toEqual([1, 3]);
  });

  it('works along any dim of a strided view and of a 0-d tensor', () => {
    const x = rt.arange(6, { dtype: 'float64' }).reshape(2, 3).t();
    expect(x.cumsum(0).tolist()).toEqual([[0, 3], [1, 7], [3, 12]]);
    expect(x.cumprod(1).tolist()).toEqual([[0, 0], [1, 4], [2, 10]]);
    expect(rt.tensor(4).cumsum(-1).item()).toBe(4);
    expect(nabla.cumsum(rt.tensor([1, 2, 3]), 0).tolist()).toEqual([1, 3, 6]);
  });

  it('errors name the op and the dim', () => {
    expect(nablaError(() => rt.zeros([2, 3]).cumsum(2)).message).toBe('cumsum: Dimension out of range (expected to be in range of [-2, 1], but got 2)');
    expect(nablaError(() => rt.zeros([2]).cumprod(-2)).message).toContain('cumprod: Dimension out of range');
    expect(nablaError(() => (rt.zeros([2]).cumsum as (d?: number) => Tensor)()).message).toContain('cumsum: expected an integer dim');
  });
});

describe('predicates and nanToNum', () => {
  const specials = (): Tensor => rt.tensor([NaN, 1.5, Infinity, -Infinity, 0]);

  it('isinf, isposinf, isneginf, isfinite, isnan', () => {
    expect(specials().isinf().tolist()).toEqual([false, false, true, true, false]);
    expect(specials().isposinf().tolist()).toEqual([false, false, true, false, false]);
    expect(specials().isneginf().tolist()).toEqual([false, false, false, true, false]);
    expect(specials().isfinite().tolist()).toEqual([false, true, false, false, true]);
    expect(nabla.isfinite(rt.tensor([1, 2], { dtype: 'int32' })).tolist()).toEqual([true, true]);
    expect(nabla.isinf(rt.tensor([1, 2], { dtype: 'int32' })).dtype).toBe('bool');
  });

  it('nanToNum uses the dtype’s largest finite values by default', () => {
    expect(specials().nanToNum().tolist()).toEqual([0, 1.5, 3.4028234663852886e38, -3.4028234663852886e38, 0]);
    expect(specials().to('float64').nanToNum().tolist()).toEqual([0, 1.5, Number.MAX_VALUE, -Number.MAX_VALUE, 0]);
    expect(specials().nanToNum({ nan: 9, neginf: -1 }).tolist()).toEqual([9, 1.5, 3.4028234663852886e38, -1, 0]);
    expect(nabla.nanToNum(specials(), -1, 2, -2).tolist()).toEqual([-1, 1.5, 2, -2, 0]);
    expect(nablaError(() => specials().nanToNum('a' as unknown as number)).message).toContain('nanToNum: expected a number for nan');
  });

  it('the gradient of nanToNum is 0 where the input was not finite', () => {
    const x = f64([NaN, 1, Infinity, -Infinity, 2]);
    x.nanToNum().sum().backward();
    expect(x.grad!.tolist()).toEqual([0, 1, 0, 0, 1]);
  });

  it('any and all reduce to bool over everything, a dim, or dims, with keepdim', () => {
    const x = rt.tensor([[0, 1, 0], [0, 0, 0]]);
    expect(x.any().item()).toBe(1);
    expect(x.all().item()).toBe(0);
    expect(x.any(1).tolist()).toEqual([true, false]);
    expect(x.any(0, true).tolist()).toEqual([[false, true, false]]);
    expect(x.ne(5).all([0, 1]).tolist()).toBe(true);
    expect(rt.tensor([NaN]).all().dtype).toBe('bool');
    expect(rt.zeros([0]).any().tolist()).toBe(false);
    expect(rt.zeros([0]).all().tolist()).toBe(true);
    expect(nablaError(() => x.any(2)).message).toBe('any: Dimension out of range (expected to be in range of [-2, 1], but got 2)');
    expect(nablaError(() => x.all(-3)).op).toBe('all');
  });
});

describe('isclose and allclose', () => {
  it('broadcast, use PyTorch’s defaults and treat equal infinities as close', () => {
    const a = rt.tensor([[1, 2, NaN, Infinity], [1e-9, -Infinity, 100, 1]]);
    const b = rt.tensor([1 + 1e-6, 2.1, NaN, Infinity]);
    const c = isclose(a, b);
    expect(c.shape).toEqual([2, 4]);
    expect(c.tolist()).toEqual([[true, false, false, true], [false, false, false, false]]);
    expect(a.isclose(b, { equalNan: true }).tolist()).toEqual([[true, false, true, true], [false, false, false, false]]);
    expect(isclose(rt.tensor([1, 10]), rt.tensor([1.5, 10.5]), 0, 0.5).tolist()).toEqual([true, true]);
    expect(allclose(rt.tensor([1, 2]), rt.tensor([1, 2 + 1e-6]))).toBe(true);
    expect(allclose(rt.tensor([1, NaN]), rt.tensor([1, NaN]))).toBe(false);
    expect(allclose(rt.tensor([1, NaN]), rt.tensor([1, NaN]), { equalNan: true })).toBe(true);
  });

  it('refuses two dtypes, negative tolerances and shapes that do not broadcast', () => {
    expect(nablaError(() => isclose(rt.zeros([2]), rt.zeros([2], { dtype: 'float64' }))).message).toContain('isclose: float32 did not match float64');
    expect(nablaError(() => isclose(rt.zeros([2]), rt.zeros([2]), -1)).message).toBe('isclose: rtol must be greater than or equal to zero, but got -1');
    expect(nablaError(() => allclose(rt.zeros([2]), rt.zeros([2]), { atol: -1 })).message).toContain('atol must be greater than or equal to zero, but got -1');
    expect(nablaError(() => isclose(rt.zeros([2]), rt.zeros([3]))).message).toContain('[2] and [3]');
    expect(nablaError(() => isclose(rt.zeros([2]), 1 as unknown as Tensor)).op).toBe('isclose');
  });
});

describe('casts', () => {
  it('float, double, int, bool with PyTorch’s conversions', () => {
    const x = rt.tensor([1.9, -1.9, NaN, 0, -0.5]);
    expect(x.int().tolist()).toEqual([1, -1, 0, 0, 0]);
    expect(x.int().dtype).toBe('int32');
    expect(x.bool().tolist()).toEqual([true, true, true, false, true]);
    expect(x.double().dtype).toBe('float64');
    expect(x.float()).toBe(x);
    expect(rt.tensor([1, 2], { dtype: 'int32' }).float().tolist()).toEqual([1, 2]);
  });

  it('float and double keep the graph (ToCopyBackward0); int and bool end it', () => {
    const x = rt.tensor([1.5, -2], { requiresGrad: true });
    const y = x.double();
    y.mul(y).sum().backward();
    expect(x.grad!.dtype).toBe('float32');
    expect(x.grad!.tolist()).toEqual([3, -4]);
    expect(x.int().requiresGrad).toBe(false);
    expect(x.bool().requiresGrad).toBe(false);
    expect(x.to('int32').gradFn).toBe(null);
  });
});

describe('randLike, randnLike, emptyLike, fullLike', () => {
  it('take the shape, dtype and device of the tensor unless told otherwise', () => {
    const t = rt.zeros([3, 4], { dtype: 'float64' });
    for (const make of [() => rt.randLike(t), () => rt.randnLike(t), () => rt.emptyLike(t), () => rt.fullLike(t, 2)]) {
      const r = make();
      expect(r.shape).toEqual([3, 4]);
      expect(r.dtype).toBe('float64');
      expect(r.device).toBe('cpu');
      expect(r.requiresGrad).toBe(false);
    }
    expect(rt.randLike(t, { dtype: 'float32', requiresGrad: true }).requiresGrad).toBe(true);
    expect(rt.emptyLike(t, { dtype: 'int32' }).dtype).toBe('int32');
  });

  it('are seeded by manualSeed and have the right distribution', () => {
    const t = rt.zeros([20000]);
    rt.manualSeed(3);
    const a = rt.randLike(t);
    rt.manualSeed(3);
    expect(rt.randLike(t).tolist()).toEqual(a.tolist());
    expect(a.min().item()).toBeGreaterThanOrEqual(0);
    expect(a.max().item()).toBeLessThan(1);
    expect(a.mean().item()).toBeCloseTo(0.5, 1);
    const n = rt.randnLike(t);
    expect(n.mean().item()).toBeCloseTo(0, 1);
    expect(n.std().item()).toBeCloseTo(1, 1);
  });

  it('refuse dtypes without random numbers (PyTorch does too) and non-tensors', () => {
    const i = rt.zeros([2], { dtype: 'int32' });
    expect(nablaError(() => rt.randLike(i)).message).toContain('randLike: expected a floating point dtype, got int32');
    expect(nablaError(() => rt.randnLike(rt.zeros([2]), { dtype: 'bool' })).op).toBe('randnLike');
    expect(nablaError(() => nabla.emptyLike([1, 2] as unknown as Tensor)).message).toContain('emptyLike: expected a Tensor');
  });
});

describe('memory', () => {
  it('sort, topk and the cumulative ops forward and backward inside tidy leave nothing behind', () => {
    const x = rt.randn([64, 40], { dtype: 'float64', requiresGrad: true });
    const before = rt.memory();
    rt.tidy(() => {
      const loss = x.sort(1).values.mul(x.topk(5, 0).values.sum()).add(x.cumprod(1)).add(x.cumsum(0)).nanToNum().sum();
      loss.backward();
    });
    x.grad!.dispose();
    x.grad = null;
    const after = rt.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
  });
});
