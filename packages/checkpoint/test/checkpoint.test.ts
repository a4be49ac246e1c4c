import { beforeAll, describe, expect, it, vi } from 'vitest';
import { NablaError, autograd, type Runtime, type Tensor } from '@nabla/core';
import * as nn from '@nabla/nn';
import { checkpoint, isRecomputing, savedReport } from '../src/index.js';
import { cpuRuntime, expectSame, hashed, values } from './helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

/** A deep elementwise chain (the tutorial's expensive_computation). */
const chain = (x: Tensor): Tensor => {
  let h = x;
  for (let i = 0; i < 5; i++) h = h.relu().sin().cos();
  return h;
};

function mlp(seed: number, depth = 3, width = 6): { params: Tensor[]; block: (h: Tensor, i: number) => Tensor } {
  const params: Tensor[] = [];
  for (let i = 0; i < depth; i++) params.push(hashed(rt, [width, width], seed + i, { requiresGrad: true }));
  return { params, block: (h, i) => h.matmul(params[i]!).tanh().mul(h) };
}

describe('checkpoint: gradients bit-identical to an unchecked run (float64)', () => {
  it('the tutorial chain', () => {
    const x1 = hashed(rt, [10, 10], 1, { requiresGrad: true });
    const y1 = chain(x1);
    y1.sum().backward();
    const x2 = hashed(rt, [10, 10], 1, { requiresGrad: true });
    const y2 = checkpoint(chain, x2);
    expectSame(y1, y2);
    y2.sum().backward();
    expectSame(x1.grad, x2.grad);
  });

  it('an MLP with parameters captured by the function, checkpointed per block', () => {
    const { params, block } = mlp(3);
    const x = hashed(rt, [4, 6], 9);
    let h = x;
    for (let i = 0; i < 3; i++) h = block(h, i);
    h.square().sum().backward();
    const want = params.map((p) => p.grad!);
    for (const p of params) p.grad = null;
    // parameter-only inputs: x does not require grad, only the captured weights do
    let c = x;
    for (let i = 0; i < 3; i++) c = checkpoint(block, c, i);
    c.square().sum().backward();
    params.forEach((p, i) => expectSame(p.grad, want[i]));
  });

  it('a small CNN (conv, relu, max-pool, linear) with its conv block checkpointed', () => {
    rt.manualSeed(2);
    const opts = { runtime: rt, dtype: 'float64' } as never;
    const conv = new nn.Conv2d(1, 3, 3, { ...(opts as object), padding: 1 } as never);
    const pool = new nn.MaxPool2d(2);
    const fc = new nn.Linear(3 * 3 * 3, 2, opts);
    const features = (h: Tensor): Tensor => pool.call(conv.call(h).relu());
    const head = (h: Tensor): Tensor => fc.call(h.flatten(1));
    const params = [...conv.parameters(), ...fc.parameters()];
    const x = hashed(rt, [2, 1, 6, 6], 4, { requiresGrad: true });
    head(features(x)).square().sum().backward();
    const want = [x.grad!, ...params.map((p) => p.grad!)];
    for (const t of [x, ...params]) t.grad = null;
    head(checkpoint(features, x)).square().sum().backward();
    [x.grad!, ...params.map((p) => p.grad!)].forEach((g, i) => expectSame(g, want[i]));
  });

  it('autograd.grad with inputs, and backward with inputs', () => {
    const { params, block } = mlp(5);
    const x = hashed(rt, [3, 6], 2, { requiresGrad: true });
    const plain = block(block(x, 0), 1).sum();
    const want = grad(plain, [x, params[1]!]);
    const ck = checkpoint((h: Tensor) => block(block(h, 0), 1), x).sum();
    const got = grad(ck, [x, params[1]!]);
    expectSame(got[0], want[0]);
    expectSame(got[1], want[1]);
    // backward(inputs) accumulates only into the named tensors
    const ck2 = checkpoint((h: Tensor) => block(block(h, 0), 1), x).sum();
    ck2.backward(undefined, { inputs: [params[0]!] });
    expect(params[1]!.grad).toBeNull();
    expect(x.grad).toBeNull();
    const p0 = params[0]!.grad!;
    params[0]!.grad = null;
    block(block(x, 0), 1).sum().backward(undefined, { inputs: [params[0]!] });
    expectSame(p0, params[0]!.grad);
  });

  it('createGraph: double backward through a checkpoint', () => {
    const f = (x: Tensor): Tensor => x.pow(3).sin().mul(x);
    const x1 = hashed(rt, [5], 4, { requiresGrad: true });
    const [g1] = grad(f(x1).sum(), [x1], true);
    const [h1] = grad(g1!.sum(), [x1]);
    const x2 = hashed(rt, [5], 4, { requiresGrad: true });
    const [g2] = grad(checkpoint(f, x2).sum(), [x2], true);
    const [h2] = grad(g2!.sum(), [x2]);
    expectSame(g1, g2);
    expectSame(h1, h2);
  });

  it('nested checkpoints', () => {
    const inner = (h: Tensor): Tensor => h.sin().mul(h.cos()).exp();
    const outer = (h: Tensor): Tensor => checkpoint(inner, h.tanh().add(1)).mul(h).sigmoid();
    const plainOuter = (h: Tensor): Tensor => inner(h.tanh().add(1)).mul(h).sigmoid();
    const x1 = hashed(rt, [4, 3], 8, { requiresGrad: true });
    plainOuter(x1).sum().backward();
    const x2 = hashed(rt, [4, 3], 8, { requiresGrad: true });
    checkpoint(outer, x2).sum().backward();
    expectSame(x1.grad, x2.grad);
  });

  it('several outputs and non-tensor arguments', () => {
    const f = (a: Tensor, k: number, opts: string[], b: Tensor): [Tensor, Tensor, string] => [a.mul(b).mul(k).exp(), a.sub(b).square(), opts.join('')];
    const a1 = hashed(rt, [3], 1, { requiresGrad: true });
    const b1 = hashed(rt, [3], 2, { requiresGrad: true });
    const [p, q] = f(a1, 3, ['x'], b1);
    p.sum().add(q.sum()).backward();
    const a2 = hashed(rt, [3], 1, { requiresGrad: true });
    const b2 = hashed(rt, [3], 2, { requiresGrad: true });
    const [r, s, tag] = checkpoint(f, a2, 3, ['x', 'y'], b2);
    expect(tag).toBe('xy');
    r.sum().add(s.sum()).backward();
    expectSame(a1.grad, a2.grad);
    expectSame(b1.grad, b2.grad);
  });

  it('the same graph twice with retainGraph', () => {
    const x = hashed(rt, [6], 3, { requiresGrad: true });
    const y = checkpoint(chain, x).sum();
    y.backward(undefined, { retainGraph: true });
    const once = values(x.grad!);
    y.backward();
    expect(values(x.grad!)).toEqual(once.map((v) => v * 2));
  });

  it('under noGrad it just runs the function', () => {
    const x = hashed(rt, [3], 1, { requiresGrad: true });
    const y = rt.noGrad(() => checkpoint(chain, x));
    expect(y.requiresGrad).toBe(false);
    expectSame(y, rt.noGrad(() => chain(x)));
  });
});

function grad(y: Tensor, xs: Tensor[], createGraph = false): (Tensor | null)[] {
  return autograd.grad(y, xs, { createGraph });
}

describe('checkpoint: recompute', () => {
  it('reruns the function once per backward, and not at all in forward', () => {
    let runs = 0;
    const f = (x: Tensor): Tensor => {
      runs++;
      return x.sin().exp();
    };
    const x = hashed(rt, [4], 2, { requiresGrad: true });
    const y = checkpoint(f, x);
    expect(runs).toBe(1);
    y.sum().backward();
    expect(runs).toBe(2);
  });

  it('stops the rerun as soon as every needed tensor exists again', () => {
    const seen: string[] = [];
    const f = (x: Tensor): Tensor => {
      seen.push(isRecomputing() ? 'rerun:a' : 'first:a');
      const a = x.exp(); // saved (output of exp)
      seen.push(isRecomputing() ? 'rerun:b' : 'first:b');
      // sum and mul by a number save nothing that has to be recomputed
      return a.sum().mul(2);
    };
    const x = hashed(rt, [4], 2, { requiresGrad: true });
    checkpoint(f, x).backward();
    expect(seen).toEqual(['first:a', 'first:b', 'rerun:a']);
  });

  it('hooks can tell they run in a recompute; gradient hooks fire once per backward', () => {
    const lin = new nn.Linear(4, 4, { runtime: rt, dtype: 'float64' } as never);
    let forwards = 0;
    let reruns = 0;
    let gradHooks = 0;
    let moduleBackward = 0;
    lin.registerForwardHook(() => {
      if (isRecomputing()) reruns++;
      else forwards++;
    });
    lin.registerFullBackwardHook(() => {
      moduleBackward++;
    });
    const f = (h: Tensor): Tensor => {
      const y = lin.call(h).tanh();
      y.registerHook(() => {
        gradHooks++;
      });
      return y.mul(y);
    };
    const x = hashed(rt, [2, 4], 5, { requiresGrad: true });
    checkpoint(f, x).sum().backward();
    expect([forwards, reruns, gradHooks, moduleBackward]).toEqual([1, 1, 1, 1]);
  });

  it('frees what the function made and did not return, in forward and after backward', () => {
    const x = hashed(rt, [64, 64], 7, { requiresGrad: true }); // 32 KiB: counted by memory()
    const before = rt.memory().numBytes;
    const y = checkpoint(chain, x);
    // only y (and the kept input alias, which shares x's storage) remain
    expect(rt.memory().numBytes - before).toBe(64 * 64 * 8);
    const loss = y.sum(); // a 0-d tensor, counted by memory() like every other
    loss.backward();
    loss.dispose();
    y.dispose();
    x.grad!.dispose();
    x.grad = null;
    expect(rt.memory().numBytes).toBe(before);
  });
});

describe('checkpoint: dropout and RNG', () => {
  it('preserveRngState: dropout draws the same mask in the rerun (gradients equal the unchecked run)', () => {
    const drop = new nn.Dropout(0.5);
    const f = (h: Tensor): Tensor => drop.call(h.exp()).mul(h);
    rt.manualSeed(11);
    const x1 = hashed(rt, [50], 3, { requiresGrad: true });
    f(x1).sum().backward();
    rt.manualSeed(11);
    const x2 = hashed(rt, [50], 3, { requiresGrad: true });
    const y = checkpoint(f, x2);
    // draws made after the checkpoint are not disturbed by the rerun
    const after = rt.getRngState();
    y.sum().backward();
    expect(rt.getRngState()).toEqual(after);
    expectSame(x1.grad, x2.grad);
    expect(values(x1.grad!).filter((v) => v === 0).length).toBeGreaterThan(5);
  });

  it('without preserveRngState the rerun draws a new mask (the gradient then differs)', () => {
    const drop = new nn.Dropout(0.5);
    const f = (h: Tensor): Tensor => drop.call(h.exp()).mul(h);
    rt.manualSeed(11);
    const x1 = hashed(rt, [50], 3, { requiresGrad: true });
    f(x1).sum().backward();
    rt.manualSeed(11);
    const x2 = hashed(rt, [50], 3, { requiresGrad: true });
    checkpoint(f, x2, { preserveRngState: false }).sum().backward();
    expect(values(x1.grad!)).not.toEqual(values(x2.grad!));
  });
});

describe('checkpoint: diagnostics and errors', () => {
  it('warns when a checkpoint saves nothing but its input (the tutorial x ** 2)', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const square = (x: Tensor): Tensor => x.pow(2);
      const x = hashed(rt, [10, 10], 1, { requiresGrad: true });
      checkpoint(square, x).sum().backward();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/checkpoint 'square' saves nothing/);
      warn.mockClear();
      checkpoint(chain, x).sum().backward();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('savedReport lists what a segment would save, with bytes', () => {
    const w = hashed(rt, [8, 16], 2, { requiresGrad: true });
    // x needs a gradient too: mm keeps w only for x's gradient (as PyTorch does).
    const x = hashed(rt, [4, 8], 1, { requiresGrad: true });
    const report = savedReport((h: Tensor) => h.matmul(w).relu().sum(), x);
    expect(report.map((r) => [r.op, r.source, r.shape, r.bytes])).toEqual([
      ['mm', 'input', [4, 8], 4 * 8 * 8],
      ['mm', 'outside', [8, 16], 8 * 16 * 8],
      ['relu', 'inside', [4, 16], 4 * 16 * 8],
    ]);
  });

  it('a rerun that saves other shapes is a NablaError naming the segment and the op; debug shows both op lists', () => {
    let n = 4;
    const wobbly = (x: Tensor): Tensor => x.narrow(0, 0, n--).exp().sum();
    const x = hashed(rt, [6], 1, { requiresGrad: true });
    const y = checkpoint(wobbly, x);
    expect(() => y.backward()).toThrow(NablaError);
    n = 4;
    const y2 = checkpoint(wobbly, x);
    expect(() => y2.backward()).toThrow(/checkpoint 'wobbly': the recompute differs from the first run: tensor #0 it saved for op 'exp' is float64 \[3\] on cpu, but the first run saved float64 \[4\] on cpu.*Pass \{ debug: true \}/s);
    n = 4;
    const y3 = checkpoint(wobbly, x, { debug: true });
    let msg = '';
    try {
      y3.backward();
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/first run\s+\| recompute/);
    expect(msg).toMatch(/#0 exp: float64 \[4\] on cpu\s+\| #0 exp: float64 \[3\] on cpu/);
  });

  it('bad input: a non-function, unknown options', () => {
    const x = hashed(rt, [2], 1);
    expect(() => checkpoint(42 as never, x)).toThrow(NablaError);
    expect(() => checkpoint(42 as never, x)).toThrow(/checkpoint expects a function to run as its first argument, got number 42; call checkpoint\(fn, \.\.\.args, options\?\)/);
    expect(() => checkpoint(chain, x, { preserveRNGState: false } as never)).toThrow(/unknown option 'preserveRNGState'/);
    expect(() => checkpoint(chain, x, { policy: 'save' } as never)).toThrow(/policy must be a function/);
    expect(() => savedReport('fn' as never, x)).toThrow(/savedReport expects a function to run as its first argument, got 'fn'; call savedReport\(fn, \.\.\.args\)/);
  });
});
