import type { View } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../backend.js';
import { at, empty, indices, numel, permuted, randInts, values } from '../test-utils/views.js';

const be = new CpuBackend();
const K = be.kernels;

/** A stable sort of each row of `x` along `dim`, NaN largest, by JS's (stable) Array sort. */
function reference(x: View, dim: number, descending: boolean): { v: number[]; i: number[] } {
  const shape = x.shape;
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const v = new Array<number>(numel(shape));
  const ix = new Array<number>(numel(shape));
  const rank = (a: number) => (Number.isNaN(a) ? Infinity : a);
  for (const idx of indices(shape)) {
    if (idx[dim] !== 0) continue;
    const row = Array.from({ length: shape[dim]! }, (_, j) => ({ j, val: at(x, idx.map((c, d) => (d === dim ? j : c))) }));
    row.sort((a, b) => {
      const na = Number.isNaN(a.val);
      const nb = Number.isNaN(b.val);
      if (na !== nb) return (na ? 1 : -1) * (descending ? -1 : 1);
      const d = rank(a.val) - rank(b.val);
      return na || d === 0 ? 0 : descending ? -d : d;
    });
    row.forEach((e, k) => {
      const o = idx.reduce((s, c, d) => s + (d === dim ? k : c) * strides[d]!, 0);
      v[o] = e.val;
      ix[o] = e.j;
    });
  }
  return { v, i: ix };
}

describe('sort', () => {
  it('sorts every dim of a permuted view, both directions, stably, NaN largest', () => {
    const shape = [3, 4, 5];
    const data = randInts(numel(shape), 1, -3, 3).map((v, k) => (k % 11 === 0 ? NaN : v));
    const x = permuted(be, 'float64', shape, data, [2, 0, 1]);
    for (let dim = 0; dim < 3; dim++) {
      for (const descending of [false, true]) {
        const vals = permuted(be, 'float64', shape, new Array(numel(shape)).fill(0), [1, 2, 0]);
        const idx = empty(be, 'int32', shape);
        K.sort(vals, idx, x, dim, descending);
        const ref = reference(x, dim, descending);
        expect(values(vals), `dim ${dim} ${descending}`).toEqual(ref.v);
        expect(values(idx), `dim ${dim} ${descending}`).toEqual(ref.i);
      }
    }
  });

  it('merges long rows (runs of 16 and more) stably, with NaN among them', () => {
    const shape = [3, 150];
    const data = randInts(numel(shape), 2, -20, 20).map((v, k) => (k % 17 === 0 ? NaN : v / 4));
    const x = permuted(be, 'float32', shape, data, [1, 0]);
    for (const descending of [false, true]) {
      const vals = empty(be, 'float32', shape);
      const idx = empty(be, 'int32', shape);
      K.sort(vals, idx, x, 1, descending);
      const ref = reference(x, 1, descending);
      expect(values(vals)).toEqual(ref.v);
      expect(values(idx)).toEqual(ref.i);
    }
  });

  it('sorts in place (values over the input) and checks its arguments', () => {
    const x = permuted(be, 'int32', [6], [3, 1, 2, 1, 0, 3], [0]);
    const idx = empty(be, 'int32', [6]);
    K.sort(x, idx, x, 0, false);
    expect(values(x)).toEqual([0, 1, 1, 2, 3, 3]);
    expect(values(idx)).toEqual([4, 1, 3, 2, 0, 5]);
    expect(() => K.sort(x, idx, x, 1, false)).toThrow('sort: dim 1 is out of range for rank 1');
    expect(() => K.sort(x, empty(be, 'float32', [6]), x, 0, false)).toThrow('indices must be int32');
    expect(() => K.sort(x, empty(be, 'int32', [5]), x, 0, false)).toThrow("must have the input's shape");
  });
});
