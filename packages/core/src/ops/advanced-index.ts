/**
 * Advanced indexing with integer tensors (PyTorch's `index` and `index_put`), composed from views,
 * elementwise ops, indexSelect and the scatter kernels so every backend gets it.
 *
 * The indexed dims are moved to the front and merged into one, the index tensors become one
 * linear row index over that merged dim, and the op is a row gather (`index`) or a row scatter
 * (`indexPut`). The result's broadcast index dims go where PyTorch puts them: in place of the
 * indexed dims when those are adjacent, else first. An invalid index (after wrapping negatives)
 * becomes row -1, so the gather/scatter kernels report it even on devices that cannot read back
 * synchronously; on those that can, the indices are checked on the host first for PyTorch's message.
 */
import { NablaError, fmtShape } from '../errors.js';
import { broadcastShapes, numelOf, shapesEqual } from '../shape.js';
import { Tensor } from '../tensor/tensor.js';
import { alias, firstTensor, grad, needsGrad, record, runKernel, zerosOf, type Operand } from './dispatch.js';
import { where } from './elementwise/where.js';
import { indexSelect, scatterAdd } from './indexing.js';
import { copyContiguous, sumTo } from './view.js';

/** How one advanced indexing of a tensor of `inShape` lays out its dims. */
export interface IndexPlan {
  inShape: readonly number[];
  /** The indexed dims, ascending. */
  advDims: number[];
  /** The broadcast shape of the index tensors. */
  bShape: number[];
  /** The other dims' sizes, in order. */
  rest: number[];
  /** Where the broadcast dims sit in the result. */
  at: number;
  /** The result's shape. */
  outShape: number[];
}

/** Runs `fn` with autograd off (inference mode unchanged). */
export function quiet<T>(rt: Tensor['rt'], fn: () => T): T {
  const gm = rt.gradMode;
  return gm.run(false, gm.inference, fn);
}

/** A fresh tensor (no view base) over `t`'s storage and geometry; `t` is disposed. */
function detached(t: Tensor): Tensor {
  if (t._base === null && t._gradFn === null) return t;
  const a = alias(t, t.shape, t._strides, t._offset);
  t.dispose();
  return a;
}

/**
 * The plan and linear row index (int32 [numel(bShape)]) for indexing `x` with `entries`: one per
 * dim of x, an int32 tensor or null.
 */
export function planIndex(op: string, x: Tensor, entries: readonly (Tensor | null)[]): { plan: IndexPlan; rows: Tensor } {
  const advDims: number[] = [];
  entries.forEach((e, d) => {
    if (e !== null) advDims.push(d);
  });
  const idx = advDims.map((d) => entries[d]!);
  let bShape: number[] = [];
  try {
    for (const t of idx) bShape = broadcastShapes(bShape, t.shape);
  } catch {
    throw new NablaError(`shape mismatch: indexing tensors could not be broadcast together with shapes ${idx.map((t) => fmtShape(t.shape)).join(', ')}`, { op });
  }
  const sizes = advDims.map((d) => x.shape[d]!);
  // PyTorch names the index tensor's position among the index tensors as the dimension.
  advDims.forEach((_, k) => checkHost(op, idx[k]!, sizes[k]!, k));
  const adjacent = advDims.every((d, k) => k === 0 || d === advDims[k - 1]! + 1);
  const at = adjacent ? advDims[0]! : 0;
  const rest = x.shape.filter((_, d) => entries[d] === null);
  const outShape = [...rest.slice(0, at), ...bShape, ...rest.slice(at)];
  const rows = quiet(x.rt, () => linearRows(idx, sizes, bShape));
  return { plan: { inShape: x.shape, advDims, bShape, rest, at, outShape }, rows };
}

/** On devices read synchronously, PyTorch's message for an index out of range. */
function checkHost(op: string, t: Tensor, size: number, dim: number): void {
  if (!t._ref.backend.readsSync || t._ref.pending !== null || t.numel() === 0) return;
  const data = t.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < -size || v >= size) throw new NablaError(`index ${v} is out of bounds for dimension ${dim} with size ${size}`, { op });
  }
}

/** Σ wrap(idx_k)·stride_k, broadcast and flattened; -1 where some index is out of range. */
function linearRows(idx: readonly Tensor[], sizes: readonly number[], bShape: readonly number[]): Tensor {
  const temps: Tensor[] = [];
  const keep = <T extends Tensor>(t: T): T => (temps.push(t), t);
  try {
    let lin: Tensor | null = null;
    let valid: Tensor | null = null;
    let stride = 1;
    for (let k = idx.length - 1; k >= 0; k--) {
      const t = idx[k]!;
      const size = sizes[k]!;
      const w = keep(where(keep(t.lt(0)), keep(t.add(size)), t));
      const ok = keep(keep(w.ge(0)).logicalAnd(keep(w.lt(size))));
      const term = stride === 1 ? w : keep(w.mul(stride));
      lin = lin === null ? term : keep(lin.add(term));
      valid = valid === null ? ok : keep(valid.logicalAnd(ok));
      stride *= size;
    }
    const flagged = keep(where(valid!, lin!, -1));
    const full = shapesEqual(flagged.shape, bShape) ? flagged : keep(flagged.expand(bShape));
    const rows = full.reshape([numelOf(bShape)]);
    return rows === full ? copyContiguous(rows) : detached(rows);
  } finally {
    for (const t of temps) t.dispose();
  }
}

/** The permutation putting the indexed dims first, and its inverse. */
function frontPerm(plan: IndexPlan): { perm: number[]; inv: number[] } {
  const n = plan.inShape.length;
  const perm = [...plan.advDims];
  for (let d = 0; d < n; d++) if (!plan.advDims.includes(d)) perm.push(d);
  const inv = new Array<number>(n);
  perm.forEach((d, i) => (inv[d] = i));
  return { perm, inv };
}

/** [numel(b), ...rest] ↔ outShape: where the broadcast dims move. */
function resultPerm(plan: IndexPlan): number[] | null {
  if (plan.at === 0) return null;
  const nb = plan.bShape.length;
  const nr = plan.rest.length;
  // Rows laid out [...b, ...rest]; the result wants [...rest[:at], ...b, ...rest[at:]].
  const p: number[] = [];
  for (let i = 0; i < plan.at; i++) p.push(nb + i);
  for (let i = 0; i < nb; i++) p.push(i);
  for (let i = plan.at; i < nr; i++) p.push(nb + i);
  return p;
}

function inverseOf(p: readonly number[]): number[] {
  const inv = new Array<number>(p.length);
  p.forEach((d, i) => (inv[d] = i));
  return inv;
}

/** `x` as rows: [numel of indexed dims, ...rest] (a view when possible). */
function asRows(x: Tensor, plan: IndexPlan): Tensor {
  const { perm } = frontPerm(plan);
  const p = x.permute(perm);
  const r = p.reshape([rowCount(plan), ...plan.rest]);
  p.dispose();
  return r;
}

function rowCount(plan: IndexPlan): number {
  return plan.advDims.reduce((a, d) => a * plan.inShape[d]!, 1);
}

/** A private contiguous copy of `x` laid out as rows, to scatter into. */
function rowsCopy(x: Tensor, plan: IndexPlan): Tensor {
  const p = x.permute(frontPerm(plan).perm);
  const c = copyContiguous(p);
  p.dispose();
  const r = c.reshape([rowCount(plan), ...plan.rest]);
  c.dispose();
  return r;
}

/** Rows [numel(b), ...rest] back in x's dim order and shape. */
function fromRows(rows: Tensor, plan: IndexPlan): Tensor {
  const { inv } = frontPerm(plan);
  const sizes = plan.advDims.map((d) => plan.inShape[d]!);
  const r = rows.reshape([...sizes, ...plan.rest]);
  const p = r.permute(inv);
  r.dispose();
  return p;
}

/** The row index expanded to a gather/scatter index over rows of shape [n, ...rest]. */
function rowIndex(rows: Tensor, rest: readonly number[]): Tensor {
  const v = rows.reshape([rows.shape[0]!, ...rest.map(() => 1)]);
  const e = v.expand([rows.shape[0]!, ...rest]);
  v.dispose();
  return e;
}

const indexGrad = grad<IndexPlan>('IndexBackward0', (g, n) => {
  const z = zerosOf(g[0]!, n.attrs.inShape);
  const gx = indexPut(z, n.attrs, n.tensor(1), g[0]!, true);
  z.dispose();
  return [gx, null];
});

/** x indexed by `plan`/`rows` (PyTorch's `index`): a new tensor of `plan.outShape`. */
export function applyIndex(x: Tensor, plan: IndexPlan, rows: Tensor): Tensor {
  const out = quiet(x.rt, () => {
    const xr = asRows(x, plan);
    const picked = indexSelect(xr, 0, rows);
    xr.dispose();
    const shaped = picked.reshape([...plan.bShape, ...plan.rest]);
    if (shaped !== picked) picked.dispose();
    const rp = resultPerm(plan);
    if (rp === null) return detached(shaped);
    const moved = shaped.permute(rp);
    const c = copyContiguous(moved);
    moved.dispose();
    shaped.dispose();
    return c;
  });
  if (needsGrad(x.rt, [x])) record(indexGrad, [x, rows], [out], { attrs: plan, saveInputs: [false, true] });
  return out;
}

interface IndexPutAttr {
  plan: IndexPlan;
  accumulate: boolean;
  valueShape: readonly number[];
}

const indexPutGrad = grad<IndexPutAttr>('IndexPutBackward0', (g, n) => {
  const rows = n.tensor(1);
  const { plan, accumulate, valueShape } = n.attrs;
  const gx = n.needs(0) ? (accumulate ? g[0]! : indexPut(g[0]!, plan, rows, 0, false)) : null;
  let gv: Tensor | null = null;
  if (n.needs(2)) {
    const picked = applyIndex(g[0]!, plan, rows);
    gv = sumTo(picked, valueShape);
  }
  return [gx, null, gv];
});

/**
 * A copy of `x` whose indexed positions hold `value` (or have it added, `accumulate`), PyTorch's
 * out-of-place `index_put`. `value` broadcasts to the indexing result's shape.
 */
export function indexPut(x: Tensor, plan: IndexPlan, rows: Tensor, value: Operand, accumulate: boolean, op = 'indexPut'): Tensor {
  firstTensor(op, [x, rows, value]);
  if (value instanceof Tensor && value.dtype !== x.dtype) {
    throw new NablaError(`Index put requires the source and destination dtypes match, got ${x.dtype} for the destination and ${value.dtype} for the source.`, { op });
  }
  const vShape = value instanceof Tensor ? value.shape : [];
  let fits = true;
  try {
    fits = shapesEqual(broadcastShapes(vShape, plan.outShape), plan.outShape);
  } catch {
    fits = false;
  }
  if (!fits) {
    throw new NablaError(`shape mismatch: value tensor of shape ${fmtShape(vShape)} cannot be broadcast to indexing result of shape ${fmtShape(plan.outShape)}`, { op });
  }
  const out = quiet(x.rt, () => {
    const temps: Tensor[] = [];
    const keep = (t: Tensor): Tensor => (temps.push(t), t);
    try {
      const v0 = value instanceof Tensor ? value : keep(zerosOf(x, []).fill_(value));
      const ve = keep(v0.expand(plan.outShape));
      const rp = resultPerm(plan);
      const vb = rp === null ? ve : keep(ve.permute(inverseOf(rp)));
      const vr = keep(copyContiguous(vb)).reshape([rows.shape[0]!, ...plan.rest]);
      keep(vr);
      const target = keep(rowsCopy(x, plan));
      const ri = keep(rowIndex(rows, plan.rest));
      runKernel(accumulate ? 'scatterAdd' : 'scatter', target, op, { reads: [ri, vr], writes: [target] }, (k) =>
        k(target._view(), 0, ri._view(), vr._view()),
      );
      const back = keep(fromRows(target, plan));
      return copyContiguous(back);
    } finally {
      for (const t of temps) t.dispose();
    }
  });
  if (needsGrad(x.rt, [x, value])) {
    record(indexPutGrad, [x, rows, value], [out], { attrs: { plan, accumulate, valueShape: vShape }, saveInputs: [false, true, false] });
  }
  return out;
}

/** The row-major offsets of a bool mask's `true` entries, from its values on the host. */
export function trueOffsets(values: ArrayLike<number>): Int32Array {
  const rows = new Int32Array(values.length);
  let k = 0;
  for (let i = 0; i < values.length; i++) if (values[i]) rows[k++] = i;
  return rows.slice(0, k);
}
