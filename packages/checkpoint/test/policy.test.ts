import { beforeAll, describe, expect, it } from 'vitest';
import { NablaError, type Runtime, type Tensor } from '@nabla/core';
import * as nn from '@nabla/nn';
import { checkpoint, checkpointSequential, isRecomputing, policyFrom, saveMatmuls, saveNames, type SaveDecision, type SavedTensorInfo } from '../src/index.js';
import { cpuRuntime, expectSame, hashed } from './helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

/** Counts the reruns of `fn`. */
function counted(fn: (x: Tensor) => Tensor): { fn: (x: Tensor) => Tensor; reruns: () => number } {
  let n = 0;
  return {
    fn: (x) => {
      if (isRecomputing()) n++;
      return fn(x);
    },
    reruns: () => n,
  };
}

describe('checkpoint policies', () => {
  const w1 = (): Tensor => hashed(rt, [6, 12], 1, { requiresGrad: true });

  it('saveMatmuls keeps what matrix products need: a Linear-ReLU-Linear block needs no rerun', () => {
    const l1 = new nn.Linear(6, 12, { runtime: rt, dtype: 'float64' } as never);
    const l2 = new nn.Linear(12, 6, { runtime: rt, dtype: 'float64' } as never);
    const block = (h: Tensor): Tensor => l2.call(l1.call(h).relu());
    const x = hashed(rt, [3, 6], 2, { requiresGrad: true });
    block(x).square().sum().backward();
    const want = [x.grad!, l1.weight.grad!, l2.weight.grad!];
    for (const t of [x, l1.weight, l2.weight, l1.bias!, l2.bias!]) t.grad = null;
    const c = counted(block);
    checkpoint(c.fn, x, { policy: saveMatmuls }).square().sum().backward();
    expect(c.reruns()).toBe(0);
    [x.grad!, l1.weight.grad!, l2.weight.grad!].forEach((g, i) => expectSame(g, want[i]));
  });

  it('saveNames keeps what the named ops save; the rest is recomputed', () => {
    const w = w1();
    const f = (x: Tensor): Tensor => x.matmul(w).exp().sin().sum();
    const x = hashed(rt, [2, 6], 3);
    f(x).backward();
    const want = w.grad!;
    w.grad = null;
    const seen: string[] = [];
    const c = counted(f);
    const spy = (info: SavedTensorInfo): SaveDecision | undefined => {
      seen.push(info.op);
      return saveNames(['exp'])(info) ?? undefined;
    };
    checkpoint(c.fn, x, { policy: spy }).backward();
    expect(seen).toEqual(expect.arrayContaining(['exp', 'sin']));
    // exp's output is saved (for exp and sin both): nothing is left to recompute
    expect(c.reruns()).toBe(0);
    expectSame(w.grad, want);
    w.grad = null;
    const c2 = counted(f);
    checkpoint(c2.fn, x).backward();
    expect(c2.reruns()).toBe(1);
    expectSame(w.grad, want);
  });

  it('per module in checkpointSequential: policyFrom({ modules })', () => {
    rt.manualSeed(4);
    const model = new nn.Sequential(
      new nn.Linear(6, 6, { runtime: rt, dtype: 'float64' } as never),
      new nn.Tanh(),
      new nn.Linear(6, 6, { runtime: rt, dtype: 'float64' } as never),
      new nn.Sigmoid(),
    );
    const modules: string[] = [];
    const policy = policyFrom({ modules: { Tanh: 'save', '3:Sigmoid': 'save' } });
    const x = hashed(rt, [4, 6], 1, { requiresGrad: true });
    const y = checkpointSequential(model, 1, x, {
      policy: (info) => {
        modules.push(info.module ?? '');
        return policy(info);
      },
    });
    // one segment: the whole model runs plain (the last segment is never checkpointed)
    expect(modules).toEqual([]);
    y.sum().backward();
    x.grad = null;
    const y2 = checkpointSequential([...model.children(), (h: unknown) => (h as Tensor).exp()], 2, x, {
      policy: (info) => {
        modules.push(info.module ?? '');
        return policy(info);
      },
    });
    y2.sum().backward();
    expect(new Set(modules)).toEqual(new Set(['0:Linear', '1:Tanh']));
    expect(policy({ op: 'tanh', producer: null, module: '1:Tanh', shape: [], dtype: 'float64', device: 'cpu', bytes: 8 })).toBe('save');
    expect(policy({ op: 'sigmoid', producer: null, module: '3:Sigmoid', shape: [], dtype: 'float64', device: 'cpu', bytes: 8 })).toBe('save');
    expect(policy({ op: 'mm', producer: null, module: '0:Linear', shape: [], dtype: 'float64', device: 'cpu', bytes: 8 })).toBeUndefined();
  });

  it("'offload' on the cpu keeps the tensor (it already is in host memory)", () => {
    const f = (x: Tensor): Tensor => x.exp().sin().sum();
    const x = hashed(rt, [5], 1, { requiresGrad: true });
    f(x).backward();
    const want = x.grad!;
    x.grad = null;
    const c = counted(f);
    checkpoint(c.fn, x, { policy: () => 'offload' }).backward();
    expect(c.reruns()).toBe(0);
    expectSame(x.grad, want);
  });

  it('a policy that returns something else is a NablaError', () => {
    const x = hashed(rt, [3], 1, { requiresGrad: true });
    expect(() => checkpoint((h: Tensor) => h.exp().sin(), x, { policy: () => 'keep' as never })).toThrow(NablaError);
    expect(() => checkpoint((h: Tensor) => h.exp().sin(), x, { policy: () => 'keep' as never })).toThrow(/must return 'save', 'recompute', 'offload' or undefined \(got 'keep'\)/);
    expect(() => saveNames('exp' as never)).toThrow(/saveNames expects an array/);
    expect(() => policyFrom({ ops: { exp: 'keep' as never } })).toThrow(/got 'keep'/);
  });
});
