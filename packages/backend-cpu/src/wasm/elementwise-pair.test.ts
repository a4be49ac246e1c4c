/**
 * The pair kernel (f and f' in one pass, `elementwise-pair.ts` and the JavaScript reference
 * `compile-elementwise-pair.ts`): the same bits with 1 and 2 threads, the same bits as the
 * one-output kernels of f and of f' (so a forward that keeps f'(x) returns what one without it
 * returns), close to the JavaScript reference, at sizes around every vector, unroll, heap and
 * thread-split edge, for float32 and float64, dense, broadcast and padded-row inputs; and where
 * it declines (operands outside the heap) or hands over to JavaScript (strided gathers, tiny
 * tensors, float64 transcendentals).
 */
import type { DType, ElementwiseKernel, ElementwisePairKernel, ElementwisePairSpec, ElementwiseSpec, Expr, View } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import type { CpuBackend } from '../backend.js';
import { compileElementwisePair } from '../compile-elementwise-pair.js';
import { wasmTestBackends } from '../test-utils/backends.js';
import { bin, cst, dense, empty, inp, randoms, spec, storageWith, un, values, viewOf } from '../test-utils/views.js';
import { THREAD_CHUNK, THREAD_MIN_NUMEL, wasmElementwise } from './elementwise.js';
import { pairStats, wasmElementwisePair } from './elementwise-pair.js';

const { js, one, two } = await wasmTestBackends();

const x = inp(0);
const sig = un('sigmoid', x);
const siluF = bin('mul', x, sig);
const siluDf = bin('mul', sig, bin('add', cst(1), bin('mul', x, bin('sub', cst(1), sig))));
/** softsign and its derivative: no transcendental, so float64 runs them in wasm too. */
const den = bin('add', cst(1), un('abs', x));
const softsignF = bin('div', x, den);
const softsignDf = un('reciprocal', un('square', den));

let counter = 0;
function pairSpec(f: Expr, df: Expr, dtype: DType): ElementwisePairSpec {
  return { ...spec('pair', f, [dtype], dtype, 0, dtype), expr2: df, key: `pair#${++counter}` };
}

const noJs: ElementwisePairKernel = () => {
  throw new Error('fell back to JavaScript');
};

function withSpecials(n: number, seed: number): number[] {
  const v = randoms(n, seed, -12, 12);
  const specials = [NaN, Infinity, -Infinity, 0, -0, 100, -100, 1e-40];
  for (let i = 0; i < specials.length && i < n; i++) v[(i * 7919) % n] = specials[i]!;
  return v;
}

type Make = (b: CpuBackend) => { out: View; out2: View; inputs: View[] };

function runPair(k: ElementwisePairKernel, be: CpuBackend, make: Make): { ok: boolean; y: number[]; d: number[] } {
  const { out, out2, inputs } = make(be);
  const ok = k(out, out2, inputs, []);
  return { ok, y: values(out), d: values(out2) };
}

function runOne(k: ElementwiseKernel, be: CpuBackend, make: Make): number[] {
  const { out, inputs } = make(be);
  k(out, inputs, []);
  return values(out);
}

function expectSameBits(a: number[], b: number[], what: string): void {
  expect(b.length).toBe(a.length);
  let bad = -1;
  for (let i = 0; i < a.length && bad < 0; i++) if (!Object.is(a[i], b[i])) bad = i;
  expect(bad, `${what}: first difference at ${bad} (${a[bad]} vs ${b[bad]})`).toBe(-1);
}

function expectClose(got: number[], want: number[], tol: number, what: string): void {
  let bad = '';
  for (let i = 0; i < want.length && bad === ''; i++) {
    const g = got[i]!;
    const w = want[i]!;
    const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= tol * (1 + Math.abs(w));
    if (!ok) bad = `[${i}]: got ${g}, want ${w}`;
  }
  expect(bad, what).toBe('');
}

/**
 * The wasm pair on 1 and 2 threads: bit for bit alike, alike the one-output wasm kernels of f and
 * f', close to the JavaScript pair (itself bit for bit the JavaScript one-output kernels').
 */
function check(f: Expr, df: Expr, dtype: DType, make: Make, opts: { threaded: boolean; tol: number; what: string }): void {
  const s = pairSpec(f, df, dtype);
  const rows0 = pairStats.rows;
  const a = runPair(wasmElementwisePair(one.wasm!, s, noJs), one, make);
  const before = two.wasm!.pool!.tasks;
  const b = runPair(wasmElementwisePair(two.wasm!, s, noJs), two, make);
  const ran = two.wasm!.pool!.tasks - before;
  expect(a.ok && b.ok, `${opts.what}: ran`).toBe(true);
  expect(pairStats.rows, `${opts.what}: ran in wasm`).toBeGreaterThan(rows0);
  if (opts.threaded) expect(ran, `${opts.what}: ran on the pool`).toBeGreaterThan(0);
  else expect(ran, `${opts.what}: stayed on the caller's thread`).toBe(0);
  expectSameBits(a.y, b.y, `${opts.what} f, 1t vs 2t`);
  expectSameBits(a.d, b.d, `${opts.what} f', 1t vs 2t`);
  const fSpec: ElementwiseSpec = spec('f', f, [dtype], dtype, 0, dtype);
  const dfSpec: ElementwiseSpec = spec('df', df, [dtype], dtype, 0, dtype);
  const throwing: ElementwiseKernel = () => {
    throw new Error('one-output kernel fell back to JavaScript');
  };
  expectSameBits(runOne(wasmElementwise(one.wasm!, fSpec, throwing), one, make), a.y, `${opts.what} f vs the one-output kernel`);
  expectSameBits(runOne(wasmElementwise(one.wasm!, dfSpec, throwing), one, make), a.d, `${opts.what} f' vs the one-output kernel`);
  const ref = runPair(compileElementwisePair(s)!, js, make);
  expect(ref.ok).toBe(true);
  expectSameBits(runOne(js.compileElementwise(fSpec), js, make), ref.y, `${opts.what} JavaScript pair f vs one-output`);
  expectSameBits(runOne(js.compileElementwise(dfSpec), js, make), ref.d, `${opts.what} JavaScript pair f' vs one-output`);
  expectClose(a.y, ref.y, opts.tol, `${opts.what} f vs JavaScript`);
  expectClose(a.d, ref.d, opts.tol, `${opts.what} f' vs JavaScript`);
}

const flat = (dtype: DType, n: number, seed: number): Make => {
  const xs = withSpecials(n, seed);
  return (b) => ({ out: empty(b, dtype, [n]), out2: empty(b, dtype, [n]), inputs: [dense(b, dtype, [n], xs)] });
};

describe('pair kernels: f and f′ in one pass', () => {
  // 4096 float32 elements is the smallest heap storage (HEAP_MIN_BYTES); 16 a group of 4 vectors.
  for (const n of [4096, 4097, 4098, 4099, 4111, 4112, 4113, 4127, 5003, 65_537, THREAD_MIN_NUMEL - 1, THREAD_MIN_NUMEL, THREAD_MIN_NUMEL + 3, 5 * THREAD_CHUNK + 3, 200_001]) {
    it(`float32 silu on ${n} elements`, () => {
      check(siluF, siluDf, 'float32', flat('float32', n, n), { threaded: n >= THREAD_MIN_NUMEL, tol: 2e-6, what: `silu ${n}` });
    });
  }

  for (const n of [2048, 2049, 2051, 2063, 40_001, THREAD_MIN_NUMEL + 1]) {
    it(`float64 softsign (no transcendental: wasm) on ${n} elements`, () => {
      check(softsignF, softsignDf, 'float64', flat('float64', n, n + 1), { threaded: false, tol: 0, what: `softsign ${n}` });
    });
  }

  it('padded (non-collapsible) rows, each split on its own, and a broadcast input', () => {
    const [R, C, pitch] = [3, 70_001, 70_013];
    const xs = withSpecials(R * pitch, 6);
    const padded: Make = (b) => ({ out: empty(b, 'float32', [R, C]), out2: empty(b, 'float32', [R, C]), inputs: [viewOf(storageWith(b, 'float32', xs), [R, C], [pitch, 1], 5)] });
    check(siluF, siluDf, 'float32', padded, { threaded: true, tol: 2e-6, what: 'padded rows' });
    const col = [0.5, -2, NaN, 3];
    const rows = [4, 40_001];
    const bcast: Make = (b) => ({ out: empty(b, 'float32', rows), out2: empty(b, 'float32', rows), inputs: [{ ...dense(b, 'float32', [4, 1], col), shape: rows, strides: [1, 0] }] });
    check(siluF, siluDf, 'float32', bcast, { threaded: true, tol: 2e-6, what: 'broadcast x' });
  });

  it('float64 transcendentals, strided gathers and tiny tensors run the JavaScript pair; operands outside the heap decline', () => {
    const s64 = pairSpec(siluF, siluDf, 'float64');
    const jsPair = compileElementwisePair(s64)!;
    expect(wasmElementwisePair(one.wasm!, s64, jsPair)).toBe(jsPair);
    const s = pairSpec(siluF, siluDf, 'float32');
    const k = wasmElementwisePair(one.wasm!, s, noJs);
    // A transposed input: the one-output kernel runs JavaScript there too.
    const t = (b: CpuBackend) => ({ out: empty(b, 'float32', [100, 100]), out2: empty(b, 'float32', [100, 100]), inputs: [viewOf(storageWith(b, 'float32', randoms(10_000, 3)), [100, 100], [1, 100])] });
    expect(() => runPair(k, one, t)).toThrow('fell back to JavaScript');
    expect(() => runPair(k, one, flat('float32', 100, 1))).toThrow('fell back to JavaScript');
    // 1000 elements: past MIN_NUMEL, but small storages are not the heap's: the caller's one-output path stages them.
    const declined = pairStats.declined;
    expect(runPair(k, one, flat('float32', 1000, 2)).ok).toBe(false);
    expect(pairStats.declined).toBe(declined + 1);
    // Empty: nothing to write.
    const e = runPair(compileElementwisePair(s)!, js, flat('float32', 0, 1));
    expect(e).toEqual({ ok: true, y: [], d: [] });
  });

  it('the JavaScript pair on strided, offset and single-element inputs: the one-output kernels\' bits', () => {
    const s = pairSpec(siluF, siluDf, 'float32');
    const pair = compileElementwisePair(s)!;
    const f = js.compileElementwise(spec('f', siluF, ['float32'], 'float32', 0, 'float32'));
    const df = js.compileElementwise(spec('df', siluDf, ['float32'], 'float32', 0, 'float32'));
    const xs = withSpecials(7 * 9 * 5 + 4, 21);
    const makes: [string, Make][] = [
      ['permuted', (b) => ({ out: empty(b, 'float32', [7, 9, 5]), out2: empty(b, 'float32', [7, 9, 5]), inputs: [viewOf(storageWith(b, 'float32', xs), [7, 9, 5], [1, 35, 7], 3)] })],
      ['one element broadcast', (b) => ({ out: empty(b, 'float32', [6, 4]), out2: empty(b, 'float32', [6, 4]), inputs: [viewOf(storageWith(b, 'float32', [-1.5]), [6, 4], [0, 0])] })],
      ['outputs at offsets', (b) => ({ out: viewOf(storageWith(b, 'float32', new Array<number>(40).fill(9)), [30], [1], 7), out2: viewOf(storageWith(b, 'float32', new Array<number>(40).fill(9)), [30], [1], 2), inputs: [dense(b, 'float32', [30], xs.slice(0, 30))] })],
    ];
    for (const [what, make] of makes) {
      const r = runPair(pair, js, make);
      expect(r.ok).toBe(true);
      expectSameBits(runOne(f, js, make), r.y, `${what}: f`);
      expectSameBits(runOne(df, js, make), r.d, `${what}: f'`);
    }
  });

  it('the backend compiles pairs once per key, with the JavaScript pair when wasm is off', () => {
    const s = pairSpec(siluF, siluDf, 'float32');
    expect(one.compileElementwisePair(s)).toBe(one.compileElementwisePair(s));
    const r = runPair(js.compileElementwisePair(s)!, js, flat('float32', 5000, 9));
    expect(r.ok).toBe(true);
    expectClose(r.y, runOne(js.compileElementwise(spec('f', siluF, ['float32'], 'float32', 0, 'float32')), js, flat('float32', 5000, 9)), 0, 'js backend');
    expect(one.compileElementwisePair({ ...spec('b', bin('gt', x, cst(0)), ['float32'], 'bool', 0, 'float32'), expr2: x })).toBeNull();
  });
});
