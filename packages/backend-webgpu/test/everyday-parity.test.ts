/**
 * The everyday ops (sort, topk, cumsum, cumprod, nanToNum, predicates, isclose, casts) on WebGPU
 * against PyTorch 1.13 (packages/core/fixtures/everyday-ops.json), float inputs run as float32:
 * outputs, indices (exact: the sort is stable on both sides), gradients and second derivatives.
 */
import type { Runtime } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLOAT64_ONLY, loadFixtures, replay } from '../../../tests/core-cpu/test/helpers/everyday-fixtures.js';
import { gpuRuntime, probe } from '../src/test-utils/setup.js';

const adapter = await probe();
const fx = loadFixtures();

describe.skipIf(!adapter.ok)(`everyday ops on webgpu match PyTorch ${fx.torch} (float32)`, () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = (await gpuRuntime())!;
  });
  afterAll(async () => {
    await rt.dispose();
  });

  const cases = fx.cases.filter((c) => !FLOAT64_ONLY.has(c.name));
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await replay(rt, c, { device: 'webgpu', float32: true, rtol: 1e-4, atol: 1e-5 })).toEqual([]);
  });
});
