/**
 * Bool-mask reads and writes: `maskedSelect` (the selected elements, flattened) and
 * `maskedScatter_` (fill the selected positions from a source, in order). How many elements a
 * mask selects decides shapes, so the mask is read on the host — synchronously where the device
 * allows it, else through the `...Async` variants — and becomes an int32 row index; the rest is
 * indexSelect / the scatter kernel, so every backend gets both.
 */
import { NablaError, fmtShape } from '../errors.js';
import { broadcastShapes, numelOf, shapesEqual } from '../shape.js';
import { fromTypedArray } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';
import { describe, firstTensor, grad, needsGrad, record, runKernel, zerosOf } from './dispatch.js';
import { quiet, trueOffsets } from './advanced-index.js';
import { cat, indexSelect, scatterAdd } from './indexing.js';
import { inplaceCompute } from './inplace.js';
import { readMaskSync } from './slicing.js';
import { copyContiguous, sumTo } from './view.js';

function checkMask(op: string, mask: unknown): asserts mask is Tensor {
  if (!(mask instanceof Tensor)) throw new NablaError(`mask must be a bool Tensor, got ${describe(mask)}`, { op });
  if (mask.dtype !== 'bool') throw new NablaError(`${op}: expected BoolTensor for mask, got ${mask.dtype}`, { op });
}

/** The mask expanded to `shape`, as it is read on the host. */
function expandedMask(mask: Tensor, shape: readonly number[]): Tensor {
  return shapesEqual(mask.shape, shape) ? mask : quiet(mask.rt, () => mask.expand(shape));
}

/** The int32 offsets of the true entries of `mask` (already expanded) on its device. */
function rowsOf(mask: Tensor, values: ArrayLike<number>, op: string): Tensor {
  const r = trueOffsets(values);
  return fromTypedArray(mask.rt, mask.device, 'int32', [r.length], r, op);
}

interface SelectAttr {
  inShape: readonly number[];
  shape: readonly number[];
}

const maskedSelectGrad = grad<SelectAttr>('MaskedSelectBackward0', (g, n) => {
  const z = zerosOf(g[0]!, [numelOf(n.attrs.shape)]);
  const acc = scatterAdd(z, 0, n.tensor(1), g[0]!);
  z.dispose();
  const full = acc.reshape(n.attrs.shape);
  return [sumTo(full, n.attrs.inShape), null];
});

function prepareSelect(x: Tensor, mask: unknown): { shape: number[]; m: Tensor } {
  const op = 'maskedSelect';
  firstTensor(op, [x]);
  checkMask(op, mask);
  firstTensor(op, [x, mask]);
  const shape = broadcastShapes(x.shape, mask.shape, op);
  return { shape, m: expandedMask(mask, shape) };
}

function runSelect(x: Tensor, shape: readonly number[], m: Tensor, values: ArrayLike<number>): Tensor {
  const op = 'maskedSelect';
  const rows = rowsOf(m, values, op);
  const out = quiet(x.rt, () => {
    const xe = shapesEqual(x.shape, shape) ? x : x.expand(shape);
    const flat = xe.reshape([numelOf(shape)]);
    const picked = indexSelect(flat, 0, rows);
    flat.dispose();
    if (xe !== x) xe.dispose();
    return picked;
  });
  if (needsGrad(x.rt, [x])) record(maskedSelectGrad, [x, rows], [out], { attrs: { inShape: x.shape, shape }, saveInputs: [false, true] });
  rows.dispose();
  return out;
}

/**
 * The elements of `x` where `mask` (bool, broadcast with x) is true, as a 1-D tensor (PyTorch's
 * `masked_select`).
 *
 * @example
 * const x = nabla.tensor([[1, -2], [-3, 4]]);
 * x.maskedSelect(x.gt(0)).tolist();   // [1, 4]
 */
export function maskedSelect(x: Tensor, mask: Tensor): Tensor {
  const { shape, m } = prepareSelect(x, mask);
  try {
    return runSelect(x, shape, m, readMaskSync('maskedSelect', 'x.maskedSelectAsync(mask)', m));
  } finally {
    if (m !== mask) m.dispose();
  }
}

/** {@link maskedSelect} for devices that cannot be read synchronously. */
export async function maskedSelectAsync(x: Tensor, mask: Tensor): Promise<Tensor> {
  const { shape, m } = prepareSelect(x, mask);
  try {
    return runSelect(x, shape, m, await m.data());
  } finally {
    if (m !== mask) m.dispose();
  }
}

const maskedScatterGrad = grad<{ sourceShape: readonly number[] }>('MaskedScatterBackward0', (g, n) => {
  const rows = n.tensor(2);
  const mask = n.tensor(3);
  const gx = n.needs(0) ? g[0]!.maskedFill(mask, 0) : null;
  let gs: Tensor | null = null;
  if (n.needs(1)) {
    const flat = g[0]!.reshape([g[0]!.numel()]);
    const picked = indexSelect(flat, 0, rows);
    const total = numelOf(n.attrs.sourceShape);
    const pad = total - picked.shape[0]!;
    const full = pad > 0 ? cat([picked, zerosOf(picked, [pad])], 0) : picked;
    gs = full.reshape(n.attrs.sourceShape);
  }
  return [gx, gs, null, null];
});

/** A copy of `x` whose positions `rows` (row-major offsets) take source's leading elements in order. */
function maskedScatter(x: Tensor, mask: Tensor, rows: Tensor, source: Tensor): Tensor {
  const op = 'maskedScatter_';
  const count = rows.shape[0]!;
  const out = quiet(x.rt, () => {
    const c = copyContiguous(x);
    const flat = c.reshape([c.numel()]);
    c.dispose();
    const s = source.reshape([source.numel()]);
    const lead = s.narrow(0, 0, count);
    runKernel('scatter', flat, op, { reads: [rows, lead], writes: [flat] }, (k) => k(flat._view(), 0, rows._view(), lead._view()));
    lead.dispose();
    s.dispose();
    const shaped = flat.reshape(x.shape);
    flat.dispose();
    const fresh = copyContiguous(shaped);
    shaped.dispose();
    return fresh;
  });
  if (needsGrad(x.rt, [x, source])) {
    record(maskedScatterGrad, [x, source, rows, mask], [out], { attrs: { sourceShape: source.shape }, saveInputs: [false, false, true, true] });
  }
  return out;
}

function prepareScatter(x: Tensor, mask: unknown, source: unknown): { m: Tensor } {
  const op = 'maskedScatter_';
  firstTensor(op, [x]);
  checkMask(op, mask);
  if (!(source instanceof Tensor)) throw new NablaError(`source must be a Tensor, got ${describe(source)}`, { op });
  firstTensor(op, [x, mask, source]);
  if (source.dtype !== x.dtype) {
    throw new NablaError(`masked_scatter_: expected self and source to have same dtypes but got ${x.dtype} and ${source.dtype}`, { op });
  }
  let shape: number[];
  try {
    shape = broadcastShapes(x.shape, mask.shape, op);
  } catch {
    shape = [];
  }
  if (!shapesEqual(shape, x.shape)) {
    throw new NablaError(`mask of shape ${fmtShape(mask.shape)} cannot be broadcast to the shape ${fmtShape(x.shape)} of the tensor written in place`, { op });
  }
  return { m: expandedMask(mask, x.shape) };
}

function runScatter(x: Tensor, m: Tensor, source: Tensor, values: ArrayLike<number>): Tensor {
  const op = 'maskedScatter_';
  const rows = rowsOf(m, values, op);
  try {
    if (rows.shape[0]! > source.numel()) {
      throw new NablaError(`Number of elements of source < number of ones in mask (${source.numel()} < ${rows.shape[0]})`, { op });
    }
    return inplaceCompute(op, x, [source], (old) => maskedScatter(old, m, rows, source));
  } finally {
    rows.dispose();
  }
}

/**
 * Copies `source`'s elements, in order, into the positions of `x` where `mask` is true (PyTorch's
 * `masked_scatter_`); returns `x`.
 *
 * @example
 * const x = nabla.zeros([2, 2]);
 * x.maskedScatter_(nabla.tensor([[true, false], [false, true]]), nabla.tensor([5, 6, 7]));
 * x.tolist();   // [[5, 0], [0, 6]]
 */
export function maskedScatter_(x: Tensor, mask: Tensor, source: Tensor): Tensor {
  const { m } = prepareScatter(x, mask, source);
  try {
    return runScatter(x, m, source, readMaskSync('maskedScatter_', 'x.maskedScatterAsync_(mask, source)', m));
  } finally {
    if (m !== mask) m.dispose();
  }
}

/** {@link maskedScatter_} for devices that cannot be read synchronously. */
export async function maskedScatterAsync_(x: Tensor, mask: Tensor, source: Tensor): Promise<Tensor> {
  const { m } = prepareScatter(x, mask, source);
  try {
    return runScatter(x, m, source, await m.data());
  } finally {
    if (m !== mask) m.dispose();
  }
}
