import type { DType, View } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../backend.js';
import { at, dense, empty, indices, numel, permuted, randInts, randoms, raw, values, viewOf, storageWith } from '../test-utils/views.js';

const be = new CpuBackend();
const K = be.kernels;

/** All non-empty subsets of [0, rank). */
function axisSets(rank: number): number[][] {
  const sets: number[][] = [];
  for (let m = 1; m < 1 << rank; m++) sets.push([...Array(rank).keys()].filter((d) => m & (1 << d)));
  return sets;
}

function reducedShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((n, d) => (axes.includes(d) ? 1 : n));
}

/** Naive reference: fold every input element into its output slot in row-major order. */
function naive(x: View, axes: readonly number[], init: number, f: (a: number, b: number) => number): number[] {
  const oshape = reducedShape(x.shape, axes);
  const acc = new Array<number>(numel(oshape)).fill(init);
  for (const idx of indices(x.shape)) {
    let k = 0;
    for (let d = 0; d < idx.length; d++) k = k * oshape[d]! + (axes.includes(d) ? 0 : idx[d]!);
    acc[k] = f(acc[k]!, at(x, idx));
  }
  return acc;
}

const OPS = {
  sum: { init: 0, f: (a: number, b: number) => a + b },
  prod: { init: 1, f: (a: number, b: number) => a * b },
  max: { init: -Infinity, f: (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)) },
  min: { init: Infinity, f: (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)) },
} as const;

describe('sum / prod / max / min', () => {
  const shape = [3, 4, 5, 2];
  const xs = randoms(numel(shape), 3, 0.5, 1.5);

  for (const op of ['sum', 'prod', 'max', 'min'] as const) {
    it(`${op} over every axis set of a contiguous float64 input`, () => {
      const x = dense(be, 'float64', shape, xs);
      for (const axes of axisSets(shape.length)) {
        const out = empty(be, 'float64', reducedShape(shape, axes));
        K[op](out, x, axes);
        const ref = naive(x, axes, OPS[op].init, OPS[op].f);
        values(out).forEach((v, i) => expect(v, `${op} ${axes}`).toBeCloseTo(ref[i]!, 12));
      }
    });

    it(`${op} over every axis set of a permuted input with offset into a strided out`, () => {
      const x = permuted(be, 'float32', shape, xs, [2, 0, 3, 1]);
      for (const axes of axisSets(shape.length)) {
        const os = reducedShape(shape, axes);
        const out = permuted(be, 'float32', os, new Array(numel(os)).fill(0), [3, 2, 1, 0], 2);
        K[op](out, x, axes);
        const ref = naive(x, axes, OPS[op].init, OPS[op].f);
        values(out).forEach((v, i) => expect(v, `${op} ${axes}`).toBe(Math.fround(ref[i]!)));
      }
    });
  }

  it('sums a broadcast (stride 0) input', () => {
    const x = viewOf(storageWith(be, 'float32', [1, 2, 3]), [4, 3], [0, 1]);
    const out = empty(be, 'float32', [1, 3]);
    K.sum(out, x, [0]);
    expect(values(out)).toEqual([4, 8, 12]);
  });

  it('accumulates float32 sums in float64 (pairwise rows)', () => {
    const n = 1_000_000;
    const x = dense(be, 'float32', [n], new Float32Array(n).fill(0.1));
    const out = empty(be, 'float32', [1]);
    K.sum(out, x, [0]);
    expect(values(out)[0]).toBe(Math.fround(Math.fround(0.1) * n));
    // Reducing a leading axis accumulates slot by slot, still in float64.
    const x2 = dense(be, 'float32', [n / 2, 2], new Float32Array(n).fill(0.1));
    const out2 = empty(be, 'float32', [1, 2]);
    K.sum(out2, x2, [0]);
    expect(values(out2)).toEqual([1, 2].map(() => Math.fround((Math.fround(0.1) * n) / 2)));
  });

  it('propagates NaN through max/min and sums', () => {
    const x = dense(be, 'float64', [2, 3], [1, NaN, 3, -Infinity, 5, 2]);
    for (const op of ['max', 'min', 'sum'] as const) {
      const out = empty(be, 'float64', [2, 1]);
      K[op](out, x, [1]);
      const [a, b] = values(out);
      expect(a).toBeNaN();
      expect(b).toBe(op === 'max' ? 5 : op === 'min' ? -Infinity : -Infinity);
    }
    const col = empty(be, 'float64', [1, 3]);
    K.max(col, x, [0]);
    const v = values(col);
    expect(v[0]).toBe(1);
    expect(v[1]).toBeNaN();
    expect(v[2]).toBe(3);
  });

  it('gives int32 sums of int32/bool that wrap like int32, and wrapping int32 products', () => {
    const big = [2147483647, 1, 5];
    const out = empty(be, 'int32', [1]);
    K.sum(out, dense(be, 'int32', [3], big), [0]);
    expect(values(out)).toEqual([Number(BigInt.asIntN(32, 2147483653n))]);

    const b = dense(be, 'bool', [2, 3], [1, 0, 1, 1, 1, 1]);
    const bs = empty(be, 'int32', [2, 1]);
    K.sum(bs, b, [1]);
    expect(values(bs)).toEqual([2, 3]);

    const ints = randInts(40, 5, -50, 50);
    const p = empty(be, 'int32', [1]);
    K.prod(p, dense(be, 'int32', [40], ints), [0]);
    const ref = ints.reduce((acc, v) => BigInt.asIntN(32, acc * BigInt(v)), 1n);
    expect(values(p)).toEqual([Number(ref)]);

    const bp = empty(be, 'int32', [2, 1]);
    K.prod(bp, b, [1]);
    expect(values(bp)).toEqual([0, 1]);
  });

  it('max/min of bool stay bool', () => {
    const b = dense(be, 'bool', [2, 2], [0, 1, 0, 0]);
    const mx = empty(be, 'bool', [2, 1]);
    K.max(mx, b, [1]);
    expect(values(mx)).toEqual([1, 0]);
    const mn = empty(be, 'bool', [1, 2]);
    K.min(mn, b, [0]);
    expect(values(mn)).toEqual([0, 0]);
  });

  it('reduces empty slices to the identity', () => {
    const x = viewOf(storageWith(be, 'float32', [9]), [2, 0], [0, 1]);
    const s = empty(be, 'float32', [2, 1]);
    K.sum(s, x, [1]);
    expect(values(s)).toEqual([0, 0]);
    K.prod(s, x, [1]);
    expect(values(s)).toEqual([1, 1]);
    expect(() => K.max(s, x, [1])).toThrow(/empty/);
  });

  it('rejects bad axes and shapes', () => {
    const x = dense(be, 'float32', [2, 3], [1, 2, 3, 4, 5, 6]);
    expect(() => K.sum(empty(be, 'float32', [2, 1]), x, [1, 1])).toThrow(/sorted, unique/);
    expect(() => K.sum(empty(be, 'float32', [2, 1]), x, [2])).toThrow(/within \[0, 2\)/);
    expect(() => K.sum(empty(be, 'float32', [2]), x, [1])).toThrow(/expected \[2, 1\]/);
  });
});

describe('argmax / argmin', () => {
  it('returns the first occurrence of the extreme along each axis', () => {
    const shape = [3, 4, 5];
    const xs = randInts(numel(shape), 9, 0, 4); // many ties
    for (const dtype of ['float32', 'float64', 'int32'] as DType[]) {
      const x = permuted(be, dtype, shape, xs, [1, 2, 0]);
      for (let ax = 0; ax < 3; ax++) {
        for (const op of ['argmax', 'argmin'] as const) {
          const os = reducedShape(shape, [ax]);
          const out = empty(be, 'int32', os);
          K[op](out, x, [ax]);
          const ref = [...indices(os)].map((o) => {
            let best = 0;
            for (let j = 1; j < shape[ax]!; j++) {
              const cur = at(x, o.map((v, d) => (d === ax ? j : v)));
              const b = at(x, o.map((v, d) => (d === ax ? best : v)));
              if (op === 'argmax' ? cur > b : cur < b) best = j;
            }
            return best;
          });
          expect(values(out), `${dtype} ${op} axis ${ax}`).toEqual(ref);
        }
      }
    }
  });

  it('breaks ties toward the first index and treats NaN as the extreme', () => {
    const x = dense(be, 'float32', [4, 4], [2, 7, 7, 1, 3, NaN, 9, NaN, 0, 0, 0, 0, -Infinity, 1, NaN, -Infinity]);
    const amax = empty(be, 'int32', [4, 1]);
    const amin = empty(be, 'int32', [4, 1]);
    K.argmax(amax, x, [1]);
    K.argmin(amin, x, [1]);
    expect(values(amax)).toEqual([1, 1, 0, 2]);
    expect(values(amin)).toEqual([3, 1, 0, 2]);
  });

  it('writes into a strided int32 out and rejects several axes', () => {
    const x = dense(be, 'float64', [2, 3], [1, 5, 2, 9, 0, 3]);
    const out = viewOf(storageWith(be, 'int32', [7, 7, 7, 7]), [2, 1], [2, 1], 1);
    K.argmax(out, x, [1]);
    expect(raw(out)).toEqual([7, 1, 7, 0]);
    expect(() => K.argmax(empty(be, 'int32', [1, 1]), x, [0, 1])).toThrow(/exactly one axis/);
  });
});
