/**
 * Cumulative sums and products along a dim (PyTorch's `cumsum`, `cumprod`). Backends provide the
 * scans (`cumsum`/`cumprod` kernels, forward or from the row's end); the gradients are written
 * with differentiable ops, so every order of derivative works:
 * - cumsum's gradient is the cumulative sum of the gradient from the end (a reverse scan, whose
 *   own gradient is a forward scan again);
 * - cumprod's gradient is right where the input has zeros, as PyTorch's (see `cumprodBackward`).
 */
import { AMP, castOperands } from '../amp/state.js';
import { isFloating, type DType } from '../dtype.js';
import { NablaError } from '../errors.js';
import { normalizeDim } from '../shape.js';
import { fromTypedArray } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { emptyOn, grad, needsGrad, record, runKernel, zerosOf } from './dispatch.js';
import { runElementwise } from './elementwise/define.js';
import { identity } from './elementwise/table.js';
import { where } from './elementwise/where.js';
import { cat } from './indexing.js';

export interface ScanOptions {
  /** Cast the input to this dtype first (PyTorch's `dtype=`). */
  dtype?: DType | null;
}

interface ScanAttr {
  dim: number;
  reverse: boolean;
}

function scanRaw(name: 'cumsum' | 'cumprod', x: Tensor, dim: number, reverse: boolean, op: string): Tensor {
  const outDtype: DType = isFloating(x.dtype) ? x.dtype : 'int32';
  const out = emptyOn(x.rt, x._ref.backend, outDtype, x.shape);
  if (x.ndim === 0) {
    runElementwise(identity, [x], undefined, out);
    return out;
  }
  if (x.numel() === 0) return out;
  runKernel(name, x, op, { reads: [x], writes: [out] }, (k) => k(out._view(), x._view(), dim, reverse));
  return out;
}

function prepare(x: Tensor, dim: number, opts: ScanOptions | undefined, op: string): { src: Tensor; d: number } {
  x._alive(op);
  if (typeof dim !== 'number') throw new NablaError(`expected an integer dim, got ${dim === undefined ? 'none' : typeof dim}`, { op });
  const d = normalizeDim(dim, x.ndim, op);
  const src = opts?.dtype ? x.to(opts.dtype) : x;
  return { src, d };
}

const cumsumGrad = grad<ScanAttr>('CumsumBackward0', (g, n) => [scanSum(g[0]!, n.attrs.dim, !n.attrs.reverse)]);

/** cumsum along `dim`, forward or from the end; its gradient is the scan the other way. */
function scanSum(x: Tensor, dim: number, reverse: boolean): Tensor {
  const out = scanRaw('cumsum', x, dim, reverse, 'cumsum');
  if (isFloating(out.dtype) && needsGrad(x.rt, [x])) record(cumsumGrad, [x], [out], { attrs: { dim, reverse } });
  return out;
}

/**
 * Cumulative sum along `dim`: `out[i] = x[0] + ... + x[i]`. int32/bool inputs give int32
 * (PyTorch's int64).
 *
 * @example
 * nabla.tensor([1, 2, 3]).cumsum(0).tolist(); // [1, 3, 6]
 */
export function cumsum(x: Tensor, dim: number, opts?: ScanOptions): Tensor {
  if (AMP.active) [x] = castOperands('cumsum', [x] as const);
  const { src, d } = prepare(x, dim, opts, 'cumsum');
  return scanSum(src, d, false);
}

const cumprodGrad = grad<ScanAttr>('CumprodBackward0', (g, n) => [cumprodBackward(g[0]!, n.tensor(0), n.attrs.dim)]);

function scanProd(x: Tensor, dim: number): Tensor {
  const out = scanRaw('cumprod', x, dim, false, 'cumprod');
  if (isFloating(out.dtype) && needsGrad(x.rt, [x])) record(cumprodGrad, [x], [out], { attrs: { dim, reverse: false }, saveInputs: true });
  return out;
}

/**
 * Cumulative product along `dim`: `out[i] = x[0] · ... · x[i]`. The gradient is right where the
 * input has zeros, to every order.
 *
 * @example
 * nabla.tensor([1, 2, 3]).cumprod(0).tolist(); // [1, 2, 6]
 */
export function cumprod(x: Tensor, dim: number, opts?: ScanOptions): Tensor {
  if (AMP.active) [x] = castOperands('cumprod', [x] as const);
  const { src, d } = prepare(x, dim, opts, 'cumprod');
  return scanProd(src, d);
}

/**
 * ∂L/∂x_i = Σ_{j≥i} g_j Π_{m≤j, m≠i} x_m. Without zeros that is revcumsum(g·y)/x; core cannot
 * look at the values to know, so it is written to hold with zeros too. As PyTorch does:
 * - for a first derivative (grad mode off), O(n): before a row's first zero k the products in
 *   the sum stop at k, so revcumsum over j < k divided by x_i (never 0 there); at k, Σ over
 *   the j up to the second zero of g_j times the product of the row with x_k left out (a reverse
 *   scan over that span, read at k); after k,
 *   0 (every product holds x_k = 0);
 * - when the gradient itself must be differentiable (createGraph), that masked formula has the
 *   wrong derivative in a zero entry (it treats x_k as constant), so the gradient is built as the
 *   polynomial it is: (Π_{m<i} x_m) · Σ_{j≥i} g_j Π_{i<m≤j} x_m, the inner products from a
 *   cumprod over an n×n expansion of the row (O(n²), PyTorch's choice too).
 */
function cumprodBackward(g: Tensor, x: Tensor, dim: number): Tensor {
  const n = x.ndim === 0 ? 1 : x.shape[dim]!;
  if (n <= 1) return g;
  if (!x.rt.gradMode.enabled) {
    const isZero = x.eq(0);
    const zerosSoFar = scanSum(isZero, dim, false);
    const before = zerosSoFar.eq(0);
    const firstSpan = zerosSoFar.eq(1);
    const safe = where(isZero, 1, x);
    const gp = g.mul(scanProd(safe, dim));
    const head = scanSum(where(before, gp, 0), dim, true).div(safe);
    // At the first zero, the reverse scan over its span is the whole span's sum (no reduction).
    const spanTail = scanSum(where(firstSpan, gp, 0), dim, true);
    return where(before, head, where(isZero.logicalAnd(firstSpan), spanTail, 0));
  }
  const last = x.ndim - 1;
  const xt = dim === last ? x : x.transpose(dim, last);
  const gt = dim === last ? g : g.transpose(dim, last);
  const ones = zerosOf(x, [...xt.shape.slice(0, -1), 1]).add(1);
  const exclusive = scanProd(cat([ones, xt.narrow(last, 0, n - 1)], last), last);
  // after[i][j] = j > i, from[i][j] = j >= i (the i-th row of the expansion is x's row from i on).
  const after = new Uint8Array(n * n);
  const from = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      from[i * n + j] = 1;
      if (j > i) after[i * n + j] = 1;
    }
  }
  const afterMask = fromTypedArray(x.rt, x.device, 'bool', [n, n], after, 'cumprod');
  const fromMask = fromTypedArray(x.rt, x.device, 'bool', [n, n], from, 'cumprod');
  const tails = scanProd(where(afterMask, xt.unsqueeze(-2), 1), last + 1);
  const inner = where(fromMask, gt.unsqueeze(-2).mul(tails), 0).sum(-1);
  const r = exclusive.mul(inner);
  return dim === last ? r : r.transpose(dim, last);
}
