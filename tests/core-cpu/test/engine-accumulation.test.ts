/**
 * The engine sums the gradients that meet at a node in place when only that sum's slot holds it
 * (a shared weight receives thousands of contributions). These tests pin down that the sums are
 * right and that nothing else ever sees a sum change: passthrough gradients (add) that go to two
 * slots at once, the same tensor arriving twice, hooks and retainGrad that keep what they saw, a
 * custom Function that returns its own tensor, and gradients that are views of one another.
 */
import { autograd, createRuntime, Function as NFunction, type FunctionCtx, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
});
afterAll(async () => {
  await rt.dispose();
});

const f64 = (v: number | number[] | number[][], requiresGrad = false): Tensor => rt.tensor(v, { dtype: 'float64', requiresGrad });

describe('gradients that meet at a node', () => {
  it('a tanh(x·w + b) chain sharing w and b (n contributions each) matches reverse mode by hand', () => {
    const n = 500;
    const x0 = 0.3;
    const wv = 0.9;
    const bv = 0.1;
    const w = f64(wv, true);
    const b = f64(bv, true);
    let y = f64(x0);
    for (let i = 0; i < n; i++) y = y.mul(w).add(b).tanh();
    y.backward();
    // The same sums in the same order as the engine (latest node first).
    const ys = [x0];
    for (let i = 0; i < n; i++) ys.push(Math.tanh(ys[i]! * wv + bv));
    let gy = 1;
    let gw = 0;
    let gb = 0;
    for (let i = n - 1; i >= 0; i--) {
      const gpre = gy * (1 - ys[i + 1]! * ys[i + 1]!);
      gw += gpre * ys[i]!;
      gb += gpre;
      gy = gpre * wv;
    }
    expect(w.grad!.item()).toBeCloseTo(gw, 12);
    expect(b.grad!.item()).toBeCloseTo(gb, 12);
    expect(Math.abs(gw)).toBeGreaterThan(0.01);
  });

  it('the same gradient tensor arriving twice at one slot counts twice (x + x + x)', () => {
    const x = f64([1, 2], true);
    x.add(x).add(x).sum().backward();
    expect(x.grad!.tolist()).toEqual([3, 3]);
  });

  it('a passthrough gradient held by two slots is not changed by a later sum into one of them', () => {
    // t = s + u with s = u + v: add passes its gradient object to both inputs, so u's slot and
    // s's slot first hold one tensor; s's own gradient must stay what it was.
    const x = f64([1, 2, 3], true);
    const u = x.mul(2);
    const v = x.mul(3);
    const s = u.add(v);
    s.retainGrad();
    const t = s.add(u);
    u.retainGrad();
    v.retainGrad();
    t.backward(f64([1, 10, 100]));
    expect(s.grad!.tolist()).toEqual([1, 10, 100]);
    expect(u.grad!.tolist()).toEqual([2, 20, 200]);
    expect(v.grad!.tolist()).toEqual([1, 10, 100]);
    expect(x.grad!.tolist()).toEqual([7, 70, 700]);
  });

  it('what a tensor hook saw is not changed by sums made after it ran', () => {
    const x = f64([1, 2], true);
    const h = x.mul(1);
    const seen: Tensor[] = [];
    h.registerHook((g) => {
      seen.push(g);
    });
    // h's gradient (2 contributions) reaches x, which also receives a direct one afterwards.
    const out = h.mul(2).add(h.mul(3)).add(x.mul(5));
    out.sum().backward();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.tolist()).toEqual([5, 5]);
    expect(x.grad!.tolist()).toEqual([10, 10]);
  });

  it("a gradient a custom Function returns but made before backward (its own tensor) is never added into", () => {
    const kept: Tensor[] = [];
    class Keep extends NFunction {
      static override forward(_ctx: FunctionCtx, a: Tensor): Tensor {
        kept.push(rt.onesLike(a));
        return a.mul(1);
      }
      static override backward(): Tensor {
        // Returns a tensor the pass did not make: the sum at m must be a new tensor.
        return kept[0]!;
      }
    }
    const x = f64([1, 2], true);
    const m = x.mul(1);
    // Keep is m's newest consumer, so its gradient reaches m first and the others are added to it.
    const out = m.mul(2).add(m.mul(3)).add(Keep.apply(m) as Tensor);
    out.sum().backward();
    expect(kept[0]!.tolist()).toEqual([1, 1]);
    expect(x.grad!.tolist()).toEqual([6, 6]);
  });

  it('gradients that are views (expand, transpose) are summed without writing through them', () => {
    const x = f64([[1, 2, 3]], true);
    const a = x.expand([2, 3]);
    const c = x.mul(1).transpose(0, 1);
    const out = a.sum(0, true).add(c.transpose(0, 1)).add(x.mul(2));
    out.backward(f64([[1, 2, 3]]));
    expect(x.grad!.tolist()).toEqual([[5, 10, 15]]);
  });

  it('autograd.grad through a shared leaf returns the sum, and the pass leaves no tensor behind', () => {
    const w = f64(0.5, true);
    const before = rt.memory().numTensors;
    const [g] = rt.tidy(() => {
      let y = f64(2);
      for (let i = 0; i < 20; i++) y = y.mul(w);
      return autograd.grad(y, w);
    });
    // y = 2·w^20, dy/dw = 40·w^19.
    expect(g!.item()).toBeCloseTo(40 * 0.5 ** 19, 14);
    g!.dispose();
    expect(rt.memory().numTensors).toBe(before);
  });
});
