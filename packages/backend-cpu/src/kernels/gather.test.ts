import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../backend.js';
import { at, dense, empty, indices, numel, permuted, randInts, randoms, values, viewOf, storageWith } from '../test-utils/views.js';

const be = new CpuBackend();
const K = be.kernels;

describe('gather', () => {
  it('gathers along each dim (strided x) like the naive definition', () => {
    const xs = [4, 5, 6];
    const x = permuted(be, 'float64', xs, randoms(numel(xs), 1), [2, 0, 1]);
    for (let dim = 0; dim < 3; dim++) {
      const ishape = [3, 4, 5];
      const index = dense(be, 'int32', ishape, randInts(numel(ishape), dim + 2, 0, xs[dim]!));
      const out = empty(be, 'float64', ishape);
      K.gather(out, x, dim, index);
      const ref = [...indices(ishape)].map((i) => at(x, i.map((v, d) => (d === dim ? at(index, i) : v))));
      expect(values(out), `dim ${dim}`).toEqual(ref);
    }
  });

  it('supports a broadcast index (indexSelect) and a strided out', () => {
    // indexSelect(x [4, 3], dim 0, [2, 0, 2]) via gather with an index expanded over dim 1.
    const x = dense(be, 'int32', [4, 3], [0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32]);
    const index = viewOf(storageWith(be, 'int32', [2, 0, 2]), [3, 3], [1, 0]);
    const out = viewOf(be.allocate('int32', 9), [3, 3], [1, 3]); // column-major out
    K.gather(out, x, 0, index);
    expect(values(out)).toEqual([20, 21, 22, 0, 1, 2, 20, 21, 22]);
  });

  it('copies bool values', () => {
    const x = dense(be, 'bool', [1, 4], [1, 0, 0, 1]);
    const out = empty(be, 'bool', [1, 3]);
    K.gather(out, x, 1, dense(be, 'int32', [1, 3], [3, 2, 0]));
    expect(values(out)).toEqual([1, 0, 1]);
  });

  it('reports an out-of-range index with its value and the valid range', () => {
    const x = dense(be, 'float32', [2, 3], randoms(6));
    const out = empty(be, 'float32', [2, 2]);
    expect(() => K.gather(out, x, 1, dense(be, 'int32', [2, 2], [0, 1, 2, 3]))).toThrow(
      'gather: index 3 is out of range for dimension 1 with size 3 (valid range [0, 2])',
    );
    expect(() => K.gather(out, x, 1, dense(be, 'int32', [2, 2], [0, -1, 2, 2]))).toThrow(/index -1 is out of range/);
    expect(() => K.gather(out, x, 2, dense(be, 'int32', [2, 2], [0, 0, 0, 0]))).toThrow(/dim 2 is out of range/);
    expect(() => K.gather(empty(be, 'float32', [3, 2]), x, 1, dense(be, 'int32', [3, 2], [0, 0, 0, 0, 0, 0]))).toThrow(/does not fit/);
  });
});

describe('scatterAdd', () => {
  it('accumulates duplicates along each dim like the naive definition', () => {
    const oshape = [4, 5, 3];
    for (let dim = 0; dim < 3; dim++) {
      const ishape = [3, 4, 3];
      const base = randoms(numel(oshape), 20 + dim);
      const out = dense(be, 'float64', oshape, base);
      const index = dense(be, 'int32', ishape, randInts(numel(ishape), 30 + dim, 0, oshape[dim]!));
      const src = permuted(be, 'float64', ishape, randoms(numel(ishape), 40 + dim), [1, 2, 0]);
      K.scatterAdd(out, dim, index, src);
      const ref = base.slice();
      const strides = [15, 3, 1];
      for (const i of indices(ishape)) {
        const target = i.map((v, d) => (d === dim ? at(index, i) : v));
        ref[target.reduce((s, v, d) => s + v * strides[d]!, 0)]! += at(src, i);
      }
      values(out).forEach((v, k) => expect(v, `dim ${dim}`).toBeCloseTo(ref[k]!, 14));
    }
  });

  it('scatters through a broadcast index (indexAdd) into int32 and bool outs', () => {
    const out = dense(be, 'int32', [3, 2], [0, 0, 0, 0, 0, 0]);
    const index = viewOf(storageWith(be, 'int32', [2, 0, 2, 2]), [4, 2], [1, 0]);
    const src = dense(be, 'int32', [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    K.scatterAdd(out, 0, index, src);
    expect(values(out)).toEqual([3, 4, 0, 0, 13, 16]);

    const bout = dense(be, 'bool', [3], [0, 1, 0]);
    K.scatterAdd(bout, 0, dense(be, 'int32', [3], [0, 0, 1]), dense(be, 'bool', [3], [1, 1, 1]));
    expect(values(bout)).toEqual([1, 1, 0]);
  });

  it('reports an out-of-range index', () => {
    const out = dense(be, 'float32', [3], [0, 0, 0]);
    expect(() => K.scatterAdd(out, 0, dense(be, 'int32', [2], [1, 3]), dense(be, 'float32', [2], [1, 1]))).toThrow(
      'scatterAdd: index 3 is out of range for dimension 0 with size 3 (valid range [0, 2])',
    );
  });
});

describe('scatter', () => {
  it('overwrites along each dim like the naive definition; of duplicates the last in index order wins', () => {
    const oshape = [4, 5, 3];
    for (let dim = 0; dim < 3; dim++) {
      const ishape = [3, 4, 3];
      const base = randoms(numel(oshape), 50 + dim);
      const out = dense(be, 'float64', oshape, base);
      const index = dense(be, 'int32', ishape, randInts(numel(ishape), 60 + dim, 0, oshape[dim]!));
      const src = permuted(be, 'float64', ishape, randoms(numel(ishape), 70 + dim), [1, 2, 0]);
      K.scatter(out, dim, index, src);
      const ref = base.slice();
      const strides = [15, 3, 1];
      for (const i of indices(ishape)) {
        const target = i.map((v, d) => (d === dim ? at(index, i) : v));
        ref[target.reduce((s, v, d) => s + v * strides[d]!, 0)] = at(src, i);
      }
      expect(values(out), `dim ${dim}`).toEqual(ref);
    }
  });

  it('writes a broadcast source (a scalar value) and reports an out-of-range index', () => {
    const out = dense(be, 'int32', [2, 3], [0, 0, 0, 0, 0, 0]);
    const src = viewOf(storageWith(be, 'int32', [9]), [2, 1], [0, 0]);
    K.scatter(out, 1, dense(be, 'int32', [2, 1], [2, 0]), src);
    expect(values(out)).toEqual([0, 0, 9, 9, 0, 0]);
    expect(() => K.scatter(out, 1, dense(be, 'int32', [1, 1], [3]), viewOf(storageWith(be, 'int32', [9]), [1, 1], [0, 0]))).toThrow('scatter: index 3 is out of range for dimension 1 with size 3 (valid range [0, 2])');
  });
});
