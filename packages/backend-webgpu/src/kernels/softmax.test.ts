import type { Runtime } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pair, randoms, sameOnBoth } from '../test-utils/compare.js';
import { gpuRuntime, probe } from '../test-utils/setup.js';

const adapter = await probe();

describe.skipIf(!adapter.ok)('softmax / logSoftmax on webgpu (fused, stable)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = (await gpuRuntime({ maxWorkgroupsPerDimension: 16 }))!;
  });
  afterAll(async () => {
    await rt.dispose();
  });

  for (const op of ['softmax', 'logSoftmax'] as const) {
    it(`${op} along each dim of a permuted input`, async () => {
      const [c, g] = pair(rt, randoms(3 * 40 * 50, 1, -5, 5), [50, 3, 40]);
      const p = [c.permute(1, 2, 0), g.permute(1, 2, 0)] as const;
      for (const d of [0, 1, 2, -1]) await sameOnBoth([p], (x) => x[op](d), { rtol: 1e-5, atol: 1e-6 }, `${op}(${d})`);
    });

    it(`${op} of rows of 1 and of 10,000`, async () => {
      const one = pair(rt, [5, -1e30, 0], [3, 1]);
      await sameOnBoth([one], (x) => x[op](1), {}, 'rows of 1');
      const long = pair(rt, randoms(20_000, 2, -20, 20), [2, 10_000]);
      await sameOnBoth([long], (x) => x[op](1), { rtol: 1e-5, atol: 1e-9 }, 'rows of 10,000');
      if (op === 'softmax') {
        const s = await long[1].softmax(1).sum(1).data();
        for (const v of s) expect(v).toBeCloseTo(1, 5);
      }
    });

    it(`${op} with -inf entries, an all -inf row, a NaN row and huge logits`, async () => {
      const x = pair(rt, [-Infinity, 0, -Infinity, -Infinity, NaN, 1, 1000, 1002], [4, 2]);
      await sameOnBoth([x], (t) => t[op](1), { rtol: 1e-6 }, 'specials');
      const wide = new Array(100).fill(-Infinity);
      wide[37] = 3;
      await sameOnBoth([pair(rt, wide, [1, 100])], (t) => t[op](1), {}, 'one finite entry in a long row');
    });
  }

  it('gradients through softmax and logSoftmax match the cpu', async () => {
    const run = async (device: string) => {
      const x = rt.tensor(Float32Array.from(randoms(6 * 7, 3, -3, 3)), { device, shape: [6, 7], requiresGrad: true });
      const w = rt.tensor(Float32Array.from(randoms(6 * 7, 4)), { device, shape: [6, 7] });
      x.softmax(1).mul(w).sum().add(x.logSoftmax(0).mul(w).sum()).backward();
      return Array.from(device === 'cpu' ? x.grad!.dataSync() : await x.grad!.data());
    };
    const cpu = await run('cpu');
    const gpu = await run('webgpu');
    gpu.forEach((v, i) => expect(v).toBeCloseTo(cpu[i]!, 5));
  });
});
