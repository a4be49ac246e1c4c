import type { Runtime, Tensor } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pair, randoms } from '../test-utils/compare.js';
import { gpuRuntime, probe } from '../test-utils/setup.js';

const adapter = await probe();

/** Values and indices of the webgpu sort equal the cpu's exactly (both are stable sorts). */
async function sameSort(p: readonly [Tensor, Tensor], f: (x: Tensor) => { values: Tensor; indices: Tensor }, label: string): Promise<void> {
  const c = f(p[0]);
  const g = f(p[1]);
  expect(g.values.shape, label).toEqual(c.values.shape);
  expect(g.values.dtype, label).toBe(c.values.dtype);
  expect(Array.from(await g.values.data()), `${label}: values`).toEqual(Array.from(c.values.dataSync()));
  expect(Array.from(await g.indices.data()), `${label}: indices`).toEqual(Array.from(c.indices.dataSync()));
}

/** Multiples of 1/4 in [-8, 8): many ties, exact in float32. */
const tied = (n: number, seed: number): number[] => randoms(n, seed, -8, 8).map((v) => Math.round(v * 4) / 4);

describe.skipIf(!adapter.ok)('sort / topk on webgpu (bitonic network, stable, NaN largest)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = (await gpuRuntime({ maxWorkgroupsPerDimension: 16 }))!;
  });
  afterAll(async () => {
    await rt.dispose();
  });

  it('along each dim of a permuted input, both directions, with ties', async () => {
    const [c, g] = pair(rt, tied(3 * 5 * 7, 1), [7, 3, 5]);
    const p = [c.permute(1, 2, 0), g.permute(1, 2, 0)] as const;
    for (const d of [0, 1, 2, -1]) {
      for (const descending of [false, true]) await sameSort(p, (x) => x.sort(d, descending), `dim ${d}, descending ${descending}`);
    }
  });

  it('rows of 1, rows that are not a power of two, and 1,500-long rows (many passes)', async () => {
    await sameSort(pair(rt, [5, -1, 0], [3, 1]), (x) => x.sort(1), 'rows of 1');
    await sameSort(pair(rt, tied(4 * 13, 2), [4, 13]), (x) => x.sort(), 'rows of 13');
    await sameSort(pair(rt, tied(2 * 1500, 3), [2, 1500]), (x) => x.sort(-1, true), 'rows of 1,500');
    // 2,000 rows of 3: 1,000 invocations per pass in a 2-D grid of 16-wide rows of workgroups.
    await sameSort(pair(rt, tied(2000 * 3, 4), [2000, 3]), (x) => x.sort(1), '2,000 rows of 3');
  });

  it('many rows (merge-sorted per invocation): a transposed [37, 300] along dim 0, with NaN', async () => {
    const vals = tied(300 * 37, 9).map((v, i) => (i % 13 === 0 ? NaN : v));
    const [c, g] = pair(rt, vals, [300, 37]);
    const p = [c.t(), g.t()] as const;
    for (const descending of [false, true]) await sameSort(p, (x) => x.sort(0, descending), `300 rows of 37, descending ${descending}`);
    await sameSort(pair(rt, randoms(400 * 5, 10, -5, 5).map(Math.trunc), [400, 5], 'int32'), (x) => x.topk(2), 'topk of 400 int32 rows');
  });

  it('NaN, infinities and signed zeros', async () => {
    const vals = [NaN, 1, -Infinity, 0, -0, Infinity, NaN, -2, 1, NaN];
    for (const descending of [false, true]) await sameSort(pair(rt, vals, [2, 5]), (x) => x.sort(1, descending), `specials ${descending}`);
    const up = rt.tensor([3, NaN, 1, NaN, 2, 2, -0, 0], { device: 'webgpu' }).sort();
    expect(Array.from(await up.indices.data())).toEqual([6, 7, 2, 4, 5, 0, 1, 3]);
  });

  it('int32 and bool inputs', async () => {
    const ints = randoms(60, 5, -5, 5).map(Math.trunc);
    await sameSort(pair(rt, ints, [6, 10], 'int32'), (x) => x.sort(1, true), 'int32');
    await sameSort(pair(rt, ints.map((v) => (v > 0 ? 1 : 0)), [6, 10], 'bool'), (x) => x.sort(0), 'bool');
  });

  it('topk of long rows and along dim 0', async () => {
    const p = pair(rt, randoms(3 * 900, 6, -10, 10), [3, 900]);
    await sameSort(p, (x) => x.topk(7), 'topk 7 of 900');
    await sameSort(p, (x) => x.topk(2, 0, false), 'smallest 2 along dim 0');
  });

  it('gradients through sort and topk match the cpu', async () => {
    const run = async (device: string): Promise<number[]> => {
      const x = rt.tensor(Float32Array.from(randoms(5 * 8, 7, -3, 3)), { device, shape: [5, 8], requiresGrad: true });
      const w = rt.tensor(Float32Array.from(randoms(5 * 8, 8)), { device, shape: [5, 8] });
      x.sort(1).values.mul(w).sum().add(x.topk(3, 0).values.square().sum()).backward();
      return Array.from(device === 'cpu' ? x.grad!.dataSync() : await x.grad!.data());
    };
    const cpu = await run('cpu');
    const gpu = await run('webgpu');
    gpu.forEach((v, i) => expect(v).toBeCloseTo(cpu[i]!, 5));
  });
});
