import type { Runtime } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pair, randoms, sameOnBoth } from '../test-utils/compare.js';
import { gpuRuntime, probe } from '../test-utils/setup.js';

const adapter = await probe();

describe.skipIf(!adapter.ok)('bmm on webgpu (tiled, workgroup memory)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = (await gpuRuntime())!;
  });
  afterAll(async () => {
    await rt.dispose();
  });

  // f32 sums of K products: the CPU sums in float64, so allow K-proportional rounding.
  const tol = (k: number) => ({ rtol: 1e-5, atol: 2e-6 * Math.sqrt(k) });

  for (const [m, k, n] of [
    [1, 1, 1],
    [17, 33, 65],
    [64, 64, 64],
    [70, 300, 530],
    [3, 1000, 2],
    [129, 7, 1],
  ] as const) {
    it(`mm ${m}x${k} · ${k}x${n}`, async () => {
      const a = pair(rt, randoms(m * k, m + k), [m, k]);
      const b = pair(rt, randoms(k * n, k + n + 1), [k, n]);
      await sameOnBoth([a, b], (x, y) => x!.mm(y!), tol(k), `${m}x${k}x${n}`);
    });
  }

  it('transposed operands (any strides)', async () => {
    const a = pair(rt, randoms(40 * 23, 1), [40, 23]);
    const b = pair(rt, randoms(31 * 40, 2), [31, 40]);
    await sameOnBoth([a, b], (x, y) => x!.t().mm(y!.t()), tol(40), 'aᵀ·bᵀ');
    await sameOnBoth([a], (x) => x.mm(x.t()), tol(23), 'a·aᵀ (one buffer bound twice)');
    const c = pair(rt, randoms(2 * 9 * 10, 3), [2, 9, 10]);
    await sameOnBoth([c], (x) => x.permute(2, 0, 1).select(1, 1).mm(x.select(0, 0)), tol(9), 'strided views with offsets');
  });

  it('batched, with stride-0 broadcast batches', async () => {
    const a = pair(rt, randoms(2 * 1 * 5 * 6, 4), [2, 1, 5, 6]);
    const b = pair(rt, randoms(3 * 6 * 7, 5), [3, 6, 7]);
    await sameOnBoth([a, b], (x, y) => x!.matmul(y!), tol(6), 'broadcast batch');
    const v = pair(rt, randoms(6, 6), [6]);
    await sameOnBoth([a, v], (x, y) => x!.matmul(y!), tol(6), 'matrix · vector');
    await sameOnBoth([v, v], (x, y) => x!.dot(y!), tol(6), 'dot');
    const c = pair(rt, randoms(4 * 33 * 17, 7), [4, 33, 17]);
    const d = pair(rt, randoms(4 * 17 * 40, 8), [4, 17, 40]);
    await sameOnBoth([c, d], (x, y) => x!.bmm(y!), tol(17), 'bmm');
  });

  it('int32 products wrap like int32', async () => {
    const a = pair(rt, [100000, 3, -7, 2, 5, 1], [2, 3], 'int32');
    const b = pair(rt, [100000, 1, 2, 4, -9, 8], [3, 2], 'int32');
    await sameOnBoth([a, b], (x, y) => x!.mm(y!), {}, 'int32');
  });

  it('K = 0 gives zeros', async () => {
    const a = rt.zeros([3, 0], { device: 'webgpu' });
    const b = rt.zeros([0, 2], { device: 'webgpu' });
    expect(Array.from(await a.mm(b).data())).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('batches beyond the per-dimension workgroup limit', async () => {
    const small = (await gpuRuntime({ maxWorkgroupsPerDimension: 3 }))!;
    const a = pair(small, randoms(7 * 2 * 3, 9), [7, 2, 3]);
    const b = pair(small, randoms(7 * 3 * 2, 10), [7, 3, 2]);
    await sameOnBoth([a, b], (x, y) => x!.bmm(y!), tol(3), '7 batches, 3 per dispatch');
    await small.dispose();
  });
});
