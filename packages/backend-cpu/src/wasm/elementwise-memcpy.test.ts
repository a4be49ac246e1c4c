/**
 * Copies and fills as typed-array `set` / `fill` (`elementwise-memcpy.ts`) against the JavaScript
 * kernels: every dtype, float32↔float64, conversions that must not take the fast path (to bool, to
 * and from int32 across kinds), in place, offset, transposed and strided (fallback) views, empty
 * and small tensors, NaN / ±Inf / -0, int32 truncation and wrap, bool's `v != 0`.
 */
import type { DType, ElementwiseKernel, ElementwiseSpec, View } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../backend.js';
import { empty, inp, par, cst, permuted, randoms, raw, spec, storageWith, values, viewOf } from '../test-utils/views.js';
import { memcpyElementwise } from './elementwise-memcpy.js';

const js = new CpuBackend({ wasm: false });
const be = new CpuBackend();
const DTYPES: DType[] = ['float32', 'float64', 'int32', 'bool'];

function data(dtype: DType, n: number, seed: number): number[] {
  const specials = [NaN, Infinity, -Infinity, -0, 0, 1e-40, 3.5e38];
  const v = randoms(n, seed, -50, 50);
  if (dtype === 'bool') return v.map((x) => (x > 0 ? 1 : 0));
  if (dtype === 'int32') return v.map(Math.trunc);
  for (let i = 0; i < specials.length && i < n; i++) v[i * 3] = specials[i]!;
  return v;
}

/** The fast kernel (recording whether it handed over) and the JavaScript kernel on the same views. */
function both(s: ElementwiseSpec, make: (b: CpuBackend) => { out: View; inputs: View[] }, params: number[] = []): { got: number[]; want: number[]; handedOver: boolean } {
  let handedOver = false;
  const ref = js.compileElementwise(s);
  const k = memcpyElementwise(s, (o, i, p) => {
    handedOver = true;
    ref(o, i, p);
  });
  expect(k, 'a copy or fill').not.toBeNull();
  const w = make(be);
  k!(w.out, w.inputs, params);
  const r = make(js);
  ref(r.out, r.inputs, params);
  return { got: raw(w.out), want: raw(r.out), handedOver };
}

const same = (a: number[], b: number[]): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

describe('copies as TypedArray.set', () => {
  const pairs: [DType, DType][] = [...DTYPES.map((d): [DType, DType] => [d, d]), ['float32', 'float64'], ['float64', 'float32']];
  for (const [from, to] of pairs) {
    it(`${from} → ${to}: dense, offset, transposed (both), in place, sizes around the threshold`, () => {
      const s = spec('copy', inp(0), [from], to);
      for (const n of [255, 256, 257, 1000, 4097]) {
        const xs = data(from, n, n);
        const r = both(s, (b) => ({ out: empty(b, to, [n]), inputs: [viewOf(storageWith(b, from, [0, 0, 0, ...xs]), [n], [1], 3)] }));
        expect(same(r.got, r.want), `${n}`).toBe(true);
        expect(r.handedOver, `${n}: fast path`).toBe(n < 256);
      }
      const shape = [30, 41];
      const xs = data(from, 30 * 41, 3);
      const t = both(s, (b) => ({ out: permuted(b, to, shape, new Array(30 * 41).fill(0), [1, 0], 2), inputs: [permuted(b, from, shape, xs, [1, 0])] }));
      expect(same(t.got, t.want)).toBe(true);
      expect(t.handedOver).toBe(false);
      // Output transposed, input not: rows are gathers, the JavaScript kernel runs.
      const g = both(s, (b) => ({ out: permuted(b, to, shape, new Array(30 * 41).fill(0), [1, 0], 2), inputs: [permuted(b, from, shape, xs, [0, 1])] }));
      expect(same(g.got, g.want)).toBe(true);
      expect(g.handedOver).toBe(true);
      if (from === to) {
        const p = both(s, (b) => {
          const v = viewOf(storageWith(b, from, xs), shape);
          return { out: v, inputs: [v] };
        });
        expect(same(p.got, p.want)).toBe(true);
      }
    });
  }

  it('conversions that set would get wrong stay with the kernel compiler', () => {
    const miss = (): void => {
      throw new Error('unused');
    };
    expect(memcpyElementwise(spec('copy', inp(0), ['float32'], 'bool'), miss)).toBeNull();
    expect(memcpyElementwise(spec('copy', inp(0), ['float64'], 'int32'), miss)).toBeNull();
    expect(memcpyElementwise(spec('copy', inp(0), ['int32'], 'float32'), miss)).toBeNull();
    expect(memcpyElementwise(spec('neg', { op: 'neg', a: inp(0) } as never, ['float32'], 'float32'), miss)).toBeNull();
  });

  it('empty tensors', () => {
    const s = spec('copy', inp(0), ['float32'], 'float32');
    const r = both(s, (b) => ({ out: empty(b, 'float32', [0, 5]), inputs: [viewOf(storageWith(b, 'float32', []), [0, 5])] }));
    expect(r.got).toEqual(r.want);
  });
});

describe('fills as TypedArray.fill', () => {
  for (const dtype of DTYPES) {
    it(`${dtype}: parameter and constant values, dense, offset, transposed, strided (fallback)`, () => {
      for (const v of [1, 0, -0, 0.5, -2.7, 2.7, NaN, Infinity, -Infinity, 2 ** 31 + 5, 1e-40]) {
        const s = spec('fill', par(0), [], dtype, 1);
        const r = both(s, (b) => ({ out: viewOf(storageWith(b, dtype, new Array<number>(1010).fill(7)), [1000], [1], 5), inputs: [] }), [v]);
        expect(same(r.got, r.want), `${dtype} fill ${v}`).toBe(true);
        expect(r.handedOver).toBe(false);
        const c = both(spec('full', cst(v), [], dtype), (b) => ({ out: permuted(b, dtype, [20, 30], new Array(600).fill(3), [1, 0]), inputs: [] }));
        expect(same(c.got, c.want), `${dtype} const ${v}`).toBe(true);
      }
      const st = both(spec('fill', par(0), [], dtype, 1), (b) => ({ out: viewOf(storageWith(b, dtype, new Array<number>(2000).fill(7)), [1000], [2]), inputs: [] }), [1]);
      expect(same(st.got, st.want)).toBe(true);
      expect(st.handedOver).toBe(true);
    });
  }
});

describe('the backend uses it', () => {
  it('clone of a large float32 tensor is a copy through set (the same values)', () => {
    const xs = data('float32', 5000, 9);
    const s = spec('copy', inp(0), ['float32'], 'float32');
    const k: ElementwiseKernel = be.compileElementwise(s);
    const x = viewOf(storageWith(be, 'float32', xs), [5000]);
    const o = empty(be, 'float32', [5000]);
    k(o, [x], []);
    expect(values(o)).toEqual(values(x));
  });
});
