/**
 * The classic autograd tutorial, run end to end on the CPU backend. Every expected number is the
 * one PyTorch prints for the same program (checked against torch 1.13).
 */
import * as nabla from '@nabla/core';
import { NablaError, type FunctionCtx, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(async () => {
  await nabla.use(cpuBackend());
});

const f64 = { dtype: 'float64', requiresGrad: true } as const;

/** The numbers of a tensor as a flat JS array. */
const values = (t: Tensor | null): number[] => Array.from(t!.dataSync());

describe('basic gradients', () => {
  it('y = x² + 2x + 1 summed gives x.grad = 2x + 2', () => {
    const x = nabla.tensor([2, 3], { requiresGrad: true });
    const y = x.pow(2).add(x.mul(2)).add(1);
    y.sum().backward();
    expect(x.grad!.tolist()).toEqual([6, 8]);
  });

  it('the graph of relu(a*b + a) has PyTorch node names and gives a.grad = b + 1, b.grad = a', () => {
    const a = nabla.tensor(1, { requiresGrad: true });
    const b = nabla.tensor(2, { requiresGrad: true });
    const c = a.mul(b);
    const d = c.add(a);
    const e = d.relu();
    expect(c.gradFn!.name()).toBe('MulBackward0');
    expect(d.gradFn!.name()).toBe('AddBackward0');
    expect(e.gradFn!.name()).toBe('ReluBackward0');
    expect(e.gradFn!.nextFunctions.map(([n]) => n?.name())).toEqual(['AddBackward0']);
    expect(c.gradFn!.nextFunctions.map(([n]) => n?.name())).toEqual(['AccumulateGrad', 'AccumulateGrad']);
    e.backward();
    expect(a.grad!.item()).toBe(3);
    expect(b.grad!.item()).toBe(1);
  });

  it('the chain rule through z = (x + y)(y − 2) at x=3, y=4 gives x.grad = 2, y.grad = 9', () => {
    const x = nabla.tensor(3, { requiresGrad: true });
    const y = nabla.tensor(4, { requiresGrad: true });
    const z = x.add(y).mul(y.sub(2));
    expect(z.gradFn!.nextFunctions.map(([n]) => n?.name())).toEqual(['AddBackward0', 'SubBackward0']);
    z.backward();
    expect(x.grad!.item()).toBe(2); // y − 2
    expect(y.grad!.item()).toBe(9); // (y − 2) + (x + y)
  });

  it('h = sin(x²) at x=1 gives x.grad = 2·cos(1)', () => {
    const x = nabla.tensor(1, f64);
    x.pow(2).sin().backward();
    expect(x.grad!.item()).toBeCloseTo(2 * Math.cos(1), 6);
  });
});

describe('higher-order derivatives', () => {
  it('x³ − 2x² + x + 1 at x=2 has derivatives 5, 8, 6, 0 through repeated autograd.grad', () => {
    const x = nabla.tensor(2, f64);
    const y = x.pow(3).sub(x.pow(2).mul(2)).add(x).add(1);
    expect(y.item()).toBe(3);
    const [d1] = nabla.autograd.grad(y, x, { createGraph: true });
    const [d2] = nabla.autograd.grad(d1!, x, { createGraph: true });
    const [d3] = nabla.autograd.grad(d2!, x, { createGraph: true });
    expect(d1!.item()).toBe(5); // 3x² − 4x + 1
    expect(d2!.item()).toBe(8); // 6x − 4
    expect(d3!.item()).toBe(6); // 6
    // PyTorch: the third derivative still has a grad_fn (the graph of pow's backward reaches x),
    // so torch.autograd.grad(d3, x) returns tensor(0.) — a real zero, not None, and allow_unused
    // is not needed. We mirror that exactly.
    expect(d3!.requiresGrad).toBe(true);
    const [d4] = nabla.autograd.grad(d3!, x, { createGraph: true });
    expect(d4).not.toBeNull();
    expect(d4!.item()).toBe(0);
  });
});

describe('gradient descent', () => {
  it('minimizes (x − 3)² + 1 from 0 with lr 0.1: after 20 steps x = 3 − 3·0.8²⁰', () => {
    const x = nabla.tensor(0, f64);
    const lr = 0.1;
    for (let step = 0; step < 20; step++) {
      const loss = x.sub(3).pow(2).add(1);
      loss.backward();
      nabla.noGrad(() => x.sub_(x.grad!.mul(lr)));
      x.grad!.zero_();
    }
    expect(Math.abs(x.item() - 3)).toBeLessThan(0.05);
    expect(x.item()).toBeCloseTo(3 - 3 * 0.8 ** 20, 4);
    expect(x.item()).toBeCloseTo(2.9654, 4);
  });
});

describe('hooks', () => {
  it('a tensor hook returning grad·0.1 scales x.grad of y = x² at x=2 to 0.4', () => {
    const x = nabla.tensor(2, f64);
    const y = x.pow(2);
    y.registerHook((g) => g.mul(0.1));
    y.backward();
    expect(x.grad!.item()).toBeCloseTo(0.4, 12);
  });

  it('a gradFn hook halving gradInputs of exp at x=3 gives x.grad = 0.5·e³', () => {
    const x = nabla.tensor(3, f64);
    const y = x.exp();
    expect(y.gradFn!.name()).toBe('ExpBackward0');
    y.gradFn!.registerHook((gradInputs) => gradInputs.map((g) => (g ? g.mul(0.5) : g)));
    y.backward();
    expect(x.grad!.item()).toBeCloseTo(0.5 * Math.exp(3), 10);
  });
});

// ---- custom Functions

class MyReLU extends nabla.Function {
  static override forward(ctx: FunctionCtx, x: Tensor): Tensor {
    ctx.saveForBackward(x);
    return x.clamp(0);
  }
  static override backward(ctx: FunctionCtx, g: Tensor): Tensor {
    const [x] = ctx.savedTensors;
    return g.mul(x!.gt(0));
  }
}

/** Rounds in forward, passes the gradient straight through in backward. */
class StraightThroughRound extends nabla.Function {
  static override forward(_ctx: FunctionCtx, x: Tensor): Tensor {
    return x.round();
  }
  static override backward(_ctx: FunctionCtx, g: Tensor): Tensor {
    return g;
  }
}

class MyMultiplyAdd extends nabla.Function {
  static override forward(ctx: FunctionCtx, a: Tensor, b: Tensor, c: Tensor): Tensor {
    ctx.saveForBackward(a, b);
    return a.mul(b).add(c);
  }
  static override backward(ctx: FunctionCtx, g: Tensor): Tensor[] {
    const [a, b] = ctx.savedTensors;
    return [g.mul(b!), g.mul(a!), g];
  }
}

/** y = alpha·x, with alpha kept on ctx as a free field. */
class Scale extends nabla.Function {
  static override forward(ctx: FunctionCtx, x: Tensor, alpha: number): Tensor {
    ctx.alpha = alpha;
    return x.mul(alpha);
  }
  static override backward(ctx: FunctionCtx, g: Tensor): (Tensor | null)[] {
    return [g.mul(ctx.alpha as number), null];
  }
}

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

/** softplus(x) = log(1 + eˣ), written with ops. */
const softplus = (x: Tensor): Tensor => x.exp().log1p();

/** mish(x) = x·tanh(softplus(x)); mish'(x) = tanh(sp) + x·(1 − tanh²(sp))·sigmoid(x). */
class Mish extends nabla.Function {
  static override forward(ctx: FunctionCtx, x: Tensor): Tensor {
    ctx.saveForBackward(x);
    return x.mul(softplus(x).tanh());
  }
  static override backward(ctx: FunctionCtx, g: Tensor): Tensor {
    const [x] = ctx.savedTensors;
    const t = softplus(x!).tanh();
    const dt = t.square().neg().add(1).mul(x!.sigmoid());
    return g.mul(t.add(x!.mul(dt)));
  }
}

/** Swish with a deliberately wrong backward (drops the x·s·(1 − s) term). */
class WrongSwish extends nabla.Function {
  static override forward(ctx: FunctionCtx, x: Tensor): Tensor {
    ctx.saveForBackward(x);
    return x.mul(x.sigmoid());
  }
  static override backward(ctx: FunctionCtx, g: Tensor): Tensor {
    const [x] = ctx.savedTensors;
    return g.mul(x!.sigmoid());
  }
}

describe('custom Functions', () => {
  it('MyReLU on [-1, 2, -3] passes the gradient only where x > 0: [0, 1, 0]', () => {
    const x = nabla.tensor([-1, 2, -3], { requiresGrad: true });
    const y = MyReLU.apply(x);
    expect(y.tolist()).toEqual([0, 2, 0]);
    expect(y.gradFn!.name()).toBe('MyReLUBackward');
    y.sum().backward();
    expect(x.grad!.tolist()).toEqual([0, 1, 0]);
  });

  it('a straight-through round has gradient [1, 1, 1]', () => {
    const x = nabla.tensor([0.4, 1.6, -2.2], { requiresGrad: true });
    const y = StraightThroughRound.apply(x);
    expect(y.tolist()).toEqual([0, 2, -2]);
    y.sum().backward();
    expect(x.grad!.tolist()).toEqual([1, 1, 1]);
  });

  it('MyMultiplyAdd(a, b, c) = a·b + c returns one gradient per input: b, a, 1', () => {
    const a = nabla.tensor([1, 2], { requiresGrad: true });
    const b = nabla.tensor([3, 4], { requiresGrad: true });
    const c = nabla.tensor([5, 6], { requiresGrad: true });
    const y = MyMultiplyAdd.apply(a, b, c);
    expect(y.tolist()).toEqual([8, 14]);
    expect(y.gradFn!.nextFunctions).toHaveLength(3);
    y.sum().backward();
    expect(a.grad!.tolist()).toEqual([3, 4]);
    expect(b.grad!.tolist()).toEqual([1, 2]);
    expect(c.grad!.tolist()).toEqual([1, 1]);
  });

  it('a Function keeps free fields on ctx (ctx.alpha) for its backward', () => {
    const x = nabla.tensor([1, 2], { requiresGrad: true });
    const y = Scale.apply(x, 2.5);
    expect(y.tolist()).toEqual([2.5, 5]);
    y.sum().backward();
    expect(x.grad!.tolist()).toEqual([2.5, 2.5]);
  });

  it('gradcheck passes for Swish and Mish in float64', () => {
    const x = nabla.tensor([-2, -0.5, 0.1, 1.3, 3], f64);
    expect(nabla.gradcheck((t) => Swish.apply(t), [x])).toBe(true);
    expect(nabla.gradcheck((t) => Mish.apply(t), [x])).toBe(true);
  });

  it('Mish matches mish computed with plain ops, values and gradients', () => {
    const x = nabla.tensor([-2, -0.5, 0.1, 1.3, 3], f64);
    Mish.apply(x).sum().backward();
    const viaFunction = values(x.grad);
    x.grad = null;
    const ref = x.mul(softplus(x).tanh());
    ref.sum().backward();
    const viaOps = values(x.grad);
    viaFunction.forEach((v, i) => expect(v).toBeCloseTo(viaOps[i]!, 12));
  });

  it('gradcheck fails for a wrong backward with a message showing numerical and analytical Jacobians', () => {
    const x = nabla.tensor([-1, 0.5, 2], f64);
    let err: unknown;
    try {
      nabla.gradcheck((t) => WrongSwish.apply(t), [x]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NablaError);
    const msg = (err as Error).message;
    expect(msg).toContain('numerical');
    expect(msg).toContain('analytical');
    expect(msg).toContain('Jacobian mismatch');
  });

  it('gradcheck with raiseException: false returns false for the wrong backward', () => {
    const x = nabla.tensor([-1, 0.5, 2], f64);
    expect(nabla.gradcheck((t) => WrongSwish.apply(t), [x], { raiseException: false })).toBe(false);
  });
});

describe('accumulation', () => {
  it('two backward calls add up: d(x²) + d(x³) at 1 = 2 + 3 = 5, and zero_() resets it', () => {
    const x = nabla.tensor(1, { requiresGrad: true });
    x.pow(2).backward();
    expect(x.grad!.item()).toBe(2);
    x.pow(3).backward();
    expect(x.grad!.item()).toBe(5);
    x.grad!.zero_();
    expect(x.grad!.item()).toBe(0);
  });
});

describe('grad modes', () => {
  it('detach() gives a tensor that shares data but is outside the graph', () => {
    const x = nabla.tensor([1, 2], { requiresGrad: true });
    const y = x.mul(2);
    const d = y.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.gradFn).toBeNull();
    expect(d.isLeaf).toBe(true);
    d.add_(1); // shares storage with y
    expect(y.tolist()).toEqual([3, 5]);
  });

  it('detach() stops the gradient: d(x·detach(x))/dx = x', () => {
    const x = nabla.tensor(3, { requiresGrad: true });
    x.mul(x.detach()).backward();
    expect(x.grad!.item()).toBe(3);
  });

  it('noGrad records no graph, and returns the callback result', () => {
    const x = nabla.tensor([1, 2], { requiresGrad: true });
    const y = nabla.noGrad(() => {
      expect(nabla.isGradEnabled()).toBe(false);
      return x.mul(2);
    });
    expect(nabla.isGradEnabled()).toBe(true);
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(y.tolist()).toEqual([2, 4]);
  });

  it('enableGrad inside noGrad records again', () => {
    const x = nabla.tensor(2, { requiresGrad: true });
    const y = nabla.noGrad(() => nabla.enableGrad(() => x.mul(x)));
    expect(y.requiresGrad).toBe(true);
    expect(y.gradFn!.name()).toBe('MulBackward0');
    y.backward();
    expect(x.grad!.item()).toBe(4);
  });

  it('setGradEnabled(false) is noGrad, setGradEnabled(true) is enableGrad', () => {
    const x = nabla.tensor(2, { requiresGrad: true });
    const off = nabla.setGradEnabled(false, () => x.mul(3));
    expect(off.requiresGrad).toBe(false);
    const on = nabla.noGrad(() => nabla.setGradEnabled(true, () => x.mul(3)));
    expect(on.requiresGrad).toBe(true);
    expect(nabla.isGradEnabled()).toBe(true);
  });

  it('the grad mode is restored when the callback throws', () => {
    expect(() =>
      nabla.noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(nabla.isGradEnabled()).toBe(true);
  });

  it('inferenceMode makes inference tensors that cannot be used in autograd later', () => {
    const w = nabla.tensor([1, 2], { requiresGrad: true });
    const t = nabla.inferenceMode(() => {
      expect(nabla.isInferenceModeEnabled()).toBe(true);
      expect(nabla.isGradEnabled()).toBe(false);
      return nabla.tensor([3, 4]).mul(2);
    });
    expect(nabla.isInferenceModeEnabled()).toBe(false);
    expect(t.requiresGrad).toBe(false);
    expect(t.tolist()).toEqual([6, 8]);
    // PyTorch: "Inference tensors cannot be saved for backward."
    expect(() => t.mul(w)).toThrow(NablaError);
    expect(() => t.mul(w)).toThrow('Inference tensors cannot be saved for backward');
    expect(() => t.requiresGrad_()).toThrow(NablaError);
    // As in PyTorch, an op that saves nothing for backward (add) may still mix them.
    const s = t.add(w);
    s.sum().backward();
    expect(w.grad!.tolist()).toEqual([1, 1]);
  });

  it('a second backward without retainGraph throws PyTorch\'s error; with retainGraph it works', () => {
    const x = nabla.tensor(2, { requiresGrad: true });
    const y = x.mul(x);
    y.backward(null, { retainGraph: true });
    y.backward();
    expect(x.grad!.item()).toBe(8);
    expect(() => y.backward()).toThrow(NablaError);
    expect(() => y.backward()).toThrow('Trying to backward through the graph a second time');
  });
});
