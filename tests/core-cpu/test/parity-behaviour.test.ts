/**
 * What a learner porting PyTorch tutorials tripped over (issue 8), each checked against what
 * PyTorch 1.13 does (values and messages from /usr/bin/python3 + torch, quoted in the tests):
 * custom Functions (unbound apply, next functions, setupContext, missing backward),
 * setGradEnabled as a statement, backward({ options }) and tensor([0-d tensors]).
 */
import * as nabla from '@nabla/core';
import { NablaError, type FunctionCtx, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

beforeAll(async () => {
  await nabla.use(cpuBackend());
});
afterEach(() => {
  nabla.setGradEnabled(true);
});

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

/** forward(ctx, x, k, y) = x·k + y with a JS number k between two tensors. */
class Scale extends nabla.Function {
  static override forward(ctx: FunctionCtx, x: Tensor, k: number, y: Tensor): Tensor {
    ctx.k = k;
    return x.mul(k).add(y);
  }
  static override backward(ctx: FunctionCtx, g: Tensor): (Tensor | null)[] {
    return [g.mul(ctx.k as number), null, g];
  }
}

/** PyTorch 2's style: forward without ctx, then setupContext. */
class Cube extends nabla.Function {
  static override forward(x: Tensor): Tensor {
    return x.pow(3);
  }
  static override setupContext(ctx: FunctionCtx, inputs: unknown[]): void {
    ctx.saveForBackward(inputs[0] as Tensor);
  }
  static override backward(ctx: FunctionCtx, g: Tensor): Tensor {
    const [x] = ctx.savedTensors;
    return g.mul(x!.square().mul(3));
  }
}

const f64 = (data: nabla.NestedData, requiresGrad = true): Tensor => nabla.tensor(data, { dtype: 'float64', requiresGrad });

describe('custom Function', () => {
  it('apply works unbound, as gradcheck(Swish.apply, [x]) in the tutorials', () => {
    const x = f64([-1.5, 0.25, 2]);
    expect(nabla.gradcheck(Swish.apply, [x])).toBe(true);
    expect(nabla.gradgradcheck(Swish.apply, [x])).toBe(true);
    const apply = Swish.apply;
    expect(apply(x).gradFn!.name()).toBe('SwishBackward');
    expect(Swish.apply).toBe(Swish.apply); // one bound function per class
    expect(Cube.apply).not.toBe(Swish.apply);
  });

  it('lists only tensor inputs among next functions (torch: 2 AccumulateGrad for Scale(x, 3.0, y))', () => {
    const x = nabla.tensor([1, 2], { requiresGrad: true });
    const y = nabla.tensor([3, 4], { requiresGrad: true });
    const z = Scale.apply(x, 3, y);
    const next = z.gradFn!.nextFunctions;
    expect(next.length).toBe(2);
    expect(next.map(([n, i]) => [n!.name(), i])).toEqual([['AccumulateGrad', 0], ['AccumulateGrad', 0]]);
    z.sum().backward();
    expect(x.grad!.tolist()).toEqual([3, 3]); // torch: tensor([3., 3.])
    expect(y.grad!.tolist()).toEqual([1, 1]); // torch: tensor([1., 1.])
  });

  it('supports setupContext(ctx, inputs, output) with forward(x) without ctx', () => {
    const x = f64([1, 2]);
    const y = Cube.apply(x);
    expect(y.tolist()).toEqual([1, 8]);
    expect(y.gradFn!.name()).toBe('CubeBackward');
    y.sum().backward();
    expect(x.grad!.tolist()).toEqual([3, 12]);
    expect(nabla.gradcheck(Cube.apply, [f64([0.5, -1.25])])).toBe(true);
  });

  it('says which Function lacks backward (torch: NotImplementedError "You must implement either the backward or vjp method ...")', () => {
    class NoBackward extends nabla.Function {
      static override forward(_ctx: FunctionCtx, x: Tensor): Tensor {
        return x.mul(2);
      }
    }
    const y = NoBackward.apply(nabla.tensor([1, 2], { requiresGrad: true })).sum();
    let err: unknown;
    try {
      y.backward();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NablaError);
    expect((err as Error).message).toMatch(/NoBackward: You must implement either the backward or vjp method for your custom autograd\.Function/);
  });
});

describe('grad mode', () => {
  it('setGradEnabled(false) as a statement sets the mode (torch.set_grad_enabled(False): is_grad_enabled() False)', () => {
    const x = nabla.tensor([1, 2], { requiresGrad: true });
    nabla.setGradEnabled(false);
    expect(nabla.isGradEnabled()).toBe(false);
    expect(x.mul(2).requiresGrad).toBe(false);
    nabla.setGradEnabled(true);
    expect(nabla.isGradEnabled()).toBe(true);
    expect(x.mul(2).requiresGrad).toBe(true);
  });

  it('the callback form still restores the mode and returns the result', () => {
    const x = nabla.tensor([1, 2], { requiresGrad: true });
    const y = nabla.setGradEnabled(false, () => x.mul(2));
    expect(y.requiresGrad).toBe(false);
    expect(nabla.isGradEnabled()).toBe(true);
  });
});

describe('backward options', () => {
  it('backward({ retainGraph: true }) takes the options first', () => {
    const x = nabla.tensor([1, 2], { requiresGrad: true });
    const y = x.mul(x).sum();
    y.backward({ retainGraph: true });
    y.backward();
    expect(x.grad!.tolist()).toEqual([4, 8]);
  });

  it('options both first and second are an error that says so', () => {
    const y = nabla.tensor([1, 2], { requiresGrad: true }).sum();
    expect(() => (y.backward as (a: unknown, b: unknown) => void)({ retainGraph: true }, { createGraph: true })).toThrow(/options object/);
  });
});

describe('tensor() from 0-d tensors', () => {
  it('builds [a, b] from 0-d tensors with their dtype, without their graph (torch: float64, requires_grad False)', () => {
    const a = nabla.tensor(1, { dtype: 'float64', requiresGrad: true });
    const b = nabla.tensor(2);
    const t = nabla.tensor([a, b]);
    expect(t.tolist()).toEqual([1, 2]);
    expect(t.dtype).toBe('float64');
    expect(t.requiresGrad).toBe(false);
  });

  it('mixes tensors and numbers in nested lists (torch: [[tensor(1.), 2], [3, 4]] → [[1, 2], [3, 4]])', () => {
    const t = nabla.tensor([[nabla.tensor(1), 2], [3, nabla.tensor(4).mul(1)]]);
    expect(t.shape).toEqual([2, 2]);
    expect(t.tolist()).toEqual([[1, 2], [3, 4]]);
    expect(t.dtype).toBe('float32');
    expect(nabla.tensor([nabla.tensor(true), nabla.tensor(false)]).dtype).toBe('bool');
    expect(nabla.tensor([nabla.tensor(1, { dtype: 'int32' }), 2.5]).dtype).toBe('float32');
  });

  it('refuses tensors of several elements inside a list (torch: ValueError "only one element tensors can be converted ...")', () => {
    expect(() => nabla.tensor([nabla.tensor([1, 2]), nabla.tensor([3, 4])])).toThrow(/only one element tensors can be converted to numbers/);
  });
});
