/**
 * The backward pass frees the gradients it makes as soon as they are consumed, so a training loop
 * that disposes its own tensors holds no storage between steps — without waiting for the garbage
 * collector — while every gradient a user can see (hooks, `autograd.grad`, `.grad`, createGraph)
 * stays alive. Tensors here are over 4 KiB so the CPU backend counts them in `memory()`.
 */
import { autograd, createRuntime, where, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { describe, expect, it } from 'vitest';

const N = 2048; // 16 KiB in float64

async function rt64(): Promise<Runtime> {
  return createRuntime({ plugins: [cpuBackend()] });
}

function ramp(rt: Runtime, n = N, requiresGrad = true): Tensor {
  return rt.arange(n, { dtype: 'float64' }).div(n).requiresGrad_(requiresGrad);
}

describe('backward frees what it makes', () => {
  it('a step whose forward tensors are disposed leaves only the leaf and its .grad', async () => {
    const rt = await rt64();
    const x = ramp(rt);
    const before = rt.memory().numTensors;
    for (let step = 0; step < 5; step++) {
      const a = x.mul(x);
      const b = a.tanh();
      const s = x.sin();
      const c = b.add(s);
      const loss = c.sum();
      loss.backward();
      for (const t of [a, b, s, c, loss]) t.dispose();
      expect(rt.memory().numTensors - before, `step ${step}: only x.grad is new`).toBe(1);
    }
    expect(x.grad!.numel()).toBe(N);
  });

  it('gradients seen by tensor hooks, retainGrad and autograd.grad stay alive', async () => {
    const rt = await rt64();
    const x = ramp(rt);
    const seen: Tensor[] = [];
    const y = x.mul(2);
    y.registerHook((g) => void seen.push(g));
    const z = y.exp();
    z.retainGrad();
    z.sum().backward();
    expect(seen[0]!.isDisposed).toBe(false);
    expect(seen[0]!.dataSync()[1]).toBeCloseTo(Math.exp(2 / N), 12);
    expect(z.grad!.isDisposed).toBe(false);
    expect(x.grad!.dataSync()[1]).toBeCloseTo(2 * Math.exp(2 / N), 12);

    const w = ramp(rt);
    const [g] = autograd.grad([w.mul(w).sum()], [w]);
    expect(g!.isDisposed).toBe(false);
    expect(g!.dataSync()[3]).toBeCloseTo((2 * 3) / N, 12);
  });

  it('node hooks keep what they stash, and createGraph keeps the gradient graph', async () => {
    const rt = await rt64();
    const x = ramp(rt);
    const stash: (Tensor | null)[] = [];
    const y = x.sigmoid();
    y.gradFn!.registerHook((gradIn, gradOut) => void stash.push(gradIn[0]!, gradOut[0]!));
    y.sum().backward();
    expect(stash.every((t) => t !== null && !t.isDisposed)).toBe(true);

    const u = ramp(rt);
    const [du] = autograd.grad([u.pow(3).sum()], [u], { createGraph: true });
    const [d2u] = autograd.grad([du!.sum()], [u]);
    expect(d2u!.dataSync()[5]).toBeCloseTo((6 * 5) / N, 12);
  });

  it('retainGraph: a second backward reuses the saved tensors and gets the same gradient', async () => {
    const rt = await rt64();
    const x = ramp(rt);
    const y = x.exp().mul(x).sum();
    y.backward(null, { retainGraph: true });
    const first = Array.from(x.grad!.dataSync());
    x.grad = null;
    y.backward();
    expect(Array.from(x.grad!.dataSync())).toEqual(first);
  });
});

describe('a backward pass inside another', () => {
  it('a hook that runs autograd.grad through the same leaf leaves the outer pass intact', async () => {
    const rt = await rt64();
    const x = rt.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const inner: number[][] = [];
    const y = x.mul(x);
    y.registerHook((g) => {
      // Backward runs with grad mode off, as in PyTorch; the hook turns it on for its own graph.
      const [gi] = rt.enableGrad(() => autograd.grad([x.mul(3).add(y.detach()).sum()], [x]));
      inner.push(Array.from(gi!.dataSync()));
      return g.mul(2);
    });
    y.add(x).sum().backward();
    expect(inner).toEqual([[3, 3, 3]]);
    // d/dx of sum(x² + x) with the x² path doubled by the hook: 2·2x + 1.
    expect(Array.from(x.grad!.dataSync())).toEqual([5, 9, 13]);
  });
});

describe('the graph saves only what a gradient will read', () => {
  it('x·c, x / c and where(cond, a, b) do not hold x, a or b (their gradients never read them)', async () => {
    const rt = await rt64();
    const x = ramp(rt);
    const bytes = (): number => rt.memory().numBytes;
    for (const op of [(h: Tensor) => h.mul(3), (h: Tensor) => h.div(3), (h: Tensor) => where(h.gt(0.5), h, h.neg())]) {
      const h = x.add(1); // AddBackward saves nothing, so only op can hold h
      const y = op(h);
      const held = bytes();
      h.dispose();
      expect(bytes(), 'h freed at once').toBe(held - N * 8);
      y.sum().backward();
      y.dispose();
    }
    // The gradient still comes out right: d/dx of 3(x+1) + (x+1)/3 + where(...).
    const g = x.grad!.dataSync();
    expect(g[0]).toBeCloseTo(3 + 1 / 3 + 1, 12);
    expect(g[N - 1]).toBeCloseTo(3 + 1 / 3 + 1, 12);
  });

  it('x·w still saves x when w requires grad', async () => {
    const rt = await rt64();
    const x = ramp(rt, N, false).add(1);
    const w = ramp(rt);
    const y = x.mul(w);
    const held = rt.memory().numBytes;
    x.dispose();
    expect(rt.memory().numBytes, 'x pinned by MulBackward0').toBe(held);
    y.sum().backward();
    expect(w.grad!.dataSync()[0]).toBe(1);
  });
});
