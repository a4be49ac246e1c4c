/**
 * `tidy`, `keep` and `outsideTidy`: scoped lifetimes for loops that must not grow memory, and the
 * way they meet autograd (saved tensors, leaf gradients, gradients a hook saw). Tensors are over
 * 4 KiB so the CPU backend counts them in `memory()`.
 */
import { autograd, createRuntime, NablaError, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { describe, expect, it } from 'vitest';

const N = 1024; // 8 KiB in float64

async function runtime(): Promise<Runtime> {
  return createRuntime({ plugins: [cpuBackend()] });
}

const live = (rt: Runtime): number => rt.memory().numTensors;

describe('tidy', () => {
  it('frees what it made and keeps what it returns, in any nesting of arrays, objects and Maps', async () => {
    const rt = await runtime();
    const x = rt.ones([N], { dtype: 'float64' });
    const before = live(rt);
    const out = rt.tidy(() => {
      const a = x.mul(2);
      const b = a.add(1);
      b.exp();
      return { first: [b], second: new Map([['k', a.neg()]]) };
    });
    expect(live(rt) - before).toBe(2);
    expect(out.first[0]!.dataSync()[0]).toBe(3);
    expect(out.second.get('k')!.dataSync()[0]).toBe(-2);
    expect(rt.tidy(() => x.mul(3).sum().item())).toBe(3 * N);
    expect(live(rt) - before).toBe(2);
  });

  it('returned tensors belong to the enclosing tidy; keep() and outsideTidy() escape them all', async () => {
    const rt = await runtime();
    const x = rt.ones([N], { dtype: 'float64' });
    let inner: Tensor | null = null;
    let kept: Tensor | null = null;
    let state: Tensor | null = null;
    rt.tidy(() => {
      inner = rt.tidy(() => x.mul(2));
      kept = rt.keep(x.mul(4));
      state = rt.outsideTidy(() => rt.zerosLike(x));
      expect(inner.isDisposed).toBe(false);
    });
    expect(inner!.isDisposed).toBe(true);
    expect(kept!.isDisposed).toBe(false);
    expect(state!.isDisposed).toBe(false);
  });

  it('a training loop in a tidy keeps memory flat without a single dispose', async () => {
    const rt = await runtime();
    rt.manualSeed(0);
    const w = rt.randn([32, 32], { dtype: 'float64', requiresGrad: true });
    const xs = rt.randn([64, 32], { dtype: 'float64' });
    const counts: number[] = [];
    for (let step = 0; step < 50; step++) {
      rt.tidy(() => {
        const loss = xs.matmul(w).tanh().matmul(w).square().mean();
        loss.backward();
        rt.noGrad(() => w.sub_(w.grad!.mul(0.01)));
        w.grad!.zero_();
      });
      counts.push(live(rt));
    }
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(w.grad!.isDisposed).toBe(false);
  });

  it('backward may run after the tidy that built the graph: saved tensors wait for it', async () => {
    const rt = await runtime();
    const x = rt.arange(N, { dtype: 'float64' }).div(N).requiresGrad_();
    const before = live(rt);
    const loss = rt.tidy(() => x.exp().mul(x).sum());
    loss.backward();
    expect(x.grad!.dataSync()[N / 2]).toBeCloseTo(Math.exp(0.5) * 1.5, 12);
    loss.dispose();
    // Only x.grad is new: the exp output the graph held went with the graph.
    expect(live(rt) - before).toBe(1);
  });

  it('gradients returned by autograd.grad or seen by a hook are the tidy’s unless returned', async () => {
    const rt = await runtime();
    const x = rt.ones([N], { dtype: 'float64', requiresGrad: true });
    const before = live(rt);
    let seen: Tensor | null = null;
    const g = rt.tidy(() => {
      const y = x.mul(3);
      y.registerHook((gy) => void (seen = gy));
      const [gx] = autograd.grad([y.sum()], [x]);
      return gx!;
    });
    expect(g.dataSync()[0]).toBe(3);
    expect(seen!.isDisposed).toBe(true);
    expect(live(rt) - before).toBe(1);
  });

  it('a tensor disposed before the backward that saved it is freed with the graph (no alias left)', async () => {
    const rt = await runtime();
    const w = rt.ones([N], { dtype: 'float64', requiresGrad: true });
    const counts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const a = w.mul(2);
      const b = a.square();
      a.dispose();
      const s = b.sum();
      s.backward();
      s.dispose();
      b.dispose();
      w.grad!.dispose();
      w.grad = null;
      counts.push(live(rt));
    }
    expect(new Set(counts).size).toBe(1);
  });

  it('frees what it made when fn throws, and refuses async functions', async () => {
    const rt = await runtime();
    const x = rt.ones([N], { dtype: 'float64' });
    const before = live(rt);
    expect(() =>
      rt.tidy(() => {
        x.mul(2);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(live(rt)).toBe(before);
    let err: unknown = null;
    try {
      rt.tidy(async () => x.mul(2));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NablaError);
    expect((err as Error).message).toContain('tidy cannot run an async function');
  });
});

describe('tidy around passes that build a graph', () => {
  it('frees the gradient graph of autograd.grad(createGraph) except what it returns', async () => {
    const rt = await runtime();
    const x = rt.arange(N, { dtype: 'float64' }).div(N).requiresGrad_();
    const before = live(rt);
    const d2 = rt.tidy(() => {
      const [g] = autograd.grad([x.pow(3).sum()], [x], { createGraph: true });
      const [h] = autograd.grad([g!.sum()], [x]);
      return h!;
    });
    expect(d2.dataSync()[N / 2]).toBeCloseTo(6 * 0.5, 12);
    expect(live(rt) - before).toBe(1);
  });

  it('keeps the .grad that backward(createGraph) accumulates', async () => {
    const rt = await runtime();
    const x = rt.arange(N, { dtype: 'float64' }).div(N).requiresGrad_();
    rt.tidy(() => x.pow(2).sum().backward(null, { createGraph: true }));
    expect(x.grad!.isDisposed).toBe(false);
    expect(x.grad!.requiresGrad).toBe(true);
    expect(x.grad!.dataSync()[N / 2]).toBeCloseTo(1, 12);
  });
});
