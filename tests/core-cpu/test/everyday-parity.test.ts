/**
 * sort, topk, cumsum, cumprod, nanToNum, the predicates, isclose/allclose and the casts against
 * PyTorch 1.13 (packages/core/fixtures/everyday-ops.json) on the CPU: in float64 to 1e-12 and with
 * the float inputs run as float32 to float32 tolerances. Gradients and, where recorded, second
 * derivatives too.
 */
import { allclose, createRuntime, type Runtime } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { decode, FLOAT64_ONLY, loadFixtures, nablaDtype, replay } from './helpers/everyday-fixtures.js';

const fx = loadFixtures();
let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
});

describe(`everyday ops match PyTorch ${fx.torch} on the CPU (float64)`, () => {
  it.each(fx.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await replay(rt, c, { device: 'cpu', float32: false, rtol: 1e-12, atol: 1e-12 })).toEqual([]);
  });
});

describe(`everyday ops match PyTorch ${fx.torch} on the CPU (float inputs as float32)`, () => {
  const cases = fx.cases.filter((c) => !FLOAT64_ONLY.has(c.name) && c.inputs.some((s) => s.dtype === 'float64'));
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await replay(rt, c, { device: 'cpu', float32: true, rtol: 1e-4, atol: 1e-5 })).toEqual([]);
  });
});

describe('allclose matches PyTorch', () => {
  it.each(fx.allclose.map((a) => [a.name, a.value] as const))('%s → %s', (name, value) => {
    const c = fx.cases.find((k) => k.name === name)!;
    const [a, b] = c.inputs.map((s) => rt.tensor(s.values.map(decode), { dtype: nablaDtype(s.dtype), shape: s.shape }));
    expect(allclose(a!, b!, { rtol: c.args.rtol as number | undefined, atol: c.args.atol as number | undefined, equalNan: !!c.args.equalNan })).toBe(value);
    expect(a!.allclose(b!, { rtol: c.args.rtol as number | undefined, atol: c.args.atol as number | undefined, equalNan: !!c.args.equalNan })).toBe(value);
  });
});
