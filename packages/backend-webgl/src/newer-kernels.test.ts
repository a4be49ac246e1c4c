/**
 * The kernels core added after this backend's first version — sort (and topk through it),
 * cumsum/cumprod, scatter, addmm, bool scatterAdd — forward and backward on strided inputs,
 * against the CPU backend, and what they cost in compiles: a new shape none, a longer loop one.
 */
import type { Runtime, Tensor } from '@nabla/core';
import { randoms } from '@nabla/backend-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebGLBackend } from './backend.js';
import { glRuntime, probe } from './test-utils/setup.js';

const gl = await probe();

type D = 'float32' | 'int32' | 'bool';

/** |got - want| <= atol + rtol·|want|, NaN matching NaN, infinities exactly. */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, label: string, rtol = 1e-5, atol = 1e-6): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const g = Number(got[i]);
    const w = Number(want[i]);
    const ok = Number.isNaN(w) || Number.isNaN(g) ? Number.isNaN(w) && Number.isNaN(g) : !Number.isFinite(w) || !Number.isFinite(g) ? g === w : Math.abs(g - w) <= atol + rtol * Math.abs(w);
    if (!ok && bad.length < 6) bad.push(`[${i}] webgl ${g}, cpu ${w}`);
  }
  expect(bad, label).toEqual([]);
}

/** Multiples of 1/4 in [-8, 8): many ties, exact in float32. */
const tied = (n: number, seed: number): number[] => randoms(n, seed, -8, 8).map((v) => Math.round(v * 4) / 4);

describe.skipIf(!gl.ok)('sort, topk, cumsum, cumprod, scatter and addmm on webgl', () => {
  let rt: Runtime;
  let b: WebGLBackend;
  beforeAll(async () => {
    rt = await glRuntime();
    b = rt.backend('webgl') as WebGLBackend;
  });
  afterAll(async () => {
    await rt?.dispose();
  });

  const pair = (values: ArrayLike<number>, shape: readonly number[], dtype: D = 'float32'): [Tensor, Tensor] =>
    (['cpu', 'webgl'] as const).map((device) => rt.tensor(Array.from(values), { device, shape: [...shape], dtype })) as [Tensor, Tensor];

  /** `f` on the cpu and the webgl tensors: same shape and dtype, values within tolerance. */
  function same(p: readonly (readonly [Tensor, Tensor])[], f: (...xs: Tensor[]) => Tensor, label: string, rtol = 1e-5, atol = 1e-6): void {
    const c = f(...p.map((x) => x[0]));
    const g = f(...p.map((x) => x[1]));
    expect(g.device, label).toBe('webgl');
    expect(g.shape, label).toEqual(c.shape);
    expect(g.dtype, label).toBe(c.dtype);
    expectClose(g.dataSync(), c.dataSync(), label, rtol, atol);
  }

  /** Sorts on both devices: values and indices equal exactly (both sorts are stable). */
  function sameSort(p: readonly [Tensor, Tensor], f: (x: Tensor) => { values: Tensor; indices: Tensor }, label: string): void {
    const c = f(p[0]);
    const g = f(p[1]);
    expect(g.values.shape, label).toEqual(c.values.shape);
    expect(g.values.dtype, label).toBe(c.values.dtype);
    expect(g.indices.dtype, label).toBe('int32');
    expect(Array.from(g.values.dataSync()), `${label}: values`).toEqual(Array.from(c.values.dataSync()));
    expect(Array.from(g.indices.dataSync()), `${label}: indices`).toEqual(Array.from(c.indices.dataSync()));
  }

  it('sort along each dim of a permuted input, both directions, with ties (stable, as the cpu)', () => {
    const [c, g] = pair(tied(3 * 5 * 7, 1), [7, 3, 5]);
    const p = [c.permute(1, 2, 0), g.permute(1, 2, 0)] as const;
    for (const d of [0, 1, 2, -1]) for (const descending of [false, true]) sameSort(p, (x) => x.sort(d, descending), `dim ${d}, descending ${descending}`);
  });

  it('sort: rows of 1, of 13 (padded to 16) and of 1,500 (66 passes); NaN, infinities, signed zeros; int32, bool', () => {
    sameSort(pair([5, -1, 0], [3, 1]), (x) => x.sort(1), 'rows of 1');
    sameSort(pair(tied(4 * 13, 2), [4, 13]), (x) => x.sort(), 'rows of 13');
    sameSort(pair(tied(2 * 1500, 3), [2, 1500]), (x) => x.sort(-1, true), 'rows of 1,500');
    const specials = [NaN, 1, -Infinity, 0, -0, Infinity, NaN, -2, 1, NaN];
    for (const descending of [false, true]) sameSort(pair(specials, [2, 5]), (x) => x.sort(1, descending), `specials, descending ${descending}`);
    const up = rt.tensor([3, NaN, 1, NaN, 2, 2, -0, 0], { device: 'webgl' }).sort();
    expect(Array.from(up.indices.dataSync())).toEqual([6, 7, 2, 4, 5, 0, 1, 3]);
    const ints = randoms(60, 5, -5, 5).map(Math.trunc);
    sameSort(pair(ints, [6, 10], 'int32'), (x) => x.sort(1, true), 'int32');
    sameSort(pair(ints.map((v) => (v > 0 ? 1 : 0)), [6, 10], 'bool'), (x) => x.sort(0), 'bool');
    // int32 values near the documented limit keep their order and value.
    sameSort(pair([2 ** 24, -(2 ** 24), 2 ** 24 - 1, 7, -(2 ** 24 - 1)], [5], 'int32'), (x) => x.sort(), 'int32 to 2^24');
    // Scans of int32 are exact while partial results stay within 2^24 (the documented limit).
    expect(Array.from(rt.tensor([2 ** 24 - 2, 1, 1, -(2 ** 24)], { device: 'webgl', dtype: 'int32' }).cumsum(0).dataSync())).toEqual([2 ** 24 - 2, 2 ** 24 - 1, 2 ** 24, 0]);
    expect(Array.from(rt.tensor([4096, 4096, -1], { device: 'webgl', dtype: 'int32' }).cumprod(0).dataSync())).toEqual([4096, 2 ** 24, -(2 ** 24)]);
  });

  it('topk of long rows and along dim 0 of a transposed input', () => {
    const p = pair(randoms(3 * 900, 6, -10, 10), [3, 900]);
    sameSort(p, (x) => x.topk(7), 'topk 7 of 900');
    sameSort([p[0].t(), p[1].t()], (x) => x.topk(2, 0, false), 'smallest 2 along dim 0, transposed');
  });

  it('gradients through sort and topk match the cpu', () => {
    const grads = (['cpu', 'webgl'] as const).map((device) => {
      const x = rt.tensor(randoms(8 * 5, 7, -3, 3), { device, shape: [8, 5], requiresGrad: true });
      const w = rt.tensor(randoms(5 * 8, 8), { device, shape: [5, 8] });
      x.t().sort(1).values.mul(w).sum().add(x.topk(3, 0).values.square().sum()).backward();
      return x.grad!.dataSync();
    });
    expectClose(grads[1]!, grads[0]!, 'sort/topk grad');
  });

  for (const op of ['cumsum', 'cumprod'] as const) {
    it(`${op} along each dim of a permuted input; rows of 1 and of 1,000; int32 and bool give int32`, () => {
      const [c, g] = pair(randoms(3 * 40 * 5, 1, 0.5, 1.5), [5, 3, 40]);
      const p = [c.permute(1, 2, 0), g.permute(1, 2, 0)] as const;
      for (const d of [0, 1, 2, -1]) same([p], (x) => x[op](d), `${op}(${d})`);
      same([pair([2, -1, 3], [3, 1])], (x) => x[op](1), 'rows of 1');
      same([pair(randoms(3 * 1000, 3, 0.99, 1.01), [3, 1000])], (x) => x[op](-1), 'rows of 1,000', 1e-4, 1e-5);
      const ints = randoms(4 * 30, 5, -3, 4).map(Math.trunc);
      same([pair(ints, [4, 30], 'int32')], (x) => x[op](1), 'int32', 0, 0);
      same([pair(ints.map((v) => (v > 0 ? 1 : 0)), [4, 30], 'bool')], (x) => x[op](0), 'bool', 0, 0);
      same([pair([1, NaN, Infinity, 0, 2], [5])], (x) => x[op](0), 'NaN and inf');
    });
  }

  it('gradients of cumsum and cumprod (reverse scans) match the cpu, short and long rows, with a zero', () => {
    for (const n of [7, 300]) {
      const grads = (['cpu', 'webgl'] as const).map((device) => {
        const v = randoms(3 * n, 6, 0.95, 1.05);
        v[5] = 0; // cumprod's gradient at a zero
        const x = rt.tensor(v, { device, shape: [n, 3], requiresGrad: true });
        const w = rt.tensor(randoms(3 * n, 7), { device, shape: [3, n] });
        x.t().cumsum(1).mul(w).sum().add(x.t().cumprod(1).mul(w).sum()).backward();
        return x.grad!.dataSync();
      });
      expectClose(grads[1]!, grads[0]!, `scan grads, rows of ${n}`, 1e-4, 1e-5);
    }
  });

  it('scatter: repeated indices (the last wins), strided destination, int32 and bool, a scalar source; its gradient', () => {
    const idx = [[0, 4, 4], [1, 4, 0], [4, 4, 4], [0, 0, 1]];
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      same([pair(randoms(15, 2, 0, 3).map((v) => (dtype === 'float32' ? v : Math.trunc(v) % 2)), [3, 5], dtype), pair(randoms(12, 3, 0, 3).map((v) => (dtype === 'float32' ? v : Math.trunc(v) % 2)), [4, 3], dtype)], (dst, src) => {
        const i = rt.tensor(idx, { device: dst.device, dtype: 'int32' });
        return dst.t().scatter(0, i, src); // dst [5, 3] transposed
      }, `scatter ${dtype}`);
    }
    same([pair(randoms(10, 4), [2, 5])], (x) => x.scatter(1, rt.tensor([[4, 4, 0]], { device: x.device, dtype: 'int32' }), 7.5), 'scalar source');
    const grads = (['cpu', 'webgl'] as const).map((device) => {
      const x = rt.tensor(randoms(15, 5), { device, shape: [5, 3], requiresGrad: true });
      const s = rt.tensor(randoms(12, 6), { device, shape: [4, 3], requiresGrad: true });
      const i = rt.tensor([[0, 4, 3], [1, 2, 0], [4, 4, 4], [3, 0, 1]], { device, dtype: 'int32' });
      x.scatter(0, i, s).mul(rt.tensor(randoms(15, 7), { device, shape: [5, 3] })).sum().backward();
      return [...Array.from(x.grad!.dataSync()), ...Array.from(s.grad!.dataSync())];
    });
    expectClose(grads[1]!, grads[0]!, 'scatter grads');
  });

  it('scatterAdd into bool is logical or; into int32 adds', () => {
    same([pair([0, 1, 0], [3], 'bool'), pair([1, 1, 1, 0], [4], 'bool')], (o, s) => o.scatterAdd(0, rt.tensor([0, 0, 1, 2], { device: o.device, dtype: 'int32' }), s), 'bool');
    same([pair([5, -2, 0], [3], 'int32'), pair([1, 2, 3, 4], [4], 'int32')], (o, s) => o.scatterAdd(0, rt.tensor([0, 0, 1, 0], { device: o.device, dtype: 'int32' }), s), 'int32', 0, 0);
  });

  it('addmm: beta and alpha, transposed operands, a broadcast bias, beta = 0 ignores NaN in the bias, int32, K beyond one tile', () => {
    const [M, K, N] = [6, 300, 5];
    const A = pair(randoms(K * M, 1), [K, M]);
    const B = pair(randoms(K * N, 2), [K, N]);
    const bias = pair(randoms(N, 3), [N]);
    same([bias, A, B], (c, a, bb) => c.addmm(a.t(), bb, { beta: 0.5, alpha: 2 }), 'addmm transposed a, bias [N]', 1e-4, 1e-5);
    same([pair(randoms(M * N, 4), [N, M]), A, B], (c, a, bb) => c.t().addmm(a.t(), bb), 'addmm strided bias', 1e-4, 1e-5);
    same([pair([NaN, 1, 2, 3, 4], [N]), A, B], (c, a, bb) => c.addmm(a.t(), bb, { beta: 0 }), 'beta 0', 1e-4, 1e-5);
    const ints = (n: number, s: number) => randoms(n, s, -4, 4).map(Math.trunc);
    same([pair(ints(2, 5), [2], 'int32'), pair(ints(12, 6), [3, 4], 'int32'), pair(ints(8, 7), [4, 2], 'int32')], (c, a, bb) => c.addmm(a, bb.t().t(), { beta: 2, alpha: 3 }).t(), 'int32', 0, 0);
  });

  it('addmm records AddmmBackward0, and its gradients (bias, both matrices, beta and alpha) match the cpu', () => {
    const res = (['cpu', 'webgl'] as const).map((device) => {
      const bias = rt.tensor(randoms(4, 1), { device, requiresGrad: true });
      const w = rt.tensor(randoms(4 * 7, 2), { device, shape: [4, 7], requiresGrad: true });
      const x = rt.tensor(randoms(5 * 7, 3), { device, shape: [7, 5], requiresGrad: true });
      const y = bias.addmm(x.t(), w.t(), { beta: 0.5, alpha: 1.5 }); // nn.Linear's shape of call
      expect(y.gradFn?.name()).toBe('AddmmBackward0');
      y.square().sum().backward();
      return [...Array.from(y.dataSync()), ...[bias, w, x].flatMap((p) => Array.from(p.grad!.dataSync()))];
    });
    expectClose(res[1]!, res[0]!, 'addmm grads', 1e-4, 1e-5);
  });

  it('a new shape of the same kernel compiles nothing; a loop bound that grows compiles one kernel', () => {
    const runAll = (n: number, m: number): void => {
      const x = rt.tensor(randoms(n * m, n + m), { device: 'webgl', shape: [n, m] });
      x.sort(1).values.dataSync();
      x.cumsum(0).dataSync();
      x.cumprod(1).dataSync();
      x.topk(1).values.dataSync();
      rt.zeros([n, m], { device: 'webgl' }).scatter(0, rt.zeros([1, m], { device: 'webgl', dtype: 'int32' }), x.narrow(0, 0, 1)).dataSync();
      rt.zeros([m], { device: 'webgl' }).addmm(x.t(), x).dataSync();
    };
    // (addmm's loop runs over K = n, compiled with a bound of 16 up to n = 16: see below.)
    runAll(3, 5);
    const before = b.backendInfo().compiledKernels;
    for (const [n, m] of [[7, 2], [16, 41], [2, 9], [11, 300]] as const) runAll(n, m);
    expect(b.backendInfo().compiledKernels, 'new shapes').toBe(before);

    // scatter's loop runs over index.shape[dim] and is compiled with loopMaxIterations from it
    // (a power of two, at least 16): 10 and 12 share a kernel, 40 needs a new one, and is right.
    const scatterRows = (rows: number): Tensor[] =>
      (['cpu', 'webgl'] as const).map((device) => {
        const idx = rt.tensor(Array.from({ length: rows * 2 }, (_, i) => (i * 7) % 3), { device, dtype: 'int32', shape: [rows, 2] });
        return rt.zeros([3, 2], { device }).scatterAdd(0, idx, rt.tensor(randoms(rows * 2, rows), { device, shape: [rows, 2] }));
      });
    let r = scatterRows(10);
    const k10 = b.backendInfo().compiledKernels;
    r = scatterRows(12);
    expect(b.backendInfo().compiledKernels, 'bound 16 again').toBe(k10);
    expectClose(r[1]!.dataSync(), r[0]!.dataSync(), 'scatterAdd of 12 rows');
    r = scatterRows(40);
    expect(b.backendInfo().compiledKernels, 'bound 64: one new kernel').toBe(k10 + 1);
    expectClose(r[1]!.dataSync(), r[0]!.dataSync(), 'scatterAdd of 40 rows', 1e-5, 1e-5);
  });
});
