/**
 * Elementwise kernels split across worker threads (`elementwise.ts` → `pool-tasks.ts`): the same
 * bits with 1 and 2 threads, the pool really used, and the JavaScript kernel's values, for dense,
 * broadcast, parameter, bool and strided-outer geometries at sizes around the threshold and the
 * split points, NaN/±Inf included; cheap expressions and short rows stay on the caller's thread.
 */
import type { DType, ElementwiseSpec, Expr, View } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../backend.js';
import { wasmTestBackends } from '../test-utils/backends.js';
import { bin, cst, dense, empty, inp, par, randoms, spec, storageWith, un, values, viewOf, where } from '../test-utils/views.js';
import { THREAD_CHUNK, THREAD_MIN_COST, THREAD_MIN_NUMEL, wasmElementwise } from './elementwise.js';
import { wasmPlan } from './elementwise-kernel.js';

const { js, one, two } = await wasmTestBackends();

const x = inp(0);
const silu = bin('mul', x, un('sigmoid', x));
/** g · silu'(x) with a parameter: two inputs, a transcendental. */
const siluBack = bin('mul', bin('mul', inp(1), par(0)), bin('mul', un('sigmoid', x), bin('add', cst(1), bin('mul', x, bin('sub', cst(1), un('sigmoid', x))))));
/** float64 has no vectorised transcendentals: divisions make it costly enough to split. */
const divs = (e: Expr, n: number): Expr => (n === 0 ? e : divs(bin('div', bin('add', e, cst(3)), bin('add', un('abs', e), cst(1.5))), n - 1));

function withSpecials(n: number, seed: number): number[] {
  const v = randoms(n, seed, -9, 9);
  const specials = [NaN, Infinity, -Infinity, 0, -0, 100, -100, 1e-40];
  for (let i = 0; i < specials.length && i < n; i++) v[(i * 7919) % n] = specials[i]!;
  return v;
}

/** Runs `s` on `be`'s wasm kernel (the JavaScript fallback throws) and returns the output. */
function run(be: CpuBackend, s: ElementwiseSpec, make: (b: CpuBackend) => { out: View; inputs: View[] }, params: number[] = []): number[] {
  const k = wasmElementwise(be.wasm!, s, () => {
    throw new Error('fell back to JavaScript');
  });
  const { out, inputs } = make(be);
  k(out, inputs, params);
  return values(out);
}

function reference(s: ElementwiseSpec, make: (b: CpuBackend) => { out: View; inputs: View[] }, params: number[] = []): number[] {
  const { out, inputs } = make(js);
  js.compileElementwise(s)(out, inputs, params);
  return values(out);
}

function expectSameBits(a: number[], b: number[], what: string): void {
  expect(b.length).toBe(a.length);
  let bad = -1;
  for (let i = 0; i < a.length && bad < 0; i++) if (!Object.is(a[i], b[i])) bad = i;
  expect(bad, `${what}: first difference at ${bad}`).toBe(-1);
}

function expectClose(got: number[], want: number[], tol: number, what: string): void {
  // One assertion for the first bad element: an expect per element would dominate the run time.
  let bad = '';
  for (let i = 0; i < want.length && bad === ''; i++) {
    const g = got[i]!;
    const w = want[i]!;
    const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= tol * (1 + Math.abs(w));
    if (!ok) bad = `[${i}]: got ${g}, want ${w}`;
  }
  expect(bad, what).toBe('');
}

/** 1 vs 2 threads bit for bit, the pool used (or not), and close to the JavaScript kernel. */
function check(s: ElementwiseSpec, make: (b: CpuBackend) => { out: View; inputs: View[] }, opts: { params?: number[]; threaded: boolean; tol: number; what: string }): void {
  const params = opts.params ?? [];
  const a = run(one, s, make, params);
  const before = two.wasm!.pool!.tasks;
  const b = run(two, s, make, params);
  const ran = two.wasm!.pool!.tasks - before;
  if (opts.threaded) expect(ran, `${opts.what}: ran on the pool`).toBeGreaterThan(0);
  else expect(ran, `${opts.what}: stayed on the caller's thread`).toBe(0);
  expectSameBits(a, b, opts.what);
  expectClose(b, reference(s, make, params), opts.tol, opts.what);
}

describe('elementwise kernels on worker threads', () => {
  it('starts a pool to run on', () => {
    expect(two.info.threads).toBe(2);
    expect(wasmPlan(spec('silu', silu, ['float32'], 'float32'))!.cost).toBeGreaterThanOrEqual(THREAD_MIN_COST);
  });

  for (const n of [THREAD_MIN_NUMEL - 1, THREAD_MIN_NUMEL, THREAD_MIN_NUMEL + 1, THREAD_MIN_NUMEL + 4097, 3 * THREAD_MIN_NUMEL + 2, 5 * THREAD_CHUNK - 3, 5 * THREAD_CHUNK + 3, 200_001]) {
    it(`float32 silu on ${n} elements`, () => {
      const xs = withSpecials(n, n);
      const s = spec('silu', silu, ['float32'], 'float32', 0, 'float32');
      check(s, (b) => ({ out: empty(b, 'float32', [n]), inputs: [dense(b, 'float32', [n], xs)] }), { threaded: n >= THREAD_MIN_NUMEL, tol: 1e-6, what: `silu ${n}` });
    });
  }

  it('two inputs and a parameter, one of them broadcast along the row', () => {
    const n = 100_003;
    const xs = withSpecials(n, 3);
    const gs = randoms(n, 4, -2, 2);
    const s = spec('siluBack', siluBack, ['float32', 'float32'], 'float32', 1, 'float32');
    check(s, (b) => ({ out: empty(b, 'float32', [n]), inputs: [dense(b, 'float32', [n], xs), dense(b, 'float32', [n], gs)] }), { params: [0.75], threaded: true, tol: 1e-5, what: 'dense' });
    // g one value per row of a [4, 40001] output: stride 0 along the row.
    const rows = [4, 40_001];
    const gRow = [0.5, -2, NaN, 3];
    check(
      s,
      (b) => ({ out: empty(b, 'float32', rows), inputs: [dense(b, 'float32', rows, withSpecials(4 * 40_001, 5)), { ...dense(b, 'float32', [4, 1], gRow), shape: rows, strides: [1, 0] }] }),
      { params: [1.25], threaded: true, tol: 1e-5, what: 'broadcast g' },
    );
  });

  it('rows of padded (non-collapsible) views, each row split on its own', () => {
    const [R, C, pitch] = [3, 70_001, 70_013];
    const xs = withSpecials(R * pitch, 6);
    const s = spec('silu', silu, ['float32'], 'float32', 0, 'float32');
    const padded = (b: CpuBackend, v: number[], offset: number): View => viewOf(storageWith(b, 'float32', v, R * pitch + offset), [R, C], [pitch, 1], offset);
    check(s, (b) => ({ out: padded(b, new Array<number>(R * pitch).fill(7), 2), inputs: [padded(b, xs, 5)] }), { threaded: true, tol: 1e-6, what: 'padded rows' });
  });

  it('bool inputs and where', () => {
    const n = 80_001;
    const mask = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const e = where(inp(1), un('tanh', x), un('exp', bin('mul', x, cst(0.25))));
    const s = spec('pick', e, ['float32', 'bool'], 'float32', 0, 'float32');
    check(s, (b) => ({ out: empty(b, 'float32', [n]), inputs: [dense(b, 'float32', [n], withSpecials(n, 7)), dense(b, 'bool', [n], mask)] }), { threaded: true, tol: 1e-6, what: 'where' });
  });

  it('float64 expressions costly enough to split', () => {
    const n = 90_001;
    const e = divs(x, 8);
    expect(wasmPlan(spec('divs', e, ['float64'], 'float64'))!.cost).toBeGreaterThanOrEqual(THREAD_MIN_COST);
    const s = spec('divs', e, ['float64'], 'float64', 0, 'float64' as DType);
    check(s, (b) => ({ out: empty(b, 'float64', [n]), inputs: [dense(b, 'float64', [n], withSpecials(n, 8))] }), { threaded: true, tol: 0, what: 'float64 divs' });
  });

  it("cheap expressions stay on the caller's thread below THREAD_MIN_WORK (a wake-up would cost more than the arithmetic)", () => {
    const n = 200_000; // heap operands: split only from THREAD_MIN_WORK / 4 = 245,760 (heap-storage.test.ts)
    const s = spec('axpb', bin('add', bin('mul', x, par(0)), cst(1)), ['float32'], 'float32', 1, 'float32');
    check(s, (b) => ({ out: empty(b, 'float32', [n]), inputs: [dense(b, 'float32', [n], randoms(n, 9))] }), { params: [2], threaded: false, tol: 1e-7, what: 'axpb' });
  });

  it('fills (an expression that reads no input) of 1 MiB and more are split too, as fill.ts stores', () => {
    // 300,000 heap elements: past THREAD_MIN_WORK / 4, where an in-place add of that size is split.
    const n = 300_000;
    const inPlace = (b: CpuBackend): { out: View; inputs: View[] } => {
      const v = dense(b, 'float32', [n], randoms(n, 11));
      return { out: v, inputs: [v] };
    };
    check(spec('fill_', par(0), ['float32'], 'float32', 1, 'float32'), inPlace, { params: [1], threaded: true, tol: 0, what: 'fill_' });
    check(spec('zero_', cst(0), ['float32'], 'float32', 0, 'float32'), inPlace, { threaded: true, tol: 0, what: 'zero_' });
    check(spec('add_', bin('add', x, par(0)), ['float32'], 'float32', 1, 'float32'), inPlace, { params: [1], threaded: true, tol: 1e-7, what: 'add_ (reads its input: split)' });
  });

  it('in place: the output is the input', () => {
    const n = 120_000;
    const xs = withSpecials(n, 10);
    const s = spec('silu', silu, ['float32'], 'float32', 0, 'float32');
    const inPlace = (b: CpuBackend): { out: View; inputs: View[] } => {
      const v = dense(b, 'float32', [n], xs);
      return { out: v, inputs: [v] };
    };
    check(s, inPlace, { threaded: true, tol: 1e-6, what: 'in place' });
  });
});
