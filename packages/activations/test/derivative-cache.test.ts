/**
 * The forward of an activation with a costly derivative keeps f'(x), computed in the same pass as
 * f(x) (core's `ops/elementwise/derivative-cache.ts`), and its first backward is g · f'(x). What
 * PyTorch users can observe must not change: values, the saved listing, in-place checks, double
 * backward, saved-tensor hooks; the cache is counted in `memory()` and freed with the saved values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autograd, createRuntime, type ElementwiseKernel, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import * as act from '../src/index.js';
import { ALL } from '../src/table.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend(), act.activations()] });
});
afterAll(async () => {
  await rt.dispose();
});

const bytes = (): number => rt.memory().numBytes;

/** The ops the backward of `y` w.r.t. `x` dispatches. */
function backwardOps(y: Tensor, x: Tensor, opts: { createGraph?: boolean } = {}): { ops: string[]; dx: Tensor } {
  const ops: string[] = [];
  const listen = (e: { op: string }): void => void ops.push(e.op);
  const g = rt.onesLike(y);
  rt.events.on('op:dispatch', listen);
  const [dx] = autograd.grad(y, x, { gradOutputs: [g], ...opts });
  rt.events.off('op:dispatch', listen);
  return { ops, dx: dx! };
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return m;
}

const FNS: Record<string, (x: Tensor) => Tensor> = {
  silu: act.silu,
  mish: act.mish,
  gelu: (x) => act.gelu(x),
  geluTanh: (x) => act.gelu(x, { approximate: 'tanh' }),
  elu: (x) => act.elu(x, 0.7),
  selu: act.selu,
  celu: (x) => act.celu(x, 1.5),
  softplus: (x) => act.softplus(x, 2, 5),
  logsigmoid: act.logsigmoid,
  tanhshrink: act.tanhshrink,
};

describe('an activation forward keeps f′(x) for its backward', () => {
  it('does so exactly for the activations whose derivative has a transcendental', () => {
    expect(ALL.filter((a) => a.cachedDf !== undefined).map((a) => a.spec.name)).toEqual(Object.keys(FNS));
  });

  for (const [name, fn] of Object.entries(FNS)) {
    for (const dtype of ['float32', 'float64'] as const) {
      // 6400 float32 elements: heap storages, the wasm pair; 7: the JavaScript pair.
      for (const n of [7, 6400]) {
        it(`${name} ${dtype} [${n}]: g · f′(x) is the gradient the x-based formula gives`, () => {
          const x = rt.randn([n], { dtype }).mul(4).requiresGrad_();
          const y = fn(x);
          const noGradY = rt.noGrad(() => fn(x));
          expect(maxRelDiff(y.dataSync(), noGradY.dataSync())).toBe(0);
          const cached = backwardOps(y, x);
          expect(cached.ops).toEqual(['mul']);
          // createGraph: the x-based formula (a graph of the gradient is recorded).
          const formula = backwardOps(fn(x), x, { createGraph: true });
          expect(formula.ops).toContain(`${name}Backward`);
          expect(maxRelDiff(cached.dx.dataSync(), formula.dx.dataSync())).toBeLessThanOrEqual(dtype === 'float32' ? 1e-6 : 1e-14);
        });
      }
    }
  }

  it('takes broadcast gradients (of a sum) and transposed inputs', () => {
    const base = rt.randn([80, 120]).mul(3).requiresGrad_();
    for (const x of [base, base.t()]) {
      const formula = autograd.grad(act.silu(x).sum(), base, { createGraph: true })[0]!.detach();
      const before = bytes();
      const y = act.silu(x);
      expect(bytes() - before).toBe(2 * 80 * 120 * 4); // f'(x) kept
      const [dx] = autograd.grad(y.sum(), base);
      expect(maxRelDiff(dx!.dataSync(), formula.dataSync())).toBeLessThanOrEqual(1e-6);
    }
  });

  it('keeps the saved listing (x alone), counts the cache in memory() and frees it after backward', () => {
    const x = rt.randn([64, 100]).requiresGrad_();
    const B = 64 * 100 * 4;
    const before = bytes();
    const y = act.silu(x);
    expect(y.gradFn!.savedInfo().map((s) => s.name)).toEqual(['self']);
    expect(bytes() - before).toBe(2 * B); // y and f'(x)
    const g = rt.onesLike(y);
    y.backward(g);
    expect(bytes() - before).toBe(3 * B); // y, g, x.grad: f'(x) went with the saved values
    expect(() => y.backward(g)).toThrow(/second time/);
  });

  it('hands f′(x), multiplied by g in place, over as the gradient: .grad without a copy; a retained graph then takes the x-based formula', () => {
    const x = rt.randn([64, 100]).requiresGrad_();
    const B = 64 * 100 * 4;
    const before = bytes();
    const y = act.silu(x);
    const g = rt.onesLike(y).mul_(0.5);
    const ops: string[] = [];
    const listen = (e: { op: string }): void => void ops.push(e.op);
    rt.events.on('op:dispatch', listen);
    y.backward(g, { retainGraph: true });
    const first = x.grad!.dataSync().slice();
    expect(bytes() - before).toBe(3 * B); // y, g, x.grad (was f'(x))
    expect(ops).toEqual(['mul']);
    y.backward(g);
    rt.events.off('op:dispatch', listen);
    expect(ops.slice(1)).toContain('siluBackward');
    expect(bytes() - before).toBe(3 * B);
    expect(maxRelDiff(x.grad!.dataSync(), first.map((v) => 2 * v))).toBeLessThanOrEqual(1e-6);
  });

  it('a gradient that flows on to another node is freed once consumed, as a fresh one is', () => {
    const x = rt.randn([64, 100]).requiresGrad_();
    const B = 64 * 100 * 4;
    const before = bytes();
    const h = x.mul(2);
    const y = act.silu(h); // its gradient (the cache) goes on to MulBackward0, which consumes it
    const g = rt.onesLike(y);
    y.backward(g);
    expect(bytes() - before).toBe(4 * B); // h, y, g, x.grad
  });

  it('createGraph: higher derivatives come from the x-based formula, and the cache goes with the first backward', () => {
    const big = rt.randn([64, 100]).requiresGrad_();
    const B = 64 * 100 * 4;
    const before = bytes();
    const y = act.silu(big);
    const g = rt.onesLike(y);
    const [dBig] = autograd.grad(y, big, { gradOutputs: [g], createGraph: true });
    // y, g and the gradient: f'(x) was freed although the graph is retained.
    expect(bytes() - before).toBe(3 * B);
    const [again] = autograd.grad(y, big, { gradOutputs: [g] });
    expect(maxRelDiff(again!.dataSync(), dBig!.dataSync())).toBe(0);

    const x = rt.tensor([-2, -0.5, 0, 0.5, 2], { dtype: 'float64', requiresGrad: true });
    const [d1] = autograd.grad(act.silu(x).sum(), x, { createGraph: true });
    expect(d1!.gradFn!.name()).toBe('SiluBackwardBackward0');
    const [d2] = autograd.grad(d1!.sum(), x);
    const want = [-2, -0.5, 0, 0.5, 2].map((v) => {
      const s = 1 / (1 + Math.exp(-v));
      return s * (1 - s) * (2 + v * (1 - 2 * s));
    });
    expect(maxRelDiff(d2!.dataSync(), want)).toBeLessThan(1e-12);
  });

  it('createGraph takes g · f′(x) from the cache, recorded as the backward op\'s own node (as the one-output path records it)', async () => {
    const rt2 = await createRuntime({ plugins: [cpuBackend(), act.activations({ keepDerivative: false })] });
    for (const [r, kept] of [[rt, true], [rt2, false]] as const) {
      for (const n of [7, 6400]) {
        r.manualSeed(5);
        const x = r.randn([n]).mul(4).requiresGrad_();
        const y = act.silu(x);
        const g = r.onesLike(y).mul_(0.5);
        const [d] = autograd.grad(y, x, { gradOutputs: [g], createGraph: true });
        // The cache, made in the forward before g, became the gradient.
        expect(d!.id < g.id).toBe(kept);
        expect(d!.gradFn!.name()).toBe('SiluBackwardBackward0');
        const saved = d!.gradFn!.savedInfo().map((s) => `${s.name} ${s.shape.join('x')}`);
        const [d2] = autograd.grad(d!.sum(), x);
        values.set(`${kept} ${n}`, [Array.from(d!.dataSync()), Array.from(d2!.dataSync())]);
        listings.set(`${kept} ${n}`, saved);
      }
    }
    // The same bits with and without the cache (the JavaScript float32 kernel rounds once: 1 ulp).
    expect(values.get('true 6400')).toEqual(values.get('false 6400'));
    for (const n of [7, 6400]) expect(listings.get(`true ${n}`)).toEqual(listings.get(`false ${n}`));
    const [a, b] = [values.get('true 7')!, values.get('false 7')!];
    expect(maxRelDiff(a[0]!, b[0]!)).toBeLessThanOrEqual(1e-7);
    expect(a[1]).toEqual(b[1]);
    await rt2.dispose();
  });
  const values = new Map<string, number[][]>();
  const listings = new Map<string, string[]>();

  it('keeps nothing under saved-tensor hooks: they see all the graph keeps', () => {
    const x = rt.randn([64, 100]).requiresGrad_();
    const B = 64 * 100 * 4;
    const packed: number[][] = [];
    const before = bytes();
    const y = rt.savedTensorsHooks(
      (t: Tensor) => {
        packed.push(t.shape as number[]);
        return t;
      },
      (t: Tensor) => t,
      () => act.silu(x),
    );
    expect(packed).toEqual([[64, 100]]);
    expect(bytes() - before).toBe(B);
    expect(backwardOps(y, x).ops).toEqual(['siluBackward']);
  });

  it('keeps nothing without a graph, and checks x for in-place changes all the same', () => {
    const x = rt.randn([64, 100]).requiresGrad_();
    const before = bytes();
    const y0 = rt.noGrad(() => act.silu(x));
    expect(bytes() - before).toBe(64 * 100 * 4);
    y0.dispose();
    const h = x.mul(1);
    const y = act.silu(h);
    h.mul_(2);
    expect(() => y.backward(rt.onesLike(y))).toThrow(/modified by an inplace operation/);
  });

  it('goes with an enclosing tidy, as the forward\'s other results do; a backward after it computes from x', () => {
    const x = rt.randn([64, 100]).requiresGrad_();
    const B = 64 * 100 * 4;
    const before = bytes();
    // Forward and backward inside: the cache is used.
    rt.tidy(() => {
      expect(backwardOps(act.mish(x), x).ops).toEqual(['mul']);
    });
    expect(bytes() - before).toBe(0);
    // A graph that outlives the tidy keeps y, not f'(x) (nothing left for the garbage collector).
    const y = rt.tidy(() => act.mish(x));
    expect(bytes() - before).toBe(B);
    const { ops, dx } = backwardOps(y, x);
    expect(ops).toEqual(['mishBackward']);
    const ref = backwardOps(act.mish(x), x, { createGraph: true }).dx;
    expect(maxRelDiff(dx.dataSync(), ref.dataSync())).toBeLessThanOrEqual(1e-6);
  });

  it('a kernel registered for the forward op wins over the pair', async () => {
    const rt2 = await createRuntime({ plugins: [cpuBackend(), act.activations()] });
    const twice: ElementwiseKernel = (out, inputs) => {
      const o = (out.storage as unknown as { data: Float32Array }).data;
      const i = (inputs[0]!.storage as unknown as { data: Float32Array }).data;
      for (let k = 0; k < out.shape.reduce((a, b) => a * b, 1); k++) o[out.offset + k] = 2 * i[inputs[0]!.offset + k]!;
    };
    await rt2.use({ name: 'twice', version: '0.0.0', coreRange: '^0.1.0', install: (ctx) => ctx.registerElementwiseKernel({ op: 'silu', device: 'cpu', dtypes: ['float32'], kernel: twice, override: true }) });
    const x = rt2.randn([64, 100]).requiresGrad_();
    const before = rt2.memory().numBytes;
    const y = act.silu(x);
    expect(rt2.memory().numBytes - before).toBe(64 * 100 * 4); // y alone
    expect(maxRelDiff(y.dataSync(), x.detach().mul(2).dataSync())).toBe(0);
    await rt2.dispose();
  });

  it('activations() refuses a keepDerivative that is not a boolean', () => {
    expect(() => act.activations({ keepDerivative: 'no' as never })).toThrow(/@nabla\/activations.*keepDerivative must be true or false, got string no/);
  });

  it('activations({ keepDerivative: false }) keeps nothing: the backward recomputes from x', async () => {
    const rt2 = await createRuntime({ plugins: [cpuBackend(), act.activations({ keepDerivative: false })] });
    const x = rt2.randn([64, 100]).requiresGrad_();
    const before = rt2.memory().numBytes;
    const y = act.gelu(x);
    expect(rt2.memory().numBytes - before).toBe(64 * 100 * 4);
    const ops: string[] = [];
    const g = rt2.onesLike(y);
    rt2.events.on('op:dispatch', (e: { op: string }) => void ops.push(e.op));
    y.backward(g);
    expect(ops).toEqual(['geluBackward']);
    await rt2.dispose();
  });

  it('a backend without the pair kernel keeps the one-output path', async () => {
    const rt2 = await createRuntime({ plugins: [cpuBackend(), act.activations()] });
    const be = rt2.backend('cpu') as { compileElementwisePair?: unknown };
    be.compileElementwisePair = undefined;
    const x = rt2.randn([64, 100]).requiresGrad_();
    const before = rt2.memory().numBytes;
    const y = act.silu(x);
    expect(rt2.memory().numBytes - before).toBe(64 * 100 * 4);
    const ops: string[] = [];
    rt2.events.on('op:dispatch', (e: { op: string }) => void ops.push(e.op));
    y.backward(rt2.onesLike(y));
    expect(ops).toContain('siluBackward');
    expect(ops).not.toContain('mul');
    await rt2.dispose();
  });
});
