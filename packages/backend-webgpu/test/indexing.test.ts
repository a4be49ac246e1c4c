/**
 * The indexing family on WebGPU against the PyTorch 1.13 fixtures the CPU suite uses
 * (tests/core-cpu/fixtures/indexing.json): forward values, node names and gradients, in float32
 * with float32 tolerances. Mask ops take their `...Async` form, since a mask's values decide
 * shapes and WebGPU reads back asynchronously; the sync forms say so.
 */
import { autograd, einsum, NablaError, type Runtime, type Tensor } from '@nabla/core';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexingCases, type FixtureCase } from '../../../tests/core-cpu/fixtures/indexing-cases.js';
import { expectClose } from '../src/test-utils/compare.js';
import { gpuRuntime, probe } from '../src/test-utils/setup.js';

const adapter = await probe();
const fixtures = JSON.parse(readFileSync(new URL('../../../tests/core-cpu/fixtures/indexing.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: FixtureCase[];
};
const cases = indexingCases(false);
const TOL = { rtol: 1e-4, atol: 1e-5 };
/**
 * PyTorch reads a 0-d integer index tensor's value and selects (a view); WebGPU cannot read it
 * synchronously, so Nabla indexes with it instead (same values and gradient, a copy).
 */
const NODE_ON_WEBGPU: Record<string, string> = { '0-d integer tensor': 'IndexBackward0' };

describe.skipIf(!adapter.ok)(`indexing ops on webgpu match PyTorch ${fixtures.torch} (float32)`, () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = (await gpuRuntime())!;
  });
  afterAll(async () => {
    await rt.dispose();
  });

  it.each(fixtures.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const inputs: Record<string, Tensor> = {};
    for (const inp of c.inputs) {
      const data = inp.data.map(Number);
      const typed = inp.dtype === 'float64' ? Float32Array.from(data) : inp.dtype === 'int32' ? Int32Array.from(data) : Uint8Array.from(data);
      const dtype = inp.dtype === 'float64' ? 'float32' : inp.dtype;
      inputs[inp.name] = rt.tensor(typed, { shape: inp.shape, dtype, device: 'webgpu', requiresGrad: dtype === 'float32' });
    }
    const out = await cases[c.name]!(inputs, { einsum });
    expect(out.device).toBe('webgpu');
    expect(out.shape).toEqual(c.out.shape);
    expectClose(await out.data(), c.out.data.map(Number), TOL, 'forward');
    expect(out.gradFn?.name() ?? null).toBe(NODE_ON_WEBGPU[c.name] ?? c.gradFn?.replace('torch::autograd::', '') ?? null);
    const names = Object.keys(c.grads);
    const w = rt.tensor(Float32Array.from(c.w), { shape: c.out.shape, device: 'webgpu' });
    const grads = autograd.grad(out.mul(w).sum(), names.map((n) => inputs[n]!), { allowUnused: true });
    for (let k = 0; k < names.length; k++) {
      const want = c.grads[names[k]!];
      if (want === null || want === undefined) expect(grads[k]).toBeNull();
      else expectClose(await grads[k]!.data(), want, TOL, `grad ${names[k]}`);
    }
  });

  it('the sync forms of mask ops name their async form; basic and integer indexing need no read', async () => {
    const x = rt.tensor(Float32Array.from([1, -2, 3, -4]), { device: 'webgpu', shape: [2, 2] });
    const m = x.gt(0);
    expect(() => x.index([m])).toThrow(NablaError);
    expect(() => x.index([m])).toThrow(/cannot be read synchronously; use await x.indexAsync\(\.\.\.\) instead/);
    expect(() => x.maskedSelect(m)).toThrow(/use await x.maskedSelectAsync\(mask\)/);
    expect(() => x.clone().maskedScatter_(m, x)).toThrow(/use await x.maskedScatterAsync_\(mask, source\)/);
    expect(() => x.clone().indexPut_([m], 0)).toThrow(/use await x.indexPutAsync_\(\.\.\.\)/);
    expect(Array.from(await x.index([':', -1]).data())).toEqual([-2, -4]);
    expect(Array.from(await x.index([[1, 1, 0]]).data())).toEqual([3, -4, 3, -4, 1, -2]);
    expect(Array.from(await (await x.indexAsync([m])).data())).toEqual([1, 3]);
  });

  it('an out-of-range index tensor is reported on the next synchronize', async () => {
    const x = rt.zeros([3, 4], { device: 'webgpu' });
    const bad = rt.tensor(Int32Array.from([0, 4]), { device: 'webgpu' });
    const y = x.index([':', bad]);
    await expect(rt.synchronize('webgpu')).rejects.toThrow(/out of range/);
    y.dispose();
  });
});
