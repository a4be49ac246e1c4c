/**
 * The structured kernels at sizes that exercise their passes and loop bounds: multi-pass
 * reductions, matmul with K beyond gpu.js's default loop limit, argmax ties and NaN, stable
 * softmax on large values, scatterAdd with repeated indices.
 */
import { createRuntime, type Runtime } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { randoms } from '@nabla/backend-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpu } from './gpujs.js';
import { GROUP } from './kernels/reduce.js';
import { webglBackend } from './plugin.js';
import { probe } from './test-utils/setup.js';

const gl = await probe();

function close(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i]! - want[i]!), `${what}[${i}]: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(rtol * Math.max(1, Math.abs(want[i]!)));
  }
}

describe.skipIf(!gl.ok)('webgl kernels', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ plugins: [cpuBackend(), webglBackend()] });
  });
  afterAll(async () => {
    await rt?.dispose();
  });

  it('the trap is real: gpu.js silently cuts a loop at loopMaxIterations', () => {
    const g = new gpu.GPU({ mode: 'headlessgl' });
    const k = g.createKernel('function (n) { let s = 0; for (let i = 0; i < n; i++) { s = s + 1; } return s; }', {
      output: [1], loopMaxIterations: 100, precision: 'single', pipeline: false, immutable: false, dynamicOutput: false,
      dynamicArguments: false, tactic: 'precision', fixIntegerDivisionAccuracy: false, strictIntegers: false,
    });
    expect((k(500) as Float32Array)[0]).toBe(100);
    g.destroy();
  });

  it('matmul with K far beyond gpu.js default loop limit (1000), strided and batch-broadcast', () => {
    const [M, K, N] = [5, 3000, 7];
    const a = Float32Array.from(randoms(M * K, 1));
    const b = Float32Array.from(randoms(K * N, 2));
    const res = ['cpu', 'webgl'].map((device) => {
      const ta = rt.tensor(a, { shape: [M, K], device });
      const tb = rt.tensor(b, { shape: [N, K], device }).t(); // strided: [K, N] with strides [1, K]
      return Array.from(ta.unsqueeze(0).expand(2, M, K).matmul(tb).dataSync());
    });
    close(res[1]!, res[0]!, 1e-4, 'bmm');
  });

  it('sum, prod, max, min over several axes of a strided input, multi-pass (rows longer than 64²)', () => {
    const n = GROUP * GROUP * 2 + 5;
    const x = Float32Array.from(randoms(3 * n, 3, -1, 1));
    for (const [op, axes] of [['sum', [1]], ['sum', [0, 1]], ['amax', [1]], ['amin', [0]], ['mean', [1]]] as const) {
      const res = ['cpu', 'webgl'].map((device) => {
        const t = rt.tensor(x, { shape: [n, 3], device }).t();
        const r = op === 'sum' ? t.sum([...axes]) : op === 'mean' ? t.mean([...axes]) : op === 'amax' ? t.amax([...axes]) : t.amin([...axes]);
        return Array.from(r.dataSync());
      });
      close(res[1]!, res[0]!, 1e-4, `${op}(${axes.join(',')})`);
    }
    const p = ['cpu', 'webgl'].map((d) => rt.tensor(randoms(300, 4, 0.99, 1.01), { device: d }).prod().item());
    close([p[1]!], [p[0]!], 1e-4, 'prod');
  });

  it('int sums are int32 and exact; max propagates NaN', () => {
    const v = Array.from({ length: 5000 }, (_, i) => (i % 7) - 3);
    const t = rt.tensor(v, { device: 'webgl', dtype: 'int32' });
    expect(t.sum().dtype).toBe('int32');
    expect(t.sum().item()).toBe(v.reduce((a, b) => a + b, 0));
    expect(rt.tensor([1, NaN, 3], { device: 'webgl' }).amax().item()).toBeNaN();
    expect(rt.tensor([1, NaN, 3], { device: 'webgl' }).amin().item()).toBeNaN();
  });

  it('argmax/argmin: first occurrence wins, NaN is the extreme, rows longer than the default loop limit', () => {
    const t = rt.tensor([[1, 5, 5, 2], [NaN, 9, NaN, 1], [-1, -7, -7, 0]], { device: 'webgl' });
    expect(Array.from(t.argmax(1).dataSync())).toEqual([1, 0, 3]);
    expect(Array.from(t.argmin(1).dataSync())).toEqual([0, 0, 1]);
    const long = randoms(2500, 5);
    long[2222] = 5;
    expect(rt.tensor(long, { device: 'webgl' }).argmax().item()).toBe(2222);
  });

  it('softmax and logSoftmax are stable for large inputs and match the cpu', () => {
    const x = [1000, 1001, 999, -1000, 0, 50, 3, 3, 3];
    const res = ['cpu', 'webgl'].map((d) => {
      const t = rt.tensor(x, { device: d, shape: [3, 3] });
      return [...Array.from(t.softmax(1).dataSync()), ...Array.from(t.t().logSoftmax(0).dataSync())];
    });
    res[1]!.forEach((v) => expect(Number.isFinite(v)).toBe(true));
    close(res[1]!, res[0]!, 1e-5, 'softmax');
  });

  it('scatterAdd adds repeated indices (gather-style), on a strided destination', () => {
    const res = ['cpu', 'webgl'].map((d) => {
      const dst = rt.zeros([5, 3], { device: d });
      const idx = rt.tensor([[0, 4, 4], [1, 4, 0], [4, 4, 4], [0, 0, 1]], { device: d, dtype: 'int32' });
      const src = rt.tensor(randoms(12, 6), { device: d, shape: [4, 3] });
      const a = dst.scatterAdd(0, idx, src);
      const big = rt.zeros([3, 2000], { device: d }).scatterAdd(1, rt.tensor(Array.from({ length: 3 * 1500 }, (_, i) => (i * 7) % 2000), { device: d, dtype: 'int32', shape: [3, 1500] }), rt.ones([3, 1500], { device: d }));
      return [...Array.from(a.dataSync()), ...Array.from(big.sum(0).dataSync())];
    });
    close(res[1]!, res[0]!, 1e-5, 'scatterAdd');
  });
});
