/**
 * A stable sort of every row along one dim, with PyTorch's order for NaN (the largest value:
 * last ascending, first descending). Each row's positions are sorted by (value, position), a
 * total order, so the result does not depend on the engine's sort being stable.
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
  const order = new Array<number>(len);
  const sign = descending ? -1 : 1;
  const cmp = (a: number, b: number): number => {
    const ka = keys[a]!;
    const kb = keys[b]!;
    const na = ka !== ka;
    const nb = kb !== kb;
    if (na || nb) {
      if (na && nb) return a - b;
      return (na ? 1 : -1) * sign;
    }
    if (ka !== kb) return ka < kb ? -sign : sign;
    return a - b;
  };
  forEachRowAlong([x, values, indices], dim, (bases) => {
    for (let j = 0, p = bases[0]!; j < len; j++, p += xd) {
      keys[j] = X[p]!;
      order[j] = j;
    }
    order.sort(cmp);
    // values may be x itself: every key was read before the first write.
    for (let j = 0, v = bases[1]!, i = bases[2]!; j < len; j++, v += vd, i += id) {
      const src = order[j]!;
      V[v] = keys[src]!;
      I[i] = src;
    }
  });
}
