/**
 * sort and topk. Backends provide a stable row sort (the `sort` kernel: NaN sorts as the largest
 * value, as PyTorch's); topk is the first k of that sort. Both gradients scatter the incoming
 * gradient back to where each value came from (scatterAdd, whose own gradient is a gather), so
 * every order of derivative works.
 */
import { NablaError } from '../errors.js';
import { normalizeDim } from '../shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { emptyOn, grad, needsGrad, record, runKernel, zerosOf } from './dispatch.js';
import { runElementwise } from './elementwise/define.js';
import { identity } from './elementwise/table.js';
import { scatterAdd } from './indexing.js';
import type { ValuesIndices } from './reduce.js';

export interface SortOptions {
  /** Along this dim (default -1, the last). */
  dim?: number | null;
  /** Largest first (default false). */
  descending?: boolean | null;
  /**
   * Keep equal values in their order. Nabla's sort is always stable, so this only documents
   * intent (PyTorch's `stable=True`); the result is one PyTorch may also return when false.
   */
  stable?: boolean | null;
}

export interface TopkOptions {
  /** Along this dim (default -1, the last). */
  dim?: number | null;
  /** The k largest (default) or smallest. */
  largest?: boolean | null;
  /** Return them in order (default true; Nabla always does, which PyTorch allows when false). */
  sorted?: boolean | null;
}

interface SortAttr {
  dim: number;
  inShape: readonly number[];
}

function scatterBack(g: Tensor, indices: Tensor, a: SortAttr): Tensor {
  if (a.inShape.length === 0) return g;
  return scatterAdd(zerosOf(g, a.inShape), a.dim, indices, g);
}

const sortGrad = grad<SortAttr>('SortBackward0', (g, n) => [scatterBack(g[0]!, n.tensor(1), n.attrs), null]);
// PyTorch's `sort(stable=...)` overload: the same gradient under its own node name.
const sortStableGrad = grad<SortAttr>('SortBackward1', (g, n) => [scatterBack(g[0]!, n.tensor(1), n.attrs), null]);
const topkGrad = grad<SortAttr>('TopkBackward0', (g, n) => [scatterBack(g[0]!, n.tensor(1), n.attrs), null]);

/** Sorted values and int32 positions along `d` (no autograd). */
function sortRaw(x: Tensor, d: number, descending: boolean, op: string): ValuesIndices {
  const values = emptyOn(x.rt, x._ref.backend, x.dtype, x.shape);
  const indices = emptyOn(x.rt, x._ref.backend, 'int32', x.shape);
  if (x.ndim === 0) {
    runElementwise(identity, [x], undefined, values);
    indices.zero_();
  } else if (x.numel() > 0) {
    runKernel('sort', x, op, { reads: [x], writes: [values, indices] }, (k) => k(values._view(), indices._view(), x._view(), d, descending));
  }
  return { values, indices };
}

function dimOf(x: Tensor, dim: number | null | undefined, op: string): number {
  const dd = dim ?? -1;
  if (typeof dd !== 'number') throw new NablaError(`expected an integer dim, got ${typeof dd}`, { op });
  return normalizeDim(dd, x.ndim, op);
}

/** `sort(dim?, descending?)` positionally or `sort({ dim, descending, stable })`. */
function sortArgs(dimOrOpts: number | SortOptions | null | undefined, descending: boolean | null | undefined): SortOptions {
  if (dimOrOpts !== null && typeof dimOrOpts === 'object') return dimOrOpts;
  return { dim: dimOrOpts ?? -1, descending: descending ?? false };
}

/**
 * The values of `x` sorted along a dim, with the position each came from. Stable: equal values
 * keep their order; NaN sorts as the largest value.
 *
 * @example
 * const { values, indices } = nabla.tensor([3, 1, 2]).sort();
 * values.tolist();  // [1, 2, 3]
 * indices.tolist(); // [1, 2, 0]
 * nabla.tensor([[3, 1], [0, 5]]).sort({ dim: 0, descending: true }).values.tolist(); // [[3, 5], [0, 1]]
 */
export function sort(x: Tensor, dimOrOpts?: number | SortOptions | null, descending?: boolean | null): ValuesIndices {
  const op = 'sort';
  x._alive(op);
  const o = sortArgs(dimOrOpts, descending);
  const d = dimOf(x, o.dim, op);
  const r = sortRaw(x, d, !!o.descending, op);
  const formula = o.stable === undefined || o.stable === null ? sortGrad : sortStableGrad;
  if (needsGrad(x.rt, [x])) record(formula, [x, r.indices], [r.values], { attrs: { dim: d, inShape: x.shape }, saveInputs: [false, true] });
  return r;
}

/** `topk(k, dim?, largest?, sorted?)` positionally or `topk(k, { dim, largest, sorted })`. */
function topkArgs(dimOrOpts: number | TopkOptions | null | undefined, largest: boolean | null | undefined): TopkOptions {
  if (dimOrOpts !== null && typeof dimOrOpts === 'object') return dimOrOpts;
  return { dim: dimOrOpts ?? -1, largest: largest ?? true };
}

/**
 * The k largest (or smallest) values along a dim, in order, with their positions. NaN counts as
 * the largest value. Ties come in the order of their positions.
 *
 * @example
 * const { values, indices } = nabla.tensor([1, 5, 3, 4]).topk(2);
 * values.tolist();  // [5, 4]
 * indices.tolist(); // [1, 3]
 */
export function topk(x: Tensor, k: number, dimOrOpts?: number | TopkOptions | null, largest?: boolean | null, sorted?: boolean | null): ValuesIndices {
  const op = 'topk';
  x._alive(op);
  const o = topkArgs(dimOrOpts, largest);
  void sorted;
  const d = dimOf(x, o.dim, op);
  const size = x.ndim === 0 ? 1 : x.shape[d]!;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > size) {
    throw new NablaError(`selected index k out of range (k = ${k}, size of dim ${d} is ${size} in a tensor of shape [${x.shape.join(', ')}])`, { op });
  }
  const full = sortRaw(x, d, o.largest ?? true, op);
  let { values, indices } = full;
  if (x.ndim > 0 && k < size) {
    const gm = x.rt.gradMode;
    // Fresh tensors of the first k, as PyTorch returns (not views that keep the whole sort alive).
    const take = (t: Tensor): Tensor =>
      gm.run(false, gm.inference, () => {
        const window = t.narrow(d, 0, k);
        const copy = window.clone();
        window.dispose();
        t.dispose();
        return copy;
      });
    values = take(values);
    indices = take(indices);
  }
  if (needsGrad(x.rt, [x])) record(topkGrad, [x, indices], [values], { attrs: { dim: d, inShape: x.shape }, saveInputs: [false, true] });
  return { values, indices };
}
