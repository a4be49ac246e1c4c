/**
 * Beyond backward(): torch.autograd.functional, anomaly detection, gradgradcheck, hooks of every
 * kind, retainGrad, and backward({ inputs }). Expected values are hand-computed and match
 * torch 1.13's output for the same calls.
 */
import * as nabla from '@nabla/core';
import { AccumulateGrad, NablaError, type FunctionCtx, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

// Anomaly detection is a mode of the default runtime (nabla.autograd.detectAnomaly), so this
// file works in the default runtime.
beforeAll(async () => {
  await nabla.use(cpuBackend());
});

const { jacobian, hessian, vjp, jvp, hvp } = nabla.autograd.functional;
const f64 = (data: nabla.NestedData, requiresGrad = false): Tensor => nabla.tensor(data, { dtype: 'float64', requiresGrad });

/** Compares nested arrays of numbers within `tol`. */
function expectClose(t: Tensor, want: unknown, tol = 1e-10): void {
  const got = t.tolist();
  const walk = (g: unknown, w: unknown, path: string): void => {
    if (Array.isArray(w)) {
      expect(Array.isArray(g), `${path} is an array`).toBe(true);
      expect((g as unknown[]).length, `${path}.length`).toBe(w.length);
      w.forEach((wi, i) => walk((g as unknown[])[i], wi, `${path}[${i}]`));
    } else {
      expect(Math.abs((g as number) - (w as number)), `${path}: got ${String(g)}, expected ${String(w)}`).toBeLessThanOrEqual(tol);
    }
  };
  walk(got, want, 'value');
}

describe('autograd.functional', () => {
  it('jacobian of f: R² → R³ on one tensor is a [3, 2] tensor', () => {
    const f = (x: Tensor): Tensor => nabla.stack([x.select(0, 0).mul(x.select(0, 1)), x.select(0, 0).sin(), x.select(0, 1).square()]);
    const J = jacobian(f, f64([1, 2])) as Tensor;
    expect(J.shape).toEqual([3, 2]);
    expectClose(J, [
      [2, 1],
      [Math.cos(1), 0],
      [0, 4],
    ]);
    expect(J.requiresGrad).toBe(false);
  });

  it('jacobian keeps out.shape ++ in.shape: [4] → [2, 2] gives [2, 2, 4]', () => {
    const J = jacobian((x: Tensor) => x.reshape(2, 2).mul(2), f64([1, 2, 3, 4])) as Tensor;
    expect(J.shape).toEqual([2, 2, 4]);
    expectClose(J.reshape(4, 4), [
      [2, 0, 0, 0],
      [0, 2, 0, 0],
      [0, 0, 2, 0],
      [0, 0, 0, 2],
    ]);
  });

  it('jacobian w.r.t. several inputs returns one Jacobian per input', () => {
    const [Ja, Jb] = jacobian((a: Tensor, b: Tensor) => a.mul(b), [f64([1, 2]), f64([3, 4])]) as Tensor[];
    expectClose(Ja!, [
      [3, 0],
      [0, 4],
    ]);
    expectClose(Jb!, [
      [1, 0],
      [0, 2],
    ]);
  });

  it('hessian of x₀²x₁ + x₁³ at (1, 2) is [[2x₁, 2x₀], [2x₀, 6x₁]] = [[4, 2], [2, 12]]', () => {
    const f = (x: Tensor): Tensor => x.select(0, 0).square().mul(x.select(0, 1)).add(x.select(0, 1).pow(3));
    const H = hessian(f, f64([1, 2])) as Tensor;
    expect(H.shape).toEqual([2, 2]);
    expectClose(H, [
      [4, 2],
      [2, 12],
    ]);
  });

  it('hessian of a tanh composition matches the hand-derived second derivative', () => {
    // f(x) = Σ tanh(x)  ⇒  H = diag(−2·tanh(x)·(1 − tanh²(x)))
    const xs = [0.3, -1.2];
    const H = hessian((x: Tensor) => x.tanh().sum(), f64(xs)) as Tensor;
    const d = xs.map((v) => -2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2));
    expectClose(H, [
      [d[0], 0],
      [0, d[1]],
    ]);
  });

  it('vjp of x² with v = 1 returns [x², 2x]', () => {
    const [out, g] = vjp((x: Tensor) => x.square(), f64([1, 2, 3]), f64([1, 1, 1])) as [Tensor, Tensor];
    expectClose(out, [1, 4, 9]);
    expectClose(g, [2, 4, 6]);
  });

  it('jvp of (x₀x₁, x₀ + x₁) at (3, 4) along (1, 0) is (x₁, 1) = (4, 1)', () => {
    const f = (x: Tensor): Tensor => nabla.stack([x.select(0, 0).mul(x.select(0, 1)), x.select(0, 0).add(x.select(0, 1))]);
    const [out, jv] = jvp(f, f64([3, 4]), f64([1, 0])) as [Tensor, Tensor];
    expectClose(out, [12, 7]);
    expectClose(jv, [4, 1]);
  });

  it('hvp of Σx³ at (1, 2) along (1, 1) is 6x·v = (6, 12)', () => {
    const [out, hv] = hvp((x: Tensor) => x.pow(3).sum(), f64([1, 2]), f64([1, 1])) as [Tensor, Tensor];
    expect(out.item()).toBe(9);
    expectClose(hv, [6, 12]);
  });

  it('functional calls leave the inputs untouched: no .grad, no graph', () => {
    const x = f64([1, 2], true);
    jacobian((t: Tensor) => t.square(), x);
    hessian((t: Tensor) => t.pow(3).sum(), x);
    expect(x.grad).toBeNull();
  });

  it('createGraph: true keeps the Jacobian differentiable', () => {
    const x = f64([1, 2], true);
    const J = jacobian((t: Tensor) => t.pow(3), x, { createGraph: true }) as Tensor; // diag(3x²)
    expect(J.requiresGrad).toBe(true);
    J.sum().backward(); // d/dx Σ 3x² = 6x
    expectClose(x.grad!, [6, 12]);
  });
});

// ---- anomaly detection

/** A Function whose backward produces NaN. */
class NaNGrad extends nabla.Function {
  static override forward(_ctx: FunctionCtx, x: Tensor): Tensor {
    return x.mul(2);
  }
  static override backward(_ctx: FunctionCtx, g: Tensor): Tensor {
    return g.mul(Number.NaN);
  }
}

describe('anomaly detection', () => {
  it('names the node whose backward returned NaN and shows where its forward ran', () => {
    const x = f64([1, 2], true);
    let err: unknown;
    try {
      nabla.autograd.detectAnomaly(() => {
        const y = NaNGrad.apply(x).exp();
        y.sum().backward();
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NablaError);
    const msg = (err as Error).message;
    expect(msg).toContain('NaNGradBackward');
    expect(msg).toContain('returned nan values');
    expect(msg).toContain('forward'); // from the stack stored when the forward ran
    expect(msg).toContain('forward of NaNGrad');
    expect(msg).toContain('autograd-extras.test.ts'); // the stack points here
    expect((err as NablaError).op).toBe('NaNGradBackward');
  });

  it('is off outside detectAnomaly: the NaN lands in .grad silently, as in PyTorch', () => {
    const x = f64([1, 2], true);
    NaNGrad.apply(x).sum().backward();
    expect(Array.from(x.grad!.dataSync()).every((v) => Number.isNaN(v))).toBe(true);
  });

  it('setDetectAnomaly(true) turns it on until turned off', () => {
    nabla.autograd.setDetectAnomaly(true);
    try {
      const x = f64([1], true);
      expect(() => NaNGrad.apply(x).sum().backward()).toThrow('NaNGradBackward');
    } finally {
      nabla.autograd.setDetectAnomaly(false);
    }
    const x = f64([1], true);
    expect(() => NaNGrad.apply(x).sum().backward()).not.toThrow();
  });

  it('an error inside a backward also carries the forward stack', () => {
    class Throws extends nabla.Function {
      static override forward(_ctx: FunctionCtx, x: Tensor): Tensor {
        return x.clone();
      }
      static override backward(): Tensor {
        throw new Error('backward exploded');
      }
    }
    const x = f64([1], true);
    const err = (() => {
      try {
        nabla.autograd.detectAnomaly(() => Throws.apply(x).sum().backward());
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(NablaError);
    expect(err!.message).toContain("Function 'ThrowsBackward' failed: backward exploded");
    expect(err!.message).toContain('forward of Throws');
  });
});

// ---- gradgradcheck

class Swish extends nabla.Function {
  static override forward(ctx: FunctionCtx, x: Tensor): Tensor {
    ctx.saveForBackward(x);
    return x.mul(x.sigmoid());
  }
  static override backward(ctx: FunctionCtx, g: Tensor): Tensor {
    const [x] = ctx.savedTensors;
    const s = x!.sigmoid();
    return g.mul(s.mul(x!.mul(s.neg().add(1)).add(1)));
  }
}

describe('gradgradcheck', () => {
  const x = (): Tensor => f64([-1.5, -0.2, 0.4, 1.1], true);
  const y = (): Tensor => f64([0.3, -0.7, 1.2, 0.5], true);

  it('passes for tanh, sigmoid and exp and their compositions in float64', () => {
    expect(nabla.gradgradcheck((t) => t.tanh(), [x()])).toBe(true);
    expect(nabla.gradgradcheck((t) => t.sigmoid(), [x()])).toBe(true);
    expect(nabla.gradgradcheck((t) => t.exp(), [x()])).toBe(true);
    expect(nabla.gradgradcheck((t) => t.tanh().sigmoid().exp(), [x()])).toBe(true);
    expect(nabla.gradgradcheck((t) => t.sigmoid().mul(t.tanh()).add(t.exp().mul(0.1)), [x()])).toBe(true);
  });

  it('passes for functions of two inputs', () => {
    expect(nabla.gradgradcheck((a, b) => a.mul(b).tanh().add(b.sigmoid().mul(a.exp())), [x(), y()])).toBe(true);
  });

  it('passes for a custom Function whose backward is written with ops', () => {
    expect(nabla.gradcheck((t) => Swish.apply(t), [x()])).toBe(true);
    expect(nabla.gradgradcheck((t) => Swish.apply(t), [x()])).toBe(true);
  });

  it('second derivatives of tanh, sigmoid and exp are the known closed forms', () => {
    const v = 0.7;
    const t = Math.tanh(v);
    const s = 1 / (1 + Math.exp(-v));
    const cases: [(u: Tensor) => Tensor, number][] = [
      [(u) => u.tanh(), -2 * t * (1 - t * t)],
      [(u) => u.sigmoid(), s * (1 - s) * (1 - 2 * s)],
      [(u) => u.exp(), Math.exp(v)],
    ];
    for (const [f, want] of cases) {
      const u = f64(v, true);
      const [d1] = nabla.autograd.grad(f(u), u, { createGraph: true });
      const [d2] = nabla.autograd.grad(d1!, u);
      expect(d2!.item()).toBeCloseTo(want, 12);
    }
  });
});

// ---- hooks

describe('tensor hooks', () => {
  it('a hook on a leaf replaces its gradient before it is accumulated', () => {
    const x = f64([1, 2], true);
    x.registerHook((g) => g.mul(2));
    x.mul(3).sum().backward();
    expectClose(x.grad!, [6, 6]);
  });

  it('a hook on an intermediate replaces the gradient flowing on to its inputs', () => {
    const x = f64([1, 2], true);
    const h = x.square();
    const seen: number[][] = [];
    h.registerHook((g) => {
      seen.push(Array.from(g.dataSync()));
      return g.add(1);
    });
    h.mul(3).sum().backward();
    expect(seen).toEqual([[3, 3]]);
    expectClose(x.grad!, [8, 16]); // (3 + 1) · 2x
  });

  it('hooks run in registration order, each seeing the previous result; a hook returning nothing keeps the gradient', () => {
    const x = f64(1, true);
    const y = x.mul(5);
    const order: string[] = [];
    y.registerHook((g) => {
      order.push(`a ${g.item()}`);
      return g.mul(2);
    });
    y.registerHook((g) => {
      order.push(`b ${g.item()}`);
    });
    y.registerHook((g) => {
      order.push(`c ${g.item()}`);
      return g.add(1);
    });
    y.backward();
    expect(order).toEqual(['a 1', 'b 2', 'c 2']);
    expect(x.grad!.item()).toBe(15); // (2 + 1) · 5
  });

  it('remove() unregisters a hook', () => {
    const x = f64(1, true);
    const handle = x.registerHook((g) => g.mul(100));
    handle.remove();
    x.mul(2).backward();
    expect(x.grad!.item()).toBe(2);
  });

  it('a hook cannot go on a tensor that does not require grad', () => {
    expect(() => f64([1]).registerHook((g) => g)).toThrow(NablaError);
  });
});

describe('registerPostAccumulateGradHook', () => {
  it('runs after .grad was accumulated (after the tensor hooks), once per backward', () => {
    const x = f64([1, 2], true);
    x.registerHook((g) => g.mul(2));
    const seen: number[][] = [];
    x.registerPostAccumulateGradHook((t) => seen.push(Array.from(t.grad!.dataSync())));
    x.mul(3).sum().backward();
    x.mul(3).sum().backward();
    expect(seen).toEqual([
      [6, 6],
      [12, 12],
    ]);
  });

  it('can step a parameter inside backward (the optimizer-in-backward pattern)', () => {
    const p = f64([1, 2], true);
    p.registerPostAccumulateGradHook((t) => {
      nabla.noGrad(() => t.sub_(t.grad!.mul(0.1)));
      t.grad = null;
    });
    p.square().sum().backward(); // grad 2p = [2, 4]
    expectClose(p, [0.8, 1.6]);
    expect(p.grad).toBeNull();
  });

  it('only goes on leaves that require grad', () => {
    const x = f64([1], true);
    expect(() => x.mul(2).registerPostAccumulateGradHook(() => {})).toThrow(NablaError);
    expect(() => f64([1]).registerPostAccumulateGradHook(() => {})).toThrow(NablaError);
  });
});

describe('retainGrad', () => {
  it('keeps .grad of an intermediate; without it the intermediate has none', () => {
    const x = f64([1, 2], true);
    const h = x.mul(3);
    const k = h.square();
    h.retainGrad();
    expect(h.retainsGrad).toBe(true);
    expect(k.retainsGrad).toBe(false);
    expect(x.retainsGrad).toBe(false);
    k.sum().backward();
    expectClose(h.grad!, [6, 12]); // 2h
    expect(k.grad).toBeNull();
    expectClose(x.grad!, [18, 36]);
    expect(h.isLeaf).toBe(false);
  });

  it('sees the gradient after the tensor hooks', () => {
    const x = f64(1, true);
    const h = x.mul(2);
    h.retainGrad();
    h.registerHook((g) => g.mul(10));
    h.backward();
    expect(h.grad!.item()).toBe(10);
    expect(x.grad!.item()).toBe(20);
  });
});

describe('graph nodes', () => {
  it('gradFn.registerPrehook sees the gradients of the outputs and may replace them', () => {
    const x = f64(2, true);
    const y = x.mul(3);
    const seen: number[] = [];
    y.gradFn!.registerPrehook((gradOutputs) => {
      seen.push(gradOutputs[0]!.item());
      return gradOutputs.map((g) => g!.mul(10));
    });
    y.backward();
    expect(seen).toEqual([1]);
    expect(x.grad!.item()).toBe(30);
  });

  it('gradFn.registerHook sees gradInputs and gradOutputs', () => {
    const a = f64(2, true);
    const b = f64(5, true);
    const y = a.mul(b);
    let seen: [number[], number[]] | null = null;
    y.gradFn!.registerHook((gi, go) => {
      seen = [gi.map((g) => g!.item()), go.map((g) => g!.item())];
    });
    y.backward(f64(2));
    expect(seen).toEqual([
      [10, 4],
      [2],
    ]);
  });

  it('nextFunctions of an op on leaves end in AccumulateGrad nodes holding the leaves', () => {
    const x = f64([1], true);
    const y = x.mul(2);
    const [[acc, nr]] = y.gradFn!.nextFunctions as [[AccumulateGrad, number]];
    expect(acc.name()).toBe('AccumulateGrad');
    expect(acc).toBeInstanceOf(AccumulateGrad);
    expect(acc.variable).toBe(x);
    expect(nr).toBe(0);
    // a JS number operand gets no edge (PyTorch shows None)
    expect(y.gradFn!.nextFunctions[1]).toEqual([null, 0]);
  });
});

describe('backward({ inputs })', () => {
  it('accumulates only into the listed leaves', () => {
    const x = f64(2, true);
    const y = f64(3, true);
    const z = x.mul(y);
    z.backward(null, { inputs: [x], retainGraph: true });
    expect(x.grad!.item()).toBe(3);
    expect(y.grad).toBeNull();
    nabla.autograd.backward(z, { inputs: [y] });
    expect(y.grad!.item()).toBe(2);
    expect(x.grad!.item()).toBe(3);
  });

  it('a non-leaf input gets its .grad and nothing flows past it', () => {
    // torch 1.13: h = x*3; (h*h).backward(inputs=[h]) → h.grad = 12, x.grad = None
    const x = f64(2, true);
    const h = x.mul(3);
    h.mul(h).backward(null, { inputs: [h] });
    expect(h.grad!.item()).toBe(12);
    expect(x.grad).toBeNull();
  });

  it('an empty inputs list is an error', () => {
    const x = f64(2, true);
    expect(() => x.mul(2).backward(null, { inputs: [] })).toThrow("'inputs' argument to backward() cannot be empty.");
  });
});

describe('autograd.grad', () => {
  it('returns gradients without touching .grad', () => {
    const x = f64([1, 2], true);
    const [g] = nabla.autograd.grad(x.pow(3).sum(), [x]);
    expectClose(g!, [3, 12]);
    expect(x.grad).toBeNull();
  });

  it('takes gradOutputs for non-scalar outputs', () => {
    const x = f64([1, 2], true);
    const [g] = nabla.autograd.grad(x.square(), x, { gradOutputs: [f64([1, 10])] });
    expectClose(g!, [2, 40]);
  });
});
