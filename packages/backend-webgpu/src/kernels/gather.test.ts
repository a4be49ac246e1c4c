import type { Runtime } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose, pair, randoms, sameOnBoth } from '../test-utils/compare.js';
import { gpuRuntime, probe } from '../test-utils/setup.js';

const adapter = await probe();

describe.skipIf(!adapter.ok)('gather / scatterAdd on webgpu', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = (await gpuRuntime())!;
  });
  afterAll(async () => {
    await rt.dispose();
  });

  const ints = (n: number, seed: number, size: number) => randoms(n, seed, 0, size).map(Math.floor);

  it('gather along each dim, from a transposed input, for every dtype', async () => {
    const x = pair(rt, randoms(4 * 5 * 6, 1), [4, 5, 6]);
    for (const d of [0, 1, 2]) {
      const shape = [4, 5, 6];
      const ishape = shape.map((s, i) => (i === d ? 7 : s - 1));
      const idx = pair(rt, ints(ishape.reduce((a, b) => a * b, 1), 10 + d, shape[d]!), ishape, 'int32');
      await sameOnBoth([x, idx], (t, i) => t!.gather(d, i!), {}, `gather dim ${d}`);
    }
    const xt = pair(rt, randoms(30, 2), [5, 6]);
    const it2 = pair(rt, ints(12, 3, 5), [6, 2], 'int32');
    await sameOnBoth([xt, it2], (t, i) => t!.t().gather(1, i!), {}, 'transposed input');
    const xi = pair(rt, [1, -2, 3, -4], [2, 2], 'int32');
    const xb = pair(rt, [1, 0, 0, 1], [2, 2], 'bool');
    const i2 = pair(rt, [1, 1, 0, 1], [2, 2], 'int32');
    await sameOnBoth([xi, i2], (t, i) => t!.gather(1, i!), {}, 'int32');
    await sameOnBoth([xb, i2], (t, i) => t!.gather(0, i!), {}, 'bool');
  });

  it('indexSelect (a broadcast index) and its gradient', async () => {
    const x = pair(rt, randoms(6 * 4, 4), [6, 4]);
    const idx = pair(rt, [5, 0, 5, 2, 2], [5], 'int32');
    await sameOnBoth([x, idx], (t, i) => t!.indexSelect(0, i!), {}, 'rows');
    await sameOnBoth([x, idx.map((i) => i.narrow(0, 0, 3).sub(0)) as never], (t, i) => t!.indexSelect(1, i!.clamp(0, 3)), {}, 'cols');
    const run = async (device: string) => {
      const w = rt.tensor(Float32Array.from(randoms(24, 5)), { device, shape: [6, 4], requiresGrad: true });
      const i = rt.tensor(Int32Array.from([5, 0, 5, 2, 2, 5]), { device });
      w.indexSelect(0, i).square().sum().backward();
      return Array.from(device === 'cpu' ? w.grad!.dataSync() : await w.grad!.data());
    };
    expectClose(await run('webgpu'), await run('cpu'));
  });

  it('scatterAdd accumulates duplicates deterministically, in index order', async () => {
    const base = pair(rt, randoms(5 * 4, 6), [5, 4]);
    const src = pair(rt, randoms(7 * 4, 7, -100, 100), [7, 4]);
    const idx = pair(rt, ints(7 * 4, 8, 5), [7, 4], 'int32');
    await sameOnBoth([base, idx, src], (b, i, s) => b!.scatterAdd(0, i!, s!), { rtol: 0, atol: 0 }, 'dim 0, bit-identical');
    const idx1 = pair(rt, ints(5 * 3, 9, 4), [5, 3], 'int32');
    await sameOnBoth([base, idx1, src], (b, i, s) => b!.scatterAdd(1, i!, s!.narrow(0, 0, 5)), {}, 'dim 1, smaller index');
    const bi = pair(rt, [0, 0, 0, 0], [4], 'int32');
    const si = pair(rt, [2147483647, 1, 5, 6], [4], 'int32');
    const ii = pair(rt, [1, 1, 3, 0], [4], 'int32');
    await sameOnBoth([bi, ii, si], (b, i, s) => b!.scatterAdd(0, i!, s!), {}, 'int32 wraps');
    const bb = pair(rt, [0, 0, 1], [3], 'bool');
    const sb = pair(rt, [1, 1, 0, 0], [4], 'bool');
    await sameOnBoth([bb, ii.map((i) => i.clamp(0, 2)) as never, sb], (b, i, s) => b!.scatterAdd(0, i!, s!), {}, 'bool: logical or');
  });

  it('scatter overwrites deterministically (the last duplicate in index order wins, as on the cpu), from a tensor or a number', async () => {
    const base = pair(rt, randoms(5 * 4, 16), [5, 4]);
    const src = pair(rt, randoms(7 * 4, 17, -100, 100), [7, 4]);
    const idx = pair(rt, ints(7 * 4, 18, 5), [7, 4], 'int32');
    await sameOnBoth([base, idx, src], (b, i, s) => b!.scatter(0, i!, s!), { rtol: 0, atol: 0 }, 'dim 0 with duplicates');
    const idx1 = pair(rt, ints(5 * 3, 19, 4), [5, 3], 'int32');
    await sameOnBoth([base, idx1], (b, i) => b!.scatter(1, i!, -2.5), { rtol: 0, atol: 0 }, 'dim 1, a number');
    const bi = pair(rt, [0, 0, 0, 0], [4], 'int32');
    const si = pair(rt, [7, 1, 5, 6], [4], 'int32');
    const ii = pair(rt, [1, 1, 3, 0], [4], 'int32');
    await sameOnBoth([bi, ii, si], (b, i, s) => b!.scatter(0, i!, s!), {}, 'int32');
    const z = rt.zeros([2], { device: 'webgpu' }).scatter(0, rt.tensor(Int32Array.from([5]), { device: 'webgpu' }), 1);
    await expect(rt.synchronize('webgpu')).rejects.toThrow(/scatter: index 5 is out of range for dimension 0 with size 2/);
    z.dispose();
  });

  it('gradients of gather and max along a dim use scatterAdd', async () => {
    const run = async (device: string) => {
      const x = rt.tensor(Float32Array.from(randoms(4 * 6, 10)), { device, shape: [4, 6], requiresGrad: true });
      const i = rt.tensor(Int32Array.from(ints(4 * 3, 11, 6)), { device, shape: [4, 3] });
      x.gather(1, i).mul(3).sum().add((x.max(0) as { values: typeof x }).values.sum()).backward();
      return Array.from(device === 'cpu' ? x.grad!.dataSync() : await x.grad!.data());
    };
    expectClose(await run('webgpu'), await run('cpu'));
  });

  it('an index out of range is reported at the next read, with the cpu wording', async () => {
    const x = rt.tensor([1, 2, 3], { device: 'webgpu' });
    const bad = rt.tensor(Int32Array.from([0, 3]), { device: 'webgpu' });
    const y = x.gather(0, bad);
    await expect(y.data()).rejects.toThrow(/gather: index 3 is out of range for dimension 0 with size 3/);
    // Reported once: the device goes on working.
    expect(Array.from(await x.add(1).data())).toEqual([2, 3, 4]);
    const z = rt.zeros([2], { device: 'webgpu' }).scatterAdd(0, rt.tensor(Int32Array.from([-1]), { device: 'webgpu' }), rt.ones([1], { device: 'webgpu' }));
    await expect(rt.synchronize('webgpu')).rejects.toThrow(/scatterAdd: index -1 is out of range for dimension 0 with size 2/);
    z.dispose();
  });
});
