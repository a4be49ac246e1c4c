/**
 * The SIMD float32 transcendentals against Math.* (evaluated in float64, rounded to float32):
 * ulp error over the whole range, including tails, denormal inputs and results, ±0, ±Inf, NaN.
 */
import type { ElementwiseKernel, ElementwiseSpec } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../backend.js';
import { CpuStorage } from '../storage.js';
import { ulp } from '../test-utils/ulp.js';
import { inp, rng, spec, un } from '../test-utils/views.js';
import { wasmElementwise } from './elementwise.js';
import { WasmRuntime } from './runtime.js';

const rt = WasmRuntime.create()!;
const mustNotRun: ElementwiseKernel = () => {
  throw new Error('the JavaScript fallback ran: the wasm path should have taken this');
};

function runWasm(s: ElementwiseSpec, xs: readonly number[]): Float32Array {
  const n = xs.length;
  const x = new CpuStorage('float32', n, Float32Array.from(xs));
  const o = new CpuStorage('float32', n, new Float32Array(n));
  const k = wasmElementwise(rt, s, mustNotRun);
  k({ storage: o, dtype: 'float32', shape: [n], strides: [1], offset: 0 }, [{ storage: x, dtype: 'float32', shape: [n], strides: [1], offset: 0 }], []);
  return o.data as Float32Array;
}

const DENORMALS = [1e-45, -1e-45, 1.4e-45, 1e-40, -1e-40, 1.1754942e-38, -1.1754942e-38, 5e-39];
const SPECIALS = [0, -0, Infinity, -Infinity, NaN, 1, -1, 0.5, -0.5, 2, 1e-30, -1e-30, 3.4028234e38, -3.4028234e38, ...DENORMALS];

function uniform(n: number, lo: number, hi: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.fround(lo + (hi - lo) * r()));
}

/** Positive floats spread over every binade (mantissa and exponent random), denormals included. */
function everyBinade(n: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.fround((1 + r()) * 2 ** Math.floor(-149 + 277 * r())));
}

const sigmoidRef = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

const CASES: { op: string; ref: (x: number) => number; inputs: number[]; maxUlp: number }[] = [
  {
    op: 'exp',
    ref: Math.exp,
    inputs: [...SPECIALS, ...uniform(20000, -110, 95, 1), ...uniform(4000, -1, 1, 2), ...uniform(2000, -104, -87, 3), 88.72, 88.73, 88.7228, -103.97, -103.28, -87.33],
    maxUlp: 2,
  },
  {
    op: 'log',
    ref: Math.log,
    inputs: [...SPECIALS, ...everyBinade(20000, 4), ...uniform(4000, 0.5, 2, 5), ...uniform(1000, -10, 0, 6), 1 + 2 ** -23, 1 - 2 ** -24, 0.70710677, 0.7071068],
    maxUlp: 2,
  },
  {
    op: 'tanh',
    ref: Math.tanh,
    inputs: [...SPECIALS, ...uniform(20000, -12, 12, 7), ...uniform(4000, -0.7, 0.7, 8), 0.625, -0.625, 0.62499994, 9, 9.1, -9.1, 100],
    maxUlp: 2,
  },
  {
    op: 'sigmoid',
    ref: sigmoidRef,
    inputs: [...SPECIALS, ...uniform(20000, -120, 120, 9), ...uniform(4000, -4, 4, 10), 88.7, -88.7, -103.5, -104.5, 17, -17],
    maxUlp: 2,
  },
];

describe('float32 SIMD transcendentals', () => {
  for (const c of CASES) {
    it(`${c.op} is within ${c.maxUlp} ulp of Math over the float32 range, with IEEE edges`, () => {
      const s = spec(c.op, un(c.op, inp(0)), ['float32'], 'float32', 0, 'float32');
      const got = runWasm(s, c.inputs);
      let worst = 0;
      let worstAt = NaN;
      for (let i = 0; i < c.inputs.length; i++) {
        const x = Math.fround(c.inputs[i]!);
        const want = Math.fround(c.ref(x));
        const e = ulp(got[i]!, want);
        if (e > worst) {
          worst = e;
          worstAt = x;
        }
      }
      expect(worst, `worst at x = ${worstAt}: got ${got[c.inputs.indexOf(worstAt)]}, want ${Math.fround(c.ref(worstAt))}`).toBeLessThanOrEqual(c.maxUlp);
    });
  }

  // Every 4099th float32 bit pattern (a prime stride, so every exponent and sign and a spread of
  // mantissas): ~1M inputs per function over the whole range, saturation regions, denormals, both
  // infinities and NaNs included. A NaN where Math gives a number counts as an infinite error.
  for (const c of CASES) {
    it(`${c.op}: within ${c.maxUlp} ulp over a sweep of every float32 bit pattern, no NaN where Math gives a number`, () => {
      const STRIDE = 4099;
      const bits = new Uint32Array(Math.ceil(2 ** 32 / STRIDE));
      for (let i = 0; i < bits.length; i++) bits[i] = i * STRIDE;
      const xs = Array.from(new Float32Array(bits.buffer));
      const got = runWasm(spec(c.op, un(c.op, inp(0)), ['float32'], 'float32', 0, 'float32'), xs);
      let worst = 0;
      let worstAt = 0;
      for (let i = 0; i < xs.length; i++) {
        const e = ulp(got[i]!, Math.fround(c.ref(xs[i]!)));
        if (e > worst) {
          worst = e;
          worstAt = i;
        }
      }
      expect(worst, `worst at x = ${xs[worstAt]}: got ${got[worstAt]}, want ${Math.fround(c.ref(xs[worstAt]!))}`).toBeLessThanOrEqual(c.maxUlp);
    });
  }

  it('keeps the edges exact: NaN, ±Inf, ±0 and domain errors', () => {
    const at = (op: string, xs: number[]): number[] => Array.from(runWasm(spec(op, un(op, inp(0)), ['float32'], 'float32', 0, 'float32'), [...xs, ...new Array(300).fill(0)]).subarray(0, xs.length));
    expect(at('exp', [NaN, Infinity, -Infinity, 0, -0, 100, -200])).toEqual([NaN, Infinity, 0, 1, 1, Infinity, 0]);
    expect(at('log', [NaN, Infinity, -Infinity, 0, -0, -1, 1])).toEqual([NaN, Infinity, NaN, -Infinity, -Infinity, NaN, 0]);
    expect(at('tanh', [NaN, Infinity, -Infinity, 0, -0, 50, -50])).toEqual([NaN, 1, -1, 0, -0, 1, -1]);
    expect(at('sigmoid', [NaN, Infinity, -Infinity, 0, -0, 200, -200])).toEqual([NaN, 1, 0, 0.5, 0.5, 1, 0]);
  });

  it('matches the JavaScript kernels of a backend with wasm off (the reference)', () => {
    const js = new CpuBackend({ wasm: false });
    const xs = [...SPECIALS, ...uniform(3000, -30, 30, 11)];
    for (const op of ['exp', 'log', 'tanh', 'sigmoid']) {
      const s = spec(op, un(op, inp(0)), ['float32'], 'float32', 0, 'float32');
      const got = runWasm(s, xs);
      const x = new CpuStorage('float32', xs.length, Float32Array.from(xs));
      const o = new CpuStorage('float32', xs.length, new Float32Array(xs.length));
      js.compileElementwise(s)({ storage: o, dtype: 'float32', shape: [xs.length], strides: [1], offset: 0 }, [{ storage: x, dtype: 'float32', shape: [xs.length], strides: [1], offset: 0 }], []);
      for (let i = 0; i < xs.length; i++) expect(ulp(got[i]!, o.data[i]!), `${op}(${xs[i]})`).toBeLessThanOrEqual(3);
    }
  });
});
