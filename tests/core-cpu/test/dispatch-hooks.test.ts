/**
 * withDispatchHook (PyTorch's TorchDispatchMode, the seam of selective checkpointing): a hook sees
 * every kernel launch with the op, the kernel and the tensors read and written, and may answer a
 * launch with tensors it has, so the kernel does not run and the op's output holds a copy of the
 * answer. Hooks nest, errors name the op, and with no hook the ops run as before.
 */
import { NablaError, createRuntime, storageKey, withDispatchHook, type KernelCall, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
});

const t = (data: number[], shape: number[], requiresGrad = false): Tensor => rt.tensor(data, { shape, dtype: 'float64', requiresGrad });

/** Counts the structured kernels (`bmm`, `sum`, ...) that really run, by wrapping the registry's lookup. */
function countKernels<T>(fn: () => T): { result: T; ran: Map<string, number> } {
  const ran = new Map<string, number>();
  const kernels = rt.kernels;
  const get = kernels.get;
  kernels.get = function (this: typeof kernels, ...a: Parameters<typeof get>) {
    const k = get.apply(this, a) as unknown;
    if (typeof k !== 'function') return k as never;
    return ((...args: unknown[]) => {
      ran.set(a[0], (ran.get(a[0]) ?? 0) + 1);
      return (k as (...args: unknown[]) => unknown)(...args);
    }) as never;
  } as typeof get;
  try {
    return { result: fn(), ran };
  } finally {
    kernels.get = get;
  }
}

describe('withDispatchHook', () => {
  it('sees every kernel launch: the op, the kernel, what it reads and writes', () => {
    const x = t([1, 2, 3, 4], [2, 2]);
    const w = t([1, 0, 0, 1], [2, 2]);
    const calls: KernelCall[] = [];
    const y = withDispatchHook(rt, (c) => void calls.push(c), () => x.matmul(w).relu().sum());
    expect(calls.map((c) => `${c.op}:${c.kernel}`)).toEqual(['mm:bmm', 'relu:elementwise', 'sum:sum']);
    expect(calls[0]!.device).toBe('cpu');
    expect(calls[0]!.reads.map((r) => r.shape)).toEqual([
      [1, 2, 2],
      [1, 2, 2],
    ]);
    expect(calls[0]!.writes.map((r) => r.shape)).toEqual([[1, 2, 2]]);
    expect(storageKey(calls[2]!.writes[0]!)).toBe(storageKey(y));
    expect(y.item()).toBe(10);
  });

  it('an answered launch runs no kernel; the output holds a copy of the answer and its graph is as usual', () => {
    const x = t([1, -2, 3, -4], [2, 2], true);
    const w = t([2, 0, 0, 2], [2, 2], true);
    const plain = x.matmul(w);
    const kept = plain.detach().clone();
    const { result: y, ran } = countKernels(() => withDispatchHook(rt, (c) => (c.op === 'mm' ? [kept.reshape([1, 2, 2])] : undefined), () => x.matmul(w)));
    expect(ran.get('bmm') ?? 0).toBe(0);
    expect(Array.from(y.dataSync())).toEqual(Array.from(plain.dataSync()));
    expect(storageKey(y)).not.toBe(storageKey(kept)); // a copy: the answer stays the hook's
    expect(y.gradFn?.name()).toBe('MmBackward0');
    y.sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([2, 2, 2, 2]);
    // elementwise ops too (exp would give [1, e]), and the ops after an answered one run as usual
    const five = t([5, 5], [2]);
    const z = withDispatchHook(rt, (c) => (c.op === 'exp' ? [five] : undefined), () => t([0, 1], [2]).exp().mul(2));
    expect(Array.from(z.dataSync())).toEqual([10, 10]);
  });

  it('hooks nest: each sees every launch, the innermost answer wins; the copy of an answer is no launch', () => {
    const seen: string[] = [];
    const one = t([1, 1], [2]);
    const two = t([2, 2], [2]);
    const y = withDispatchHook(
      rt,
      (c) => {
        seen.push(`outer ${c.op}`);
        return [one];
      },
      () =>
        withDispatchHook(
          rt,
          (c) => {
            seen.push(`inner ${c.op}`);
            return c.op === 'neg' ? [two] : undefined;
          },
          () => [t([0, 0], [2]).neg(), t([0, 0], [2]).abs()],
        ),
    );
    expect(seen).toEqual(['inner neg', 'outer neg', 'inner abs', 'outer abs']);
    expect(y.map((v) => Array.from(v.dataSync()))).toEqual([
      [2, 2],
      [1, 1],
    ]);
  });

  it('bad answers and bad arguments are NablaErrors naming the op; nothing is left allocated', () => {
    const x = t([1, 2], [2]);
    const wrong = t([1, 2, 3], [3]);
    const before = rt.memory().numTensors;
    expect(() => withDispatchHook(rt, () => [wrong], () => x.exp())).toThrow(NablaError);
    expect(() => withDispatchHook(rt, () => [wrong], () => x.exp())).toThrow(
      /^exp: a dispatch hook answered kernel 'elementwise' write 0 with float64 \[3\] on cpu; the kernel writes float64 \[2\] on cpu/,
    );
    expect(() => withDispatchHook(rt, () => [], () => x.exp())).toThrow(/with 0 tensor\(s\); it writes 1 tensor\(s\)/);
    expect(() => withDispatchHook(rt, () => [wrong.detach()].map((w) => (w.dispose(), w)), () => x.exp())).toThrow(/a disposed tensor/);
    expect(() => withDispatchHook(rt, 3 as never, () => x.exp())).toThrow(/hook must be a function/);
    expect(rt.memory().numTensors).toBe(before); // the outputs of the refused launches were freed
    expect(() => withDispatchHook(rt, () => undefined, (async () => 1) as never)).toThrow(/cannot run an async function/);
    // after a throwing hook, no hook is left in force
    const calls: string[] = [];
    withDispatchHook(rt, (c) => void calls.push(c.op), () => x.neg());
    expect(calls).toEqual(['neg']);
    const after: string[] = [];
    rt.events.on('op:dispatch', (p) => void after.push(p.op));
    x.neg();
    rt.events.removeAllListeners('op:dispatch');
    expect(after).toEqual(['neg']);
  });
});
