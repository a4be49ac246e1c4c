/**
 * Indexing and joining: gather, scatterAdd, indexSelect, cat, stack. Backends provide gather and
 * scatterAdd; indexSelect is a gather with an expanded index, cat writes each input into a window
 * of the output. Gather and scatterAdd are each other's gradients, so all orders of derivatives work.
 */
import { AMP, castOperands } from '../amp/state.js';
import { NablaError, fmtShape } from '../errors.js';
import { normalizeDim } from '../shape.js';
import { Tensor } from '../tensor/tensor.js';
import { emptyOn, firstTensor, grad, needsGrad, promote, record, runKernel, zerosOf } from './dispatch.js';
import { runElementwise } from './elementwise/define.js';
import { identity } from './elementwise/table.js';
import { copyContiguous } from './view.js';
import { padTo } from './pad.js';

function checkIndex(op: string, index: Tensor): void {
  if (!(index instanceof Tensor)) throw new NablaError(`index must be a Tensor, got ${typeof index}`, { op });
  if (index.dtype !== 'int32') throw new NablaError(`Expected dtype int32 for index, got ${index.dtype}`, { op });
}

interface GatherAttr {
  dim: number;
  inShape: readonly number[];
}

const gatherGrad = grad<GatherAttr>('GatherBackward0', (g, n) => {
  const idx = n.tensor(1);
  const z = zerosOf(g[0]!, n.attrs.inShape);
  return [scatterAdd(z, n.attrs.dim, idx, g[0]!), null];
});

/** Runs a kernel that may refuse its input (an index out of range); the tensors made for it go then. */
function orRelease(made: readonly Tensor[], run: () => void): void {
  try {
    run();
  } catch (e) {
    for (const t of made) t.dispose();
    throw e;
  }
}

export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const op = 'gather';
  firstTensor(op, [x, index]);
  checkIndex(op, index);
  const d = normalizeDim(dim, Math.max(x.ndim, 1), op);
  if (index.ndim !== x.ndim) {
    throw new NablaError(`Index tensor must have the same number of dimensions as input tensor (index ${fmtShape(index.shape)}, input ${fmtShape(x.shape)})`, { op });
  }
  for (let i = 0; i < x.ndim; i++) {
    if (i !== d && index.shape[i]! > x.shape[i]!) {
      throw new NablaError(`Size does not match at dimension ${i} expected index ${fmtShape(index.shape)} to be smaller than self ${fmtShape(x.shape)} apart from dimension ${d}`, { op });
    }
  }
  const out = emptyOn(x.rt, x._ref.backend, x.dtype, index.shape);
  orRelease([out], () => runKernel('gather', x, op, { reads: [x, index], writes: [out] }, (k) => k(out._view(), x._view(), d, index._view())));
  if (needsGrad(x.rt, [x])) record(gatherGrad, [x, index], [out], { attrs: { dim: d, inShape: x.shape }, saveInputs: [false, true] });
  return out;
}

interface ScatterAttr {
  dim: number;
}

const scatterAddGrad = grad<ScatterAttr & { srcShape?: readonly number[] }>('ScatterAddBackward0', (g, n) => {
  const idx = n.tensor(1);
  const gs = n.needs(2) ? g[0]!.gather(n.attrs.dim, idx) : null;
  return [n.needs(0) ? g[0]! : null, null, gs !== null && n.attrs.srcShape ? padTo(gs, n.attrs.srcShape) : gs];
});

/** A copy of `x` with `src` added at `index` along `dim` (PyTorch's out-of-place scatter_add). */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  const op = 'scatterAdd';
  firstTensor(op, [x, index, src]);
  if (AMP.active) [x, index, src] = castOperands(op, [x, index, src] as const);
  checkIndex(op, index);
  const d = normalizeDim(dim, Math.max(x.ndim, 1), op);
  if (index.ndim !== src.ndim || index.ndim !== x.ndim || index.shape.some((s, i) => s > src.shape[i]!)) {
    throw new NablaError(`index ${fmtShape(index.shape)}, src ${fmtShape(src.shape)} and self ${fmtShape(x.shape)} do not fit together`, { op });
  }
  const out = copyContiguous(x);
  const srcView = src.shape.every((s, i) => s === index.shape[i]) ? src : narrowTo(src, index.shape);
  orRelease(srcView !== src ? [out, srcView] : [out], () =>
    runKernel('scatterAdd', out, op, { reads: [index, srcView], writes: [out] }, (k) => k(out._view(), d, index._view(), srcView._view())),
  );
  if (srcView !== src) srcView.dispose();
  if (needsGrad(x.rt, [x, src])) record(scatterAddGrad, [x, index, src], [out], { attrs: { dim: d, srcShape: src.shape }, saveInputs: [false, true, false] });
  return out;
}

/** The leading window of `t` with `shape` (a view, no autograd). */
function narrowTo(t: Tensor, shape: readonly number[]): Tensor {
  const gm = t.rt.gradMode;
  return gm.run(false, gm.inference, () => {
    let v = t;
    shape.forEach((s, i) => {
      if (s !== v.shape[i]) v = v.narrow(i, 0, s);
    });
    return v;
  });
}

/** The index of indexSelect, expanded to gather's form (stride 0: no copy). */
function expandedIndex(x: Tensor, d: number, index: Tensor): Tensor {
  const shape = x.shape.slice();
  shape[d] = index.shape[0]!;
  const view = index.reshape(shape.map((s, i) => (i === d ? s : 1)));
  const e = view.expand(shape);
  view.dispose();
  return e;
}

const indexSelectGrad = grad<GatherAttr>('IndexSelectBackward0', (g, n) => {
  const idx = n.tensor(1);
  const full = expandedIndex(g[0]!, n.attrs.dim, idx);
  const z = zerosOf(g[0]!, n.attrs.inShape);
  return [scatterAdd(z, n.attrs.dim, full, g[0]!), null];
});

export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const op = 'indexSelect';
  firstTensor(op, [x, index]);
  checkIndex(op, index);
  if (index.ndim > 1) throw new NablaError(`index_select(): Index is supposed to be a vector, got ${fmtShape(index.shape)}`, { op });
  const flatIndex = index.ndim === 0 ? index.reshape([1]) : index;
  const d = normalizeDim(dim, Math.max(x.ndim, 1), op);
  const src = x.ndim === 0 ? x.reshape([1]) : x;
  const full = expandedIndex(src, d, flatIndex);
  const out = emptyOn(x.rt, x._ref.backend, x.dtype, full.shape);
  const made = [out, full, ...(src !== x ? [src] : []), ...(flatIndex !== index ? [flatIndex] : [])];
  orRelease(made, () => runKernel('gather', x, op, { reads: [src, full], writes: [out] }, (k) => k(out._view(), src._view(), d, full._view())));
  full.dispose();
  const result = x.ndim === 0 ? out.reshape([]) : out;
  if (needsGrad(x.rt, [x])) record(indexSelectGrad, [x, flatIndex], [result], { attrs: { dim: d, inShape: x.shape }, saveInputs: [false, true] });
  return result;
}

interface CatAttr {
  dim: number;
  sizes: number[];
}

const catGrad = grad<CatAttr>('CatBackward0', (g, n) => {
  let start = 0;
  return n.attrs.sizes.map((size, i) => {
    const piece = n.needs(i) ? g[0]!.narrow(n.attrs.dim, start, size) : null;
    start += size;
    return piece;
  });
});

export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  const op = 'cat';
  if (!Array.isArray(tensors) || tensors.length === 0) throw new NablaError('expected a non-empty list of Tensors', { op });
  if (AMP.active) tensors = castOperands(op, tensors);
  const first = firstTensor(op, tensors);
  // PyTorch skips legacy empty 1-D tensors of shape [0].
  const parts = tensors.filter((t) => !(t.ndim === 1 && t.shape[0] === 0));
  if (parts.length === 0) return copyContiguous(first);
  const ref = parts[0]!;
  if (ref.ndim === 0) throw new NablaError('zero-dimensional tensor (at position 0) cannot be concatenated', { op });
  const d = normalizeDim(dim, ref.ndim, op);
  const dtype = promote(parts);
  let total = 0;
  parts.forEach((t, i) => {
    if (t.ndim !== ref.ndim) {
      throw new NablaError(`Tensors must have same number of dimensions: got ${ref.ndim} and ${t.ndim}`, { op });
    }
    for (let k = 0; k < ref.ndim; k++) {
      if (k !== d && t.shape[k] !== ref.shape[k]) {
        throw new NablaError(
          `Sizes of tensors must match except in dimension ${d}. Expected size ${ref.shape[k]} but got size ${t.shape[k]} for tensor number ${i} in the list. ` +
            `Shapes: ${fmtShape(ref.shape)} and ${fmtShape(t.shape)}.`,
          { op },
        );
      }
    }
    total += t.shape[d]!;
  });
  const shape = ref.shape.slice();
  shape[d] = total;
  const out = emptyOn(first.rt, first._ref.backend, dtype, shape);
  let start = 0;
  const gm = first.rt.gradMode;
  for (const t of parts) {
    const window = gm.run(false, gm.inference, () => out.narrow(d, start, t.shape[d]!));
    runElementwise(identity, [t], undefined, window);
    window.dispose();
    start += t.shape[d]!;
  }
  if (needsGrad(first.rt, parts)) record(catGrad, parts, [out], { attrs: { dim: d, sizes: parts.map((t) => t.shape[d]!) } });
  return out;
}

const stackGrad = grad<{ dim: number; count: number }>('StackBackward0', (g, n) => {
  const out: (Tensor | null)[] = [];
  for (let i = 0; i < n.attrs.count; i++) out.push(n.needs(i) ? g[0]!.select(n.attrs.dim, i) : null);
  return out;
});

export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  const op = 'stack';
  if (!Array.isArray(tensors) || tensors.length === 0) throw new NablaError('stack expects a non-empty TensorList', { op });
  if (AMP.active) tensors = castOperands(op, tensors);
  const first = firstTensor(op, tensors);
  tensors.forEach((t: Tensor, i: number) => {
    if (t.shape.length !== first.shape.length || t.shape.some((s: number, k: number) => s !== first.shape[k])) {
      throw new NablaError(
        `stack expects each tensor to be equal size, but got ${fmtShape(first.shape)} at entry 0 and ${fmtShape(t.shape)} at entry ${i}`,
        { op },
      );
    }
  });
  const d = normalizeDim(dim, first.ndim + 1, op);
  const gm = first.rt.gradMode;
  const pieces = gm.run(false, gm.inference, () => tensors.map((t) => t.unsqueeze(d)));
  const out = gm.run(false, gm.inference, () => cat(pieces, d));
  for (const p of pieces) p.dispose();
  if (needsGrad(first.rt, tensors)) record(stackGrad, tensors, [out], { attrs: { dim: d, count: tensors.length } });
  return out;
}
