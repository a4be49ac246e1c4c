import { beforeAll, describe, expect, it } from 'vitest';
import { autograd, createRuntime, gradcheck, gradgradcheck, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import * as act from '../src/index.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend(), act.activations()] });
});

/** Each activation with PyTorch's default parameters and one non-default setting, and its kinks. */
const CASES: { name: string; fn: (x: Tensor) => Tensor; kinks: number[]; smooth: boolean }[] = [
  { name: 'silu', fn: act.silu, kinks: [0], smooth: true },
  { name: 'mish', fn: act.mish, kinks: [0], smooth: true },
  { name: 'hardswish', fn: act.hardswish, kinks: [-3, 3], smooth: false },
  { name: 'hardsigmoid', fn: act.hardsigmoid, kinks: [-3, 3], smooth: false },
  { name: 'gelu', fn: (x) => act.gelu(x), kinks: [0], smooth: true },
  { name: 'gelu(tanh)', fn: (x) => act.gelu(x, { approximate: 'tanh' }), kinks: [0], smooth: true },
  { name: 'elu', fn: (x) => act.elu(x), kinks: [0], smooth: false },
  { name: 'elu(0.5)', fn: (x) => act.elu(x, 0.5), kinks: [0], smooth: false },
  { name: 'selu', fn: act.selu, kinks: [0], smooth: false },
  { name: 'celu(2)', fn: (x) => act.celu(x, 2), kinks: [0], smooth: false },
  { name: 'softplus', fn: (x) => act.softplus(x), kinks: [20], smooth: true },
  { name: 'softplus(2, 5)', fn: (x) => act.softplus(x, 2, 5), kinks: [2.5], smooth: false },
  { name: 'leakyRelu(0.2)', fn: (x) => act.leakyRelu(x, 0.2), kinks: [0], smooth: false },
  { name: 'relu6', fn: act.relu6, kinks: [0, 6], smooth: false },
  { name: 'hardtanh(-2, 2)', fn: (x) => act.hardtanh(x, -2, 2), kinks: [-2, 2], smooth: false },
  { name: 'softsign', fn: act.softsign, kinks: [0], smooth: false },
  { name: 'logsigmoid', fn: act.logsigmoid, kinks: [], smooth: true },
  { name: 'tanhshrink', fn: act.tanhshrink, kinks: [], smooth: true },
];

/** Random points plus points 1e-3 either side of every kink (finite differences stay on one side). */
function points(kinks: number[]): Tensor {
  rt.manualSeed(7);
  const r = Array.from(rt.randn([12], { dtype: 'float64' }).mul(3).dataSync());
  const near = kinks.flatMap((k) => [k - 1e-3, k + 1e-3, k - 0.1, k + 0.1]);
  return rt.tensor([...r, ...near], { dtype: 'float64', requiresGrad: true });
}

describe('every activation', () => {
  for (const c of CASES) {
    it(`${c.name}: gradcheck and gradgradcheck pass at random points and around the kinks`, () => {
      const x = points(c.kinks);
      expect(gradcheck(c.fn, [x])).toBe(true);
      expect(gradgradcheck(c.fn, [x])).toBe(true);
    });
  }

  it('computes backward as one fused kernel, and names nodes as PyTorch does', () => {
    const x = rt.tensor([-1, 0.5, 2], { dtype: 'float64', requiresGrad: true });
    expect(act.silu(x).gradFn!.name()).toBe('SiluBackward0');
    expect(act.selu(x).gradFn!.name()).toBe('EluBackward0');
    expect(act.relu6(x).gradFn!.name()).toBe('HardtanhBackward0');
    const backwardOps = (y: Tensor): string[] => {
      const ops: string[] = [];
      const listen = (e: { op: string }): void => void ops.push(e.op);
      const g = rt.onesLike(y);
      rt.events.on('op:dispatch', listen);
      const [dx] = autograd.grad(y, x, { gradOutputs: [g] });
      rt.events.off('op:dispatch', listen);
      expect(dx!.shape).toEqual([3]);
      return ops;
    };
    // mish's f'(x) was computed with f(x) by the forward: its backward is g · f'(x).
    expect(backwardOps(act.mish(x))).toEqual(['mul']);
    // hardswish's f'(x) is cheap: nothing is kept, the backward is its one fused kernel.
    expect(backwardOps(act.hardswish(x))).toEqual(['hardswishBackward']);
  });
});

describe('numerical stability', () => {
  const v = (t: Tensor): number[] => Array.from(t.dataSync());
  it('softplus(100) is 100 and softplus is linear above its threshold', () => {
    expect(v(act.softplus(rt.tensor([100, 30], { dtype: 'float64' })))).toEqual([100, 30]);
    expect(v(act.softplus(rt.tensor([100], { dtype: 'float32' })))).toEqual([100]);
  });
  it('mish(-100) and logsigmoid(-100) are finite and right', () => {
    const m = v(act.mish(rt.tensor([-100], { dtype: 'float64' })))[0]!;
    expect(Number.isFinite(m)).toBe(true);
    expect(m).toBeCloseTo(-100 * Math.exp(-100), 50);
    expect(v(act.logsigmoid(rt.tensor([-100, 100], { dtype: 'float64' })))).toEqual([-100, -Math.exp(-100)]);
    expect(v(act.logsigmoid(rt.tensor([-100], { dtype: 'float32' })))).toEqual([-100]);
  });
  it('gradients stay finite for huge inputs', () => {
    const x = rt.tensor([-1e4, -100, 100, 1e4], { dtype: 'float32', requiresGrad: true });
    for (const fn of [act.silu, act.mish, act.gelu, act.logsigmoid, (t: Tensor) => act.softplus(t), act.selu]) {
      x.grad = null;
      fn(x).sum().backward();
      expect(v(x.grad!).every(Number.isFinite)).toBe(true);
    }
  });
});

describe('values at the kinks are PyTorch\'s', () => {
  const grads = (fn: (x: Tensor) => Tensor, xs: number[]): number[] => {
    const x = rt.tensor(xs, { dtype: 'float64', requiresGrad: true });
    fn(x).sum().backward();
    return Array.from(x.grad!.dataSync());
  };
  it('hardswish at -3 and 3', () => expect(grads(act.hardswish, [-3, 3])).toEqual([-0.5, 1.5]));
  it('hardsigmoid at -3 and 3', () => expect(grads(act.hardsigmoid, [-3, 3])).toEqual([0, 0]));
  it('relu6 at 0 and 6', () => expect(grads(act.relu6, [0, 6])).toEqual([0, 0]));
  it('hardtanh at its bounds', () => expect(grads((t) => act.hardtanh(t), [-1, 1])).toEqual([0, 0]));
  it('leakyRelu at 0 takes the negative slope', () => expect(grads((t) => act.leakyRelu(t, 0.1), [0])).toEqual([0.1]));
  it('elu at 0 is alpha', () => expect(grads((t) => act.elu(t, 0.5), [0])).toEqual([0.5]));
});

describe('reference custom Functions', () => {
  const x = (): Tensor => rt.tensor([-4, -1.5, -0.2, 0.3, 2, 5], { dtype: 'float64', requiresGrad: true });
  it('match the fused ops forward and backward', () => {
    for (const [ref, fused] of [
      [act.SwishFunction, act.silu],
      [act.MishFunction, act.mish],
      [act.HardSwishFunction, act.hardswish],
    ] as const) {
      const a = x();
      const b = x();
      const ya = ref.apply(a) as Tensor;
      const yb = fused(b);
      Array.from(ya.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(yb.dataSync()[i]!, 12));
      ya.sum().backward();
      yb.sum().backward();
      Array.from(a.grad!.dataSync()).forEach((g, i) => expect(g).toBeCloseTo(b.grad!.dataSync()[i]!, 12));
      expect(ya.gradFn!.name()).toBe(`${ref.name}Backward`);
    }
  });
  it('Swish and Mish support double backward (gradgradcheck)', () => {
    expect(gradgradcheck((t) => act.SwishFunction.apply(t) as Tensor, [x()])).toBe(true);
    expect(gradgradcheck((t) => act.MishFunction.apply(t) as Tensor, [x()])).toBe(true);
    expect(gradcheck((t) => act.HardSwishFunction.apply(t) as Tensor, [x()])).toBe(true);
  });
});

describe('sample()', () => {
  it('returns x, f(x) and f\'(x) for plotting', () => {
    const s = act.sample(rt, act.silu, { from: -2, to: 2, n: 5 });
    expect(s.x).toEqual([-2, -1, 0, 1, 2]);
    expect(s.y[2]).toBe(0);
    expect(s.dy[2]).toBeCloseTo(0.5, 12);
    expect(s.y[3]).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
  });
});

describe('installation', () => {
  it('refuses to run in a runtime without the plugin', async () => {
    const bare = await createRuntime({ plugins: [cpuBackend()] });
    expect(() => act.silu(bare.tensor([1]))).toThrow(/activations plugin is not installed/);
  });
  it('declares its ops once per runtime', async () => {
    const r = await createRuntime({ plugins: [cpuBackend()] });
    await r.use(act.activations());
    await expect(r.use(act.activations())).rejects.toThrow(/already installed/);
    expect(r.ops.has('gelu')).toBe(true);
  });
});
