/**
 * A leaf's first gradient becomes its `.grad` without a copy when nothing else holds it (PyTorch's
 * AccumulateGrad steals it the same way): an MLP step no longer copies every weight gradient. These
 * tests pin down that a stolen `.grad` is never an alias: of a passthrough gradient that two leaves
 * receive, of what a hook kept, of a user-supplied gradient, of a tensor saved by a kept graph, and
 * that it survives the `tidy` around the backward and accumulates right on a second backward.
 */
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
});
afterAll(async () => {
  await rt.dispose();
});

const leaf = (v: number[]): Tensor => rt.tensor(v, { dtype: 'float64', requiresGrad: true });
const vals = (t: Tensor): number[] => Array.from(t.dataSync());

describe('a first gradient kept as .grad without a copy', () => {
  it('is right, and a second backward accumulates into it', () => {
    const x = leaf([1, 2, 3]);
    x.mul(x).sum().backward();
    expect(vals(x.grad!)).toEqual([2, 4, 6]);
    x.mul(3).sum().backward();
    expect(vals(x.grad!)).toEqual([5, 7, 9]);
  });

  it('never aliases a passthrough gradient that two leaves receive (a + b)', () => {
    const a = leaf([1, 2]);
    const b = leaf([3, 4]);
    a.add(b).mul(2).sum().backward();
    expect(vals(a.grad!)).toEqual([2, 2]);
    expect(vals(b.grad!)).toEqual([2, 2]);
    rt.noGrad(() => a.grad!.add_(10));
    expect(vals(b.grad!)).toEqual([2, 2]);
  });

  it('never aliases what a hook on the leaf kept', () => {
    const x = leaf([1, 2]);
    let seen: Tensor | null = null;
    x.registerHook((g) => {
      seen = g;
    });
    x.mul(3).sum().backward();
    rt.noGrad(() => x.grad!.add_(1));
    expect(vals(x.grad!)).toEqual([4, 4]);
    expect(vals(seen!)).toEqual([3, 3]);
  });

  it('never keeps a user-supplied gradient', () => {
    const x = leaf([1, 2]);
    const g = rt.tensor([5, 6], { dtype: 'float64' });
    x.backward(g);
    rt.noGrad(() => x.grad!.add_(1));
    expect(vals(g)).toEqual([5, 6]);
    expect(vals(x.grad!)).toEqual([6, 7]);
  });

  it('survives the tidy around the backward, and the step frees the temporaries', () => {
    const w = leaf([0.5, -1, 2]);
    const x = rt.tensor([1, 2, 3], { dtype: 'float64' });
    rt.tidy(() => {
      w.mul(x).tanh().sum().backward();
    });
    expect(w.grad!.isDisposed).toBe(false);
    const want = [1, 2, 3].map((xv, i) => xv * (1 - Math.tanh([0.5, -1, 2][i]! * xv) ** 2));
    vals(w.grad!).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
  });

  it('with createGraph the gradient keeps its graph (double backward still right)', () => {
    const x = leaf([1, 2]);
    x.pow(3).sum().backward(undefined, { createGraph: true });
    expect(vals(x.grad!)).toEqual([3, 12]);
    const gx = x.grad!;
    x.grad = null;
    gx.sum().backward();
    expect(vals(x.grad!)).toEqual([6, 12]);
  });
});
