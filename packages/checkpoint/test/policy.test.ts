import { beforeAll, describe, expect, it } from 'vitest';
import { NablaError, autograd, type Runtime, type Tensor } from '@nabla/core';
import * as nn from '@nabla/nn';
import { checkpoint, checkpointSequential, isRecomputing, policyFrom, saveMatmuls, saveNames, type CheckpointPolicy, type SaveDecision, type SavedTensorInfo } from '../src/index.js';
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

/**
 * Counts the structured kernels (`addmm`, `bmm`, ...) that run during a recompute, and the ops
 * dispatched meanwhile (`op relu`, ...; an answered op is dispatched but its kernel does not run).
 */
function countRecomputeKernels(fn: () => void): Map<string, number> {
  const ran = new Map<string, number>();
  const onOp = (p: { op: string }): void => {
    if (isRecomputing()) ran.set(`op ${p.op}`, (ran.get(`op ${p.op}`) ?? 0) + 1);
  };
  rt.events.on('op:dispatch', onOp);
  const kernels = rt.kernels;
  const get = kernels.get;
  kernels.get = function (this: typeof kernels, ...a: Parameters<typeof get>) {
    const k = get.apply(this, a) as unknown;
    if (typeof k !== 'function') return k as never;
    return ((...args: unknown[]) => {
      if (isRecomputing()) ran.set(a[0], (ran.get(a[0]) ?? 0) + 1);
      return (k as (...args: unknown[]) => unknown)(...args);
    }) as never;
  } as typeof get;
  try {
    fn();
  } finally {
    kernels.get = get;
    rt.events.off('op:dispatch', onOp);
  }
  return ran;
}

const fmtCounts = (m: Map<string, number>): string => JSON.stringify(Object.fromEntries(m));

describe('checkpoint policies', () => {
  const w1 = (): Tensor => hashed(rt, [6, 12], 1, { requiresGrad: true });

  it('saveMatmuls: the recompute runs no matmul (kernels counted), only the elementwise ops; gradients bit-identical', () => {
    const l1 = new nn.Linear(6, 12, { runtime: rt, dtype: 'float64' } as never);
    const l2 = new nn.Linear(12, 6, { runtime: rt, dtype: 'float64' } as never);
    const l3 = new nn.Linear(6, 6, { runtime: rt, dtype: 'float64' } as never);
    const block = (h: Tensor): Tensor => l3.call(l2.call(l1.call(h).relu()).tanh()).sigmoid();
    const params = [l1, l2, l3].flatMap((l) => l.parameters());
    const x = hashed(rt, [3, 6], 2, { requiresGrad: true });
    block(x).square().sum().backward();
    const want = [x, ...params].map((t) => t.grad!);
    const run = (policy: CheckpointPolicy | undefined): { reruns: number; kernels: Map<string, number> } => {
      for (const t of [x, ...params]) t.grad = null;
      const c = counted(block);
      const kernels = countRecomputeKernels(() => checkpoint(c.fn, x, policy ? { policy } : {}).square().sum().backward());
      [x, ...params].forEach((t, i) => expectSame(t.grad, want[i]));
      return { reruns: c.reruns(), kernels };
    };
    // without a policy the recompute reruns the three addmm
    const plain = run(undefined);
    expect(plain.reruns).toBe(1);
    expect(plain.kernels.get('addmm')).toBe(3);
    // with saveMatmuls it reruns the function but answers each addmm with its kept output
    const sel = run(saveMatmuls);
    expect(sel.reruns).toBe(1);
    expect(sel.kernels.get('addmm') ?? 0).toBe(0);
    expect(sel.kernels.get('bmm') ?? 0).toBe(0);
    // it ran the elementwise ops (relu, tanh, sigmoid) and copied the three kept outputs in
    for (const op of ['relu', 'tanh', 'sigmoid']) expect(sel.kernels.get(`op ${op}`)).toBe(1);
    expect(sel.kernels.get('op copy')).toBe(3);
    console.log(`[checkpoint] kernels run by the recompute: no policy ${fmtCounts(plain.kernels)}; saveMatmuls ${fmtCounts(sel.kernels)}`);
  });

  it('with a policy, a rerun that launches another op where the first run kept an output is a NablaError naming both', () => {
    const w = hashed(rt, [4, 4], 3, { requiresGrad: true });
    let flip = false;
    const f = (h: Tensor): Tensor => (flip ? h.mul(w) : h.mm(w)).tanh();
    const x = hashed(rt, [4, 4], 1);
    const y = checkpoint(f, x, { policy: saveMatmuls });
    flip = true;
    expect(() => y.sum().backward()).toThrow(NablaError);
    flip = false;
    const y2 = checkpoint(f, x, { policy: saveMatmuls });
    flip = true;
    expect(() => y2.sum().backward()).toThrow(
      /checkpoint 'f': the recompute differs from the first run: kernel launch #0 is 'mul' \(kernel elementwise, writing float64 \[4, ?4\] on cpu\), but the first run launched 'mm' \(kernel bmm, writing float64 \[1, ?4, ?4\] on cpu\) there/,
    );
  });

  it('saveMatmuls in nested checkpoints and with createGraph: gradients bit-identical', () => {
    const ws = [1, 2, 3].map((k) => hashed(rt, [5, 5], k, { requiresGrad: true }));
    const inner = (h: Tensor): Tensor => h.mm(ws[1]!).sin().mm(ws[2]!).tanh();
    const plainOuter = (h: Tensor): Tensor => inner(h.mm(ws[0]!).relu()).mul(h);
    const outer = (h: Tensor): Tensor => checkpoint(inner, h.mm(ws[0]!).relu(), { policy: saveMatmuls }).mul(h);
    const x = hashed(rt, [4, 5], 4, { requiresGrad: true });
    const want = autograd.grad(plainOuter(x).square().sum(), [x, ...ws]);
    const got = autograd.grad(checkpoint(outer, x, { policy: saveMatmuls }).square().sum(), [x, ...ws]);
    got.forEach((g, i) => expectSame(g, want[i]));
    // double backward through a selective checkpoint
    const [g1] = autograd.grad(plainOuter(x).sum(), [x], { createGraph: true });
    const [h1] = autograd.grad(g1!.square().sum(), [ws[0]!]);
    const [g2] = autograd.grad(checkpoint(plainOuter, x, { policy: saveMatmuls }).sum(), [x], { createGraph: true });
    const [h2] = autograd.grad(g2!.square().sum(), [ws[0]!]);
    expectSame(g2, g1);
    expectSame(h2, h1);
  });

  it('a kept output changed in place after the forward is recomputed, not reused', () => {
    const w = hashed(rt, [4, 4], 3, { requiresGrad: true });
    const f = (h: Tensor): [Tensor, Tensor] => {
      const m = h.mm(w);
      return [m, m.tanh()];
    };
    const x = hashed(rt, [4, 4], 1);
    const step = (ck: boolean): Tensor => {
      w.grad = null;
      const [m, t] = ck ? checkpoint(f, x, { policy: saveMatmuls }) : f(x);
      m.mul_(2); // tanh saved its own output, so the graph stays valid
      t.sum().add(m.sum()).backward();
      return w.grad!;
    };
    const want = step(false);
    const c = countRecomputeKernels(() => expectSame(step(true), want));
    expect(c.get('bmm')).toBe(1); // the mm ran again: its kept output had changed
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
    expect(policy({ stage: 'saved', op: 'tanh', producer: null, module: '1:Tanh', shape: [], dtype: 'float64', device: 'cpu', bytes: 8 })).toBe('save');
    expect(policy({ stage: 'saved', op: 'sigmoid', producer: null, module: '3:Sigmoid', shape: [], dtype: 'float64', device: 'cpu', bytes: 8 })).toBe('save');
    expect(policy({ stage: 'saved', op: 'mm', producer: null, module: '0:Linear', shape: [], dtype: 'float64', device: 'cpu', bytes: 8 })).toBeUndefined();
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
