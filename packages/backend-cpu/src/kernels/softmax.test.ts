import type { View } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../backend.js';
import { at, dense, empty, indices, numel, permuted, randoms, values } from '../test-utils/views.js';

const be = new CpuBackend();
const K = be.kernels;

function refRow(row: number[], log: boolean): number[] {
  const m = Math.max(...row);
  const s = row.reduce((acc, v) => acc + Math.exp(v - m), 0);
  return row.map((v) => (log ? v - m - Math.log(s) : Math.exp(v - m) / s));
}

function refAlong(x: View, dim: number, log: boolean): number[] {
  const out = new Array<number>(numel(x.shape));
  const strides = x.shape.map((_, d) => x.shape.slice(d + 1).reduce((a, b) => a * b, 1));
  for (const idx of indices(x.shape)) {
    if (idx[dim] !== 0) continue;
    const row = Array.from({ length: x.shape[dim]! }, (_, j) => at(x, idx.map((v, d) => (d === dim ? j : v))));
    refRow(row, log).forEach((v, j) => {
      const k = idx.reduce((s, v2, d) => s + (d === dim ? j : v2) * strides[d]!, 0);
      out[k] = v;
    });
  }
  return out;
}

describe('softmax / logSoftmax', () => {
  for (const op of ['softmax', 'logSoftmax'] as const) {
    const log = op === 'logSoftmax';

    it(`${op} along each dim of a permuted input`, () => {
      const shape = [3, 4, 5];
      const x = permuted(be, 'float64', shape, randoms(numel(shape), 1, -5, 5), [1, 2, 0]);
      for (let dim = 0; dim < 3; dim++) {
        const out = permuted(be, 'float64', shape, new Array(numel(shape)).fill(0), [2, 1, 0]);
        K[op](out, x, dim);
        const ref = refAlong(x, dim, log);
        values(out).forEach((v, i) => expect(v, `dim ${dim}`).toBeCloseTo(ref[i]!, 14));
      }
    });

    it(`${op} of rows of length 1`, () => {
      const x = dense(be, 'float32', [3, 1], [5, -1e30, 0]);
      const out = empty(be, 'float32', [3, 1]);
      K[op](out, x, 1);
      expect(values(out)).toEqual(log ? [0, 0, 0] : [1, 1, 1]);
    });

    it(`${op} of a row of 10,000 (float32)`, () => {
      const row = randoms(10_000, 5, -20, 20).map(Math.fround);
      const x = dense(be, 'float32', [1, 10_000], row);
      const out = empty(be, 'float32', [1, 10_000]);
      K[op](out, x, 1);
      const ref = refRow(row, log);
      const got = values(out);
      got.forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThanOrEqual(1e-6 * Math.abs(ref[i]!) + 1e-30));
      if (!log) expect(got.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    });

    it(`${op} with -inf entries, an all -inf row and a NaN row`, () => {
      const x = dense(be, 'float64', [3, 2], [-Infinity, 0, -Infinity, -Infinity, NaN, 1]);
      const out = empty(be, 'float64', [3, 2]);
      K[op](out, x, 1);
      const v = values(out);
      expect(v.slice(0, 2)).toEqual(log ? [-Infinity, 0] : [0, 1]);
      for (const nan of v.slice(2)) expect(nan).toBeNaN();
    });
  }

  it('does not overflow on large logits and works in place', () => {
    const x = dense(be, 'float64', [3], [1000, 1001, 1002]);
    const out = empty(be, 'float64', [3]);
    K.softmax(out, x, 0);
    refRow([0, 1, 2], false).forEach((r, i) => expect(values(out)[i]).toBeCloseTo(r, 15));
    K.logSoftmax(x, x, 0);
    refRow([0, 1, 2], true).forEach((r, i) => expect(values(x)[i]).toBeCloseTo(r, 12));
  });

  it('rejects a bad dim', () => {
    const x = dense(be, 'float32', [2], [1, 2]);
    expect(() => K.softmax(empty(be, 'float32', [2]), x, 1)).toThrow(/dim 1 is out of range/);
  });
});
