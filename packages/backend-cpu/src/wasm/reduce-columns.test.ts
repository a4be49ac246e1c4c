/**
 * Reductions over leading axes of an input in the wasm heap fold whole contiguous rows into a
 * float64 accumulator in SIMD (`RowFolds.columns`: a bias's gradient). They must give the
 * JavaScript kernel's bits (the same float64 additions in the same order), on a one- and a
 * two-thread backend, NaN/±Inf/-0 included, for every row length around the vector width.
 */
import type { DType, View } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import type { CpuBackend } from '../backend.js';
import { MIN_COLUMN_ROW } from '../kernels/reduce.js';
import { wasmTestBackends } from '../test-utils/backends.js';
import { empty, randoms, storageWith, values, viewOf } from '../test-utils/views.js';

const { js, one, two } = await wasmTestBackends();
const OPS = ['sum', 'max', 'min'] as const;
type Op = (typeof OPS)[number];

function withSpecials(n: number, seed: number, dtype: DType): number[] {
  const v = randoms(n, seed, -9, 9);
  const specials = [NaN, Infinity, -Infinity, 0, -0, 100, -100];
  for (let i = 0; i < specials.length && i < n; i++) v[(i * 7919 + seed) % n] = specials[i]!;
  return dtype === 'float32' ? v.map(Math.fround) : v;
}

function reduceOn(be: CpuBackend, op: Op, dtype: DType, vals: number[], shape: number[], axes: number[], offset = 0): number[] {
  const x: View = viewOf(storageWith(be, dtype, vals), shape, undefined, offset);
  const out = empty(be, dtype, shape.map((n, d) => (axes.includes(d) ? 1 : n)));
  be.kernels[op](out, x, axes);
  return values(out);
}

function expectSameBits(got: number[], want: number[], what: string): void {
  expect(got.length, what).toBe(want.length);
  let bad = '';
  for (let i = 0; i < want.length && bad === ''; i++) if (!Object.is(got[i], want[i])) bad = `[${i}]: got ${got[i]}, want ${want[i]}`;
  expect(bad, what).toBe('');
}

/** The input must be large enough to live in the heap (16 KiB), else the JavaScript fold runs. */
function inHeap(be: CpuBackend, dtype: DType, n: number): boolean {
  const s = storageWith(be, dtype, [0], n);
  const r = be.wasm!.heap.ptrOf(s.data) >= 0;
  be.release(s);
  return r;
}

describe('reductions over leading axes: whole rows into the accumulator in SIMD', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const op of OPS) {
      it(`${op} ${dtype}: the JavaScript kernel's bits for kept rows around the vector edges`, () => {
        for (const len of [MIN_COLUMN_ROW - 1, MIN_COLUMN_ROW, MIN_COLUMN_ROW + 1, MIN_COLUMN_ROW + 2, MIN_COLUMN_ROW + 3, 130, 256, 1001]) {
          const rows = Math.ceil(5000 / len) + 3;
          const vals = withSpecials(rows * len + 5, len, dtype);
          expect(inHeap(one, dtype, vals.length), 'input in the heap').toBe(true);
          const want = reduceOn(js, op, dtype, vals, [rows, len], [0]);
          for (const [be, name] of [[one, '1t'], [two, '2t']] as const) {
            expectSameBits(reduceOn(be, op, dtype, vals, [rows, len], [0]), want, `${name} [${rows}, ${len}] over 0`);
            expectSameBits(reduceOn(be, op, dtype, vals, [rows, len], [0], 5), reduceOn(js, op, dtype, vals, [rows, len], [0], 5), `${name} offset 5`);
            // Two leading axes collapsed into one walk, and a middle axis kept (rows of `len` still contiguous).
            expectSameBits(reduceOn(be, op, dtype, vals, [rows, 1, len], [0, 1]), reduceOn(js, op, dtype, vals, [rows, 1, len], [0, 1]), `${name} over 0, 1`);
          }
        }
      });
    }
  }

  it('rows apart by more than their length (a slice), and one row repeated (stride 0), in one call', () => {
    const len = 300;
    const vals = withSpecials(40 * (len + 3), 11, 'float32');
    for (const op of OPS) {
      for (const strides of [[len + 3, 1], [0, 1]]) {
        const on = (be: CpuBackend): number[] => {
          const x = viewOf(storageWith(be, 'float32', vals), [40, len], strides);
          const out = empty(be, 'float32', [1, len]);
          be.kernels[op](out, x, [0]);
          return values(out);
        };
        expectSameBits(on(one), on(js), `${op} strides [${strides.join(', ')}]`);
      }
    }
  });

  it('a [3, 4, 130] input reduced over its middle axis (each output row folds its own rows)', () => {
    const vals = withSpecials(3 * 40 * 130, 9, 'float32');
    for (const op of OPS) expectSameBits(reduceOn(one, op, 'float32', vals, [3, 40, 130], [1]), reduceOn(js, op, 'float32', vals, [3, 40, 130], [1]), op);
  });
});
