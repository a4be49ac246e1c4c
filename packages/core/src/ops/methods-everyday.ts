/**
 * The everyday methods PyTorch users reach for, installed on Tensor beside `methods.ts`'s: casts,
 * value tests (`any all isinf isfinite nanToNum isclose allclose`), `sort topk`, `cumsum cumprod`.
 */
import { Tensor } from '../tensor/tensor.js';
import { to } from './convert.js';
import * as P from './predicates.js';
import type { IscloseOptions, NanToNumOptions } from './predicates.js';
import type { Dims, ValuesIndices } from './reduce.js';
import { cumprod, cumsum, type ScanOptions } from './scan.js';
import { sort, topk, type SortOptions, type TopkOptions } from './sort.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    /** `to('float32')` (this tensor when it already is). */
    float(): Tensor;
    /** `to('float64')`. */
    double(): Tensor;
    /** `to('int32')` (PyTorch's int: truncates toward zero; ends the graph). */
    int(): Tensor;
    /** `to('bool')` (non-zero, NaN included, is true; ends the graph). */
    bool(): Tensor;

    any(dim?: Dims, keepdim?: boolean | null): Tensor;
    all(dim?: Dims, keepdim?: boolean | null): Tensor;
    isinf(): Tensor;
    isposinf(): Tensor;
    isneginf(): Tensor;
    isfinite(): Tensor;
    nanToNum(nan?: number | NanToNumOptions | null, posinf?: number | null, neginf?: number | null): Tensor;
    isclose(other: Tensor, rtol?: number | IscloseOptions | null, atol?: number | null, equalNan?: boolean | null): Tensor;
    allclose(other: Tensor, rtol?: number | IscloseOptions | null, atol?: number | null, equalNan?: boolean | null): boolean;

    /** Sorted values and their positions along `dim` (default -1); stable, NaN largest. */
    sort(dim?: number | SortOptions | null, descending?: boolean | null): ValuesIndices;
    /** The k largest (or smallest) values along `dim` (default -1), in order, with positions. */
    topk(k: number, dim?: number | TopkOptions | null, largest?: boolean | null, sorted?: boolean | null): ValuesIndices;
    cumsum(dim: number, opts?: ScanOptions): Tensor;
    cumprod(dim: number, opts?: ScanOptions): Tensor;
  }
}

Object.assign(Tensor.prototype as unknown as Record<string, unknown>, {
  float(this: Tensor) {
    return to(this, 'float32');
  },
  double(this: Tensor) {
    return to(this, 'float64');
  },
  int(this: Tensor) {
    return to(this, 'int32');
  },
  bool(this: Tensor) {
    return to(this, 'bool');
  },
  any(this: Tensor, dim?: Dims, keepdim?: boolean | null) {
    return P.any(this, dim, keepdim);
  },
  all(this: Tensor, dim?: Dims, keepdim?: boolean | null) {
    return P.all(this, dim, keepdim);
  },
  isinf(this: Tensor) {
    return P.isinf(this);
  },
  isposinf(this: Tensor) {
    return P.isposinf(this);
  },
  isneginf(this: Tensor) {
    return P.isneginf(this);
  },
  isfinite(this: Tensor) {
    return P.isfinite(this);
  },
  nanToNum(this: Tensor, nan?: number | NanToNumOptions | null, posinf?: number | null, neginf?: number | null) {
    return P.nanToNum(this, nan, posinf, neginf);
  },
  isclose(this: Tensor, other: Tensor, rtol?: number | IscloseOptions | null, atol?: number | null, equalNan?: boolean | null) {
    return P.isclose(this, other, rtol, atol, equalNan);
  },
  allclose(this: Tensor, other: Tensor, rtol?: number | IscloseOptions | null, atol?: number | null, equalNan?: boolean | null) {
    return P.allclose(this, other, rtol, atol, equalNan);
  },
  sort(this: Tensor, dim?: number | SortOptions | null, descending?: boolean | null) {
    return sort(this, dim, descending);
  },
  topk(this: Tensor, k: number, dim?: number | TopkOptions | null, largest?: boolean | null, sorted?: boolean | null) {
    return topk(this, k, dim, largest, sorted);
  },
  cumsum(this: Tensor, dim: number, opts?: ScanOptions) {
    return cumsum(this, dim, opts);
  },
  cumprod(this: Tensor, dim: number, opts?: ScanOptions) {
    return cumprod(this, dim, opts);
  },
});
