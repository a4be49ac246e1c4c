import type { Runtime } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pair, randoms, sameOnBoth } from '../test-utils/compare.js';
import { gpuRuntime, probe } from '../test-utils/setup.js';

const adapter = await probe();

describe.skipIf(!adapter.ok)('cumsum / cumprod on webgpu (serial short rows, tiled workgroup scan for long ones)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = (await gpuRuntime({ maxWorkgroupsPerDimension: 16 }))!;
  });
  afterAll(async () => {
    await rt.dispose();
  });

  for (const op of ['cumsum', 'cumprod'] as const) {
    const tol = { rtol: 1e-5, atol: 1e-6 };
    it(`${op} along each dim of a permuted input`, async () => {
      const [c, g] = pair(rt, randoms(3 * 40 * 5, 1, 0.5, 1.5), [5, 3, 40]);
      const p = [c.permute(1, 2, 0), g.permute(1, 2, 0)] as const;
      for (const d of [0, 1, 2, -1]) await sameOnBoth([p], (x) => x[op](d), tol, `${op}(${d})`);
    });

    it(`${op} of rows of 1, of 65 (one tile) and of 1,000 (four tiles)`, async () => {
      await sameOnBoth([pair(rt, [2, -1, 3], [3, 1])], (x) => x[op](1), tol, 'rows of 1');
      await sameOnBoth([pair(rt, randoms(2 * 65, 2, 0.9, 1.1), [2, 65])], (x) => x[op](1), tol, 'rows of 65');
      await sameOnBoth([pair(rt, randoms(3 * 1000, 3, 0.99, 1.01), [3, 1000])], (x) => x[op](-1), { rtol: 1e-4, atol: 1e-5 }, 'rows of 1,000');
      // 300 long rows: each scanned serially by its own invocation.
      await sameOnBoth([pair(rt, randoms(300 * 100, 8, 0.95, 1.05), [100, 300])], (x) => x[op](0), { rtol: 1e-4, atol: 1e-5 }, '300 rows of 100');
      // 5,000 rows of 2: one invocation per row over a 2-D grid of workgroups.
      await sameOnBoth([pair(rt, randoms(5000 * 2, 4, -2, 2), [5000, 2])], (x) => x[op](1), tol, '5,000 rows of 2');
    });

    it(`${op} of int32 and bool wraps like int32 and gives int32`, async () => {
      const ints = randoms(4 * 300, 5, -3, 4).map(Math.trunc);
      await sameOnBoth([pair(rt, ints, [4, 300], 'int32')], (x) => x[op](1), {}, 'int32, long rows');
      await sameOnBoth([pair(rt, ints.map((v) => (v > 0 ? 1 : 0)), [4, 300], 'bool')], (x) => x[op](0), {}, 'bool');
    });
  }

  it('the reverse scans of the gradients match the cpu (short and long rows)', async () => {
    for (const n of [7, 700]) {
      const run = async (device: string): Promise<number[]> => {
        const x = rt.tensor(Float32Array.from(randoms(3 * n, 6, 0.95, 1.05)), { device, shape: [3, n], requiresGrad: true });
        const w = rt.tensor(Float32Array.from(randoms(3 * n, 7)), { device, shape: [3, n] });
        x.cumsum(1).mul(w).sum().add(x.cumprod(1).mul(w).sum()).backward();
        return Array.from(device === 'cpu' ? x.grad!.dataSync() : await x.grad!.data());
      };
      const cpu = await run('cpu');
      const gpu = await run('webgpu');
      gpu.forEach((v, i) => expect(Math.abs(v - cpu[i]!)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(cpu[i]!))));
    }
  });
});
