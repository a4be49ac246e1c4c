/**
 * View ops: new geometry over the same storage, no copy. Each view remembers how to rebuild
 * itself from its base (`_viewFn`), which is what makes in-place ops on views differentiable:
 * the base's history is rewritten (PyTorch's CopySlices) and other views follow it lazily.
 */
import { NablaError, fmtShape } from '../errors.js';
import type { MaybeGrad } from '../autograd/node.js';
import { contiguousStrides, inferShape, isContiguous, normalizeDim, viewStrides } from '../shape.js';
import { checkShapeArgs } from '../validate/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { alias, emptyOn, grad, needsGrad, record } from './dispatch.js';
import { identity } from './elementwise/table.js';
import { runElementwise } from './elementwise/define.js';

export type ViewFn = (t: Tensor) => Tensor;

/** A view of `x` with the given geometry; records `formula` when autograd needs it. */
export function makeView<A>(
  x: Tensor,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
  formula: ReturnType<typeof grad<A>>,
  attrs: A,
  step: ViewFn,
): Tensor {
  const v = alias(x, shape, strides, offset);
  v._base = x._base ?? x;
  const parent = x._viewFn;
  v._viewFn = parent ? (b) => step(parent(b)) : step;
  v._viewVersion = x._ref.version;
  v._inference = x._inference;
  const rt = x.rt;
  v._viewTracksGrad = rt.gradMode.enabled;
  if (needsGrad(rt, [x])) record(formula, [x], [v], { attrs });
  return v;
}

interface ShapeAttr {
  inShape: readonly number[];
}

const viewGrad = grad<ShapeAttr>('ViewBackward0', (g, n) => [g[0]!.reshape(n.attrs.inShape)]);
const unsafeViewGrad = grad<ShapeAttr>('UnsafeViewBackward0', (g, n) => [g[0]!.reshape(n.attrs.inShape)]);

export function view(x: Tensor, ...args: (number | readonly number[])[]): Tensor {
  x._alive('view');
  const shape = inferShape(checkShapeArgs('view', args, true), x.numel(), 'view');
  const strides = viewStrides(x.shape, x._strides, shape);
  if (strides === null) {
    throw new NablaError(
      "view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). " +
        `Use .reshape(...) instead. (input ${fmtShape(x.shape)} with strides ${fmtShape(x._strides)}, requested ${fmtShape(shape)})`,
      { op: 'view' },
    );
  }
  return makeView(x, shape, strides, x._offset, viewGrad, { inShape: x.shape }, (t) => t.view(shape));
}

export function reshape(x: Tensor, ...args: (number | readonly number[])[]): Tensor {
  x._alive('reshape');
  const shape = inferShape(checkShapeArgs('reshape', args, true), x.numel(), 'reshape');
  const strides = viewStrides(x.shape, x._strides, shape);
  if (strides !== null) return makeView(x, shape, strides, x._offset, viewGrad, { inShape: x.shape }, (t) => t.reshape(shape));
  // Needs a copy: clone to contiguous, then view it (PyTorch's _unsafe_view).
  const c = copyContiguous(x);
  const out = alias(c, shape, contiguousStrides(shape), 0);
  c.dispose();
  if (needsGrad(x.rt, [x])) record(unsafeViewGrad, [x], [out], { attrs: { inShape: x.shape } });
  return out;
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  x._alive('flatten');
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeDim(startDim ?? 0, x.ndim, 'flatten');
  const e = normalizeDim(endDim ?? -1, x.ndim, 'flatten');
  if (s > e) throw new NablaError('flatten() has invalid args: start_dim cannot come after end_dim', { op: 'flatten' });
  if (s === e) return reshape(x, x.shape.slice());
  let mid = 1;
  for (let i = s; i <= e; i++) mid *= x.shape[i]!;
  return reshape(x, [...x.shape.slice(0, s), mid, ...x.shape.slice(e + 1)]);
}

const squeezeGrad0 = grad<ShapeAttr>('SqueezeBackward0', (g, n) => [g[0]!.reshape(n.attrs.inShape)]);
const squeezeGrad1 = grad<ShapeAttr>('SqueezeBackward1', (g, n) => [g[0]!.reshape(n.attrs.inShape)]);

export function squeeze(x: Tensor, dim?: number | null): Tensor {
  x._alive('squeeze');
  const keep: number[] = [];
  if (dim === undefined || dim === null) {
    for (let i = 0; i < x.ndim; i++) if (x.shape[i] !== 1) keep.push(i);
  } else {
    const d = x.ndim === 0 ? (normalizeDim(dim, 0, 'squeeze'), -1) : normalizeDim(dim, x.ndim, 'squeeze');
    for (let i = 0; i < x.ndim; i++) if (i !== d || x.shape[i] !== 1) keep.push(i);
  }
  const formula = dim === undefined || dim === null ? squeezeGrad0 : squeezeGrad1;
  return makeView(x, keep.map((i) => x.shape[i]!), keep.map((i) => x._strides[i]!), x._offset, formula, { inShape: x.shape }, (t) => t.squeeze(dim));
}

const unsqueezeGrad = grad<ShapeAttr>('UnsqueezeBackward0', (g, n) => [g[0]!.reshape(n.attrs.inShape)]);

export function unsqueeze(x: Tensor, dim: number): Tensor {
  x._alive('unsqueeze');
  const d = normalizeDim(dim, x.ndim + 1, 'unsqueeze');
  const shape = x.shape.slice();
  const strides = x._strides.slice();
  const st = d < x.ndim ? x.shape[d]! * x._strides[d]! : 1;
  shape.splice(d, 0, 1);
  strides.splice(d, 0, st);
  return makeView(x, shape, strides, x._offset, unsqueezeGrad, { inShape: x.shape }, (t) => t.unsqueeze(dim));
}

const transposeGrad = grad<{ d0: number; d1: number }>('TransposeBackward0', (g, n) => [g[0]!.transpose(n.attrs.d0, n.attrs.d1)]);
const tGrad = grad('TBackward0', (g) => [g[0]!.t()]);

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  x._alive('transpose');
  const a = normalizeDim(dim0, x.ndim, 'transpose');
  const b = normalizeDim(dim1, x.ndim, 'transpose');
  const [shape, strides] = swapped(x, a, b);
  return makeView(x, shape, strides, x._offset, transposeGrad, { d0: a, d1: b }, (t) => t.transpose(a, b));
}

function swapped(x: Tensor, a: number, b: number): [number[], number[]] {
  const shape = x.shape.slice();
  const strides = x._strides.slice();
  if (x.ndim > 0) {
    [shape[a], shape[b]] = [shape[b]!, shape[a]!];
    [strides[a], strides[b]] = [strides[b]!, strides[a]!];
  }
  return [shape, strides];
}

export function t(x: Tensor): Tensor {
  x._alive('t');
  if (x.ndim > 2) throw new NablaError(`t() expects a tensor with <= 2 dimensions, but self is ${x.ndim}D`, { op: 't' });
  if (x.ndim < 2) return makeView(x, x.shape, x._strides, x._offset, tGrad, undefined, (u) => u.t());
  const [shape, strides] = swapped(x, 0, 1);
  return makeView(x, shape, strides, x._offset, tGrad, undefined, (u) => u.t());
}

const permuteGrad = grad<{ inverse: number[] }>('PermuteBackward0', (g, n) => [g[0]!.permute(n.attrs.inverse)]);

export function permute(x: Tensor, ...args: (number | readonly number[])[]): Tensor {
  x._alive('permute');
  const dims = flatArgs(args).map((d) => normalizeDim(d as number, x.ndim, 'permute'));
  if (dims.length !== x.ndim || new Set(dims).size !== dims.length) {
    throw new NablaError(
      `permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions ` +
        `i.e. input.dim() = ${x.ndim} is not equal to len(dims) = ${dims.length} (or dims repeat: ${fmtShape(dims)})`,
      { op: 'permute' },
    );
  }
  const inverse = new Array<number>(dims.length);
  dims.forEach((d, i) => (inverse[d] = i));
  return makeView(
    x,
    dims.map((d) => x.shape[d]!),
    dims.map((d) => x._strides[d]!),
    x._offset,
    permuteGrad,
    { inverse },
    (u) => u.permute(dims),
  );
}

const expandGrad = grad<ShapeAttr>('ExpandBackward0', (g, n) => [sumTo(g[0]!, n.attrs.inShape)]);

export function expand(x: Tensor, ...args: (number | readonly number[])[]): Tensor {
  x._alive('expand');
  const req = checkShapeArgs('expand', args, true);
  if (req.length < x.ndim) {
    throw new NablaError(
      `the number of sizes provided (${req.length}) must be greater or equal to the number of dimensions in the tensor (${x.ndim})`,
      { op: 'expand' },
    );
  }
  const off = req.length - x.ndim;
  const shape = new Array<number>(req.length);
  const strides = new Array<number>(req.length);
  for (let i = 0; i < req.length; i++) {
    const want = req[i]!;
    if (i < off) {
      if (want < 0) throw new NablaError(`The expanded size of the tensor (${want}) isn't allowed in a leading, non-existing dimension ${i}`, { op: 'expand' });
      shape[i] = want;
      strides[i] = 0;
      continue;
    }
    const have = x.shape[i - off]!;
    if (want === -1 || want === have) {
      shape[i] = have;
      strides[i] = x._strides[i - off]!;
    } else if (have === 1) {
      shape[i] = want;
      strides[i] = 0;
    } else {
      throw new NablaError(
        `The expanded size of the tensor (${want}) must match the existing size (${have}) at non-singleton dimension ${i}.  ` +
          `Target sizes: ${fmtShape(req)}.  Tensor sizes: ${fmtShape(x.shape)}`,
        { op: 'expand' },
      );
    }
  }
  return makeView(x, shape, strides, x._offset, expandGrad, { inShape: x.shape }, (u) => u.expand(shape));
}

/** Sums `g` down to `shape` (undoes broadcasting). Differentiable. */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  let r = axes.length ? g.sum(axes, true) : g;
  if (lead > 0 || r.ndim !== shape.length) r = r.reshape(shape);
  return r;
}

export interface SliceAttr {
  inShape: readonly number[];
  fn: ViewFn;
}
/** The gradient of a view that picks a window of its input: zeros with the gradient written into the window. */
export const windowGrad = (name: string): ReturnType<typeof grad<SliceAttr>> =>
  grad<SliceAttr>(name, (g, n) => [embed(g[0]!, n.attrs.inShape, n.attrs.fn)]);
export const sliceGrad = windowGrad('SliceBackward0');
const selectGrad = windowGrad('SelectBackward0');

export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  x._alive('narrow');
  if (x.ndim === 0) throw new NablaError('narrow() cannot be applied to a 0-dim tensor.', { op: 'narrow' });
  const d = normalizeDim(dim, x.ndim, 'narrow');
  const size = x.shape[d]!;
  let s = start;
  if (s < 0) s += size;
  if (!Number.isInteger(s) || s < 0 || s > size) {
    throw new NablaError(`start out of range (expected to be in range of [${-size}, ${size}], but got ${start})`, { op: 'narrow' });
  }
  if (!Number.isInteger(length) || length < 0 || s + length > size) {
    throw new NablaError(`start (${s}) + length (${length}) exceeds dimension size (${size}).`, { op: 'narrow' });
  }
  const shape = x.shape.slice();
  shape[d] = length;
  const fn: ViewFn = (u) => u.narrow(d, s, length);
  return makeView(x, shape, x._strides, x._offset + s * x._strides[d]!, sliceGrad, { inShape: x.shape, fn }, fn);
}

export function select(x: Tensor, dim: number, index: number): Tensor {
  x._alive('select');
  if (x.ndim === 0) throw new NablaError('select() cannot be applied to a 0-dim tensor.', { op: 'select' });
  const d = normalizeDim(dim, x.ndim, 'select');
  const size = x.shape[d]!;
  if (!Number.isInteger(index) || index < -size || index >= size) {
    throw new NablaError(`index ${index} is out of bounds for dimension ${d} with size ${size}`, { op: 'select' });
  }
  const i = index < 0 ? index + size : index;
  const shape = x.shape.filter((_, k) => k !== d);
  const strides = x._strides.filter((_, k) => k !== d);
  const fn: ViewFn = (u) => u.select(d, i);
  return makeView(x, shape, strides, x._offset + i * x._strides[d]!, selectGrad, { inShape: x.shape, fn }, fn);
}

/** Identity view used for `Function` outputs that return an input unchanged. */
const aliasGrad = grad('AliasBackward0', (g) => [g[0]!]);
export function aliasView(x: Tensor): Tensor {
  return makeView(x, x.shape, x._strides, x._offset, aliasGrad, undefined, (u) => u);
}

// ---- copies

/** A contiguous copy of `x`'s values, with no autograd. */
export function copyContiguous(x: Tensor): Tensor {
  const out = emptyOn(x.rt, x._ref.backend, x.dtype, x.shape);
  runElementwise(identity, [x], undefined, out);
  return out;
}

const cloneGrad = grad('CloneBackward0', (g) => [g[0]!]);

export function clone(x: Tensor): Tensor {
  x._alive('clone');
  const out = copyContiguous(x);
  if (needsGrad(x.rt, [x])) record(cloneGrad, [x], [out]);
  return out;
}

export function contiguous(x: Tensor): Tensor {
  x._alive('contiguous');
  return isContiguous(x.shape, x._strides) ? x : clone(x);
}

export function detach(x: Tensor): Tensor {
  x._alive('detach');
  const d = alias(x, x.shape, x._strides, x._offset);
  d._inference = x._inference;
  return d;
}

// ---- writing into a window (the gradient of narrow/select and the history of in-place views)

interface EmbedAttr {
  fn: ViewFn;
}

const embedGrad = grad<EmbedAttr>('CopySlices', (g, n) => {
  const go = g[0]!;
  const window = n.attrs.fn(go);
  const gBase: MaybeGrad = n.needs(0) ? scatterInto(go, window.mul(0), n.attrs.fn) : null;
  return [gBase, n.needs(1) ? window : null];
});

/**
 * A copy of `base` whose window `fn(copy)` holds `src`. Differentiable in both: the base's
 * gradient is the incoming one with the window zeroed, the source's is the window.
 */
export function scatterInto(base: Tensor, src: Tensor, fn: ViewFn): Tensor {
  const out = copyContiguous(base);
  const window = base.rt.gradMode.run(false, base.rt.gradMode.inference, () => fn(out));
  if (window.shape.length !== src.shape.length || window.shape.some((d, i) => d !== src.shape[i])) {
    window.dispose();
    out.dispose();
    throw new NablaError(`source of shape ${fmtShape(src.shape)} does not fit the window ${fmtShape(window.shape)}`, { op: 'scatterInto' });
  }
  runElementwise(identity, [src], undefined, window);
  window.dispose();
  if (needsGrad(base.rt, [base, src])) record(embedGrad, [base, src], [out], { attrs: { fn } });
  return out;
}

/** zeros(shape) with `g` written into the window `fn` selects (backward of narrow/select). */
function embed(g: Tensor, shape: readonly number[], fn: ViewFn): Tensor {
  const z = emptyOn(g.rt, g._ref.backend, g.dtype, shape);
  z.zero_();
  const out = scatterInto(z, g, fn);
  z.dispose();
  return out;
}

/** The node an in-place op on a view leaves on the base (PyTorch's CopySlices). */
export const copySlicesGrad = embedGrad;

// ---- keeping views' history in step with their base

Tensor._refreshView = (v: Tensor): void => {
  const ref = v._ref;
  if (v._viewVersion === ref.version) return;
  v._viewVersion = ref.version;
  const base = v._base!;
  if (!v._viewTracksGrad || !base.requiresGrad || v._viewFn === null) return;
  const gm = v.rt.gradMode;
  const regenerated = gm.run(true, false, () => v._viewFn!(base));
  v._gradFn = regenerated._gradFn;
  v._outputNr = regenerated._outputNr;
  regenerated.dispose();
};

/** `permute(1, 0)` or `permute([1, 0])`: the dims as given (normalizeDim checks each). */
function flatArgs(args: readonly unknown[]): unknown[] {
  if (args.length === 1 && Array.isArray(args[0])) return (args[0] as unknown[]).slice();
  const out: unknown[] = [];
  for (const a of args) {
    if (a === undefined || a === null) continue;
    if (Array.isArray(a)) out.push(...(a as unknown[]));
    else out.push(a);
  }
  return out;
}
