/**
 * The CPU's 16-bit op sweep (tests/core-cpu/test/helpers/half-sweep-ops.ts) on WebGPU: each op in
 * float16/bfloat16 equals the same op in float32 on the same device, rounded once to the 16-bit
 * type, within one ulp, and keeps the 16-bit dtype.
 */
import type { Runtime } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bitsOf, GRAD_SCALE_EPS, ulpMismatches } from '../../../tests/core-cpu/test/helpers/half-ops.js';
import { COMPOSED, OPS } from '../../../tests/core-cpu/test/helpers/half-sweep-ops.js';
import { gpuRuntime, probe } from '../src/test-utils/setup.js';

const adapter = await probe();

describe.skipIf(!adapter.ok)('16-bit op sweep on webgpu', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = (await gpuRuntime())!;
  });
  afterAll(async () => {
    await rt.dispose();
  });
  for (const dtype of ['float16', 'bfloat16'] as const) {
    it.each(Object.keys(OPS))(`${dtype} %s`, async (name) => {
      rt.manualSeed(7);
      const a = rt.randn([4, 6]).to(dtype).to('webgpu');
      const b = rt.randn([4, 6]).to(dtype).to('webgpu');
      const idx = rt.tensor([5, 0, 3], { dtype: 'int32', device: 'webgpu' });
      const half = OPS[name]!(a, b, idx);
      const ref = OPS[name]!(a.float(), b.float(), idx).to(dtype);
      expect(half.dtype).toBe(dtype);
      expect(half.device).toBe('webgpu');
      expect(half.shape).toEqual(ref.shape);
      expect(ulpMismatches(dtype, Array.from(await bitsOf(ref)), await bitsOf(half), name, COMPOSED.has(name) ? GRAD_SCALE_EPS : 0)).toEqual([]);
    });
  }
});
