/**
 * Reductions. Backends provide sum/prod/max/min/argmax/argmin over axis sets; mean, logsumexp,
 * var, std and norm are composed from them here, stably (logsumexp subtracts the max). Every
 * gradient re-expands the reduced gradient over the reduced axes with view ops, so it is itself
 * differentiable.
 */
import { AMP, castOperands } from '../amp/state.js';
import { isFloating, type DType } from '../dtype.js';
import { NablaError } from '../errors.js';
import type { MaybeGrad } from '../autograd/node.js';
import { normalizeAxes, normalizeDim } from '../shape.js';
import { fmtValue } from '../validate/format.js';
import { checkFlag } from '../validate/scalar.js';
import type { Tensor } from '../tensor/tensor.js';
import { alias, emptyOn, grad, needsGrad, record, runKernel, zerosOf } from './dispatch.js';
import { runElementwise } from './elementwise/define.js';
import { identity, mul as mulDef } from './elementwise/table.js';
import { where } from './elementwise/where.js';
import { scatterAdd } from './indexing.js';

export type Dims = number | readonly number[] | null | undefined;

interface ReduceAttr {
  inShape: readonly number[];
  axes: readonly number[];
  keepdim: boolean;
}

/** Runs a reduction kernel; the result has the keepdim shape (size 1 on reduced axes). */
function reduceRaw(name: 'sum' | 'prod' | 'max' | 'min' | 'argmax' | 'argmin', x: Tensor, axes: readonly number[], outDtype: DType, op: string): Tensor {
  const keepShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = emptyOn(x.rt, x._ref.backend, outDtype, keepShape);
  if (axes.length === 0) {
    runElementwise(identity, [x], undefined, out);
    return out;
  }
  runKernel(name, x, op, { reads: [x], writes: [out] }, (k) => k(out._view(), x._view(), axes));
  return out;
}

/** Drops the reduced axes of a keepdim result unless `keepdim` (an alias, no copy). */
function finishShape(out: Tensor, axes: readonly number[], keepdim: boolean): Tensor {
  if (keepdim || axes.length === 0) return out;
  const shape = out.shape.filter((_, i) => !axes.includes(i));
  const strides = out._strides.filter((_, i) => !axes.includes(i));
  const r = alias(out, shape, strides, out._offset);
  out.dispose();
  return r;
}

/** The reduced gradient (or value), broadcastable against the input again. Differentiable. */
export function restore(g: Tensor, a: ReduceAttr): Tensor {
  let r = g;
  if (!a.keepdim) for (const ax of a.axes) r = r.unsqueeze(ax);
  return r;
}

function expandBack(g: Tensor, a: ReduceAttr): Tensor {
  return restore(g, a).expand(a.inShape);
}

function countOf(shape: readonly number[], axes: readonly number[]): number {
  let n = 1;
  for (const a of axes) n *= shape[a]!;
  return n;
}

function attrsFor(x: Tensor, dim: Dims, keepdim: boolean | null | undefined, op: string): ReduceAttr {
  return { inShape: x.shape, axes: normalizeAxes(dim, x.ndim, op), keepdim: checkFlag(op, 'keepdim', keepdim) };
}

function noDim(dim: Dims): boolean {
  return dim === undefined || dim === null;
}

const sumGrad0 = grad<ReduceAttr>('SumBackward0', (g, n) => [expandBack(g[0]!, n.attrs)]);
const sumGrad1 = grad<ReduceAttr>('SumBackward1', (g, n) => [expandBack(g[0]!, n.attrs)]);

export function sum(x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor {
  x._alive('sum');
  if (AMP.active) [x] = castOperands('sum', [x] as const);
  const a = attrsFor(x, dim, keepdim, 'sum');
  const outDtype = isFloating(x.dtype) ? x.dtype : 'int32';
  const out = finishShape(reduceRaw('sum', x, a.axes, outDtype, 'sum'), a.axes, a.keepdim);
  if (needsGrad(x.rt, [x])) record(noDim(dim) ? sumGrad0 : sumGrad1, [x], [out], { attrs: a });
  return out;
}

const meanGrad0 = grad<ReduceAttr>('MeanBackward0', (g, n) => [expandBack(g[0]!, n.attrs).div(countOf(n.attrs.inShape, n.attrs.axes))]);
const meanGrad1 = grad<ReduceAttr>('MeanBackward1', (g, n) => [expandBack(g[0]!, n.attrs).div(countOf(n.attrs.inShape, n.attrs.axes))]);

export function mean(x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor {
  x._alive('mean');
  if (!isFloating(x.dtype)) {
    throw new NablaError(
      `mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: ${x.dtype}`,
      { op: 'mean' },
    );
  }
  const a = attrsFor(x, dim, keepdim, 'mean');
  const s = reduceRaw('sum', x, a.axes, x.dtype, 'mean');
  runElementwise(mulDef, [s, 1 / countOf(x.shape, a.axes)], undefined, s);
  const out = finishShape(s, a.axes, a.keepdim);
  if (needsGrad(x.rt, [x])) record(noDim(dim) ? meanGrad0 : meanGrad1, [x], [out], { attrs: a });
  return out;
}

/**
 * prod's gradient is the product of the *other* elements, written so that it stays
 * differentiable in every element (second derivatives right at zeros too):
 * - where x ≠ 0: out / x;
 * - where x = 0 and it is the only zero: the product of the non-zeros;
 * - where x = 0 and there is exactly one other zero x_k: that product times x_k (= 0, but its
 *   derivative in x_k is not), written as Σ_zeros x − x to avoid an O(n²) exclusive product;
 * - with three zeros or more, 0 (so are its first derivatives).
 */
function prodBackward(g: Tensor, x: Tensor, out: Tensor, a: ReduceAttr): MaybeGrad {
  const isZero = x.eq(0);
  const zeros = isZero.sum(a.axes, true);
  const safe = where(isZero, 1, x);
  const prodNonZero = safe.prod(a.axes, true);
  const otherZero = where(isZero, x, 0).sum(a.axes, true).sub(x);
  const atZero = where(zeros.eq(1), prodNonZero, where(zeros.eq(2), prodNonZero.mul(otherZero), 0));
  const atNonZero = restore(out, a).div(safe);
  return restore(g, a).mul(where(isZero, atZero, atNonZero)).expand(a.inShape);
}

const prodGrad0 = grad<ReduceAttr>('ProdBackward0', (g, n) => [prodBackward(g[0]!, n.tensor(0), n.output(), n.attrs)]);
const prodGrad1 = grad<ReduceAttr>('ProdBackward1', (g, n) => [prodBackward(g[0]!, n.tensor(0), n.output(), n.attrs)]);

export function prod(x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor {
  x._alive('prod');
  if (AMP.active) [x] = castOperands('prod', [x] as const);
  const a = attrsFor(x, dim, keepdim, 'prod');
  const outDtype = isFloating(x.dtype) ? x.dtype : 'int32';
  const out = finishShape(reduceRaw('prod', x, a.axes, outDtype, 'prod'), a.axes, a.keepdim);
  if (needsGrad(x.rt, [x])) record(noDim(dim) ? prodGrad0 : prodGrad1, [x], [out], { attrs: a, saveInputs: true, saveOutputs: true });
  return out;
}

/** amax/amin (and max()/min() without dim): ties share the gradient evenly (PyTorch). */
function extremeBackward(g: Tensor, x: Tensor, out: Tensor, a: ReduceAttr): MaybeGrad {
  const mask = x.eq(restore(out, a));
  const count = mask.sum(a.axes, true);
  return restore(g, a).mul(mask).div(count);
}

function checkNonEmpty(x: Tensor, axes: readonly number[], op: string): void {
  for (const ax of axes) {
    if (x.shape[ax] === 0) throw new NablaError(`Expected reduction dim ${ax} to have non-zero size.`, { op });
  }
  if (x.numel() === 0) throw new NablaError('cannot reduce an empty tensor', { op });
}

const amaxGrad = grad<ReduceAttr>('AmaxBackward0', (g, n) => [extremeBackward(g[0]!, n.tensor(0), n.output(), n.attrs)]);
const aminGrad = grad<ReduceAttr>('AminBackward0', (g, n) => [extremeBackward(g[0]!, n.tensor(0), n.output(), n.attrs)]);
const maxAllGrad = grad<ReduceAttr>('MaxBackward1', (g, n) => [extremeBackward(g[0]!, n.tensor(0), n.output(), n.attrs)]);
const minAllGrad = grad<ReduceAttr>('MinBackward1', (g, n) => [extremeBackward(g[0]!, n.tensor(0), n.output(), n.attrs)]);

function extreme(x: Tensor, which: 'max' | 'min', dim: Dims, keepdim: boolean | null | undefined, op: string, formula: typeof amaxGrad): Tensor {
  x._alive(op);
  const a = attrsFor(x, dim, keepdim, op);
  checkNonEmpty(x, a.axes, op);
  const out = finishShape(reduceRaw(which, x, a.axes, x.dtype, op), a.axes, a.keepdim);
  if (needsGrad(x.rt, [x])) record(formula, [x], [out], { attrs: a, saveInputs: true, saveOutputs: true });
  return out;
}

export function amax(x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor {
  return extreme(x, 'max', dim, keepdim, 'amax', amaxGrad);
}

export function amin(x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor {
  return extreme(x, 'min', dim, keepdim, 'amin', aminGrad);
}

export interface ValuesIndices {
  values: Tensor;
  indices: Tensor;
}

interface IndexAttr {
  inShape: readonly number[];
  dim: number;
  keepdim: boolean;
}

/** max(dim)/min(dim): the gradient goes to the index that was returned. */
const maxDimGrad = grad<IndexAttr>('MaxBackward0', (g, n) => [indexBackward(g[0]!, n.tensor(1), n.attrs), null]);
const minDimGrad = grad<IndexAttr>('MinBackward0', (g, n) => [indexBackward(g[0]!, n.tensor(1), n.attrs), null]);

function indexBackward(g: Tensor, indices: Tensor, a: IndexAttr): Tensor {
  const gk = a.keepdim ? g : g.unsqueeze(a.dim);
  const ik = a.keepdim ? indices : indices.unsqueeze(a.dim);
  const z = zerosOf(gk, a.inShape);
  return scatterAdd(z, a.dim, ik, gk);
}

function extremeDim(x: Tensor, which: 'max' | 'min', dim: Dims, keepdim: boolean | null | undefined): Tensor | ValuesIndices {
  const op = which;
  if (noDim(dim)) return extreme(x, which, undefined, keepdim, op, which === 'max' ? maxAllGrad : minAllGrad);
  x._alive(op);
  if (typeof dim !== 'number') {
    // A dim list: the values only (as amax/amin), which is how the API's cases use it.
    return extreme(x, which, dim, keepdim, op, which === 'max' ? amaxGrad : aminGrad);
  }
  const d = x.ndim === 0 ? (normalizeDim(dim, 0, op), 0) : normalizeDim(dim, x.ndim, op);
  const axes = x.ndim === 0 ? [] : [d];
  checkNonEmpty(x, axes, op);
  const kd = !!keepdim;
  const values = finishShape(reduceRaw(which, x, axes, x.dtype, op), axes, kd);
  const indices = finishShape(argRaw(x, which === 'max' ? 'argmax' : 'argmin', axes, op), axes, kd);
  if (needsGrad(x.rt, [x])) {
    record(which === 'max' ? maxDimGrad : minDimGrad, [x, indices], [values], { attrs: { inShape: x.shape, dim: d, keepdim: kd }, saveInputs: [false, true] });
  }
  return { values, indices };
}

function argRaw(x: Tensor, name: 'argmax' | 'argmin', axes: readonly number[], op: string): Tensor {
  if (axes.length === 0) {
    const out = emptyOn(x.rt, x._ref.backend, 'int32', x.shape);
    out.zero_();
    return out;
  }
  return reduceRaw(name, x, axes, 'int32', op);
}

export function max(x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor | ValuesIndices {
  return extremeDim(x, 'max', dim, keepdim);
}

export function min(x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor | ValuesIndices {
  return extremeDim(x, 'min', dim, keepdim);
}

function argExtreme(x: Tensor, name: 'argmax' | 'argmin', dim: number | null | undefined, keepdim: boolean | null | undefined): Tensor {
  x._alive(name);
  if (dim === undefined || dim === null) {
    checkNonEmpty(x, [], name);
    const flat = x.reshape([-1]);
    const r = finishShape(argRaw(flat, name, [0], name), [0], false);
    flat.dispose();
    if (keepdim) return r.reshape(x.shape.map(() => 1));
    return r;
  }
  const d = x.ndim === 0 ? (normalizeDim(dim, 0, name), 0) : normalizeDim(dim, x.ndim, name);
  const axes = x.ndim === 0 ? [] : [d];
  checkNonEmpty(x, axes, name);
  return finishShape(argRaw(x, name, axes, name), axes, !!keepdim);
}

export function argmax(x: Tensor, dim?: number | null, keepdim?: boolean | null): Tensor {
  return argExtreme(x, 'argmax', dim, keepdim);
}

export function argmin(x: Tensor, dim?: number | null, keepdim?: boolean | null): Tensor {
  return argExtreme(x, 'argmin', dim, keepdim);
}

/** Runs `fn` with grad mode off: composite forwards whose gradient is recorded as one node. */
function raw<T>(x: Tensor, fn: () => T): T {
  return x.rt.gradMode.run(false, x.rt.gradMode.inference, fn);
}

const logsumexpGrad = grad<ReduceAttr>('LogsumexpBackward0', (g, n) => {
  const a = n.attrs;
  return [restore(g[0]!, a).mul(n.tensor(0).sub(restore(n.output(), a)).exp())];
});

export function logsumexp(x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor {
  x._alive('logsumexp');
  if (AMP.active) [x] = castOperands('logsumexp', [x] as const);
  const a = attrsFor(x, dim, keepdim, 'logsumexp');
  const src = isFloating(x.dtype) ? x : x.to('float32');
  const out = raw(x, () => {
    if (src.numel() === 0) return src.exp().sum(a.axes, a.keepdim).log();
    const m = src.amax(a.axes, true);
    // Rows of -inf (or +inf) would give inf - inf = NaN: shift those by 0 instead.
    const shift = where(m.abs().eq(Infinity), 0, m);
    const s = src.sub(shift).exp().sum(a.axes, true).log().add(shift);
    return a.keepdim ? s : s.reshape(x.shape.filter((_, i) => !a.axes.includes(i)));
  });
  if (needsGrad(x.rt, [x])) record(logsumexpGrad, [x], [out], { attrs: a, saveInputs: true, saveOutputs: true });
  return out;
}

export interface VarOptions {
  correction?: number | null;
  keepdim?: boolean | null;
  /** PyTorch's older boolean spelling: unbiased = correction 1. */
  unbiased?: boolean | null;
}

interface VarAttr extends ReduceAttr {
  correction: number;
}

function varAttrs(x: Tensor, dim: Dims | VarOptions, opts: VarOptions | undefined, op: string): VarAttr {
  let d: Dims = dim as Dims;
  let o = opts;
  if (dim !== null && typeof dim === 'object' && !Array.isArray(dim)) {
    o = dim as VarOptions;
    d = undefined;
  }
  if (!isFloating(x.dtype)) throw new NablaError(`${op}(): input dtype should be floating point, got ${x.dtype}`, { op });
  const correction = o?.correction ?? (o?.unbiased === false ? 0 : 1);
  return { ...attrsFor(x, d, o?.keepdim, op), correction };
}

function varRaw(x: Tensor, a: VarAttr): Tensor {
  return raw(x, () => {
    const n = countOf(x.shape, a.axes);
    const centered = x.sub(x.mean(a.axes, true));
    return centered.square().sum(a.axes, a.keepdim).div(Math.max(n - a.correction, 0));
  });
}

const varGrad = grad<VarAttr>('VarBackward0', (g, n) => {
  const a = n.attrs;
  const x = n.tensor(0);
  const cnt = Math.max(countOf(a.inShape, a.axes) - a.correction, 0);
  // PyTorch's var_backward, in its order: (2 / dof) · grad · (x − mean). It is composed in PyTorch
  // too, so a 16-bit gradient rounds after the same ops in the same order.
  return [restore(g[0]!, a).mul(2 / cnt).mul(x.sub(x.mean(a.axes, true)))];
});

const stdGrad = grad<VarAttr>('StdBackward0', (g, n) => {
  const a = n.attrs;
  const x = n.tensor(0);
  const cnt = Math.max(countOf(a.inShape, a.axes) - a.correction, 0);
  // PyTorch masks std = 0 (constant input) to a zero gradient instead of 0/0. The denominator is
  // made safe too, so that the masked branch's own gradient (double backward) is not 0·∞ either.
  const s = restore(n.output(), a);
  const zero = s.eq(0);
  const scale = where(zero, 0, restore(g[0]!, a).div(where(zero, 1, s).mul(cnt)));
  return [scale.mul(x.sub(x.mean(a.axes, true)))];
});

export function variance(x: Tensor, dim?: Dims | VarOptions, opts?: VarOptions): Tensor {
  x._alive('var');
  const a = varAttrs(x, dim as Dims, opts, 'var');
  const out = varRaw(x, a);
  if (needsGrad(x.rt, [x])) record(varGrad, [x], [out], { attrs: a, saveInputs: true });
  return out;
}

export function std(x: Tensor, dim?: Dims | VarOptions, opts?: VarOptions): Tensor {
  x._alive('std');
  const a = varAttrs(x, dim as Dims, opts, 'std');
  const v = varRaw(x, a);
  const out = raw(x, () => v.sqrt());
  v.dispose();
  if (needsGrad(x.rt, [x])) record(stdGrad, [x], [out], { attrs: a, saveInputs: true, saveOutputs: true });
  return out;
}

interface NormAttr extends ReduceAttr {
  p: number;
}

const normGrad = grad<NormAttr>('LinalgVectorNormBackward0', (g, n) => {
  const a = n.attrs;
  const x = n.tensor(0);
  const norm = restore(n.output(), a);
  const gr = restore(g[0]!, a);
  const p = a.p;
  if (p === 0) return [x.mul(0)];
  if (p === 1) return [gr.mul(x.sign())];
  if (p === Infinity || p === -Infinity) {
    const mask = x.abs().eq(norm);
    return [gr.mul(x.sign()).mul(mask).div(mask.sum(a.axes, true))];
  }
  // As PyTorch: the scale g / norm^(p-1) is masked to 0 where the norm is 0. Its denominator is
  // made safe as well, so the masked branch contributes 0 (not 0·∞) to second derivatives.
  const zero = norm.eq(0);
  const safe = where(zero, 1, norm);
  const scale = where(zero, 0, gr.div(p === 2 ? safe : safe.pow(p - 1)));
  if (p === 2) return [x.mul(scale)];
  // d/dx (Σ|x|^p)^(1/p) = sgn(x) |x|^(p-1) / norm^(p-1); for p < 2 written with sgn so 0^(p-2) never appears.
  // For p < 1, |x|^(p-1) is infinite at x = 0: PyTorch masks those elements to 0.
  const xz = x.eq(0);
  const scaled =
    p < 1 ? where(xz, 0, x.sign().mul(where(xz, 1, x.abs()).pow(p - 1)))
    : p < 2 ? x.sign().mul(x.abs().pow(p - 1))
    : x.mul(x.abs().pow(p - 2));
  return [scaled.mul(scale)];
});

export function norm(x: Tensor, p: number | 'fro' | null | undefined = 2, dim?: Dims, keepdim?: boolean | null): Tensor {
  x._alive('norm');
  if (AMP.active) [x] = castOperands('norm', [x] as const);
  // PyTorch's 'fro' is the 2-norm over the given dims (or all); 'nuc' needs an SVD Nabla lacks.
  if (p === 'fro') p = 2;
  else if (p !== null && p !== undefined && typeof p !== 'number') {
    throw new NablaError(`p must be a number or 'fro', got ${fmtValue(p)}`, { op: 'norm' });
  }
  if (!isFloating(x.dtype)) throw new NablaError(`norm(): input dtype should be floating point, got ${x.dtype}`, { op: 'norm' });
  const pp = p ?? 2;
  const a: NormAttr = { ...attrsFor(x, dim, keepdim, 'norm'), p: pp };
  const out = raw(x, () => {
    const ax = x.abs();
    if (pp === Infinity) return ax.amax(a.axes, a.keepdim);
    if (pp === -Infinity) return ax.amin(a.axes, a.keepdim);
    if (pp === 0) return ax.ne(0).sum(a.axes, a.keepdim).to(x.dtype);
    if (pp === 1) return ax.sum(a.axes, a.keepdim);
    if (pp === 2) return ax.square().sum(a.axes, a.keepdim).sqrt();
    return ax.pow(pp).sum(a.axes, a.keepdim).pow(1 / pp);
  });
  if (needsGrad(x.rt, [x])) record(normGrad, [x], [out], { attrs: a, saveInputs: true, saveOutputs: true });
  return out;
}
