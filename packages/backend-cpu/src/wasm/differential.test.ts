/**
 * One table-driven differential harness over every kernel the CPU backend has: each structured
 * kernel in `KERNEL_DTYPES` (for every dtype it is registered for) and every elementwise op of
 * core's expression IR (`UNARY_FNS`, `BINARY_FNS`), run through the backend's own routing on
 *
 * - `wasm: false` (the JavaScript kernels: the reference),
 * - the default backend (WebAssembly SIMD where a kernel has it, one thread),
 * - `threads: 2` (the same on two threads),
 *
 * over dense, transposed, offset, broadcast (stride 0) and strided inputs, empty tensors, and sizes
 * on both sides of every block edge the kernels have (vector widths, the wasm thresholds, chunk and
 * cache blocks, the thread threshold). The wasm backend must agree with the reference (exactly,
 * or within a tolerance stated per kernel), and two threads must give the same bits as one.
 *
 * The kernel table is typed by `KernelName`, so a kernel added to core without a row here does not
 * compile; a row is checked against `KERNEL_DTYPES` at run time too.
 */
import { BINARY_FNS, UNARY_FNS, type DType, type ElementwiseSpec, type Expr, type KernelName, type TypedArray, type View } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { CpuBackend, KERNEL_DTYPES } from '../backend.js';
import { wasmTestBackends } from '../test-utils/backends.js';
import { ulp } from '../test-utils/ulp.js';
import { bin, contiguousStrides, dense, empty, inp, numel, par, permuted, randInts, randoms, spec, storageWith, un, viewOf, where } from '../test-utils/views.js';
import { CHUNK, MIN_NUMEL } from './elementwise.js';
import { UNROLL } from './elementwise-kernel.js';
import { GEMM_F32, GEMM_F64 } from './gemm-kernel.js';
import { GEMM_MIN_FLOPS, KC, MC, NC, THREADS_MIN_FLOPS } from './gemm.js';
import { FOLD_CHUNK, MIN_FOLD_ROW } from './reduce.js';

const { js, one, two } = await wasmTestBackends();

// ---------------------------------------------------------------------------------------------
// Inputs

type Layout = 'dense' | 'transposed' | 'offset' | 'broadcast' | 'step2';
const LAYOUTS: readonly Layout[] = ['dense', 'transposed', 'offset', 'broadcast', 'step2'];

/**
 * `data` (row-major for `shape`) laid out on `be` as `layout`: reversed dims in memory, at an
 * offset, dim 0 broadcast (stride 0: every row is data's first), or every other element.
 */
function input(be: CpuBackend, dtype: DType, shape: readonly number[], data: readonly number[], layout: Layout): View {
  switch (layout) {
    case 'dense':
      return dense(be, dtype, shape, data);
    case 'transposed':
      return permuted(be, dtype, shape, data, shape.map((_, i) => shape.length - 1 - i));
    case 'offset':
      return viewOf(storageWith(be, dtype, [9, 9, 9, ...data]), shape, contiguousStrides(shape), 3);
    case 'broadcast': {
      const inner = shape.slice(1);
      return viewOf(storageWith(be, dtype, data.slice(0, numel(inner))), shape, [0, ...contiguousStrides(inner)]);
    }
    case 'step2': {
      const spread = new Array<number>(2 * data.length + 1).fill(0);
      data.forEach((v, i) => (spread[2 * i] = v));
      return viewOf(storageWith(be, dtype, spread), shape, contiguousStrides(shape).map((s) => 2 * s));
    }
  }
}

const SPECIALS = [NaN, Infinity, -Infinity, -0, 0, 1e-40, 0.5, -2.5];

/** Values for `dtype`: floats in [lo, hi] with special values every 97th element when `specials`. */
function data(dtype: DType, n: number, seed: number, o: { lo?: number; hi?: number; specials?: boolean } = {}): number[] {
  if (dtype === 'bool') return randInts(n, seed, 0, 2);
  if (dtype === 'int32') return randInts(n, seed, o.lo ?? -50, o.hi ?? 50);
  const r = randoms(n, seed, o.lo ?? -10, o.hi ?? 10);
  if (o.specials) for (let i = seed % 97; i < n; i += 97) r[i] = SPECIALS[(i / 97) % SPECIALS.length | 0]!;
  return dtype === 'float32' ? r.map(Math.fround) : r;
}

// ---------------------------------------------------------------------------------------------
// Comparison

/** How close the wasm backend must be to the reference: exact, or within |Δ| ≤ tol(want, i). */
type Tol = 'exact' | ((want: number, i: number) => number);

interface Case {
  what: string;
  /** Builds its inputs on `be`, runs the kernel, returns the outputs to compare. */
  run: (be: CpuBackend) => View[];
  tol: Tol;
}

const same = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

function read(be: CpuBackend, v: View): TypedArray {
  return be.readSync(v);
}

function firstMismatch(got: TypedArray, want: TypedArray, tol: Tol): number {
  if (got.length !== want.length) return -2;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (same(g, w)) continue;
    if (tol !== 'exact' && Number.isFinite(w) && Math.abs(g - w) <= tol(w, i)) continue;
    return i;
  }
  return -1;
}

/** Runs `c` on the three backends: wasm (1 thread) against the reference, 2 threads bit-for-bit against 1. */
function check(c: Case): void {
  const outs = [js, one, two].map((be) => c.run(be).map((v) => read(be, v)));
  const [ref, w1, w2] = outs as [TypedArray[], TypedArray[], TypedArray[]];
  for (let o = 0; o < ref.length; o++) {
    const at = firstMismatch(w1[o]!, ref[o]!, c.tol);
    if (at !== -1) expect(at === -2 ? `length ${w1[o]!.length}` : w1[o]![at], `${c.what}, output ${o} [${at}]: wasm vs JavaScript`).toBe(at === -2 ? `length ${ref[o]!.length}` : ref[o]![at]);
    const t = firstMismatch(w2[o]!, w1[o]!, 'exact');
    if (t !== -1) expect(t === -2 ? `length ${w2[o]!.length}` : w2[o]![t], `${c.what}, output ${o} [${t}]: 2 threads vs 1`).toBe(t === -2 ? `length ${w1[o]!.length}` : w1[o]![t]);
  }
}

const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64';
/** float32 within `ulps`, float64 within a relative `rel64` (0: exact). */
const ulpTol = (dtype: DType, ulps: number, rel64 = 0): Tol =>
  !isFloat(dtype) ? 'exact' : dtype === 'float32' ? (w) => ulps * 2 ** (Math.floor(Math.log2(Math.max(Math.abs(w), 2 ** -126))) - 23) : rel64 === 0 ? 'exact' : (w) => rel64 * Math.max(1, Math.abs(w));
const relTol = (dtype: DType, rel32: number, rel64: number): Tol => (!isFloat(dtype) ? 'exact' : (w) => (dtype === 'float32' ? rel32 : rel64) * (1 + Math.abs(w)));

// ---------------------------------------------------------------------------------------------
// The structured kernels

/** Row lengths on both sides of every edge a row kernel has: vector widths, the wasm fold threshold, its chunk. */
const ROW_LENGTHS = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, MIN_FOLD_ROW - 1, MIN_FOLD_ROW, MIN_FOLD_ROW + 1, 255, 256, 257, FOLD_CHUNK - 1, FOLD_CHUNK, FOLD_CHUNK + 1, 2 * FOLD_CHUNK + 3];
/** Fewer lengths for the layouts other than dense. */
const EDGE_LENGTHS = [3, MIN_FOLD_ROW + 1, 1000, FOLD_CHUNK + 1];

type ReduceName = 'sum' | 'prod' | 'max' | 'min' | 'argmax' | 'argmin';

function reduceCases(k: ReduceName, dtype: DType): Case[] {
  const cases: Case[] = [];
  const arg = k === 'argmax' || k === 'argmin';
  const outDtype = arg || ((k === 'sum' || k === 'prod') && !isFloat(dtype)) ? 'int32' : dtype;
  // prod over thousands of elements: values near 1 (and ±1, 2 for integers) keep it finite.
  const opts = k === 'prod' ? (isFloat(dtype) ? { lo: 0.97, hi: 1.03 } : { lo: -1, hi: 2 }) : { specials: true };
  const add = (shape: number[], axes: number[], layout: Layout, seed: number): void => {
    const reduced = axes.reduce((a, d) => a * shape[d]!, 1);
    // An empty reduction has no max, min or arg (core refuses it before the kernel).
    if (reduced === 0 && k !== 'sum' && k !== 'prod') return;
    const xs = data(dtype, numel(shape), seed, opts);
    const oshape = shape.map((n, d) => (axes.includes(d) ? 1 : n));
    // Sums may fold in another order (float64 lanes); float32 then rounds the same but for a last-bit tie.
    const tol: Tol = k === 'sum' ? (dtype === 'float64' ? () => 1e-15 * 10 * Math.max(reduced, 1) : ulpTol(dtype, 1)) : k === 'prod' ? relTol(dtype, 1e-5, 1e-12) : 'exact';
    cases.push({
      what: `${k} ${dtype} [${shape}] ${layout} over ${axes}`,
      run: (be) => {
        const out = empty(be, outDtype, oshape);
        be.kernels[k](out, input(be, dtype, shape, xs, layout), axes);
        return [out];
      },
      tol,
    });
  };
  for (const L of ROW_LENGTHS) add([3, L], [1], 'dense', L);
  for (const L of EDGE_LENGTHS) {
    for (const layout of LAYOUTS) {
      add([3, L], [1], layout, L + 1);
      add([L, 3], [0], layout, L + 2);
      if (!arg) add([2, 3, L], [0, 1, 2], layout, L + 3);
    }
  }
  add([0, 70], [1], 'dense', 1);
  return cases;
}

function bmmCases(dtype: DType): Case[] {
  const { MR, NR } = dtype === 'float64' ? GEMM_F64 : GEMM_F32;
  // M × 64 × 64 crossing THREADS_MIN_FLOPS: the first product split across threads, and one row fewer.
  const tm = Math.ceil(THREADS_MIN_FLOPS / 4096);
  const shapes: [number, number, number, number][] = [
    [1, 1, 1, 1],
    [1, MR - 1, 3, NR + 1],
    [2, MR + 1, 33, 2 * NR - 1],
    [1, 16, 16, 16], // GEMM_MIN_FLOPS (4096): the first product sent to wasm
    [1, 15, 16, 17], // just under it: JavaScript
    [1, tm, 64, 64], // THREADS_MIN_FLOPS: the first product split across threads
    [1, tm - 1, 64, 64], // just under it: one thread
    [1, MC + 1, KC + 1, 2 * NR + 3],
    [1, 5, 40, NC + 3],
    [3, 13, 21, 19],
    [2, 9, 0, 11], // K = 0: zeros
    [2, 0, 5, 11],
    [0, 9, 5, 11],
  ];
  expect(16 * 16 * 16).toBe(GEMM_MIN_FLOPS);
  const cases: Case[] = [];
  for (const [nb, M, K, N] of shapes) {
    const A = data(dtype, nb * M * K, M + K, { lo: -1, hi: 1 });
    const B = data(dtype, nb * K * N, K + N, { lo: -1, hi: 1 });
    // float32 accumulates in float32 (as PyTorch), the reference in float64.
    const tol = relTol(dtype, 2e-6 * Math.sqrt(K + 1), 1e-13 * (K + 1));
    const layouts: [Layout, Layout][] = nb * M * K * N > 0 && M * K * N < 1e6 ? [['dense', 'dense'], ['transposed', 'dense'], ['dense', 'transposed'], ['offset', 'broadcast'], ['step2', 'step2']] : [['dense', 'dense']];
    for (const [la, lb] of layouts) {
      cases.push({
        what: `bmm ${dtype} ${nb}×${M}×${K}×${N}, a ${la}, b ${lb}`,
        run: (be) => {
          const out = empty(be, dtype, [nb, M, N]);
          be.kernels.bmm(out, input(be, dtype, [nb, M, K], A, la), input(be, dtype, [nb, K, N], B, lb));
          return [out];
        },
        tol,
      });
    }
    if (nb * M * N > 0) {
      cases.push({
        what: `bmm ${dtype} ${nb}×${M}×${K}×${N}, strided (transposed) output`,
        run: (be) => {
          const out = permuted(be, dtype, [nb, M, N], new Array(nb * M * N).fill(0), [0, 2, 1]);
          be.kernels.bmm(out, input(be, dtype, [nb, M, K], A, 'dense'), input(be, dtype, [nb, K, N], B, 'dense'));
          return [out];
        },
        tol,
      });
    }
  }
  return cases;
}

function addmmCases(dtype: DType): Case[] {
  const cases: Case[] = [];
  const float = isFloat(dtype);
  for (const [M, K, N] of [[5, 7, 9], [16, 16, 16], [70, 90, 50], [GEMM_F32.MR + 1, KC + 1, GEMM_F32.NR + 1]] as const) {
    const A = data(dtype, M * K, M, { lo: -1, hi: 1 });
    const B = data(dtype, K * N, N, { lo: -1, hi: 1 });
    const bias = data(dtype, M * N, K, { lo: -1, hi: 1 });
    if (float) bias[3] = NaN; // read only when beta ≠ 0
    const tol = relTol(dtype, 4e-6 * Math.sqrt(K + 1), 1e-13 * (K + 1));
    const biasViews: [string, (be: CpuBackend) => View][] = [
      ['full', (be) => dense(be, dtype, [M, N], bias)],
      ['row', (be) => viewOf(storageWith(be, dtype, bias.slice(0, N)), [M, N], [0, 1])],
      ['column', (be) => viewOf(storageWith(be, dtype, bias.slice(0, M)), [M, N], [1, 0])],
      ['scalar', (be) => viewOf(storageWith(be, dtype, bias.slice(5, 6)), [M, N], [0, 0])],
    ];
    const coefs: [number, number][] = float ? [[1, 1], [0.5, -2], [0, 1]] : [[1, 1], [2, -3], [0, 1]];
    for (const [bname, makeBias] of biasViews) {
      for (const [beta, alpha] of coefs) {
        cases.push({
          what: `addmm ${dtype} ${M}×${K}×${N}, ${bname} bias, beta ${beta}, alpha ${alpha}`,
          run: (be) => {
            const out = empty(be, dtype, [M, N]);
            be.kernels.addmm(out, makeBias(be), input(be, dtype, [M, K], A, 'dense'), input(be, dtype, [K, N], B, 'transposed'), beta, alpha);
            return [out];
          },
          tol,
        });
      }
    }
    cases.push({
      what: `addmm ${dtype} ${M}×${K}×${N} in place (the bias is out), transposed a`,
      run: (be) => {
        const out = dense(be, dtype, [M, N], bias.map((v) => (Number.isNaN(v) ? 0.25 : v)));
        be.kernels.addmm(out, out, input(be, dtype, [M, K], A, 'transposed'), input(be, dtype, [K, N], B, 'dense'), 0.5, 2);
        return [out];
      },
      tol,
    });
  }
  return cases;
}

/** Kernels that map a [R, L] input along a dim to outputs of its shape (softmax, scans, sort). */
function alongCases(name: string, dtype: DType, tol: (L: number) => Tol, runK: (be: CpuBackend, x: View, dim: number) => View[], o: { lo?: number; hi?: number; specials?: boolean } = {}, short = false): Case[] {
  const cases: Case[] = [];
  // `short`: a kernel with no wasm form and no blocks (sort) skips the rows longer than a fold chunk.
  const lengths = short ? ROW_LENGTHS.filter((L) => L <= FOLD_CHUNK) : ROW_LENGTHS;
  const edges = short ? EDGE_LENGTHS.filter((L) => L < FOLD_CHUNK) : EDGE_LENGTHS;
  const add = (shape: number[], dim: number, layout: Layout, seed: number): void => {
    const xs = data(dtype, numel(shape), seed, o);
    cases.push({ what: `${name} ${dtype} [${shape}] ${layout} along ${dim}`, run: (be) => runK(be, input(be, dtype, shape, xs, layout), dim), tol: tol(shape[dim]!) });
  };
  for (const L of lengths) add([3, L], 1, 'dense', L);
  for (const L of edges) {
    for (const layout of LAYOUTS) {
      add([3, L], 1, layout, L + 1);
      add([L, 3], 0, layout, L + 2);
    }
  }
  return cases;
}

function softmaxCases(k: 'softmax' | 'logSoftmax', dtype: DType): Case[] {
  return alongCases(k, dtype, () => relTol(dtype, 2e-6, 1e-12), (be, x, dim) => {
    const out = empty(be, dtype, x.shape);
    be.kernels[k](out, x, dim);
    return [out];
  });
}

function scanCases(k: 'cumsum' | 'cumprod', dtype: DType): Case[] {
  const outDtype = isFloat(dtype) ? dtype : 'int32';
  const cases: Case[] = [];
  for (const reverse of [false, true]) {
    cases.push(
      ...alongCases(`${k}${reverse ? ' reverse' : ''}`, dtype, (L) => (k === 'cumsum' ? relTol(dtype, 4e-7 * 10 * (L + 1), 1e-15 * 10 * (L + 1)) : relTol(dtype, 1e-7 * (L + 1), 1e-15 * (L + 1))), (be, x, dim) => {
        const out = empty(be, outDtype, x.shape);
        be.kernels[k](out, x, dim, reverse);
        return [out];
      }, k === 'cumprod' ? (isFloat(dtype) ? { lo: 0.97, hi: 1.03 } : { lo: -1, hi: 2 }) : {}),
    );
  }
  return cases;
}

function sortCases(dtype: DType): Case[] {
  const cases: Case[] = [];
  for (const descending of [false, true]) {
    // Integers in a small range: many ties, where stability shows.
    cases.push(
      ...alongCases(`sort${descending ? ' descending' : ''}`, dtype, () => 'exact', (be, x, dim) => {
        const values = empty(be, dtype, x.shape);
        const indices = empty(be, 'int32', x.shape);
        be.kernels.sort(values, indices, x, dim, descending);
        return [values, indices];
      }, isFloat(dtype) ? { specials: true } : { lo: -5, hi: 5 }, true),
    );
  }
  return cases;
}

function gatherCases(k: 'gather' | 'scatter' | 'scatterAdd', dtype: DType): Case[] {
  const cases: Case[] = [];
  for (const [R, L] of [[3, 5], [4, 300], [2, FOLD_CHUNK + 1]] as const) {
    for (const dim of [0, 1]) {
      const size = dim === 0 ? R : L;
      const ishape = dim === 0 ? [R, L] : [R, Math.max(1, L - 1)];
      const index = randInts(numel(ishape), R + L + dim, 0, size);
      const xs = data(dtype, R * L, L, { specials: k === 'gather' });
      const src = data(dtype, numel(ishape), L + 1);
      for (const layout of ['dense', 'transposed', 'broadcast'] as const) {
        cases.push({
          what: `${k} ${dtype} [${R}, ${L}] dim ${dim}, ${layout}`,
          run: (be) => {
            const idx = input(be, 'int32', ishape, index, layout === 'broadcast' ? 'dense' : layout);
            if (k === 'gather') {
              const out = empty(be, dtype, ishape);
              be.kernels.gather(out, input(be, dtype, [R, L], xs, layout), dim, idx);
              return [out];
            }
            const out = dense(be, dtype, [R, L], xs);
            be.kernels[k](out, dim, idx, input(be, dtype, ishape, src, layout));
            return [out];
          },
          // scatterAdd sums duplicates in index order: the same order on every backend.
          tol: 'exact',
        });
      }
    }
  }
  return cases;
}

const STRUCTURED: { readonly [K in KernelName]-?: (dtype: DType) => Case[] } = {
  sum: (d) => reduceCases('sum', d),
  prod: (d) => reduceCases('prod', d),
  max: (d) => reduceCases('max', d),
  min: (d) => reduceCases('min', d),
  argmax: (d) => reduceCases('argmax', d),
  argmin: (d) => reduceCases('argmin', d),
  bmm: bmmCases,
  addmm: addmmCases,
  gather: (d) => gatherCases('gather', d),
  scatter: (d) => gatherCases('scatter', d),
  scatterAdd: (d) => gatherCases('scatterAdd', d),
  softmax: (d) => softmaxCases('softmax', d),
  logSoftmax: (d) => softmaxCases('logSoftmax', d),
  sort: sortCases,
  cumsum: (d) => scanCases('cumsum', d),
  cumprod: (d) => scanCases('cumprod', d),
};

describe('every structured kernel: wasm (1 and 2 threads) against the JavaScript kernels', () => {
  it('has a row for every kernel the backend registers', () => {
    expect(Object.keys(STRUCTURED).sort()).toEqual(Object.keys(KERNEL_DTYPES).sort());
    expect(two.info).toMatchObject({ kernels: 'wasm-simd', threads: 2 });
    expect(one.info).toMatchObject({ kernels: 'wasm-simd', threads: 1 });
  });
  for (const k of Object.keys(KERNEL_DTYPES) as KernelName[]) {
    for (const dtype of KERNEL_DTYPES[k]) {
      it(`${k} ${dtype}`, () => {
        const cases = STRUCTURED[k](dtype);
        expect(cases.length).toBeGreaterThan(0);
        for (const c of cases) check(c);
      });
    }
  }

  it('the threaded GEMM did run on the pool (the 2-thread results above are not one thread twice)', () => {
    const jobs = two.wasm!.pool!.jobs;
    check(bmmCases('float32').find((c) => c.what.startsWith(`bmm float32 1×${Math.ceil(THREADS_MIN_FLOPS / 4096)}×64×64,`))!);
    expect(two.wasm!.pool!.jobs).toBeGreaterThan(jobs);
  });
});

// ---------------------------------------------------------------------------------------------
// Elementwise: every op of the IR

/** Ops whose float32 SIMD form is exact IEEE arithmetic (the rest are approximations or fall back). */
const IEEE = new Set(['neg', 'abs', 'sqrt', 'reciprocal', 'square', 'floor', 'ceil', 'round', 'trunc', 'relu', 'sign', 'not', 'isnan', 'add', 'sub', 'mul', 'div', 'max', 'min', 'lt', 'le', 'gt', 'ge', 'eq', 'ne', 'and', 'or']);
/** float32 ulp budgets of the SIMD approximations (vmath.test.ts holds them to these over the whole range). */
const ULPS: Record<string, number> = { rsqrt: 1, exp: 2, log: 2, tanh: 2, sigmoid: 2 };
/** Any other op that gains a SIMD form: at most this many ulps from the reference. */
const OTHER_ULPS = 4;

function opTol(op: string, dtype: DType): Tol {
  if (!isFloat(dtype) || IEEE.has(op)) return 'exact';
  if (dtype === 'float64') return 'exact';
  return ulpTol(dtype, ULPS[op] ?? OTHER_ULPS);
}

/**
 * Element counts and rows around the vector width (4 / 2 lanes), the loop's group of `UNROLL`
 * vectors (every count of vectors left after the last group, 0 to UNROLL - 1, and a partial last
 * vector), MIN_NUMEL and CHUNK.
 */
const FLAT = [
  ...new Set([
    MIN_NUMEL - 1, MIN_NUMEL, MIN_NUMEL + 1, MIN_NUMEL + 3,
    // float32: 1 .. UNROLL-1 vectors after the last group (the last one partial), then a partial group.
    ...Array.from({ length: UNROLL - 1 }, (_, k) => MIN_NUMEL + 4 * k + 2), MIN_NUMEL + 4 * (UNROLL - 1) + 1,
    CHUNK - 1, CHUNK + 1, 2 * CHUNK + 3,
  ]),
];
const ROWS2D: [number, number][] = [[20, 15], [20, 16], [20, 17], [3, 257]];
/** Rows longer than a chunk: dense and broadcast only (the other layouts are the same walk, longer). */
const LONG_ROWS: [number, number] = [2, CHUNK + 5];

function ewCase(s: ElementwiseSpec, shape: number[], layouts: Layout[], outLayout: 'dense' | 'transposed', params: number[], what: string): Case {
  const xs = s.inputDtypes.map((d, k) => data(d as DType, numel(shape), numel(shape) + 31 * k, { lo: -4, hi: 4, specials: true }));
  return {
    what: `${s.name} ${s.inputDtypes.join(',')}→${s.outDtype} [${shape}] ${layouts.join(',')} → ${outLayout} ${what}`,
    run: (be) => {
      const out = outLayout === 'dense' ? empty(be, s.outDtype, shape) : permuted(be, s.outDtype, shape, new Array(numel(shape)).fill(0), shape.map((_, i) => shape.length - 1 - i));
      be.compileElementwise(s)(out, s.inputDtypes.map((d, k) => input(be, d as DType, shape, xs[k]!, layouts[k]!)), params);
      return [out];
    },
    tol: 'exact',
  };
}

describe('every elementwise op of the IR: wasm (1 and 2 threads) against the JavaScript kernels', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`${dtype}: every unary op, sizes around the vector, threshold and chunk edges, every layout`, () => {
      for (const op of UNARY_FNS) {
        const s = spec(op, un(op, inp(0)), [dtype], dtype, 0, dtype);
        const tol = opTol(op, dtype);
        for (const n of FLAT) check({ ...ewCase(s, [n], ['dense'], 'dense', [], ''), tol });
        for (const [R, C] of ROWS2D) {
          for (const layout of LAYOUTS) check({ ...ewCase(s, [R, C], [layout], 'dense', [], ''), tol });
          check({ ...ewCase(s, [R, C], ['transposed'], 'transposed', [], ''), tol });
        }
        for (const layout of ['dense', 'broadcast'] as const) check({ ...ewCase(s, [...LONG_ROWS], [layout], 'dense', [], ''), tol });
        check({ ...ewCase(s, [0, 300], ['dense'], 'dense', [], ''), tol });
      }
    });

    it(`${dtype}: every binary op, dense and broadcast (row, column, scalar) on either side`, () => {
      for (const op of BINARY_FNS) {
        const s = spec(op, bin(op, inp(0), inp(1)), [dtype, dtype], dtype, 0, dtype);
        const tol = opTol(op, dtype);
        for (const n of [MIN_NUMEL + 1, CHUNK + 3]) check({ ...ewCase(s, [n], ['dense', 'dense'], 'dense', [], ''), tol });
        for (const [R, C] of [[20, 17], [3, 257]] as const) {
          const shape = [R, C];
          for (const pair of [['dense', 'broadcast'], ['broadcast', 'dense'], ['transposed', 'dense'], ['offset', 'step2']] as [Layout, Layout][]) {
            check({ ...ewCase(s, shape, pair, 'dense', [], ''), tol });
          }
          // Column and scalar broadcasts (stride 0 on the inner dim).
          const xs = data(dtype, R * C, 5, { specials: true });
          const col = data(dtype, R, 6);
          for (const [name, make] of [
            ['column', (be: CpuBackend) => viewOf(storageWith(be, dtype, col), shape, [1, 0])],
            ['scalar', (be: CpuBackend) => viewOf(storageWith(be, dtype, [col[0]!]), shape, [0, 0])],
          ] as const) {
            for (const side of [0, 1]) {
              check({
                what: `${op} ${dtype} [${shape}] ${name} broadcast as input ${side}`,
                run: (be) => {
                  const out = empty(be, dtype, shape);
                  const d = dense(be, dtype, shape, xs);
                  be.compileElementwise(s)(out, side === 0 ? [make(be), d] : [d, make(be)], []);
                  return [out];
                },
                tol,
              });
            }
          }
        }
      }
    });

    it(`${dtype}: fused expressions with params and constants, bool masks, in place`, () => {
      const x = inp(0);
      const sg = un('sigmoid', x);
      const exprs: [string, Expr, DType[], number][] = [
        ['silu', bin('mul', x, sg), [dtype], 0],
        ['siluBackward', bin('mul', inp(1), bin('mul', sg, bin('add', { op: 'const', value: 1 }, bin('mul', x, bin('sub', { op: 'const', value: 1 }, sg))))), [dtype, dtype], 0],
        ['affine', bin('add', bin('mul', x, par(0)), par(1)), [dtype], 2],
        ['masked', where(inp(0), inp(1), bin('mul', inp(1), { op: 'const', value: -2 })), ['bool', dtype], 0],
        ['tanhGelu', bin('mul', bin('mul', x, { op: 'const', value: 0.5 }), bin('add', { op: 'const', value: 1 }, un('tanh', bin('mul', x, { op: 'const', value: 0.7978845608 })))), [dtype], 0],
      ];
      for (const [name, e, ins, np] of exprs) {
        const s = spec(name, e, ins, dtype, np, dtype);
        // Composite float32 expressions round at every node: within 1e-6 of the reference's scale.
        const tol: Tol = dtype === 'float32' ? (w) => 1e-6 * (1 + Math.abs(w)) : 'exact';
        for (const shape of [[MIN_NUMEL + 1], [20, 17], [2, CHUNK + 5]]) {
          check({ ...ewCase(s, shape, ins.map(() => 'dense'), 'dense', [0.75, -1.25].slice(0, np), ''), tol });
          check({ ...ewCase(s, shape, ins.map((_, k) => (k === 0 ? 'broadcast' : 'offset')), 'dense', [0.75, -1.25].slice(0, np), ''), tol });
        }
      }
      // In place: the output is the first input.
      const s = spec('inplace', bin('add', bin('mul', inp(0), { op: 'const', value: 2 }), inp(1)), [dtype, dtype], dtype, 0, dtype);
      const xs = data(dtype, 3000, 1);
      const ys = data(dtype, 3000, 2);
      check({
        what: `in place ${dtype}`,
        run: (be) => {
          const v = dense(be, dtype, [3000], xs);
          be.compileElementwise(s)(v, [v, dense(be, dtype, [3000], ys)], []);
          return [v];
        },
        tol: 'exact',
      });
    });
  }

  it('work large enough to be split across threads (2^17 elements; 256×512 reductions and softmax)', () => {
    const [R, C] = [256, 512];
    const n = R * C;
    for (const dtype of ['float32', 'float64'] as const) {
      const x = inp(0);
      const sg = un('sigmoid', x);
      const siluBwd = spec('siluBackward', bin('mul', inp(1), bin('mul', sg, bin('add', { op: 'const', value: 1 }, bin('mul', x, bin('sub', { op: 'const', value: 1 }, sg))))), [dtype, dtype], dtype, 0, dtype);
      const add = spec('add', bin('add', inp(0), inp(1)), [dtype, dtype], dtype, 0, dtype);
      check({ ...ewCase(add, [n], ['dense', 'dense'], 'dense', [], ''), tol: 'exact' });
      check({ ...ewCase(add, [R, C], ['dense', 'broadcast'], 'dense', [], ''), tol: 'exact' });
      check({ ...ewCase(siluBwd, [n], ['dense', 'dense'], 'dense', [], ''), tol: dtype === 'float32' ? (w) => 1e-6 * (1 + Math.abs(w)) : 'exact' });
      for (const k of ['sum', 'max'] as const) {
        const xs = data(dtype, n, 7, { specials: k === 'max' });
        for (const axes of [[1], [0], [0, 1]]) {
          check({
            what: `${k} ${dtype} [${R}, ${C}] over ${axes}`,
            run: (be) => {
              const out = empty(be, dtype, [R, C].map((m, d) => (axes.includes(d) ? 1 : m)));
              be.kernels[k](out, dense(be, dtype, [R, C], xs), axes);
              return [out];
            },
            tol: k === 'sum' ? (dtype === 'float64' ? () => 1e-15 * 10 * n : ulpTol(dtype, 1)) : 'exact',
          });
        }
      }
      const xs = data(dtype, n, 8);
      check({
        what: `softmax ${dtype} [${R}, ${C}] along 1`,
        run: (be) => {
          const out = empty(be, dtype, [R, C]);
          be.kernels.softmax(out, dense(be, dtype, [R, C], xs), 1);
          return [out];
        },
        tol: relTol(dtype, 2e-6, 1e-12),
      });
    }
  });

  it('mixed and integer dtypes (which stay in JavaScript today) agree too', () => {
    const mixes: [string, Expr, DType[], DType, DType][] = [
      ['add f32+f64', bin('add', inp(0), inp(1)), ['float32', 'float64'], 'float64', 'float64'],
      ['mul i32', bin('mul', inp(0), inp(1)), ['int32', 'int32'], 'int32', 'int32'],
      ['lt → bool', bin('lt', inp(0), inp(1)), ['float32', 'float32'], 'bool', 'float32'],
      ['f32 → i32', un('floor', inp(0)), ['float32'], 'int32', 'float64'],
      ['bool and', bin('and', inp(0), inp(1)), ['bool', 'bool'], 'bool', 'int32'],
      ['bool → f32', bin('add', inp(0), { op: 'const', value: 0.5 }), ['bool'], 'float32', 'float32'],
    ];
    for (const [name, e, ins, out, compute] of mixes) {
      const s = spec(name, e, ins, out, 0, compute);
      for (const shape of [[MIN_NUMEL + 1], [20, 17], [2, CHUNK + 5]]) check({ ...ewCase(s, shape, ins.map(() => 'dense'), 'dense', [], '') });
    }
  });
});
