/**
 * Core's elementwise ops, one entry each: name, expression, dtype rule, and gradient.
 * Read it top to bottom like PyTorch's derivatives.yaml. Gradients use differentiable tensor
 * methods, so every formula is itself differentiable (second derivatives of tanh, sigmoid and exp
 * reuse the saved *output with its graph*, which is what keeps them right).
 */
import * as E from '../../expr/build.js';
import type { MaybeGrad } from '../../autograd/node.js';
import type { OpNode } from '../../autograd/op-node.js';
import type { Tensor } from '../../tensor/tensor.js';
import { where } from './where.js';
import { sigmoidBackward, tanhBackward } from './activation-backward.js';
import { defineElementwise, runBinary, runElementwise, type ElementwiseAttrs, type ElementwiseOpDef } from './define.js';

const x = E.input(0);
const y = E.input(1);

type N = OpNode<ElementwiseAttrs>;
const zeros = (g: Tensor): MaybeGrad[] => [g.mul(0)];

/**
 * The incoming gradient, for a formula whose one result has its shape and dtype to be written into,
 * when the engine lent it (no one else holds it: `OpNode.writable`); else undefined (a new tensor).
 */
const into = (n: N, g: Tensor): Tensor | undefined => n.writable(g) ?? undefined;

/**
 * `into` for g ∘ other, the gradient w.r.t. self of a binary op (mul, div): g has the broadcast
 * shape, so the result has g's shape, and g's dtype and device unless other brings others (a 0-d
 * float64 or CPU tensor): then undefined, a new tensor.
 */
const intoWith = (n: N, g: Tensor, other: Tensor | number): Tensor | undefined =>
  typeof other === 'number' || (other.dtype === g.dtype && other._ref.backend === g._ref.backend) ? into(n, g) : undefined;

/**
 * g · t (or g / t), into g when it was lent: the usual last step of a unary op's formula, where t,
 * the derivative, has g's shape, dtype and device. The same kernel and rounding as `g.mul(t)`.
 */
const times = (n: N, g: Tensor, t: Tensor): Tensor => runBinary(mul, g, t, into(n, g));
const over = (n: N, g: Tensor, t: Tensor): Tensor => runBinary(div, g, t, into(n, g));

/** PyTorch's `Tensor | number` operand of a saved input, typed for formulas. */
const inp = (n: N, i: number): Tensor | number => n.input(i);

function unary(
  name: string,
  expr: (a: E.E) => E.E,
  grad: ElementwiseOpDef['grad'],
  opts: { dtype?: 'float' | 'promote'; boolError?: ElementwiseOpDef['boolError'] } = {},
): ElementwiseOpDef {
  return defineElementwise({ name, arity: 1, expr: expr(x), dtype: opts.dtype ?? 'float', ...(grad ? { grad } : {}), ...(opts.boolError ? { boolError: opts.boolError } : {}) });
}

/** PyTorch's "not implemented for 'Bool'" of ops that have no bool kernel. */
const noBoolKernel = (name: string) => (): string => `"${name}" not implemented for 'Bool'`;

export const neg = unary('neg', E.neg, { name: 'NegBackward0', save: 'none', backward: (g) => [g.neg()] }, {
  dtype: 'promote',
  boolError: () =>
    'Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.',
});
export const abs = unary('abs', E.abs, { name: 'AbsBackward0', save: 'inputs', backward: (g, n) => [times(n, g, n.tensor(0).sign())] }, {
  dtype: 'promote',
  boolError: noBoolKernel('abs'),
});
export const sqrt = unary('sqrt', E.sqrt, { name: 'SqrtBackward0', save: 'output', backward: (g, n) => [over(n, g, n.output().mul(2))] });
export const rsqrt = unary('rsqrt', E.rsqrt, {
  name: 'RsqrtBackward0',
  save: 'output',
  backward: (g, n) => [g.mul(n.output().pow(3)).mul(-0.5)],
});
export const exp = unary('exp', E.exp, { name: 'ExpBackward0', save: 'output', backward: (g, n) => [times(n, g, n.output())] });
export const log = unary('log', E.log, { name: 'LogBackward0', save: 'inputs', backward: (g, n) => [over(n, g, n.tensor(0))] });
export const log1p = unary('log1p', E.log1p, { name: 'Log1PBackward0', save: 'inputs', backward: (g, n) => [over(n, g, n.tensor(0).add(1))] });
export const expm1 = unary('expm1', E.expm1, { name: 'Expm1Backward0', save: 'output', backward: (g, n) => [times(n, g, n.output().add(1))] });
export const sin = unary('sin', E.sin, { name: 'SinBackward0', save: 'inputs', backward: (g, n) => [times(n, g, n.tensor(0).cos())] });
export const cos = unary('cos', E.cos, { name: 'CosBackward0', save: 'inputs', backward: (g, n) => [g.mul(n.tensor(0).sin()).neg()] });
export const tan = unary('tan', E.tan, {
  name: 'TanBackward0',
  save: 'output',
  backward: (g, n) => [times(n, g, n.output().square().add(1))],
});
export const tanh = unary('tanh', E.tanh, {
  name: 'TanhBackward0',
  save: 'output',
  // One op (tanh_backward), rounding once as PyTorch's kernel does (activation-backward.ts).
  backward: (g, n) => [runBinary(tanhBackward, g, n.output(), into(n, g))],
});
export const sigmoid = unary('sigmoid', E.sigmoid, {
  name: 'SigmoidBackward0',
  save: 'output',
  backward: (g, n) => [runBinary(sigmoidBackward, g, n.output(), into(n, g))],
});
/**
 * relu's gradient as an op of its own, PyTorch's `threshold_backward(g, result, threshold)`: g where
 * result > threshold, else 0. Being an op, it records a node when the saved output carries a graph
 * (createGraph), so relu's gradient requires grad and can be differentiated again, as in PyTorch:
 * the gradient w.r.t. g goes through the same mask, that w.r.t. the output is zero.
 */
export const thresholdBackward: ElementwiseOpDef = defineElementwise({
  name: 'thresholdBackward',
  arity: 2,
  numParams: 1,
  expr: E.where(E.gt(y, E.param(0)), x, E.c(0)),
  grad: {
    name: 'ThresholdBackwardBackward0',
    save: 'inputs',
    uses: [[1], [1]],
    backward: (gg, n) => {
      const out = n.tensor(1);
      return [n.needs(0) ? runElementwise(thresholdBackward, [gg, out], n.attrs.params) : null, n.needs(1) ? out.rt.zerosLike(out) : null];
    },
  },
});

export const relu = unary('relu', E.relu, {
  name: 'ReluBackward0',
  save: 'output',
  backward: (g, n) => [runElementwise(thresholdBackward, [g, n.output()], [0], into(n, g))],
}, { dtype: 'promote', boolError: () => 'Boolean inputs not supported for relu' });
export const sign = unary('sign', E.sign, { name: 'SignBackward0', save: 'none', backward: zeros }, { dtype: 'promote' });
export const reciprocal = unary('reciprocal', E.reciprocal, {
  name: 'ReciprocalBackward0',
  save: 'output',
  backward: (g, n) => [g.mul(n.output().square()).neg()],
});
export const square = unary('square', E.square, {
  name: 'PowBackward0',
  save: 'inputs',
  backward: (g, n) => [times(n, g, n.tensor(0).mul(2))],
}, { dtype: 'promote' });
export const round = unary('round', E.round, { name: 'RoundBackward0', save: 'none', backward: zeros }, { dtype: 'promote', boolError: noBoolKernel('round') });
export const floor = unary('floor', E.floor, { name: 'FloorBackward0', save: 'none', backward: zeros }, { dtype: 'promote', boolError: noBoolKernel('floor') });
export const ceil = unary('ceil', E.ceil, { name: 'CeilBackward0', save: 'none', backward: zeros }, { dtype: 'promote', boolError: noBoolKernel('ceil') });
export const trunc = unary('trunc', E.trunc, { name: 'TruncBackward0', save: 'none', backward: zeros }, { dtype: 'promote', boolError: noBoolKernel('trunc') });

export const add = defineElementwise({
  name: 'add',
  arity: 2,
  expr: E.add(x, y),
  grad: { name: 'AddBackward0', save: 'none', backward: (g) => [g, g] },
});
export const sub = defineElementwise({
  name: 'sub',
  arity: 2,
  expr: E.sub(x, y),
  grad: { name: 'SubBackward0', save: 'none', backward: (g, n) => [g, n.needs(1) ? g.neg() : null] },
  boolError: (_, allBool) =>
    allBool
      ? 'Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.'
      : 'Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.',
});
export const mul = defineElementwise({
  name: 'mul',
  arity: 2,
  expr: E.mul(x, y),
  grad: {
    name: 'MulBackward0',
    save: 'inputs',
    uses: [[1], [0]],
    backward: (g, n) => {
      // The gradient w.r.t. other first: the one w.r.t. self may then be written into g.
      const gOther = n.needs(1) ? g.mul(inp(n, 0)) : null;
      if (!n.needs(0)) return [null, gOther];
      const other = inp(n, 1);
      return [runBinary(mul, g, other, intoWith(n, g, other)), gOther];
    },
  },
});
export const div = defineElementwise({
  name: 'div',
  arity: 2,
  expr: E.div(x, y),
  dtype: 'float',
  grad: {
    name: 'DivBackward0',
    save: 'inputs',
    uses: [[1], [0, 1]],
    backward: (g, n) => {
      const b = inp(n, 1);
      // The gradient w.r.t. other first: the one w.r.t. self may then be written into g (as in mul).
      const gb = n.needs(1) ? g.neg().mul(inp(n, 0)).div((b as Tensor).square()) : null;
      if (!n.needs(0)) return [null, gb];
      return [runBinary(div, g, b, intoWith(n, g, b)), gb];
    },
  },
});
export const pow = defineElementwise({
  name: 'pow',
  arity: 2,
  expr: E.pow(x, y),
  grad: {
    name: 'PowBackward0',
    nameFor: (numbers) => (numbers === 0 ? 'PowBackward1' : numbers === 1 ? 'PowBackward2' : undefined),
    save: 'inputs',
    backward: (g, n) => {
      const a = inp(n, 0);
      const b = inp(n, 1);
      let ga: MaybeGrad = null;
      let gb: MaybeGrad = null;
      if (n.needs(0)) {
        const ta = a as Tensor;
        if (typeof b === 'number') ga = b === 0 ? g.mul(0) : times(n, g, ta.pow(b - 1).mul(b));
        else ga = where(b.eq(0), 0, g.mul(b.mul(ta.pow(b.sub(1)))));
      }
      if (n.needs(1)) {
        const tb = b as Tensor;
        // PyTorch masks 0^b (b >= 0) to a zero gradient instead of 0 * log(0) = NaN.
        if (typeof a === 'number') gb = a === 0 ? where(tb.ge(0), 0, g.mul(runElementwise(pow, [a, tb]).mul(-Infinity))) : g.mul(runElementwise(pow, [a, tb]).mul(Math.log(a)));
        else {
          // PyTorch masks 0^b (b >= 0) to a zero gradient instead of 0 * log(0) = NaN.
          const mask = a.eq(0).logicalAnd(tb.ge(0));
          gb = where(mask, 0, g.mul(a.pow(tb).mul(a.log())));
        }
      }
      return [ga, gb];
    },
  },
});
export const maximum = defineElementwise({
  name: 'maximum',
  arity: 2,
  expr: E.max(x, y),
  grad: {
    name: 'MaximumBackward0',
    save: 'inputs',
    backward: (g, n) => tieSplit(g, n.tensor(0), n.tensor(1), 'gt'),
  },
});
export const minimum = defineElementwise({
  name: 'minimum',
  arity: 2,
  expr: E.min(x, y),
  grad: {
    name: 'MinimumBackward0',
    save: 'inputs',
    backward: (g, n) => tieSplit(g, n.tensor(0), n.tensor(1), 'lt'),
  },
});

/** maximum/minimum: the winner gets the gradient, ties split it in half (PyTorch). */
function tieSplit(g: Tensor, a: Tensor | number, b: Tensor | number, win: 'gt' | 'lt'): MaybeGrad[] {
  // Compare with the tensor operand first, so a JS number may sit on either side.
  const [t, other, flip] = typeof a === 'number' ? [b as Tensor, a, true] : [a, b, false];
  const tie = t.eq(other);
  // "a wins" is a > b (or a < b); with the operands swapped that reads b < a (b > a).
  const aWins = (win === 'gt') !== flip ? t.gt(other) : t.lt(other);
  const half = g.mul(0.5);
  const ga = where(tie, half, where(aWins, g, 0));
  const gb = where(tie, half, where(aWins, 0, g));
  return [typeof a === 'number' ? null : ga, typeof b === 'number' ? null : gb];
}

export const clamp = defineElementwise({
  name: 'clamp',
  arity: 1,
  numParams: 2,
  expr: E.min(E.max(x, E.param(0)), E.param(1)),
  grad: {
    name: 'ClampBackward1',
    save: 'inputs',
    backward: (g, n) => {
      const t = n.tensor(0);
      const [lo, hi] = n.attrs.params as [number, number];
      return [where(t.ge(lo).logicalAnd(t.le(hi)), g, 0)];
    },
  },
});

// Comparisons and logic: bool results, no gradient.
const cmp = (name: string, f: (a: E.E, b: E.E) => E.E): ElementwiseOpDef =>
  defineElementwise({ name, arity: 2, expr: f(x, y), dtype: 'bool' });
export const eq = cmp('eq', E.eq);
export const ne = cmp('ne', E.ne);
export const gt = cmp('gt', E.gt);
export const ge = cmp('ge', E.ge);
export const lt = cmp('lt', E.lt);
export const le = cmp('le', E.le);
export const logicalAnd = cmp('logicalAnd', (a, b) => E.and(a, b));
export const logicalOr = cmp('logicalOr', (a, b) => E.or(a, b));
export const logicalNot = defineElementwise({ name: 'logicalNot', arity: 1, expr: E.not(x), dtype: 'bool' });
export const isnan = defineElementwise({ name: 'isnan', arity: 1, expr: E.isnan(x), dtype: 'bool' });

/** Identity with a dtype change (`to(dtype)`, `copy_`): the output dtype decides. */
export const identity = defineElementwise({ name: 'copy', arity: 1, expr: x });
/** Fills with parameter 0 (`fill_`, `zeros`, `full`). */
export const fill = defineElementwise({ name: 'fill', arity: 0, numParams: 1, expr: E.param(0) });

/** Every core elementwise op with a method of the same name. */
export const UNARY_METHOD_OPS = {
  neg, abs, sqrt, rsqrt, exp, log, log1p, expm1, sin, cos, tan, tanh, sigmoid, relu, sign, reciprocal, square,
  round, floor, ceil, trunc, logicalNot, isnan,
} as const;

export const BINARY_METHOD_OPS = { add, sub, mul, div, pow, maximum, minimum, eq, ne, gt, ge, lt, le, logicalAnd, logicalOr } as const;
