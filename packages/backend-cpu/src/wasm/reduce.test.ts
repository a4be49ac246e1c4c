/**
 * The WebAssembly row folds of sum/max/min against the JavaScript kernels (the reference, a
 * backend with `wasm: false`): every dtype (int32 and bool keep the JavaScript fold and must
 * agree exactly), row lengths around the vector width, `MIN_FOLD_ROW` and `FOLD_CHUNK`, offset
 * and strided inputs, broadcast (stride-0) inputs, reductions over the last, leading and all axes,
 * empty tensors, and NaN, ±Infinity and -0.
 */
import type { DType, View } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../backend.js';
import { empty, randInts, randoms, storageWith, values, viewOf } from '../test-utils/views.js';
import { FOLD_CHUNK, MIN_FOLD_ROW } from './reduce.js';

const wasm = new CpuBackend();
const js = new CpuBackend({ wasm: false });
const OPS = ['sum', 'max', 'min'] as const;
type Op = (typeof OPS)[number];

const LENGTHS = [1, 3, 4, 5, 7, 8, 9, MIN_FOLD_ROW - 1, MIN_FOLD_ROW, MIN_FOLD_ROW + 1, MIN_FOLD_ROW + 3, 1000, FOLD_CHUNK - 1, FOLD_CHUNK, FOLD_CHUNK + 1, 2 * FOLD_CHUNK + 5];

function data(dtype: DType, n: number, seed: number): number[] {
  if (dtype === 'bool') return randInts(n, seed, 0, 2);
  if (dtype === 'int32') return randInts(n, seed, -50, 50);
  return randoms(n, seed, -10, 10);
}

/** Runs `op` on both backends over the same input layout and compares. */
function check(op: Op, dtype: DType, make: (be: CpuBackend) => View, axes: readonly number[], what: string): void {
  const xw = make(wasm);
  const xj = make(js);
  const oshape = xw.shape.map((n, d) => (axes.includes(d) ? 1 : n));
  const outDtype = op === 'sum' && (dtype === 'bool' || dtype === 'int32') ? 'int32' : dtype;
  const ow = empty(wasm, outDtype, oshape);
  const oj = empty(js, outDtype, oshape);
  wasm.kernels[op](ow, xw, axes);
  js.kernels[op](oj, xj, axes);
  const got = values(ow);
  const want = values(oj);
  expect(got.length, what).toBe(want.length);
  // Sums fold in another order (four float64 lanes): float64 within a few ulps of the row's
  // magnitude, float32 rounds to the same value but for a rare last-bit tie.
  const n = axes.reduce((a, d) => a * xw.shape[d]!, 1);
  const tol = op !== 'sum' || outDtype === 'int32' || outDtype === 'bool' ? 0 : dtype === 'float64' ? 1e-15 * 10 * n : 1.2e-7 * 10;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Object.is(g, w)) continue;
    if (tol > 0 && Math.abs(g - w) <= tol * Math.max(1, Math.abs(w))) continue;
    expect(g, `${what} [${i}]`).toBe(w);
  }
}

function contiguous(dtype: DType, shape: number[], seed: number, offset = 0): (be: CpuBackend) => View {
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = data(dtype, n + offset, seed);
  return (be) => viewOf(storageWith(be, dtype, vals), shape, undefined, offset);
}

describe('wasm row folds: sum / max / min against the JavaScript kernels', () => {
  for (const dtype of ['float32', 'float64', 'int32', 'bool'] as const) {
    for (const op of OPS) {
      it(`${op} ${dtype}: last axis, every row length around the block edges, offset rows`, () => {
        for (const len of LENGTHS) {
          check(op, dtype, contiguous(dtype, [3, len], len), [1], `[3, ${len}] over 1`);
          check(op, dtype, contiguous(dtype, [2, len], len + 7, 3), [1], `[2, ${len}] offset 3 over 1`);
          check(op, dtype, contiguous(dtype, [len], len + 1), [0], `[${len}] over 0`);
        }
      });
    }
  }

  for (const dtype of ['float32', 'float64'] as const) {
    for (const op of OPS) {
      it(`${op} ${dtype}: leading and all axes, transposed and broadcast inputs, empty tensors`, () => {
        check(op, dtype, contiguous(dtype, [70, 130], 1), [0], '[70, 130] over 0');
        check(op, dtype, contiguous(dtype, [4, 5, 130], 2), [0, 2], '[4, 5, 130] over 0, 2');
        check(op, dtype, contiguous(dtype, [4, 5, 130], 3), [0, 1, 2], '[4, 5, 130] over all');
        check(op, dtype, contiguous(dtype, [4, 70, 130], 4), [1, 2], '[4, 70, 130] over 1, 2 (collapsed rows)');
        // Transposed: the reduced dim is strided, so the JavaScript fold runs.
        const vals = data(dtype, 130 * 70, 5);
        check(op, dtype, (be) => viewOf(storageWith(be, dtype, vals), [70, 130], [1, 70]), [1], '[70, 130] transposed over 1');
        // Every other element of a row.
        check(op, dtype, (be) => viewOf(storageWith(be, dtype, data(dtype, 2 * 3 * 200, 6)), [3, 200], [400, 2]), [1], 'step-2 rows');
        // A row broadcast along the reduced dim (stride 0).
        check(op, dtype, (be) => viewOf(storageWith(be, dtype, data(dtype, 3, 7)), [3, 500], [1, 0]), [1], 'broadcast rows');
        if (op === 'sum') check(op, dtype, contiguous(dtype, [0, 100], 8), [1], 'empty');
        check(op, dtype, contiguous(dtype, [3, 0], 8), [0], 'empty kept dim');
      });
    }

    it(`${dtype}: NaN, ±Infinity and -0 anywhere in a long row`, () => {
      const len = 300;
      for (const [name, v] of [['NaN', NaN], ['+inf', Infinity], ['-inf', -Infinity], ['-0', -0]] as const) {
        for (const pos of [0, 1, 3, 4, 255, 256, 299]) {
          const vals = dtype === 'float32' ? randoms(len, pos).map(Math.fround) : randoms(len, pos);
          if (name === '-0') vals.fill(0);
          vals[pos] = v;
          for (const op of OPS) check(op, dtype, (be) => viewOf(storageWith(be, dtype, vals), [len]), [0], `${op} with ${name} at ${pos}`);
        }
      }
    });
  }

  it('float32 sums accumulate in float64 (2^24 + ones stays exact)', () => {
    const vals = new Array<number>(1000).fill(1);
    vals[0] = 2 ** 24;
    const x = viewOf(storageWith(wasm, 'float64', vals), [1000]);
    const out = empty(wasm, 'float64', [1]);
    wasm.kernels.sum(out, x, [0]);
    expect(values(out)[0]).toBe(2 ** 24 + 999);
    const x32 = viewOf(storageWith(wasm, 'float32', vals), [1000]);
    const out32 = empty(wasm, 'float32', [1]);
    wasm.kernels.sum(out32, x32, [0]);
    expect(values(out32)[0]).toBe(Math.fround(2 ** 24 + 999));
  });
});
