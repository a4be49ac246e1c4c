import type { DType, Expr, View } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from './backend.js';
import { generateBody } from './compile-elementwise.js';
import { erf } from './scalar-math.js';
import {
  bin, cst, dense, empty, indices, inp, numel, par, permuted, randoms, raw, rng, spec, un, values, viewOf, where, storageWith, at,
} from './test-utils/views.js';

const be = new CpuBackend();

const SPECIALS = [0, -0, 0.5, -0.5, 1.5, 2.5, -2.5, 1, -1, 3.7, -3.7, 1e-8, 0.3, 100, -100, Infinity, -Infinity, NaN];

function roundRef(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

const UNARY_REF: Record<string, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  expm1: Math.expm1,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  tanh: Math.tanh,
  sigmoid: (x) => (Number.isNaN(x) ? NaN : x === Infinity ? 1 : x === -Infinity ? 0 : 1 / (1 + Math.exp(-x))),
  relu: (x) => (Number.isNaN(x) ? NaN : x > 0 ? x : 0),
  sign: (x) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : 0),
  reciprocal: (x) => 1 / x,
  square: (x) => x * x,
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundRef,
  trunc: Math.trunc,
  erf,
  not: (x) => (x === 0 ? 1 : 0),
  isnan: (x) => (Number.isNaN(x) ? 1 : 0),
  atan: Math.atan,
  asin: Math.asin,
  acos: Math.acos,
};

const BINARY_REF: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => (a === 1 || (a === -1 && Math.abs(b) === Infinity) ? 1 : Math.pow(a, b)),
  max: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a > b ? a : b === a ? Math.max(a, b) : b),
  min: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a < b ? a : b === a ? Math.min(a, b) : b),
  atan2: Math.atan2,
  lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b),
  ge: (a, b) => +(a >= b),
  eq: (a, b) => +(a === b),
  ne: (a, b) => +(a !== b),
  and: (a, b) => +(a !== 0 && !Number.isNaN(a) ? b !== 0 : Number.isNaN(a) && b !== 0),
  or: (a, b) => +(a !== 0 || b !== 0),
};

function run(expr: Expr, ins: { dtype: DType; values: number[] }[], outDtype: DType, params: number[] = [], computeDtype?: DType): number[] {
  const shape = [ins[0]?.values.length ?? 1];
  const k = be.compileElementwise(spec('t', expr, ins.map((i) => i.dtype), outDtype, params.length, computeDtype));
  const out = empty(be, outDtype, shape);
  k(out, ins.map((i) => dense(be, i.dtype, shape, i.values)), params);
  return values(out);
}

/** Equality where NaN equals NaN and -0 equals 0 (the ops under test do not promise zero signs). */
function expectSame(actual: number[], expected: number[], ctx: string, rel = 0): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => {
    const e = expected[i]!;
    if (Number.isNaN(e)) expect(v, `${ctx} [${i}]`).toBeNaN();
    else if (rel > 0 && Number.isFinite(e)) expect(Math.abs(v - e), `${ctx} [${i}]`).toBeLessThanOrEqual(rel * Math.abs(e));
    else expect(v === 0 ? 0 : v, `${ctx} [${i}]`).toBe(e === 0 ? 0 : e);
  });
}

// Formulas that may differ from the reference by an ulp (sigmoid's stable branch for x < 0).
const REL_TOL: Record<string, number> = { sigmoid: 1e-15 };

describe('compiled elementwise: float ops', () => {
  it.each(Object.keys(UNARY_REF))('%s matches the reference on special values (float64)', (op) => {
    const got = run(un(op, inp(0)), [{ dtype: 'float64', values: SPECIALS }], 'float64');
    expectSame(got, SPECIALS.map(UNARY_REF[op]!), op, REL_TOL[op]);
  });

  it.each(Object.keys(UNARY_REF))('%s rounds once to float32 on a float32 output', (op) => {
    const xs = randoms(64, 7, -3, 3).map(Math.fround);
    const got = run(un(op, inp(0)), [{ dtype: 'float32', values: xs }], 'float32');
    expectSame(got, xs.map((x) => Math.fround(UNARY_REF[op]!(x))), op, REL_TOL[op] === undefined ? 0 : 1e-7);
  });

  it.each(Object.keys(BINARY_REF))('%s matches the reference on all pairs of special values', (op) => {
    const a: number[] = [];
    const b: number[] = [];
    for (const x of SPECIALS) for (const y of SPECIALS) {
      a.push(x);
      b.push(y);
    }
    const got = run(bin(op, inp(0), inp(1)), [{ dtype: 'float64', values: a }, { dtype: 'float64', values: b }], 'float64');
    expectSame(got, a.map((x, i) => BINARY_REF[op]!(x, b[i]!)), op);
  });

  it('rounds half to even', () => {
    const xs = [0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 2.4999, 2.5001];
    expect(run(un('round', inp(0)), [{ dtype: 'float32', values: xs }], 'float32')).toEqual([0, 2, 2, 4, -0, -2, -2, 2, 3]);
  });

  it('pow(0, 0) = 1 and max/min propagate NaN', () => {
    expect(run(bin('pow', inp(0), inp(1)), [{ dtype: 'float32', values: [0, 0, 2] }, { dtype: 'float32', values: [0, 1, -1] }], 'float32')).toEqual([1, 0, 0.5]);
    const mx = run(bin('max', inp(0), inp(1)), [{ dtype: 'float32', values: [NaN, 1, 2] }, { dtype: 'float32', values: [1, NaN, 1] }], 'float32');
    expect(mx[0]).toBeNaN();
    expect(mx[1]).toBeNaN();
    expect(mx[2]).toBe(2);
  });

  it('where selects on cond != 0 (NaN is true)', () => {
    const got = run(where(inp(0), inp(1), inp(2)), [
      { dtype: 'float64', values: [1, 0, NaN, -0, 0.1] },
      { dtype: 'float64', values: [10, 11, 12, 13, 14] },
      { dtype: 'float64', values: [20, 21, 22, 23, 24] },
    ], 'float64');
    expect(got).toEqual([10, 21, 12, 23, 14]);
  });

  it('evaluates constants and params, including NaN, infinities and -0', () => {
    const e = bin('add', bin('mul', inp(0), par(0)), par(1));
    expect(run(e, [{ dtype: 'float64', values: [1, 2, 3] }], 'float64', [10, 0.5])).toEqual([10.5, 20.5, 30.5]);
    const c = run(bin('add', inp(0), cst(-Infinity)), [{ dtype: 'float64', values: [1] }], 'float64');
    expect(c).toEqual([-Infinity]);
    expect(run(bin('mul', inp(0), cst(NaN)), [{ dtype: 'float64', values: [1] }], 'float64')[0]).toBeNaN();
    expect(Object.is(run(bin('mul', inp(0), cst(-0)), [{ dtype: 'float64', values: [1] }], 'float64')[0], -0)).toBe(true);
    expect(run(bin('sub', inp(0), cst(-2.5)), [{ dtype: 'float64', values: [1] }], 'float64')).toEqual([3.5]);
  });

  it('computes in float64 even when inputs and output are float32', () => {
    // (a + b) - a with a = 1e8 and b = 1 is 1 in double, 0 in float32 arithmetic.
    const e = bin('sub', bin('add', inp(0), inp(1)), inp(0));
    expect(run(e, [{ dtype: 'float32', values: [1e8] }, { dtype: 'float32', values: [1] }], 'float32')).toEqual([1]);
  });
});

describe('compiled elementwise: dtypes', () => {
  it('stores int32 by truncating toward zero and wrapping', () => {
    const xs = [2.7, -2.7, 0.5, -0.5, NaN, 3e9, -3e9, 2147483648, 1e20, 12345678.9];
    const got = run(inp(0), [{ dtype: 'float64', values: xs }], 'int32');
    const ref = xs.map((x) => (Number.isFinite(x) ? Number(BigInt.asIntN(32, BigInt(Math.trunc(x)))) : 0));
    expect(got).toEqual(ref);
    expect(ref.slice(0, 6)).toEqual([2, -2, 0, 0, 0, -1294967296]);
  });

  it('stores bool as value != 0 (NaN is true)', () => {
    expect(run(inp(0), [{ dtype: 'float32', values: [0, -0, 0.5, -1, NaN, Infinity, 256] }], 'bool')).toEqual([0, 0, 1, 1, 1, 1, 1]);
    expect(run(inp(0), [{ dtype: 'int32', values: [0, 256, -1] }], 'bool')).toEqual([0, 1, 1]);
  });

  it('reads bool as 0/1 and compares to 0/1', () => {
    expect(run(bin('add', inp(0), inp(1)), [{ dtype: 'bool', values: [0, 1, 1] }, { dtype: 'float32', values: [0.5, 0.5, 2] }], 'float32')).toEqual([0.5, 1.5, 3]);
    expect(run(bin('lt', inp(0), inp(1)), [{ dtype: 'float32', values: [1, 2, NaN] }, { dtype: 'float32', values: [2, 2, 1] }], 'bool')).toEqual([1, 0, 0]);
    expect(run(bin('and', inp(0), inp(1)), [{ dtype: 'bool', values: [0, 1, 1, 0] }, { dtype: 'bool', values: [0, 0, 1, 1] }], 'bool')).toEqual([0, 0, 1, 0]);
    expect(run(bin('or', inp(0), inp(1)), [{ dtype: 'bool', values: [0, 1, 1, 0] }, { dtype: 'bool', values: [0, 0, 1, 1] }], 'bool')).toEqual([0, 1, 1, 1]);
    expect(run(un('not', inp(0)), [{ dtype: 'bool', values: [0, 1] }], 'bool')).toEqual([1, 0]);
    expect(run(un('not', inp(0)), [{ dtype: 'float32', values: [0, NaN, 2] }], 'bool')).toEqual([1, 0, 0]);
  });

  it('uses wrapping int32 arithmetic when every operand is int32/bool', () => {
    const I32 = [0, 1, -1, 7, -7, 2147483647, -2147483648, 46341, 65536, 3];
    const a: number[] = [];
    const b: number[] = [];
    for (const x of I32) for (const y of I32) {
      a.push(x);
      b.push(y);
    }
    const w = (v: bigint) => Number(BigInt.asIntN(32, v));
    const refs: Record<string, (x: number, y: number) => number> = {
      add: (x, y) => w(BigInt(x) + BigInt(y)),
      sub: (x, y) => w(BigInt(x) - BigInt(y)),
      mul: (x, y) => w(BigInt(x) * BigInt(y)),
      max: Math.max,
      min: Math.min,
      eq: (x, y) => +(x === y),
      ge: (x, y) => +(x >= y),
    };
    for (const [op, ref] of Object.entries(refs)) {
      const got = run(bin(op, inp(0), inp(1)), [{ dtype: 'int32', values: a }, { dtype: 'int32', values: b }], 'int32');
      expect(got, op).toEqual(a.map((x, i) => ref(x, b[i]!)));
    }
    // Intermediate overflow wraps as it would in int32: (2^31-1 + 1) * 2 = 0.
    const chain = bin('mul', bin('add', inp(0), cst(1)), cst(2));
    expect(run(chain, [{ dtype: 'int32', values: [2147483647] }], 'int32')).toEqual([0]);
    expect(run(un('neg', inp(0)), [{ dtype: 'int32', values: [-2147483648, 5] }], 'int32')).toEqual([-2147483648, -5]);
    expect(run(un('square', inp(0)), [{ dtype: 'int32', values: [46341, -3] }], 'int32')).toEqual([w(46341n * 46341n), 9]);
    expect(run(un('sign', inp(0)), [{ dtype: 'int32', values: [-5, 0, 9] }], 'int32')).toEqual([-1, 0, 1]);
    expect(run(bin('pow', inp(0), inp(1)), [{ dtype: 'int32', values: [2, 3, -2] }, { dtype: 'int32', values: [31, 4, 3] }], 'int32')).toEqual([-2147483648, 81, -8]);
  });

  it('computes in float when computeDtype is float, even with int32 inputs and output', () => {
    // int32 tensor compared with (or added to) 2.5: core promotes the compute type to float.
    const xs = [1, 2, 3, -3];
    expect(run(bin('lt', inp(0), par(0)), [{ dtype: 'int32', values: xs }], 'bool', [2.5], 'float32')).toEqual([1, 1, 0, 1]);
    expect(run(bin('add', inp(0), par(0)), [{ dtype: 'int32', values: xs }], 'int32', [2.5], 'float32')).toEqual([3, 4, 5, 0]);
    // Same expression in int compute: (x + 2.5) | 0 truncates at the add.
    expect(run(bin('mul', bin('add', inp(0), par(0)), cst(2)), [{ dtype: 'int32', values: xs }], 'int32', [2.5], 'float32')).toEqual([7, 9, 11, -1]);
    expect(run(bin('mul', bin('add', inp(0), par(0)), cst(2)), [{ dtype: 'int32', values: xs }], 'int32', [2], 'int32')).toEqual([6, 8, 10, -2]);
  });

  it('promotes int inputs to float compute for a float output', () => {
    expect(run(bin('mul', inp(0), inp(1)), [{ dtype: 'int32', values: [2147483647] }, { dtype: 'int32', values: [2] }], 'float64')).toEqual([4294967294]);
  });
});

describe('compiled elementwise: layouts', () => {
  const shape = [3, 4, 5];
  const n = numel(shape);
  const xa = randoms(n, 1);
  const xb = randoms(n, 2);
  const e = bin('add', bin('mul', inp(0), inp(1)), par(0));
  const expected = xa.map((v, i) => v * xb[i]! + 0.25);

  it('handles permuted (transposed) inputs and outputs with offsets', () => {
    const k = be.compileElementwise(spec('fma', e, ['float64', 'float64'], 'float64', 1));
    for (const [pa, pb, po] of [[[2, 0, 1], [0, 1, 2], [0, 1, 2]], [[0, 1, 2], [1, 2, 0], [2, 1, 0]], [[2, 1, 0], [2, 1, 0], [2, 1, 0]]] as const) {
      const a = permuted(be, 'float64', shape, xa, pa);
      const b = permuted(be, 'float64', shape, xb, pb);
      const out = permuted(be, 'float64', shape, new Array(n).fill(0), po, 5);
      k(out, [a, b], [0.25]);
      const got = values(out);
      got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 14));
      // The junk around the view is untouched.
      expect(raw(out)[0]).toBe(-12345);
    }
  });

  it('handles broadcast inputs (stride 0), including a single broadcast element', () => {
    const k = be.compileElementwise(spec('sub', bin('sub', inp(0), inp(1)), ['float32', 'float32'], 'float32'));
    const rowVals = [10, 20, 30, 40, 50];
    const row = viewOf(storageWith(be, 'float32', [0, ...rowVals]), shape, [0, 0, 1], 1);
    const a = dense(be, 'float32', shape, xa);
    const out = empty(be, 'float32', shape);
    k(out, [a, row], []);
    values(out).forEach((v, i) => expect(v).toBe(Math.fround(Math.fround(xa[i]!) - rowVals[i % 5]!)));

    const scalar = viewOf(storageWith(be, 'float32', [9, 2.5]), shape, [0, 0, 0], 1);
    k(out, [a, scalar], []);
    values(out).forEach((v, i) => expect(v).toBe(Math.fround(Math.fround(xa[i]!) - 2.5)));
    k(out, [scalar, a], []);
    values(out).forEach((v, i) => expect(v).toBe(Math.fround(2.5 - Math.fround(xa[i]!))));
  });

  it('works in place (input is the output view), contiguous and strided', () => {
    const k = be.compileElementwise(spec('axpy', bin('add', bin('mul', inp(0), cst(2)), inp(1)), ['float64', 'float64'], 'float64'));
    const x = dense(be, 'float64', shape, xa);
    const y = dense(be, 'float64', shape, xb);
    k(x, [x, y], []);
    values(x).forEach((v, i) => expect(v).toBe(xa[i]! * 2 + xb[i]!));

    const xt = permuted(be, 'float64', shape, xa, [2, 1, 0]);
    const yt = permuted(be, 'float64', shape, xb, [1, 0, 2]);
    k(xt, [yt, xt], []);
    values(xt).forEach((v, i) => expect(v).toBe(xb[i]! * 2 + xa[i]!));
  });

  it('handles rank 0, size-1 dims and empty tensors', () => {
    const k = be.compileElementwise(spec('exp', un('exp', inp(0)), ['float64'], 'float64'));
    const x0 = viewOf(storageWith(be, 'float64', [0, 1]), [], [], 1);
    const o0 = viewOf(storageWith(be, 'float64', [0]), [], []);
    k(o0, [x0], []);
    expect(values(o0)).toEqual([Math.E]);

    const x1 = viewOf(storageWith(be, 'float64', [1, 2, 3]), [3, 1, 1], [1, 7, 9]);
    const o1 = viewOf(storageWith(be, 'float64', [0, 0, 0]), [3, 1, 1], [1, 3, 3]);
    k(o1, [x1], []);
    expect(values(o1)).toEqual([1, 2, 3].map(Math.exp));

    const xe = viewOf(storageWith(be, 'float64', [5]), [0, 3], [3, 1]);
    const oe = viewOf(storageWith(be, 'float64', [5]), [0, 3], [3, 1]);
    k(oe, [xe], []);
    expect(raw(oe)[0]).toBe(5);
  });

  it('walks a strided output in the general N-d loop (rank 5, mixed strides)', () => {
    const s5 = [2, 3, 1, 4, 3];
    const m = numel(s5);
    const va = randoms(m, 11);
    const vb = randoms(3, 12);
    const k = be.compileElementwise(spec('mx', bin('max', inp(0), inp(1)), ['float64', 'float64'], 'float64'));
    const a = permuted(be, 'float64', s5, va, [3, 0, 4, 1, 2]);
    const b = viewOf(storageWith(be, 'float64', vb), s5, [0, 0, 0, 0, 1]);
    const out = permuted(be, 'float64', s5, new Array(m).fill(0), [4, 3, 2, 1, 0]);
    k(out, [a, b], []);
    const want = [...indices(s5)].map((idx, i) => Math.max(va[i]!, vb[idx[4]!]!));
    expect(values(out)).toEqual(want);
    expect(at(out, [1, 2, 0, 3, 2])).toBe(want[m - 1]);
  });
});

describe('compiled elementwise: compilation', () => {
  it('evaluates a shared node once (CSE by identity)', () => {
    const shared = un('exp', inp(0));
    const body = generateBody(bin('mul', shared, bin('add', shared, shared)), 'float');
    expect(body.statements.match(/Math\.exp/g)).toHaveLength(1);
    expect(body.statements.split('\n')).toHaveLength(3);
    expect(body.inputs).toEqual([0]);
  });

  it('handles deep expression chains', () => {
    let e: Expr = inp(0);
    for (let i = 0; i < 3000; i++) e = bin('add', e, cst(1));
    expect(run(e, [{ dtype: 'float64', values: [1, 2] }], 'float64')).toEqual([3001, 3002]);
  });

  it('caches kernels by spec.key', () => {
    const b2 = new CpuBackend();
    const s = spec('neg', un('neg', inp(0)), ['float32'], 'float32');
    const k1 = b2.compileElementwise(s);
    expect(b2.compileElementwise({ ...s })).toBe(k1);
    expect(b2.compileElementwise({ ...s, key: 'other' })).not.toBe(k1);
  });

  it('reports bad specs and calls', () => {
    expect(() => be.compileElementwise(spec('bad', inp(2), ['float32'], 'float32'))).toThrow(/reads input 2/);
    expect(() => be.compileElementwise(spec('bad', par(0), ['float32'], 'float32'))).toThrow(/reads param 0/);
    expect(() => be.compileElementwise(spec('bad', un('frob', inp(0)), ['float32'], 'float32'))).toThrow(/unknown op 'frob'/);
    const k = be.compileElementwise(spec('id', inp(0), ['float32'], 'float32'));
    const x = dense(be, 'float32', [2], [1, 2]);
    expect(() => k(x, [], [])).toThrow(/expected 1 inputs/);
    expect(() => k(x, [dense(be, 'float32', [3], [1, 2, 3])], [])).toThrow(/input 0 has shape \[3\]/);
    const foreign: View = { storage: { dtype: 'float32', numel: 2, byteLength: 8 }, dtype: 'float32', shape: [2], strides: [1], offset: 0 };
    expect(() => k(x, [foreign], [])).toThrow(/not a cpu storage/);
  });

  it('names generated functions after the op', () => {
    const k = be.compileElementwise(spec('3d-op', bin('div', inp(0), cst(0)), ['float32'], 'float32'));
    const x = dense(be, 'float32', [2], [1, -1]);
    k(x, [x], []);
    expect(values(x)).toEqual([Infinity, -Infinity]);
  });
});

describe('compiled elementwise: random geometries', () => {
  it('matches a naive evaluation for random shapes, permutations and broadcasts', () => {
    const r = rng(2024);
    const pick = (n: number) => Math.floor(r() * n);
    const shuffle = (n: number) => {
      const p = [...Array(n).keys()];
      for (let i = n - 1; i > 0; i--) {
        const j = pick(i + 1);
        [p[i], p[j]] = [p[j]!, p[i]!];
      }
      return p;
    };
    const k = be.compileElementwise(spec('fuzz', bin('sub', bin('mul', inp(0), inp(1)), inp(0)), ['float64', 'float64'], 'float64'));
    for (let t = 0; t < 60; t++) {
      const rank = 1 + pick(4);
      const shape = Array.from({ length: rank }, () => 1 + pick(4));
      const n = numel(shape);
      const va = randoms(n, 100 + t);
      const a = permuted(be, 'float64', shape, va, shuffle(rank), pick(4));
      // b: a smaller tensor broadcast along random dims (stride 0 there).
      const bshape = shape.map((d) => (r() < 0.4 ? 1 : d));
      const vb = randoms(numel(bshape), 200 + t);
      const bsrc = permuted(be, 'float64', bshape, vb, shuffle(rank), pick(4));
      const b: View = { ...bsrc, shape, strides: bsrc.strides.map((s, d) => (bshape[d] === 1 ? 0 : s)) };
      const out = permuted(be, 'float64', shape, new Array(n).fill(0), shuffle(rank), pick(4));
      const inPlace = r() < 0.3;
      k(inPlace ? a : out, [a, b], []);
      const bIdx = (idx: number[]) => idx.reduce((s, v, d) => s * bshape[d]! + (bshape[d] === 1 ? 0 : v), 0);
      const want = [...indices(shape)].map((idx, i) => va[i]! * vb[bIdx(idx)]! - va[i]!);
      expect(values(inPlace ? a : out), `case ${t}: shape ${shape}`).toEqual(want);
    }
  });
});
