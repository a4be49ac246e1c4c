/**
 * Gradient clipping: clipGradNorm_ returns the total norm before clipping (2-norm, any p, inf),
 * scales only when above maxNorm, errorIfNonfinite; clipGradValue_ clamps. (The MLP parity test
 * checks both against PyTorch inside a training run.)
 */
import * as nabla from '@nabla/core';
import type { Runtime, Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime, values } from './helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

/** Two parameters whose gradients are [3, 4] and [12] (total 2-norm 13). */
function params(): Tensor[] {
  const a = rt.tensor([0, 0], { dtype: 'float64', requiresGrad: true });
  const b = rt.tensor([0], { dtype: 'float64', requiresGrad: true });
  const c = rt.tensor([0], { dtype: 'float64', requiresGrad: true }); // no gradient: ignored
  a.grad = rt.tensor([3, 4], { dtype: 'float64' });
  b.grad = rt.tensor([12], { dtype: 'float64' });
  return [a, b, c];
}

describe('clipGradNorm_', () => {
  it('returns the total norm and scales the gradients to maxNorm', () => {
    const ps = params();
    const total = nn.utils.clipGradNorm_(ps, 6.5);
    expect(total.item()).toBe(13);
    const coef = 6.5 / (13 + 1e-6);
    expect(values(ps[0]!.grad!)).toEqual([3 * coef, 4 * coef]);
    expect(values(ps[1]!.grad!)).toEqual([12 * coef]);
    expect(ps[2]!.grad).toBeNull();
  });

  it('leaves gradients below maxNorm alone; p = 1 and p = inf norms', () => {
    const ps = params();
    expect(nn.utils.clipGradNorm_(ps, 100).item()).toBe(13);
    expect(values(ps[0]!.grad!)).toEqual([3, 4]);
    expect(nn.utils.clipGradNorm_(params(), 100, 1).item()).toBe(19);
    const inf = params();
    expect(nn.utils.clipGradNorm_(inf, 6, Infinity).item()).toBe(12);
    expect(values(inf[1]!.grad!)[0]).toBeCloseTo(6, 5);
  });

  it('errorIfNonfinite throws on a NaN or infinite norm', () => {
    const ps = params();
    ps[1]!.grad = rt.tensor([Infinity], { dtype: 'float64' });
    expect(() => nn.utils.clipGradNorm_(ps, 1, 2, { errorIfNonfinite: true })).toThrow(/total norm of order 2 for gradients from `parameters` is non-finite/);
    expect(Number.isFinite(nn.utils.clipGradNorm_(params(), 1, 2, { errorIfNonfinite: true }).item())).toBe(true);
  });
});

describe('clipGradValue_', () => {
  it('clamps every gradient element into [-v, v]', () => {
    const ps = params();
    nn.utils.clipGradValue_(ps, 3.5);
    expect(values(ps[0]!.grad!)).toEqual([3, 3.5]);
    expect(values(ps[1]!.grad!)).toEqual([3.5]);
  });
});

describe('clipping a module without parameters (PyTorch: tensor(0.))', () => {
  it('clipGradNorm_ over ReLU returns a zero norm; clipGradValue_ does nothing', async () => {
    await nabla.use(cpuBackend()); // the tutorial's setup: the default runtime
    const model = new nn.Sequential(new nn.Linear(2, 2, { runtime: rt }), new nn.ReLU());
    const norms = model.children().map((layer) => nn.utils.clipGradNorm_(layer.parameters(), 1.0));
    expect(norms[1]!.shape).toEqual([]);
    expect(norms[1]!.item()).toBe(0);
    expect(nn.utils.clipGradNorm_([], 1.0).item()).toBe(0);
    expect(nn.utils.clipGradNorm_([], 1.0, 2, { runtime: rt }).rt).toBe(rt);
    expect(() => nn.utils.clipGradValue_(new nn.ReLU().parameters(), 0.5)).not.toThrow();
  });
});
