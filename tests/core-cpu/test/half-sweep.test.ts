/**
 * Every kind of op that works for float32 works for float16 and bfloat16 on the CPU: for each op,
 * the 16-bit result equals the float32 op on the same (16-bit-representable) inputs rounded once to
 * the 16-bit type, within one ulp — PyTorch's definition of 16-bit arithmetic — and has the 16-bit
 * dtype; gradients reach 16-bit leaves as 16-bit tensors.
 */
import { createRuntime, type Runtime } from '@nabla/core';
import { COMPOSED, OPS } from './helpers/half-sweep-ops.js';
import { cpuBackend } from '@nabla/backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bitsOf, GRAD_SCALE_EPS, ulpMismatches } from './helpers/half-ops.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
});
afterAll(async () => {
  await rt.dispose();
});


for (const dtype of ['float16', 'bfloat16'] as const) {
  describe(`${dtype} on the CPU: ops equal float32 rounded once`, () => {
    it.each(Object.keys(OPS))('%s', async (name) => {
      rt.manualSeed(7);
      const a = rt.randn([4, 6]).to(dtype);
      const b = rt.randn([4, 6]).to(dtype);
      const idx = rt.tensor([5, 0, 3], { dtype: 'int32' });
      const half = OPS[name]!(a, b, idx);
      const ref = OPS[name]!(a.float(), b.float(), idx).to(dtype);
      expect(half.dtype).toBe(dtype);
      expect(half.shape).toEqual(ref.shape);
      expect(ulpMismatches(dtype, Array.from(await bitsOf(ref)), await bitsOf(half), name, COMPOSED.has(name) ? GRAD_SCALE_EPS : 0)).toEqual([]);
    });

    it('predicates and reductions to bool read 16-bit values', () => {
      const t = rt.tensor([1, Infinity, NaN, -0, 1000], { dtype });
      expect(t.isfinite().tolist()).toEqual([true, false, false, true, true]);
      expect(t.isnan().any().item()).toBeTruthy();
      expect(t.nanToNum(0, 1, -1).tolist()).toEqual([1, 1, 0, -0, 1000]);
      expect(t.isinf().tolist()).toEqual([false, true, false, false, false]);
    });

    it('gradients flow through views, indexing and in-place ops to 16-bit leaves', () => {
      rt.manualSeed(3);
      const a = rt.randn([4, 6]).to(dtype).requiresGrad_();
      const y = a.t().contiguous().index(['1:5']).mul(2).logsumexp(1).sum().add(a.gather(1, rt.tensor([[1], [0], [2], [5]], { dtype: 'int32' })).sum());
      y.backward();
      expect(a.grad!.dtype).toBe(dtype);
      const ref = a.detach().float().requiresGrad_();
      ref.t().contiguous().index(['1:5']).mul(2).logsumexp(1).sum().add(ref.gather(1, rt.tensor([[1], [0], [2], [5]], { dtype: 'int32' })).sum()).backward();
      const g = a.grad!.float().tolist() as number[][];
      const r = ref.grad!.tolist() as number[][];
      const eps = dtype === 'float16' ? 2 ** -10 : 2 ** -7;
      g.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - r[i]![j]!)).toBeLessThanOrEqual(8 * eps * 2)));
    });
  });
}
