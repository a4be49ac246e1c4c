import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../backend.js';
import { at, empty, indices, numel, permuted, randoms, values } from '../test-utils/views.js';

const be = new CpuBackend();
const K = be.kernels;

describe('cumsum / cumprod', () => {
  for (const op of ['cumsum', 'cumprod'] as const) {
    it(`${op} along every dim of a permuted view, forward and reverse`, () => {
      const shape = [3, 4, 5];
      const x = permuted(be, 'float64', shape, randoms(numel(shape), 2, 0.5, 1.5), [1, 2, 0]);
      for (let dim = 0; dim < 3; dim++) {
        for (const reverse of [false, true]) {
          const out = permuted(be, 'float64', shape, new Array(numel(shape)).fill(0), [2, 0, 1]);
          K[op](out, x, dim, reverse);
          const want = [...indices(shape)].map((idx) => {
            let acc = op === 'cumsum' ? 0 : 1;
            const [lo, hi] = reverse ? [idx[dim]!, shape[dim]! - 1] : [0, idx[dim]!];
            for (let j = lo; j <= hi; j++) {
              const v = at(x, idx.map((c, d) => (d === dim ? j : c)));
              acc = op === 'cumsum' ? acc + v : acc * v;
            }
            return acc;
          });
          values(out).forEach((v, i) => expect(v, `dim ${dim} reverse ${reverse}`).toBeCloseTo(want[i]!, 12));
        }
      }
    });
  }

  it('int32 and bool inputs accumulate and wrap as int32', () => {
    const b = permuted(be, 'bool', [5], [1, 0, 1, 1, 0], [0]);
    const out = empty(be, 'int32', [5]);
    K.cumsum(out, b, 0, false);
    expect(values(out)).toEqual([1, 1, 2, 3, 3]);
    const big = permuted(be, 'int32', [3], [65536, 65536, 2], [0]);
    const p = empty(be, 'int32', [3]);
    K.cumprod(p, big, 0, false);
    expect(values(p)).toEqual([65536, 0, 0]);
    expect(() => K.cumsum(empty(be, 'int32', [4]), b, 0, false)).toThrow('cumsum: out shape [4] must equal input shape [5]');
  });
});
