/**
 * The generated loop's unrolling: a module holds up to `UNROLL` interleaved vector bodies plus the
 * tail's, fewer for large expressions so that a module stays small enough for a browser's
 * synchronous compile (4 KiB in older Chromes), and every unroll computes what the JavaScript
 * kernel does at sizes around its group and vector edges.
 */
import type { Expr } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../backend.js';
import { CpuStorage } from '../storage.js';
import { bin, cst, inp, rng, spec, un } from '../test-utils/views.js';
import { emitElementwise, UNROLL, unrollFor, wasmPlan } from './elementwise-kernel.js';
import { ModuleBuilder } from './emitter.js';

/** k nested transcendentals over x and y: bodies from a few hundred bytes to several KiB. */
function chain(k: number): Expr {
  let e: Expr = inp(0);
  for (let j = 0; j < k; j++) e = bin('add', un(j % 2 === 0 ? 'tanh' : 'sigmoid', bin('mul', e, cst(0.75))), bin('mul', inp(1), cst(0.5)));
  return e;
}

describe('elementwise kernels: unrolling', () => {
  it('picks the largest unroll whose bodies fit the budget', () => {
    expect(unrollFor(100)).toBe(UNROLL);
    expect(unrollFor(700)).toBe(2);
    expect(unrollFor(2000)).toBe(1);
  });

  const js = new CpuBackend({ wasm: false });
  const seen = new Set<number>();
  for (const k of [1, 2, 3, 4, 8]) {
    it(`${k} transcendentals: module size and values at every group edge, float32 and float64`, () => {
      for (const dtype of ['float32', 'float64'] as const) {
        // float64 has no SIMD transcendentals: the same shape of expression with abs and neg.
        const e = dtype === 'float32' ? chain(k) : JSON.parse(JSON.stringify(chain(k)).replace(/"tanh"/g, '"abs"').replace(/"sigmoid"/g, '"neg"')) as Expr;
        const s = spec(`chain${k}`, e, [dtype, dtype], dtype, 0, dtype);
        const plan = wasmPlan(s)!;
        const mod = new ModuleBuilder({ initial: 1 });
        const unroll = emitElementwise(mod, s, plan);
        seen.add(unroll);
        const bytes = mod.encode();
        if (unroll > 1) expect(bytes.length, `unroll ${unroll}`).toBeLessThanOrEqual(4096);
        const memory = new WebAssembly.Memory({ initial: 2 });
        const run = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), { env: { memory } }).exports.run as (...a: number[]) => void;
        const es = dtype === 'float32' ? 4 : 8;
        const lanes = 16 / es;
        const r = rng(k);
        for (const n of [1, lanes, lanes + 1, lanes * unroll - 1, lanes * unroll, lanes * unroll + 1, lanes * (2 * unroll + 1) + 1, 257]) {
          const xs = Array.from({ length: n }, () => 6 * r() - 3);
          const ys = Array.from({ length: n }, () => 6 * r() - 3);
          const T = dtype === 'float32' ? Float32Array : Float64Array;
          const padded = Math.ceil(n / lanes) * lanes;
          new T(memory.buffer, 4096, n).set(xs);
          new T(memory.buffer, 8192, n).set(ys);
          // A sentinel just past the padded output: the kernel must stop at whole vectors.
          new T(memory.buffer, 0, padded + lanes).fill(-7);
          run(n, 0, 4096, 8192, 16, 16);
          const got = new T(memory.buffer, 0, padded + lanes);
          const view = (data: Float32Array | Float64Array) => ({ storage: new CpuStorage(dtype, n, data), dtype, shape: [n], strides: [1], offset: 0 });
          const want = new T(n);
          js.compileElementwise(s)(view(want), [view(T.from(xs)), view(T.from(ys))], []);
          for (let i = 0; i < n; i++) expect(Math.abs(got[i]! - want[i]!), `${dtype} n=${n} [${i}]`).toBeLessThanOrEqual(dtype === 'float32' ? 2e-6 * (1 + Math.abs(want[i]!)) : 1e-15 * (1 + Math.abs(want[i]!)));
          expect(got[padded + lanes - 1], `${dtype} n=${n}: past the last vector`).toBe(-7);
        }
      }
    });
  }

  it('covered every unroll', () => {
    expect([...seen].sort()).toEqual([1, 2, UNROLL]);
  });
});
