/**
 * WebAssembly float32 softmax / logSoftmax rows against the JavaScript kernel (a backend with
 * `wasm: false`, float64 arithmetic): row lengths around the vector width and `MIN_SOFTMAX_ROW`,
 * several rows, the last dim and other dims (strided rows keep JavaScript), offsets, in place,
 * NaN / ±Inf / all -Inf rows, large magnitudes; float64 stays in JavaScript (identical bits).
 */
import type { DType, View } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../backend.js';
import { empty, randoms, storageWith, values, viewOf } from '../test-utils/views.js';
import { ulp } from '../test-utils/ulp.js';
import { MIN_SOFTMAX_ROW } from './softmax.js';

const wasm = new CpuBackend();
const js = new CpuBackend({ wasm: false });
const LENGTHS = [1, 4, 5, MIN_SOFTMAX_ROW - 1, MIN_SOFTMAX_ROW, MIN_SOFTMAX_ROW + 1, MIN_SOFTMAX_ROW + 3, 100, 1000, 4099];

function run(be: CpuBackend, op: 'softmax' | 'logSoftmax', dtype: DType, shape: number[], dim: number, xs: number[], offset = 0, inPlace = false): number[] {
  const n = shape.reduce((a, b) => a * b, 1);
  const x = viewOf(storageWith(be, dtype, [...new Array<number>(offset).fill(9), ...xs]), shape, undefined, offset);
  const out: View = inPlace ? x : empty(be, dtype, shape);
  be.kernels[op](out, x, dim);
  expect(values(out).length).toBe(n);
  return values(out);
}

/** Within `maxUlp` float32 ulps of the JavaScript result (a few float32 roundings instead of one), or the same NaN / Inf. */
function expectNear(got: number[], want: number[], maxUlp: number, what: string): void {
  let bad = '';
  for (let i = 0; i < want.length && bad === ''; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w))) continue;
    if (!Number.isFinite(w) || !Number.isFinite(g) || ulp(g, w) > maxUlp) bad = `[${i}]: got ${g}, want ${w}`;
  }
  expect(bad, what).toBe('');
}

function withSpecials(n: number, seed: number, scale: number): number[] {
  return randoms(n, seed, -scale, scale).map(Math.fround);
}

describe('float32 softmax / logSoftmax in WebAssembly', () => {
  for (const op of ['softmax', 'logSoftmax'] as const) {
    it(`${op}: rows of every length around the vector width and the threshold, offset and in place`, () => {
      for (const len of LENGTHS) {
        const shape = [3, len];
        const xs = withSpecials(3 * len, len, 8);
        const want = run(js, op, 'float32', shape, 1, xs);
        // softmax: e^{x-m} and the division round in float32; logSoftmax: two float32 subtractions.
        const tol = op === 'softmax' ? 3 : 1;
        expectNear(run(wasm, op, 'float32', shape, 1, xs), want, tol, `${op} len ${len}`);
        expectNear(run(wasm, op, 'float32', shape, 1, xs, 5), want, tol, `${op} len ${len} offset`);
        expectNear(run(wasm, op, 'float32', shape, 1, xs, 3, true), want, tol, `${op} len ${len} in place`);
      }
    });

    it(`${op}: along a leading dim (strided rows) the JavaScript kernel runs, bit for bit`, () => {
      const shape = [200, 3];
      const xs = withSpecials(600, 7, 5);
      expect(run(wasm, op, 'float32', shape, 0, xs)).toEqual(run(js, op, 'float32', shape, 0, xs));
    });

    it(`${op}: NaN, ±Inf, all -Inf rows and large magnitudes`, () => {
      const len = 67;
      const rows: number[][] = [
        withSpecials(len, 1, 3).map((v, i) => (i === 40 ? NaN : v)),
        withSpecials(len, 2, 3).map((v, i) => (i === 3 ? Infinity : v)),
        withSpecials(len, 3, 3).map((v, i) => (i === 66 ? -Infinity : v)),
        new Array<number>(len).fill(-Infinity),
        withSpecials(len, 4, 80).map((v) => v + 1000),
        withSpecials(len, 5, 1e-3),
        new Array<number>(len).fill(0),
      ];
      const xs = rows.flat();
      const shape = [rows.length, len];
      const want = run(js, op, 'float32', shape, 1, xs);
      expectNear(run(wasm, op, 'float32', shape, 1, xs), want, op === 'softmax' ? 3 : 1, op);
    });

    it(`${op}: float64 keeps the JavaScript kernel (the same bits)`, () => {
      const shape = [4, 300];
      const xs = randoms(1200, 11, -20, 20);
      expect(run(wasm, op, 'float64', shape, 1, xs)).toEqual(run(js, op, 'float64', shape, 1, xs));
    });
  }
});
