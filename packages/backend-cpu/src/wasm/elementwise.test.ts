/**
 * Generated WebAssembly elementwise kernels against the JavaScript kernels (the reference): every
 * op with a SIMD form, float32 and float64, bool inputs, parameters, dense / broadcast /
 * transposed / in-place / strided geometries, empty tensors and sizes around every vector, chunk
 * and threshold edge.
 */
import type { DType, ElementwiseKernel, ElementwiseSpec, Expr, View } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../backend.js';
import { bin, cst, dense, empty, inp, numel, par, permuted, randoms, spec, un, values, viewOf, where, storageWith } from '../test-utils/views.js';
import { CHUNK, MIN_NUMEL, wasmElementwise } from './elementwise.js';
import { wasmPlan } from './elementwise-kernel.js';
import { WasmRuntime } from './runtime.js';
import { ulp } from '../test-utils/ulp.js';

const js = new CpuBackend({ wasm: false });
const be = new CpuBackend();
const rt = WasmRuntime.create()!;

/** The wasm kernel with a fallback that records whether it ran. */
function kernel(s: ElementwiseSpec): { k: ElementwiseKernel; fellBack: () => boolean } {
  let fell = false;
  const ref = js.compileElementwise(s);
  const k = wasmElementwise(rt, s, (out, inputs, params) => {
    fell = true;
    ref(out, inputs, params);
  });
  return { k, fellBack: () => fell };
}

const SPECIALS = [0, -0, 0.5, -0.5, 1.5, 2.5, -2.5, 1, -1, 3.7, -3.7, 1e-8, 100, -100, Infinity, -Infinity, NaN];

function mixed(n: number, seed: number): number[] {
  const r = randoms(n, seed, -4, 4);
  for (let i = 0; i < n; i += 7) r[i] = SPECIALS[(i / 7) % SPECIALS.length]!;
  return r;
}

/** Runs `s` on both backends over the same inputs; returns [wasm, js] outputs as arrays. */
function both(s: ElementwiseSpec, make: (b: CpuBackend) => { out: View; inputs: View[] }, params: number[] = []): { got: number[]; want: number[]; fellBack: boolean } {
  const { k, fellBack } = kernel(s);
  const w = make(be);
  k(w.out, w.inputs, params);
  const r = make(js);
  js.compileElementwise(s)(r.out, r.inputs, params);
  return { got: values(w.out), want: values(r.out), fellBack: fellBack() };
}

/**
 * float32: within `maxUlp`, or, for composite expressions (`tol` given), within tol·(1 + |want|):
 * float32 rounds every node where the float64 reference rounds once, and cancellation magnifies
 * that in ulps of a small result.
 */
function expectClose(got: number[], want: number[], dtype: DType, maxUlp: number, what: string, tol?: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Object.is(g, w)) continue;
    if (dtype === 'float32' && tol !== undefined && Number.isFinite(w)) {
      expect(Math.abs(g - w), `${what}[${i}]: ${g} vs ${w}`).toBeLessThanOrEqual(tol * (1 + Math.abs(w)));
    } else if (dtype === 'float32') {
      expect(ulp(g, w), `${what}[${i}]: ${g} vs ${w}`).toBeLessThanOrEqual(maxUlp);
    } else {
      expect(g, `${what}[${i}]`).toBe(w);
    }
  }
}

const UNARY = ['neg', 'abs', 'sqrt', 'rsqrt', 'reciprocal', 'square', 'floor', 'ceil', 'round', 'trunc', 'relu', 'sign', 'not', 'isnan'];
const TRANSCENDENTAL = ['exp', 'log', 'tanh', 'sigmoid'];
const BINARY = ['add', 'sub', 'mul', 'div', 'max', 'min', 'lt', 'le', 'gt', 'ge', 'eq', 'ne', 'and', 'or'];

describe('wasm elementwise kernels vs the JavaScript reference', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const n of [MIN_NUMEL, MIN_NUMEL + 1, 1023, CHUNK - 1, CHUNK, CHUNK + 3, 2 * CHUNK + 5]) {
      it(`${dtype}: every unary op with a SIMD form, ${n} elements (bit-exact for IEEE ops)`, () => {
        const xs = mixed(n, n);
        for (const op of [...UNARY, ...(dtype === 'float32' ? TRANSCENDENTAL : [])]) {
          const s = spec(op, un(op, inp(0)), [dtype], dtype, 0, dtype);
          const { got, want, fellBack } = both(s, (b) => ({ out: empty(b, dtype, [n]), inputs: [dense(b, dtype, [n], xs)] }));
          expect(fellBack, op).toBe(false);
          // rsqrt rounds twice in float32 (sqrt, then divide); the reference once.
          expectClose(got, want, dtype, TRANSCENDENTAL.includes(op) ? 2 : op === 'rsqrt' ? 1 : 0, op);
        }
      });
    }
    it(`${dtype}: every binary op, dense and with a broadcast scalar on either side`, () => {
      const n = 1000;
      const a = mixed(n, 1);
      const b = mixed(n, 2).reverse();
      for (const op of BINARY) {
        const s = spec(op, bin(op, inp(0), inp(1)), [dtype, dtype], dtype, 0, dtype);
        for (const [sa, sb] of [[[1], [1]], [[0], [1]], [[1], [0]]] as const) {
          const { got, want, fellBack } = both(s, (bk) => ({
            out: empty(bk, dtype, [n]),
            inputs: [viewOf(storageWith(bk, dtype, a), [n], [...sa]), viewOf(storageWith(bk, dtype, b), [n], [...sb])],
          }));
          expect(fellBack).toBe(false);
          expectClose(got, want, dtype, 0, `${op} strides ${sa},${sb}`);
        }
      }
    });
    it(`${dtype}: a fused DAG with params, constants, shared nodes and where`, () => {
      const x = inp(0);
      const s1 = un('sqrt', un('abs', x));
      // where(x > p0, x·p1 + sqrt|x|, sqrt|x| - 2) · relu(x)
      const e: Expr = bin('mul', where(bin('gt', x, par(0)), bin('add', bin('mul', x, par(1)), s1), bin('sub', s1, cst(2))), un('relu', x));
      const s = spec('dag', e, [dtype], dtype, 2, dtype);
      const xs = mixed(5000, 3);
      const { got, want, fellBack } = both(s, (b) => ({ out: empty(b, dtype, [50, 100]), inputs: [dense(b, dtype, [50, 100], xs)] }), [0.25, -1.5]);
      expect(fellBack).toBe(false);
      // Two roundings in float32 vs one in the float64 reference.
      expectClose(got, want, dtype, 0, 'dag', 1e-6);
    });
    it(`${dtype}: row and column broadcasts (bias adds), transposed output, in-place`, () => {
      const s = spec('addmul', bin('mul', bin('add', inp(0), inp(1)), cst(0.5)), [dtype, dtype], dtype, 0, dtype);
      const [R, C] = [37, 130];
      const x = mixed(R * C, 4);
      const bias = mixed(C, 5);
      const col = mixed(R, 6);
      const cases: [string, (b: CpuBackend) => { out: View; inputs: View[] }][] = [
        ['row bias', (b) => ({ out: empty(b, dtype, [R, C]), inputs: [dense(b, dtype, [R, C], x), viewOf(storageWith(b, dtype, bias), [R, C], [0, 1])] })],
        ['column bias', (b) => ({ out: empty(b, dtype, [R, C]), inputs: [dense(b, dtype, [R, C], x), viewOf(storageWith(b, dtype, col), [R, C], [1, 0])] })],
        ['transposed everything', (b) => ({ out: permuted(b, dtype, [R, C], new Array(R * C).fill(0), [1, 0]), inputs: [permuted(b, dtype, [R, C], x, [1, 0]), permuted(b, dtype, [R, C], x, [1, 0])] })],
        ['offsets', (b) => ({ out: viewOf(storageWith(b, dtype, new Array(R * C + 9).fill(0)), [R, C], [C, 1], 9), inputs: [viewOf(storageWith(b, dtype, [1, 2, 3, ...x]), [R, C], [C, 1], 3), viewOf(storageWith(b, dtype, [7, ...bias]), [R, C], [0, 1], 1)] })],
        ['in-place', (b) => {
          const v = dense(b, dtype, [R, C], x);
          return { out: v, inputs: [v, viewOf(storageWith(b, dtype, bias), [R, C], [0, 1])] };
        }],
        // The bias is the output's first row: rows after it must read the values row 0 was just
        // given, so its slot cannot be kept from one row to the next.
        ['bias aliasing the output', (b) => {
          const s = storageWith(b, dtype, mixed(R * C, 7));
          return { out: viewOf(s, [R, C]), inputs: [dense(b, dtype, [R, C], x), viewOf(s, [R, C], [0, 1])] };
        }],
      ];
      for (const [what, make] of cases) {
        const { got, want, fellBack } = both(s, make);
        if (what !== 'column bias') expect(fellBack, what).toBe(false);
        expectClose(got, want, dtype, 0, what);
      }
    });
    it(`${dtype}: bool inputs (where with a mask) widen to lanes`, () => {
      const s = spec('where', where(inp(0), inp(1), bin('mul', inp(1), cst(-2))), ['bool', dtype], dtype, 0, dtype);
      for (const n of [300, 1001, CHUNK + 1]) {
        const mask = randoms(n, 7).map((v) => (v > 0 ? 1 : 0));
        const xs = mixed(n, 8);
        const { got, want, fellBack } = both(s, (b) => ({ out: empty(b, dtype, [n]), inputs: [dense(b, 'bool', [n], mask), dense(b, dtype, [n], xs)] }));
        expect(fellBack).toBe(false);
        expectClose(got, want, dtype, 0, `where ${n}`);
      }
      const bcast = both(s, (b) => ({ out: empty(b, dtype, [400]), inputs: [viewOf(storageWith(b, 'bool', [1]), [400], [0]), dense(b, dtype, [400], mixed(400, 9))] }));
      expect(bcast.fellBack).toBe(false);
      expectClose(bcast.got, bcast.want, dtype, 0, 'broadcast mask');
    });
    it(`${dtype}: strided inputs, tiny and empty tensors take the JavaScript kernel, with the same results`, () => {
      const s = spec('add', bin('add', inp(0), inp(1)), [dtype, dtype], dtype, 0, dtype);
      const n = 600;
      const strided = both(s, (b) => ({ out: empty(b, dtype, [n]), inputs: [viewOf(storageWith(b, dtype, mixed(2 * n, 10)), [n], [2]), dense(b, dtype, [n], mixed(n, 11))] }));
      expect(strided.fellBack).toBe(true);
      expectClose(strided.got, strided.want, dtype, 0, 'strided');
      const tiny = both(s, (b) => ({ out: empty(b, dtype, [5]), inputs: [dense(b, dtype, [5], [1, 2, 3, 4, 5]), dense(b, dtype, [5], [5, 4, 3, 2, 1])] }));
      expect(tiny.got).toEqual([6, 6, 6, 6, 6]);
      const none = both(s, (b) => ({ out: empty(b, dtype, [0, 500]), inputs: [dense(b, dtype, [0, 500], []), dense(b, dtype, [0, 500], [])] }));
      expect(none.got).toEqual([]);
    });
  }

  it('leaves ops without a SIMD form, integer math and bool outputs to JavaScript', () => {
    expect(wasmPlan(spec('sin', un('sin', inp(0)), ['float32'], 'float32', 0, 'float32'))).toBeNull();
    expect(wasmPlan(spec('exp64', un('exp', inp(0)), ['float64'], 'float64', 0, 'float64'))).toBeNull();
    expect(wasmPlan(spec('iadd', bin('add', inp(0), inp(1)), ['int32', 'int32'], 'int32'))).toBeNull();
    expect(wasmPlan(spec('lt', bin('lt', inp(0), inp(1)), ['float32', 'float32'], 'bool', 0, 'float32'))).toBeNull();
    expect(wasmPlan(spec('mix', bin('add', inp(0), inp(1)), ['float32', 'float64'], 'float64', 0, 'float64'))).toBeNull();
    expect(wasmPlan(spec('ok', un('exp', inp(0)), ['float32'], 'float32', 0, 'float32'))).not.toBeNull();
  });

  it('the backend routes through wasm and agrees with wasm: false (silu forward and backward)', () => {
    const x = inp(0);
    const sg = un('sigmoid', x);
    const fwd = spec('silu', bin('mul', x, sg), ['float32'], 'float32', 0, 'float32');
    const bwd = spec('siluBackward', bin('mul', inp(1), bin('mul', sg, bin('add', cst(1), bin('mul', x, bin('sub', cst(1), sg))))), ['float32', 'float32'], 'float32', 0, 'float32');
    const n = 3000;
    const xs = randoms(n, 12, -20, 20);
    const gs = randoms(n, 13);
    for (const [s, nIn] of [[fwd, 1], [bwd, 2]] as const) {
      const outs = [be, js].map((b) => {
        const out = empty(b, 'float32', [n]);
        b.compileElementwise(s)(out, nIn === 1 ? [dense(b, 'float32', [n], xs)] : [dense(b, 'float32', [n], xs), dense(b, 'float32', [n], gs)], []);
        return values(out);
      });
      expectClose(outs[0]!, outs[1]!, 'float32', 0, s.name, 1e-6);
    }
    expect(numel([n])).toBe(n);
  });
});
