/**
 * The wrong calls a new user made (the robustness issue's examples), each refused with a
 * NablaError in the op they called, with their values, and nothing left allocated.
 */
import { createRuntime, NablaError, type Runtime } from '@nabla/core';
import * as nabla from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
  await nabla.use(cpuBackend());
});

/** The NablaError `fn` throws, checking the op it names and that memory() did not move. */
function refused(op: string, fn: () => unknown, r: Runtime = rt): NablaError {
  const before = r.memory();
  let err: unknown = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `${op}: expected a NablaError`).toBeInstanceOf(NablaError);
  const e = err as NablaError;
  expect(e.message.startsWith(`${op}: `), e.message).toBe(true);
  const after = r.memory();
  expect([after.numTensors, after.numBytes]).toEqual([before.numTensors, before.numBytes]);
  return e;
}

const any = (v: unknown): never => v as never;

describe('accepted where PyTorch raises', () => {
  it('expand with 1.5 or NaN, eye(-1)', () => {
    const x = rt.ones([4]);
    expect(refused('expand', () => x.expand(1.5, 4)).message).toContain('1.5');
    expect(refused('expand', () => x.expand(NaN, 4)).message).toContain('NaN');
    expect(refused('eye', () => rt.eye(-1)).message).toContain('-1');
    x.dispose();
  });

  it('bool arithmetic PyTorch rejects, in its words', () => {
    const b = rt.tensor([true, false]);
    expect(refused('neg', () => b.neg()).message).toContain('Negation, the `-` operator, on a bool tensor is not supported');
    expect(refused('sub', () => b.sub(b)).message).toContain('with two bool tensors is not supported');
    expect(refused('sub', () => b.sub(1)).message).toContain('with a bool tensor is not supported');
    refused('abs', () => b.abs());
    expect(refused('relu', () => b.relu()).message).toContain('Boolean inputs not supported for relu');
    for (const op of ['round', 'floor', 'ceil'] as const) expect(refused(op, () => b[op]()).message).toContain("not implemented for 'Bool'");
    // PyTorch accepts pow of bool (an integer result); so does Nabla.
    const p = b.pow(2);
    expect(p.tolist()).toEqual([1, 0]);
    p.dispose();
    b.dispose();
  });

  it('softmax and logSoftmax of int32 and bool', () => {
    const i = rt.tensor([1, 2], { dtype: 'int32' });
    const b = rt.tensor([true, false]);
    expect(refused('softmax', () => i.softmax(0)).message).toContain("'int32'");
    expect(refused('logSoftmax', () => b.logSoftmax(0)).message).toContain("'bool'");
    i.dispose();
    b.dispose();
  });

  it('full with undefined, a string, an object or an array; clamp with a string', () => {
    for (const v of [undefined, 'a', {}, [1, 2]]) refused('full', () => rt.full([2, 3], any(v)));
    const x = rt.ones([2]);
    expect(refused('clamp', () => x.clamp(any('a'), 1)).message).toContain("'a'");
    x.dispose();
  });

  it('detach_ of a view', () => {
    const x = rt.ones([2, 2]);
    const row = x.select(0, 0);
    expect(refused('detach_', () => row.detach_()).message).toContain("Can't detach views in-place");
    row.dispose();
    x.dispose();
  });

  it('setRngState([1, 2]) and manualSeed("abc")', () => {
    const state = rt.getRngState();
    refused('setRngState', () => rt.setRngState([1, 2]));
    refused('manualSeed', () => rt.manualSeed(any('abc')));
    expect(rt.getRngState()).toEqual(state);
  });
});

describe('no bare TypeError or RangeError from inside the library', () => {
  it('huge or infinite sizes', () => {
    refused('arange', () => rt.arange(0, 1e12));
    refused('arange', () => rt.arange(0, Infinity));
    refused('linspace', () => rt.linspace(0, 1, 1e12));
    refused('rand', () => rt.rand([1e10]));
    refused('randn', () => rt.randn([Infinity]));
    refused('eye', () => rt.eye(1e6));
  });

  it('zerosLike(3), noGrad("f"), setRngState(null), reshape(Symbol()), zeros([2n]), amax([0, [1]])', () => {
    refused('zerosLike', () => nabla.zerosLike(any(3)), nabla.defaultRuntime());
    refused('noGrad', () => rt.noGrad(any('f')));
    refused('setRngState', () => rt.setRngState(any(null)));
    const x = rt.ones([2, 2]);
    expect(refused('reshape', () => x.reshape(any(Symbol('s')))).message).toContain('Symbol(s)');
    expect(refused('zeros', () => rt.zeros(any([2n]))).message).toContain('2n');
    refused('amax', () => x.amax(any([0, [1]])));
    x.dispose();
  });
});

describe('nothing left allocated after an error', () => {
  it('zeros(int32, requiresGrad) refuses before allocating', () => {
    refused('zeros', () => rt.zeros([64, 64], { dtype: 'int32', requiresGrad: true }));
    refused('tensor', () => rt.tensor([1, 2], { dtype: 'int32', requiresGrad: true }));
  });

  it('a failed backward frees the gradients it made; autograd.grad with an unused input frees the one it computed', () => {
    const w = rt.ones([2, 3], { requiresGrad: true });
    const u = rt.ones([2], { requiresGrad: true });
    const s = w.mul(2).sum();
    refused('grad', () => nabla.autograd.grad(s, [w, u], { retainGraph: true }));
    const plain = rt.ones([2]);
    refused('grad', () => nabla.autograd.grad(s, [w, plain], { retainGraph: true }));
    // A backward that fails inside the graph (its saved tensors were freed by the first one).
    const y = w.mul(w).sum();
    y.backward();
    w.grad!.dispose();
    w.grad = null;
    refused('MulBackward0', () => y.backward());
    expect(w.grad).toBe(null);
  });

  it('a failed 1-D matmul leaves no view', () => {
    const a = rt.ones([2]);
    const b = rt.ones([3, 3]);
    refused('matmul', () => a.matmul(b));
    a.dispose();
    b.dispose();
  });

  it('a failed tidy body leaves nothing counted', () => {
    const x = rt.ones([2]);
    const before = rt.memory();
    expect(() =>
      rt.tidy(() => {
        x.mul(2);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(rt.memory().numTensors).toBe(before.numTensors);
    expect(rt.memory().numBytes).toBe(before.numBytes);
    x.dispose();
  });
});

describe('messages in the op the user called, with their shapes and values', () => {
  it("norm('fro') is the 2-norm, as in PyTorch", () => {
    const x = rt.tensor([[1, 2], [3, 4]]);
    const n = x.norm('fro');
    expect(n.item()).toBeCloseTo(Math.sqrt(30), 5);
    n.dispose();
    refused('norm', () => x.norm(any('nuc')));
    x.dispose();
  });

  it('batched matmul names the operands; a 1-D matmul says matmul, not mm', () => {
    const a = rt.ones([3, 2, 2]);
    const b = rt.ones([5, 2, 2]);
    const e = refused('matmul', () => a.matmul(b));
    expect(e.message).toContain('[3, 2, 2]');
    expect(e.message).toContain('[5, 2, 2]');
    const v = rt.ones([2]);
    const m = rt.ones([3, 3]);
    const e1 = refused('matmul', () => v.matmul(m));
    expect(e1.message).toContain('(1x2 and 3x3');
    expect(e1.message).toContain('[2]');
    for (const t of [a, b, v, m]) t.dispose();
  });

  it('NaN is shown as NaN; linspace(0, 1, 2.5) says integer', () => {
    expect(refused('zeros', () => rt.zeros([NaN, 2])).message).toContain('[NaN, 2]');
    expect(refused('linspace', () => rt.linspace(0, 1, 2.5)).message).toContain('must be a non-negative integer, got 2.5');
  });

  it('a Function without backward is named', () => {
    class Twice extends nabla.Function {
      static override forward(_ctx: nabla.FunctionCtx, t: nabla.Tensor): nabla.Tensor {
        return t.mul(2);
      }
    }
    const t = rt.tensor([1], { requiresGrad: true });
    const y = Twice.apply(t) as nabla.Tensor;
    const s = y.sum();
    let err: unknown = null;
    try {
      s.backward();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NablaError);
    expect((err as Error).message).toContain('Twice.backward must be overridden');
  });
});

describe('numerics', () => {
  it("pow(0, e)'s gradient w.r.t. e is PyTorch's [0, 0, -inf, 0]", () => {
    for (const base of [0, 'tensor'] as const) {
      const e = rt.tensor([0, 1, -1, 2], { requiresGrad: true, dtype: 'float64' });
      const y = base === 0 ? nabla.pow(0, e) : rt.zeros([4], { dtype: 'float64' }).pow(e);
      y.sum().backward();
      expect(e.grad!.tolist()).toEqual([0, 0, -Infinity, 0]);
    }
  });
});
