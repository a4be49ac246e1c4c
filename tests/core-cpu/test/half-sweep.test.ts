/**
 * Every kind of op that works for float32 works for float16 and bfloat16 on the CPU: for each op,
 * the 16-bit result equals the float32 op on the same (16-bit-representable) inputs rounded once to
 * the 16-bit type, within one ulp — PyTorch's definition of 16-bit arithmetic — and has the 16-bit
 * dtype; gradients reach 16-bit leaves as 16-bit tensors.
 */
import { addmm, createRuntime, einsum, where, type Runtime, type Tensor } from '@nabla/core';
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

type Op = (a: Tensor, b: Tensor, idx: Tensor) => Tensor;
const OPS: Record<string, Op> = {
  pow: (a) => a.abs().add(0.5).pow(1.5),
  minimum: (a, b) => a.minimum(b),
  clamp: (a) => a.clamp(-0.5, 0.75),
  where: (a, b) => where(a.gt(b), a, b.mul(2)),
  maskedFill: (a) => a.maskedFill(a.lt(0), -1.25),
  round: (a) => a.mul(3).round(),
  floor: (a) => a.mul(3).floor(),
  sign: (a) => a.sign(),
  tan: (a) => a.mul(0.5).tan(),
  prod: (a) => a.index([':', '0:4']).prod(1),
  amin: (a) => a.amin(0),
  maxDim: (a) => a.max(1).values,
  logsumexp: (a) => a.logsumexp(1),
  var: (a) => a.var(1),
  std: (a) => a.std(0, { correction: 0 }),
  norm: (a) => a.norm(2, 1),
  mm: (a, b) => a.mm(b.t()),
  dot: (a, b) => a.flatten().dot(b.flatten()),
  outer: (a, b) => a.index([0]).outer(b.index([1])),
  addmm: (a, b) => addmm(a.index([':', 0]).unsqueeze(1), a, b.t()),
  transposeContiguous: (a) => a.t().contiguous(),
  permuteMul: (a, b) => a.unsqueeze(0).permute([2, 1, 0]).mul(b.t().unsqueeze(2)),
  expandAdd: (a) => a.index([':', '0:1']).expand([4, 6]).add(a),
  narrowSelect: (a) => a.narrow(1, 1, 3).select(0, 2),
  indexSelect: (a, _b, idx) => a.indexSelect(1, idx),
  gather: (a, _b, idx) => a.gather(1, idx.unsqueeze(0).expand([4, 3]).contiguous()),
  scatterAdd: (a, b, idx) => a.scatterAdd(1, idx.unsqueeze(0).expand([4, 3]).contiguous(), b.index([':', '0:3']).contiguous()),
  sortValues: (a) => a.sort(1).values,
  topk: (a) => a.topk(2, 1).values,
  cumprod: (a) => a.cumprod(1),
  flipRoll: (a) => a.flip([0]).roll(1, 1),
  triu: (a) => a.index([':', '0:4']).triu(),
  indexPut: (a, b) => a.clone().index([':', 1]).mul(b.index([':', 2])),
  inPlaceOnSlice: (a, b) => {
    const c = a.clone();
    c.index([':', '1:4']).mul_(b.index([':', '2:5'])).add_(0.5);
    return c;
  },
  einsum: (a, b) => einsum('ij,kj->ik', a, b),
};

/**
 * Ops core composes from several ops round after each step in a 16-bit type, where PyTorch's single
 * kernel rounds once: var (mean, subtract, square, sum, divide) is checked within a few epsilons of
 * its largest element instead of one ulp.
 */
const COMPOSED = new Set(['var']);

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
