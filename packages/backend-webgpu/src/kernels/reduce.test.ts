import type { Runtime, Tensor } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pair, randoms, sameOnBoth } from '../test-utils/compare.js';
import { gpuRuntime, probe } from '../test-utils/setup.js';

const adapter = await probe();

describe.skipIf(!adapter.ok)('reductions on webgpu', () => {
  let rt: Runtime;
  beforeAll(async () => {
    // A low per-dimension limit, so one-workgroup-per-row reductions use 2-D grids too.
    rt = (await gpuRuntime({ maxWorkgroupsPerDimension: 16 }))!;
  });
  afterAll(async () => {
    await rt.dispose();
  });

  const shape = [3, 4, 5];
  const permutedPair = () => {
    const [c, g] = pair(rt, randoms(60, 1, -2, 2), [5, 3, 4]);
    return [c.permute(1, 2, 0), g.permute(1, 2, 0)] as [Tensor, Tensor];
  };

  for (const op of ['sum', 'prod', 'amax', 'amin', 'mean'] as const) {
    it(`${op} over each dim, dim pairs and all dims of a permuted input`, async () => {
      const p = permutedPair();
      expect(p[1].shape).toEqual(shape);
      for (const dims of [0, 1, 2, [0, 1], [0, 2], [1, 2], [0, 1, 2]] as (number | number[])[]) {
        for (const keep of [false, true]) {
          await sameOnBoth([p], (x) => x[op](dims, keep), { rtol: 1e-5 }, `${op}(${JSON.stringify(dims)}, ${keep})`);
        }
      }
      await sameOnBoth([p], (x) => x[op](), { rtol: 1e-5 }, `${op}()`);
    });
  }

  it('rows of 1 and rows of 100,000', async () => {
    const one = pair(rt, randoms(7, 2), [7, 1]);
    await sameOnBoth([one], (x) => x.sum(1), {}, 'rows of 1');
    await sameOnBoth([one], (x) => x.amax(1), {}, 'max of rows of 1');
    const n = 100_000;
    const long = pair(rt, randoms(n, 3, 0, 1), [2, n / 2]);
    await sameOnBoth([long], (x) => x.sum(1), { rtol: 1e-6 }, 'sum of 50,000');
    await sameOnBoth([long], (x) => x.sum(), { rtol: 1e-6 }, 'sum of 100,000');
    await sameOnBoth([long], (x) => x.amin(1), {}, 'min of 50,000');
    await sameOnBoth([long], (x) => x.sum(0), { rtol: 1e-6 }, 'sum over a leading dim of 2 (50,000 rows)');
  });

  it('int32 and bool reductions', async () => {
    const i = pair(rt, [2147483647, 1, -5, 7, 3, -2, 1 << 20, 4096, 3], [3, 3], 'int32');
    await sameOnBoth([i], (x) => x.sum(1), {}, 'int sum wraps');
    await sameOnBoth([i], (x) => x.prod(0), {}, 'int prod wraps');
    await sameOnBoth([i], (x) => x.amax(0), {}, 'int max');
    await sameOnBoth([i], (x) => x.amin(), {}, 'int min');
    const b = pair(rt, [1, 0, 1, 1, 1, 1, 0, 0, 0], [3, 3], 'bool');
    await sameOnBoth([b], (x) => x.sum(1), {}, 'bool sum -> int32');
    await sameOnBoth([b], (x) => x.amax(1), {}, 'bool any');
    await sameOnBoth([b], (x) => x.amin(1), {}, 'bool all');
    await sameOnBoth([b], (x) => x.prod(0), {}, 'bool prod');
  });

  it('max/min propagate NaN; empty sums are 0 and empty products 1', async () => {
    const x = pair(rt, [1, NaN, 3, 4, 5, 6], [2, 3]);
    await sameOnBoth([x], (t) => t.amax(1), {}, 'amax');
    await sameOnBoth([x], (t) => t.amin(0), {}, 'amin');
    const long = [...randoms(999, 4)];
    long[500] = NaN;
    await sameOnBoth([pair(rt, long, [999])], (t) => t.amax(0), {}, 'NaN in a long row');
    const e = pair(rt, [], [3, 0]);
    await sameOnBoth([e], (t) => t.sum(1), {}, 'empty sum');
    await sameOnBoth([e], (t) => t.prod(1), {}, 'empty prod');
  });

  it('argmax/argmin: first occurrence, NaN wins, each dim, short and long rows', async () => {
    const ties = pair(rt, [1, 3, 3, 0, 0, -1, 2, 2, 2, NaN, 5, NaN], [4, 3]);
    for (const op of ['argmax', 'argmin'] as const) {
      await sameOnBoth([ties], (x) => x[op](1), {}, `${op} ties/NaN`);
      await sameOnBoth([ties], (x) => x[op](0, true), {}, `${op} dim 0`);
      await sameOnBoth([ties], (x) => x[op](), {}, `${op} flat`);
      const long = randoms(5000, 5).map((v) => Math.round(v * 20));
      await sameOnBoth([pair(rt, long, [2, 2500])], (x) => x[op](1), {}, `${op} long rows`);
      const withNaN = long.slice();
      withNaN[3000] = NaN;
      withNaN[4000] = NaN;
      await sameOnBoth([pair(rt, withNaN, [2, 2500])], (x) => x[op](1), {}, `${op} long rows with NaN`);
      const p = permutedPair();
      for (const d of [0, 1, 2]) await sameOnBoth([p], (x) => x[op](d), {}, `${op}(${d}) permuted`);
    }
    const ints = pair(rt, [4, 9, 9, -3, 2, -3], [2, 3], 'int32');
    await sameOnBoth([ints], (x) => x.argmax(1), {}, 'int argmax');
    await sameOnBoth([ints], (x) => x.argmin(1), {}, 'int argmin');
    const { values, indices } = ties[1].max(1) as { values: Tensor; indices: Tensor };
    expect(indices.dtype).toBe('int32');
    expect(Array.from(await indices.data())).toEqual([1, 0, 0, 0]);
    expect(Array.from(await values.data())).toEqual([3, 0, 2, NaN]);
  });

  it('composite reductions (var, std, norm, logsumexp)', async () => {
    const p = permutedPair();
    await sameOnBoth([p], (x) => x.var(1), { rtol: 1e-5 }, 'var');
    await sameOnBoth([p], (x) => x.std([0, 2], { keepdim: true }), { rtol: 1e-5 }, 'std');
    await sameOnBoth([p], (x) => x.norm(2, 2), { rtol: 1e-5 }, 'norm');
    await sameOnBoth([p], (x) => x.logsumexp(0), { rtol: 1e-5 }, 'logsumexp');
  });
});
