/**
 * The op cases a device must get right: every family of core's ops (elementwise through the
 * expression compiler, reductions, matmul, views, indexing, softmax, in-place writes), on
 * contiguous, strided (transposed) and broadcast inputs, at sizes that cross the usual tile and
 * workgroup edges. Each case is plain public API, so a failure reads like a bug report.
 */
import { cat, stack, sub, where, type Tensor } from '@nabla/core';

export interface InputSpec {
  readonly shape: readonly number[];
  /** Values are drawn uniformly from this range (default [-2, 2]). */
  readonly range?: readonly [number, number];
  /** Drawn with its last two dims swapped and transposed back: a non-contiguous input. */
  readonly strided?: boolean;
}

export interface OpCase {
  /** `family/what`, e.g. `reduce/sum over dims [0, 2] keepdim`. */
  readonly name: string;
  readonly inputs: readonly InputSpec[];
  /** The program under test; every floating output's gradient is checked too. */
  readonly run: (...xs: Tensor[]) => Tensor | readonly Tensor[];
  /** False for programs whose outputs are not differentiable (comparisons, argmax). */
  readonly grad?: boolean;
  /** Scales the dtype's tolerance (long float32 accumulations). */
  readonly looser?: number;
}

const X = (...shape: number[]): InputSpec => ({ shape });
const R = (lo: number, hi: number, ...shape: number[]): InputSpec => ({ shape, range: [lo, hi] });
const S = (...shape: number[]): InputSpec => ({ shape, strided: true });
const int32 = (like: Tensor, values: number[], shape?: number[]): Tensor =>
  like.rt.tensor(values, { dtype: 'int32', device: like.device, ...(shape ? { shape } : {}) });

const unary: [string, (x: Tensor) => Tensor, InputSpec?][] = [
  ['neg', (x) => x.neg()],
  ['abs', (x) => x.abs()],
  ['sqrt', (x) => x.sqrt(), R(0.1, 3, 5, 7)],
  ['rsqrt', (x) => x.rsqrt(), R(0.1, 3, 5, 7)],
  ['exp', (x) => x.exp()],
  ['log', (x) => x.log(), R(0.1, 3, 5, 7)],
  ['log1p', (x) => x.log1p(), R(-0.5, 3, 5, 7)],
  ['expm1', (x) => x.expm1()],
  ['sin', (x) => x.sin()],
  ['cos', (x) => x.cos()],
  ['tan', (x) => x.tan(), R(-1.2, 1.2, 5, 7)],
  ['tanh', (x) => x.tanh()],
  ['sigmoid', (x) => x.sigmoid()],
  ['relu', (x) => x.relu()],
  ['sign', (x) => x.sign()],
  ['reciprocal', (x) => x.reciprocal(), R(0.5, 2, 5, 7)],
  ['square', (x) => x.square()],
  ['round (halves to even)', (x) => x.mul(2).round(), R(-3, 3, 5, 7)],
  ['floor', (x) => x.floor()],
  ['ceil', (x) => x.ceil()],
  ['trunc', (x) => x.trunc()],
  ['clamp', (x) => x.clamp(-0.5, 0.7)],
  ['clamp min only', (x) => x.clamp(0.25)],
];

export const CASES: readonly OpCase[] = [
  ...unary.map(([name, run, input]): OpCase => ({ name: `unary/${name}`, inputs: [input ?? X(5, 7)], run })),
  { name: 'unary/tanh of a strided input', inputs: [S(6, 9)], run: (x) => x.tanh() },
  { name: 'unary/exp of an empty tensor', inputs: [X(0, 3)], run: (x) => x.exp() },

  { name: 'binary/add with broadcasting', inputs: [X(3, 4), X(4)], run: (a, b) => a.add(b) },
  { name: 'binary/sub [2,1,4] - [3,1]', inputs: [X(2, 1, 4), X(3, 1)], run: (a, b) => a.sub(b) },
  { name: 'binary/mul of strided inputs', inputs: [S(6, 5), S(6, 5)], run: (a, b) => a.mul(b) },
  { name: 'binary/div', inputs: [X(4, 5), R(0.5, 2, 4, 5)], run: (a, b) => a.div(b) },
  { name: 'binary/pow', inputs: [R(0.5, 2, 4, 5), X(4, 5)], run: (a, b) => a.pow(b) },
  { name: 'binary/maximum, minimum', inputs: [X(4, 5), X(5)], run: (a, b) => [a.maximum(b), a.minimum(b)] },
  { name: 'binary/scalar operands', inputs: [X(4, 5)], run: (x) => sub(1.5, x.mul(2.5).add(1)) },
  { name: 'binary/pow by a scalar', inputs: [R(0.5, 2, 4, 5)], run: (x) => x.pow(3).add(x.pow(0.5)) },
  { name: 'compare/eq ne gt ge lt le', inputs: [X(4, 5), X(5)], grad: false, run: (a, b) => [a.eq(b), a.ne(b), a.gt(b), a.ge(b), a.lt(b), a.le(b)] },
  { name: 'select/where', inputs: [X(4, 5), X(4, 5), X(5)], run: (c, a, b) => where(c.gt(0), a, b) },
  { name: 'select/maskedFill', inputs: [X(4, 5)], run: (x) => x.maskedFill(x.lt(0), 0.5) },

  { name: 'reduce/sum of all', inputs: [X(7, 9)], run: (x) => x.sum() },
  { name: 'reduce/sum over dim 1', inputs: [X(3, 300, 5)], run: (x) => x.sum(1), looser: 4 },
  { name: 'reduce/sum over dims [0, 2] keepdim', inputs: [X(4, 3, 6)], run: (x) => x.sum([0, 2], true) },
  { name: 'reduce/sum of a strided input', inputs: [S(8, 6)], run: (x) => x.sum(0) },
  { name: 'reduce/sum of an empty tensor', inputs: [X(0, 3)], run: (x) => x.sum(0) },
  { name: 'reduce/mean', inputs: [X(5, 6)], run: (x) => x.mean(-1) },
  { name: 'reduce/prod', inputs: [R(0.5, 1.5, 5, 6)], run: (x) => x.prod(1) },
  { name: 'reduce/amax, amin', inputs: [X(5, 6)], run: (x) => [x.amax(0), x.amin(1)] },
  { name: 'reduce/max(dim) values and indices', inputs: [X(5, 6)], run: (x) => { const r = x.max(1); return [r.values, r.indices]; } },
  { name: 'reduce/argmax, argmin', inputs: [X(5, 6)], grad: false, run: (x) => [x.argmax(1), x.argmin(0), x.argmax()] },
  { name: 'reduce/logsumexp', inputs: [X(4, 9)], run: (x) => x.mul(20).logsumexp(1) },
  { name: 'reduce/var, std', inputs: [X(6, 5)], run: (x) => [x.var(0), x.std(1, { correction: 0 })] },
  { name: 'reduce/norm p = 2, 1, inf', inputs: [X(6, 5)], run: (x) => [x.norm(), x.norm(1, 1), x.norm(Infinity, 0)] },

  { name: 'softmax/softmax over each dim', inputs: [X(3, 4, 5)], run: (x) => [x.softmax(0), x.softmax(1), x.softmax(2)] },
  { name: 'softmax/logSoftmax of large logits', inputs: [X(4, 7)], run: (x) => x.mul(50).logSoftmax(1) },
  { name: 'softmax/softmax of a strided input', inputs: [S(5, 6)], run: (x) => x.softmax(1) },

  { name: 'linalg/matmul 2-D', inputs: [X(5, 7), X(7, 3)], run: (a, b) => a.matmul(b) },
  { name: 'linalg/matmul across tile edges', inputs: [X(33, 65), X(65, 17)], run: (a, b) => a.matmul(b), looser: 4 },
  { name: 'linalg/matmul batched with broadcasting', inputs: [X(2, 5, 7), X(7, 3)], run: (a, b) => a.matmul(b) },
  { name: 'linalg/matmul of transposed operands', inputs: [S(5, 6), S(6, 4)], run: (a, b) => a.matmul(b) },
  { name: 'linalg/matmul 1-D', inputs: [X(7), X(7, 3)], run: (a, b) => [a.matmul(b), b.t().matmul(a)] },
  { name: 'linalg/bmm', inputs: [X(3, 4, 5), X(3, 5, 2)], run: (a, b) => a.bmm(b) },
  { name: 'linalg/dot, outer', inputs: [X(6), X(6)], run: (a, b) => [a.dot(b), a.outer(b)] },

  { name: 'view/transpose then contiguous', inputs: [X(4, 6)], run: (x) => x.t().contiguous().mul(2) },
  { name: 'view/permute', inputs: [X(2, 3, 4)], run: (x) => x.permute(2, 0, 1).mul(x.permute(2, 0, 1)) },
  { name: 'view/expand', inputs: [X(3, 1)], run: (x) => x.expand(3, 4).mul(2) },
  { name: 'view/narrow and select', inputs: [X(5, 6)], run: (x) => [x.narrow(1, 2, 3).exp(), x.select(0, 3).neg()] },
  { name: 'view/reshape of a strided input (copies)', inputs: [S(4, 6)], run: (x) => x.reshape(-1).mul(3) },
  { name: 'view/flatten, squeeze, unsqueeze', inputs: [X(2, 1, 3)], run: (x) => x.squeeze(1).unsqueeze(0).flatten().mul(2) },
  { name: 'view/cat and stack', inputs: [X(2, 3), X(4, 3)], run: (a, b) => [cat([a, b], 0), stack([a, b.narrow(0, 0, 2)], 1)] },

  { name: 'index/indexSelect', inputs: [X(5, 4)], run: (x) => x.indexSelect(0, int32(x, [4, 0, 2, 2])) },
  { name: 'index/gather (scatterAdd in backward)', inputs: [X(4, 5)], run: (x) => x.gather(1, int32(x, [0, 4, 4, 1, 2, 2, 3, 0], [4, 2])) },
  {
    name: 'index/scatterAdd with repeated indices',
    inputs: [X(3, 4), X(3, 2)],
    run: (x, src) => x.scatterAdd(1, int32(x, [1, 1, 0, 3, 2, 2], [3, 2]), src),
  },

  { name: 'index/scatter (overwrite)', inputs: [X(3, 4), X(3, 2)], run: (x, src) => x.scatter(1, int32(x, [0, 3, 1, 2, 2, 0], [3, 2]), src) },
  { name: 'index/slicing with steps and a new axis', inputs: [X(5, 6)], run: (x) => x.index(['1:4', null, '::2']).mul(2) },
  { name: 'index/flip, roll, tril, triu', inputs: [X(4, 5)], run: (x) => [x.flip(0, 1), x.roll(2, 1), x.tril(), x.triu(1)] },

  { name: 'sort/sort and topk', inputs: [X(4, 7)], run: (x) => { const s = x.sort(1); const t = x.topk(3, 1); return [s.values, s.indices, t.values, t.indices]; } },
  { name: 'scan/cumsum and cumprod', inputs: [X(4, 9)], run: (x) => [x.cumsum(1), x.cumprod(0)] },

  { name: 'inplace/add_ and mul_ through a view', inputs: [X(4, 5)], run: (x) => { const y = x.mul(1); y.narrow(1, 1, 2).add_(1).mul_(3); return y; } },
  { name: 'inplace/clamp_ and copy_', inputs: [X(4, 5), X(4, 5)], run: (a, b) => { const y = a.mul(1); y.clamp_(-0.5, 0.5); return y.add(a.mul(1).copy_(b)); } },
];
