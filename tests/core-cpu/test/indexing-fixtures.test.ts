/**
 * The indexing family against PyTorch 1.13 (fixtures/indexing.json, recorded by
 * fixtures/make_indexing_fixtures.py): forward values, the output's node name, and the gradient
 * of sum(out · w) for every floating input, in float64 on the CPU.
 */
import { autograd, createRuntime, einsum, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { indexingCases, type FixtureCase } from '../fixtures/indexing-cases.js';

const fixtures = JSON.parse(readFileSync(new URL('../fixtures/indexing.json', import.meta.url), 'utf8')) as { torch: string; cases: FixtureCase[] };
const cases = indexingCases(true);

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
});

/** PyTorch spells the in-place-through-a-view node with its C++ namespace. */
const nodeName = (n: string | null): string | null => n?.replace('torch::autograd::', '') ?? null;

function expectValues(got: ArrayLike<number>, want: readonly (number | boolean)[], label: string): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  want.forEach((v, k) => expect(Math.abs(got[k]! - Number(v)), `${label}[${k}]`).toBeLessThan(1e-10 + 1e-10 * Math.abs(Number(v))));
}

describe(`indexing ops match PyTorch ${fixtures.torch} (float64, cpu)`, () => {
  it('every fixture case has a Nabla call and every call a fixture', () => {
    expect(Object.keys(cases).sort()).toEqual(fixtures.cases.map((c) => c.name).sort());
  });

  it.each(fixtures.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const inputs: Record<string, Tensor> = {};
    for (const inp of c.inputs) {
      const data = inp.dtype === 'bool' ? (inp.data as boolean[]).map((b) => (b ? 1 : 0)) : (inp.data as number[]);
      const typed = inp.dtype === 'float64' ? Float64Array.from(data) : inp.dtype === 'int32' ? Int32Array.from(data) : Uint8Array.from(data);
      inputs[inp.name] = rt.tensor(typed, { shape: inp.shape, dtype: inp.dtype, requiresGrad: inp.dtype === 'float64' });
    }
    const out = await cases[c.name]!(inputs, { einsum });
    expect(out.shape).toEqual(c.out.shape);
    expectValues(out.dataSync(), c.out.data, 'forward');
    expect(nodeName(out.gradFn?.name() ?? null)).toBe(nodeName(c.gradFn));
    const names = Object.keys(c.grads);
    const w = rt.tensor(Float64Array.from(c.w), { shape: c.out.shape, dtype: 'float64' });
    const grads = autograd.grad(out.mul(w).sum(), names.map((n) => inputs[n]!), { allowUnused: true });
    names.forEach((n, k) => {
      const want = c.grads[n];
      if (want === null) expect(grads[k]).toBeNull();
      else expectValues(grads[k]!.dataSync(), want!, `grad ${n}`);
    });
  });
});
