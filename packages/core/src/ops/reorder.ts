/**
 * Reordering and triangular masking: `flip`, `roll`, `tril`, `triu`. Each is a copy composed from
 * indexSelect (with an index built on the host) or maskedFill, so every backend gets it; each
 * records its own node (FlipBackward0, RollBackward0, TrilBackward0, TriuBackward0) whose gradient
 * is the same op again, so derivatives of every order work.
 */
import { NablaError, fmtShape } from '../errors.js';
import { normalizeDim, shapeArgs } from '../shape.js';
import { fromTypedArray } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { grad, needsGrad, record } from './dispatch.js';
import { quiet } from './advanced-index.js';
import { indexSelect } from './indexing.js';
import { copyContiguous } from './view.js';

/** indexSelect along each (dim, index) in turn, under no grad; always a fresh tensor. */
function pickAlong(x: Tensor, op: string, picks: readonly [number, Int32Array][]): Tensor {
  return quiet(x.rt, () => {
    let y = x;
    for (const [d, host] of picks) {
      const idx = fromTypedArray(x.rt, x.device, 'int32', [host.length], host, op);
      const next = indexSelect(y, d, idx);
      idx.dispose();
      if (y !== x) y.dispose();
      y = next;
    }
    return y === x ? copyContiguous(x) : y;
  });
}

function uniqueDims(x: Tensor, dims: readonly number[], op: string): number[] {
  const ds = dims.map((d) => normalizeDim(d, Math.max(x.ndim, 1), op));
  const seen = new Set<number>();
  for (const d of ds) {
    if (seen.has(d)) throw new NablaError(`dim ${d} appears multiple times in the list of dims`, { op });
    seen.add(d);
  }
  return ds;
}

const flipGrad = grad<{ dims: number[] }>('FlipBackward0', (g, n) => [flip(g[0]!, n.attrs.dims)]);

/**
 * A copy of `x` with the order of elements reversed along `dims` (PyTorch's `flip`).
 *
 * @example
 * nabla.tensor([[1, 2], [3, 4]]).flip(1).tolist();   // [[2, 1], [4, 3]]
 */
export function flip(x: Tensor, ...dimArgs: (number | readonly number[])[]): Tensor {
  const op = 'flip';
  x._alive(op);
  const dims = x.ndim === 0 ? [] : uniqueDims(x, shapeArgs(dimArgs), op);
  const picks: [number, Int32Array][] = dims
    .filter((d) => x.shape[d]! > 1)
    .map((d) => {
      const n = x.shape[d]!;
      return [d, Int32Array.from({ length: n }, (_, i) => n - 1 - i)];
    });
  const out = pickAlong(x, op, picks);
  if (needsGrad(x.rt, [x])) record(flipGrad, [x], [out], { attrs: { dims } });
  return out;
}

interface RollAttr {
  shifts: number[];
  dims: number[] | null;
}

const rollGrad = grad<RollAttr>('RollBackward0', (g, n) => [roll(g[0]!, n.attrs.shifts.map((s) => -s), n.attrs.dims ?? undefined)]);

/**
 * A copy of `x` with elements shifted `shifts` places along `dims`, wrapping around (PyTorch's
 * `roll`). Without dims the tensor is rolled as if flattened.
 *
 * @example
 * nabla.tensor([1, 2, 3, 4]).roll(1).tolist();               // [4, 1, 2, 3]
 * nabla.tensor([[1, 2], [3, 4]]).roll([1, -1], [0, 1]).tolist(); // [[4, 3], [2, 1]]
 */
export function roll(x: Tensor, shifts: number | readonly number[], dims?: number | readonly number[] | null): Tensor {
  const op = 'roll';
  x._alive(op);
  const sh = typeof shifts === 'number' ? [shifts] : [...shifts];
  if (sh.length === 0 || sh.some((s) => !Number.isInteger(s))) throw new NablaError(`shifts must be a non-empty list of integers, got ${JSON.stringify(shifts)}`, { op });
  const ds = dims === undefined || dims === null ? null : typeof dims === 'number' ? [dims] : [...dims];
  if (ds === null ? sh.length !== 1 : ds.length !== sh.length) {
    throw new NablaError(`shifts and dimensions must align. shifts: ${sh.length}, dims:${ds?.length ?? 0}`, { op });
  }
  let out: Tensor;
  const rollIndex = (n: number, s: number): Int32Array => Int32Array.from({ length: n }, (_, i) => (((i - s) % n) + n) % n);
  if (ds === null) {
    const n = x.numel();
    out = quiet(x.rt, () => {
      const flat = x.reshape([n]);
      const r = n > 1 ? pickAlong(flat, op, [[0, rollIndex(n, sh[0]!)]]) : copyContiguous(flat);
      flat.dispose();
      const shaped = r.reshape(x.shape);
      r.dispose();
      const fresh = copyContiguous(shaped);
      shaped.dispose();
      return fresh;
    });
  } else {
    const nd = ds.map((d) => normalizeDim(d, Math.max(x.ndim, 1), op));
    const picks: [number, Int32Array][] = nd.filter((d) => x.shape[d]! > 1).map((d) => [d, rollIndex(x.shape[d]!, sh[nd.indexOf(d)]!)]);
    out = pickAlong(x, op, picks);
  }
  if (needsGrad(x.rt, [x])) record(rollGrad, [x], [out], { attrs: { shifts: sh, dims: ds } });
  return out;
}

interface TriAttr {
  diagonal: number;
}

const trilGrad = grad<TriAttr>('TrilBackward0', (g, n) => [tril(g[0]!, n.attrs.diagonal)]);
const triuGrad = grad<TriAttr>('TriuBackward0', (g, n) => [triu(g[0]!, n.attrs.diagonal)]);

function triangle(x: Tensor, diagonal: number, lower: boolean): Tensor {
  const op = lower ? 'tril' : 'triu';
  x._alive(op);
  if (x.ndim < 2) throw new NablaError(`${op}: input tensor must have at least 2 dimensions (got shape ${fmtShape(x.shape)})`, { op });
  if (!Number.isInteger(diagonal)) throw new NablaError(`${op}: diagonal must be an integer, got ${diagonal}`, { op });
  const r = x.shape[x.ndim - 2]!;
  const c = x.shape[x.ndim - 1]!;
  // The mask is built on the device from a row and a column of indices (r + c uploads, not r·c).
  const out = quiet(x.rt, () => {
    const rows = fromTypedArray(x.rt, x.device, 'int32', [r, 1], Int32Array.from({ length: r }, (_, i) => i), op);
    const cols = fromTypedArray(x.rt, x.device, 'int32', [c], Int32Array.from({ length: c }, (_, j) => j), op);
    const offset = cols.sub(rows);
    const drop = lower ? offset.gt(diagonal) : offset.lt(diagonal);
    const y = x.maskedFill(drop, 0);
    for (const t of [rows, cols, offset, drop]) t.dispose();
    return y;
  });
  if (needsGrad(x.rt, [x])) record(lower ? trilGrad : triuGrad, [x], [out], { attrs: { diagonal } });
  return out;
}

/**
 * The lower triangle of the last two dims (elements with `col - row <= diagonal`), zeros elsewhere.
 *
 * @example
 * nabla.ones([3, 3]).tril().tolist();   // [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
 */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return triangle(x, diagonal ?? 0, true);
}

/**
 * The upper triangle of the last two dims (elements with `col - row >= diagonal`), zeros elsewhere.
 *
 * @example
 * nabla.ones([3, 3]).triu(1).tolist();  // [[0, 1, 1], [0, 0, 1], [0, 0, 0]]
 */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return triangle(x, diagonal ?? 0, false);
}
