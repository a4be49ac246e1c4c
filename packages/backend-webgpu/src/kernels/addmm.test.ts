import type { Runtime, Tensor } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose, pair, randoms, sameOnBoth } from '../test-utils/compare.js';
import { gpuRuntime, probe } from '../test-utils/setup.js';

const adapter = await probe();

describe.skipIf(!adapter.ok)('addmm on webgpu (bias in the matmul epilogue)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = (await gpuRuntime())!;
  });
  afterAll(async () => {
    await rt.dispose();
  });

  const tol = (k: number) => ({ rtol: 1e-5, atol: 2e-6 * Math.sqrt(k) });

  for (const [m, k, n] of [
    [1, 1, 1],
    [17, 33, 65],
    [70, 130, 66],
  ] as const) {
    it(`${m}x${k} · ${k}x${n} with a row bias, a full bias, beta and alpha`, async () => {
      const a = pair(rt, randoms(m * k, m + k), [m, k]);
      const b = pair(rt, randoms(k * n, k + n + 1), [k, n]);
      const row = pair(rt, randoms(n, 3), [n]);
      const full = pair(rt, randoms(m * n, 4), [m, n]);
      await sameOnBoth([row, a, b], (c, x, y) => c!.addmm(x!, y!), tol(k), 'row bias');
      await sameOnBoth([full, a, b], (c, x, y) => c!.addmm(x!, y!, { beta: 0.5, alpha: -2 }), tol(k), 'beta, alpha');
    });
  }

  it('transposed operands and a column bias', async () => {
    const a = pair(rt, randoms(40 * 23, 1), [40, 23]);
    const b = pair(rt, randoms(31 * 40, 2), [31, 40]);
    const col = pair(rt, randoms(23, 5), [23, 1]);
    await sameOnBoth([col, a, b], (c, x, y) => c!.addmm(x!.t(), y!.t()), tol(40), 'aᵀ·bᵀ + column');
  });

  it('beta = 0 ignores a NaN bias; int32 with integer beta and alpha', async () => {
    const nan = rt.full([2, 2], NaN, { device: 'webgpu' });
    const r = nan.addmm(rt.eye(2, { device: 'webgpu' }), rt.ones([2, 2], { device: 'webgpu' }), { beta: 0, alpha: 3 });
    expect(Array.from(await r.data())).toEqual([3, 3, 3, 3]);
    const a = pair(rt, [1, 2, 3, 4, 5, 6], [2, 3], 'int32');
    const b = pair(rt, [1, -1, 2, 0, 3, 1], [3, 2], 'int32');
    const c = pair(rt, [10, 20], [2], 'int32');
    await sameOnBoth([c, a, b], (z, x, y) => z!.addmm(x!, y!, { beta: 2, alpha: -3 }), {}, 'int32');
  });

  it('runs as one addmm kernel, and its gradients match the CPU', async () => {
    const seen: string[] = [];
    const listen = (e: { op: string }): void => void seen.push(e.op);
    rt.events.on('op:dispatch', listen);
    const [bc, bg] = pair(rt, randoms(5, 7), [5]);
    const [xc, xg] = pair(rt, randoms(4 * 3, 8), [4, 3]);
    const [wc, wg] = pair(rt, randoms(3 * 5, 9), [3, 5]);
    for (const t of [bc, bg, xc, xg, wc, wg]) t.requiresGrad_(true);
    bg.addmm(xg, wg).square().sum().backward();
    rt.events.off('op:dispatch', listen);
    expect(seen.slice(0, 1)).toEqual(['addmm']);
    bc.addmm(xc, wc).square().sum().backward();
    const pairs: [Tensor, Tensor][] = [[bc, bg], [xc, xg], [wc, wg]];
    for (const [c, g] of pairs) expectClose(await g.grad!.data(), c.grad!.dataSync(), tol(5), 'grad');
  });
});
