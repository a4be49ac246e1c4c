/**
 * The op sweep of half-sweep.test.ts (and the WebGPU one): ops over a [4, 6] pair `a`, `b` and an
 * int32 index `idx` = [5, 0, 3], run in a 16-bit type and in float32 on the same values.
 */
import { addmm, einsum, where, type Tensor } from '@nabla/core';

export type Op = (a: Tensor, b: Tensor, idx: Tensor) => Tensor;
export const OPS: Record<string, Op> = {
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
export const COMPOSED = new Set(['var']);
