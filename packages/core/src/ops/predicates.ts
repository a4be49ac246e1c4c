/**
 * Tests of values: `isinf isfinite isposinf isneginf` (elementwise, bool), `any all` (bool
 * reductions), `isclose allclose`, and `nanToNum`, the one of them with a gradient. Each is an
 * elementwise expression (compiled by every backend) or composed from existing reductions.
 */
import * as E from '../expr/build.js';
import { isFloating, type DType } from '../dtype.js';
import { NablaError } from '../errors.js';
import { broadcastShapes, normalizeAxes } from '../shape.js';
import { Tensor } from '../tensor/tensor.js';
import { emptyOn, firstTensor } from './dispatch.js';
import { defineElementwise, runElementwise } from './elementwise/define.js';
import type { Dims } from './reduce.js';

const x = E.input(0);
const y = E.input(1);
const INF = E.c(Infinity);

const isinfOp = defineElementwise({ name: 'isinf', arity: 1, expr: E.eq(E.abs(x), INF), dtype: 'bool' });
const isposinfOp = defineElementwise({ name: 'isposinf', arity: 1, expr: E.eq(x, INF), dtype: 'bool' });
const isneginfOp = defineElementwise({ name: 'isneginf', arity: 1, expr: E.eq(x, E.c(-Infinity)), dtype: 'bool' });
// |x| < inf is false for NaN and ±inf alike.
const isfiniteOp = defineElementwise({ name: 'isfinite', arity: 1, expr: E.lt(E.abs(x), INF), dtype: 'bool' });

/** A bool tensor of x's shape holding `value` (integers are never inf or NaN). */
function constantMask(x: Tensor, value: boolean): Tensor {
  const out = emptyOn(x.rt, x._ref.backend, 'bool', x.shape);
  return value ? out.fill_(1) : out.zero_();
}

function floatTest(op: string, x: Tensor, def: typeof isinfOp, forInts: boolean): Tensor {
  firstTensor(op, [x]);
  return isFloating(x.dtype) ? runElementwise(def, [x]) : constantMask(x, forInts);
}

/** Where x is +inf or -inf. @example nabla.tensor([1, Infinity, -Infinity, NaN]).isinf().tolist(); // [false, true, true, false] */
export const isinf = (x: Tensor): Tensor => floatTest('isinf', x, isinfOp, false);
/** Where x is +inf. */
export const isposinf = (x: Tensor): Tensor => floatTest('isposinf', x, isposinfOp, false);
/** Where x is -inf. */
export const isneginf = (x: Tensor): Tensor => floatTest('isneginf', x, isneginfOp, false);
/** Where x is neither inf nor NaN. @example nabla.tensor([1, Infinity, NaN]).isfinite().tolist(); // [true, false, false] */
export const isfinite = (x: Tensor): Tensor => floatTest('isfinite', x, isfiniteOp, true);

/** The largest finite value of a float dtype (PyTorch's `finfo(dtype).max`). */
function floatMax(dtype: DType): number {
  return dtype === 'float32' ? 3.4028234663852886e38 : Number.MAX_VALUE;
}

const nanToNumOp = defineElementwise({
  name: 'nanToNum',
  arity: 1,
  numParams: 3,
  dtype: 'first',
  expr: E.where(E.isnan(x), E.param(0), E.where(E.eq(x, INF), E.param(1), E.where(E.eq(x, E.c(-Infinity)), E.param(2), x))),
  grad: { name: 'NanToNumBackward0', save: 'inputs', backward: (g, n) => [g.mul(isfinite(n.tensor(0)))] },
});

export interface NanToNumOptions {
  nan?: number | null;
  posinf?: number | null;
  neginf?: number | null;
}

/**
 * NaN, +inf and -inf replaced by `nan` (default 0), `posinf` and `neginf` (default the dtype's
 * largest and smallest finite values). The gradient passes where x was finite, 0 elsewhere.
 *
 * @example
 * nabla.tensor([NaN, Infinity, -Infinity, 1]).nanToNum().tolist(); // [0, 3.4028234663852886e38, -3.4028234663852886e38, 1]
 * x.nanToNum(0, 1e6, -1e6);  // or x.nanToNum({ posinf: 1e6 })
 */
export function nanToNum(x: Tensor, nanOrOpts?: number | NanToNumOptions | null, posinf?: number | null, neginf?: number | null): Tensor {
  const op = 'nanToNum';
  firstTensor(op, [x]);
  const o: NanToNumOptions = nanOrOpts !== null && typeof nanOrOpts === 'object' ? nanOrOpts : { nan: nanOrOpts, posinf, neginf };
  for (const [k, v] of Object.entries(o)) {
    if (v !== undefined && v !== null && typeof v !== 'number') throw new NablaError(`expected a number for ${k}, got ${typeof v}`, { op });
  }
  // Integers hold no NaN or inf: a copy, as PyTorch returns.
  if (!isFloating(x.dtype)) return x.clone();
  const max = floatMax(x.dtype);
  return runElementwise(nanToNumOp, [x], [o.nan ?? 0, o.posinf ?? max, o.neginf ?? -max]);
}

function reduceBool(op: 'any' | 'all', x: Tensor, dim: Dims, keepdim: boolean | null | undefined): Tensor {
  firstTensor(op, [x]);
  normalizeAxes(dim, x.ndim, op);
  // any: some element is non-zero (NaN counts); all: no element is zero. Empty: false / true.
  const hits = op === 'any' ? x.ne(0) : x.eq(0);
  const count = hits.sum(dim, keepdim);
  hits.dispose();
  const r = op === 'any' ? count.gt(0) : count.eq(0);
  count.dispose();
  return r;
}

/**
 * Whether any element (along `dim`) is non-zero, as bool.
 *
 * @example
 * nabla.tensor([[0, 1], [0, 0]]).any(1).tolist(); // [true, false]
 */
export const any = (x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor => reduceBool('any', x, dim, keepdim);
/**
 * Whether every element (along `dim`) is non-zero, as bool.
 *
 * @example
 * nabla.tensor([[1, 1], [0, 1]]).all(1).tolist(); // [true, false]
 */
export const all = (x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor => reduceBool('all', x, dim, keepdim);

// close: a == b (infinities too), or both NaN when equal_nan, or a finite |a - b| within atol + |rtol·b|.
const diff = E.abs(E.sub(x, y));
const iscloseOp = defineElementwise({
  name: 'isclose',
  arity: 2,
  numParams: 3,
  dtype: 'float',
  expr: E.or(
    E.eq(x, y),
    E.or(
      E.and(E.param(2), E.and(E.isnan(x), E.isnan(y))),
      E.and(E.lt(diff, INF), E.le(diff, E.add(E.param(1), E.abs(E.mul(E.param(0), y))))),
    ),
  ),
});

export interface IscloseOptions {
  /** Relative tolerance (default 1e-5). */
  rtol?: number | null;
  /** Absolute tolerance (default 1e-8). */
  atol?: number | null;
  /** NaN equals NaN (default false). */
  equalNan?: boolean | null;
}

function iscloseArgs(
  rtolOrOpts: number | IscloseOptions | null | undefined,
  atol: number | null | undefined,
  equalNan: boolean | null | undefined,
): { rtol: number; atol: number; equalNan: boolean } {
  const o: IscloseOptions = rtolOrOpts !== null && typeof rtolOrOpts === 'object' ? rtolOrOpts : { rtol: rtolOrOpts, atol, equalNan };
  return { rtol: o.rtol ?? 1e-5, atol: o.atol ?? 1e-8, equalNan: !!o.equalNan };
}

/**
 * Elementwise |a − b| <= atol + rtol·|b| (broadcasting), with PyTorch's defaults (rtol 1e-5,
 * atol 1e-8): equal infinities are close, NaN only with `equalNan`. a and b must have one dtype.
 *
 * @example
 * nabla.isclose(nabla.tensor([1, 2, NaN]), nabla.tensor([1 + 1e-7, 2.1, NaN])).tolist(); // [true, false, false]
 * nabla.isclose(a, b, { rtol: 0, atol: 1e-3, equalNan: true });
 */
export function isclose(
  a: Tensor,
  b: Tensor,
  rtolOrOpts?: number | IscloseOptions | null,
  atol?: number | null,
  equalNan?: boolean | null,
): Tensor {
  const op = 'isclose';
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new NablaError(`expected two Tensors, got ${a instanceof Tensor ? 'a Tensor' : typeof a} and ${b instanceof Tensor ? 'a Tensor' : typeof b}`, { op });
  firstTensor(op, [a, b]);
  if (a.dtype !== b.dtype) throw new NablaError(`${a.dtype} did not match ${b.dtype} (isclose needs two tensors of one dtype)`, { op });
  const o = iscloseArgs(rtolOrOpts, atol, equalNan);
  if (!(o.rtol >= 0)) throw new NablaError(`rtol must be greater than or equal to zero, but got ${o.rtol}`, { op });
  if (!(o.atol >= 0)) throw new NablaError(`atol must be greater than or equal to zero, but got ${o.atol}`, { op });
  const shape = broadcastShapes(a.shape, b.shape, op);
  // Computed in floating point (ints and bools too, as PyTorch casts them) into a bool output.
  const out = emptyOn(a.rt, a._ref.backend, 'bool', shape);
  try {
    return runElementwise(iscloseOp, [a, b], [o.rtol, o.atol, o.equalNan ? 1 : 0], out);
  } catch (e) {
    out.dispose();
    throw e;
  }
}

/**
 * Whether every element of a is close to b's (see `isclose`), as a boolean. Reads the result,
 * so on devices that read asynchronously use `nabla.isclose(a, b).all().itemAsync()`.
 *
 * @example
 * nabla.allclose(nabla.tensor([1, 2]), nabla.tensor([1, 2 + 1e-6])); // true
 */
export function allclose(
  a: Tensor,
  b: Tensor,
  rtolOrOpts?: number | IscloseOptions | null,
  atol?: number | null,
  equalNan?: boolean | null,
): boolean {
  const close = isclose(a, b, rtolOrOpts, atol, equalNan);
  const every = close.all();
  close.dispose();
  try {
    return every.item() !== 0;
  } finally {
    every.dispose();
  }
}
