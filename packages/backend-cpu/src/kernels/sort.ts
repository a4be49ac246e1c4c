/**
 * A stable sort of every row along one dim, with PyTorch's order for NaN (the largest value:
 * last ascending, first descending): NaNs are moved to their end first, in order, and the rest is
 * merge-sorted (insertion-sorted runs, then bottom-up merges) over typed arrays of positions.
 */
import type { View } from '@nabla/core';
import { dataOf } from '../storage.js';
import { fmtShape, numelOf, sameShape } from '../strided.js';
import { checkAlong, forEachRowAlong } from './rows.js';

export function sortAlong(values: View, indices: View, x: View, dim: number, descending: boolean): void {
  checkAlong('sort', dim, x.shape.length);
  if (!sameShape(values.shape, x.shape) || !sameShape(indices.shape, x.shape)) {
    throw new Error(`sort: values ${fmtShape(values.shape)} and indices ${fmtShape(indices.shape)} must have the input's shape ${fmtShape(x.shape)}`);
  }
  if (indices.dtype !== 'int32') throw new Error(`sort: indices must be int32, got ${indices.dtype}`);
  if (values.dtype !== x.dtype) throw new Error(`sort: values must have the input's dtype ${x.dtype}, got ${values.dtype}`);
  const len = x.shape[dim]!;
  if (len === 0 || numelOf(x.shape) === 0) return;
  const X = dataOf('sort', 'x', x);
  const V = dataOf('sort', 'values', values);
  const I = dataOf('sort', 'indices', indices);
  const xd = x.strides[dim]!;
  const vd = values.strides[dim]!;
  const id = indices.strides[dim]!;
  const keys = new Float64Array(len);
  const order = new Int32Array(len);
  const tmp = new Int32Array(len);
  forEachRowAlong([x, values, indices], dim, (bases) => {
    // NaNs go to one end in their order (last ascending, first descending); the rest is merge-sorted.
    let lo = 0;
    let hi = len;
    let nans = 0;
    for (let j = 0, p = bases[0]!; j < len; j++, p += xd) {
      const v = X[p]!;
      keys[j] = v;
      if (v !== v) nans++;
    }
    if (nans === 0) {
      for (let j = 0; j < len; j++) order[j] = j;
    } else {
      let a = descending ? nans : 0;
      let b = descending ? 0 : len - nans;
      for (let j = 0; j < len; j++) {
        if (keys[j] !== keys[j]) order[b++] = j;
        else order[a++] = j;
      }
      if (descending) lo = nans;
      else hi = len - nans;
    }
    mergeSort(order, tmp, keys, lo, hi, descending);
    // values may be x itself: every key was read before the first write.
    for (let j = 0, v = bases[1]!, i = bases[2]!; j < len; j++, v += vd, i += id) {
      const src = order[j]!;
      V[v] = keys[src]!;
      I[i] = src;
    }
  });
}

const RUN = 16;

/**
 * Stable sort of `order[lo, hi)` by `keys` (no NaN among them): insertion sort of runs of 16,
 * then bottom-up merges through `tmp`. Only a strict comparison moves an element past another,
 * so equal keys keep their order.
 */
function mergeSort(order: Int32Array, tmp: Int32Array, keys: Float64Array, lo: number, hi: number, descending: boolean): void {
  const s = descending ? -1 : 1;
  for (let r = lo; r < hi; r += RUN) {
    const end = Math.min(r + RUN, hi);
    for (let i = r + 1; i < end; i++) {
      const e = order[i]!;
      const k = keys[e]! * s;
      let j = i - 1;
      while (j >= r && keys[order[j]!]! * s > k) {
        order[j + 1] = order[j]!;
        j--;
      }
      order[j + 1] = e;
    }
  }
  let src = order;
  let dst = tmp;
  for (let width = RUN; width < hi - lo; width *= 2) {
    for (let a0 = lo; a0 < hi; a0 += 2 * width) {
      const mid = Math.min(a0 + width, hi);
      const end = Math.min(a0 + 2 * width, hi);
      let a = a0;
      let b = mid;
      let o = a0;
      while (a < mid && b < end) {
        // Take from the right run only when strictly before: stability.
        if (keys[src[b]!]! * s < keys[src[a]!]! * s) dst[o++] = src[b++]!;
        else dst[o++] = src[a++]!;
      }
      while (a < mid) dst[o++] = src[a++]!;
      while (b < end) dst[o++] = src[b++]!;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src !== order) order.set(src.subarray(lo, hi), lo);
}
