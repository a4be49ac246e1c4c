/**
 * Property tests: broadcasting, views and reductions on random shapes, checked against a plain
 * JavaScript reference written below (row-major arrays, no strides, no cleverness). Everything
 * runs in float64 so the comparisons can be tight.
 */
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
});

const RUNS = { numRuns: 100 };
const TOL = 1e-9;

// ---------------------------------------------------------------------------------------------
// The reference: shapes, multi-indices, and arrays as { shape, data } in row-major order.

type Shape = number[];

const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function unravel(k: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = k % shape[i]!;
    k = Math.floor(k / shape[i]!);
  }
  return idx;
}

function ravel(idx: readonly number[], shape: readonly number[]): number {
  let k = 0;
  for (let i = 0; i < shape.length; i++) k = k * shape[i]! + idx[i]!;
  return k;
}

interface Arr {
  shape: Shape;
  data: number[];
}

function broadcastShape(a: Shape, b: Shape): Shape {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    return da === 1 ? db : da;
  });
}

/** The index into an operand of `shape` that output index `out` reads under broadcasting. */
function broadcastIndex(out: readonly number[], shape: Shape): number[] {
  const off = out.length - shape.length;
  return shape.map((d, i) => (d === 1 ? 0 : out[i + off]!));
}

/** Reduces `x` over `axes` (sorted, unique) with `f` over each group's values. */
function reduceRef(x: Arr, axes: number[], keepdim: boolean, f: (vals: number[]) => number): Arr {
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const groups: number[][] = Array.from({ length: numel(keptShape) }, () => []);
  x.data.forEach((v, k) => {
    const idx = unravel(k, x.shape).map((j, i) => (axes.includes(i) ? 0 : j));
    groups[ravel(idx, keptShape)]!.push(v);
  });
  const shape = keepdim ? keptShape : x.shape.filter((_, i) => !axes.includes(i));
  return { shape, data: groups.map(f) };
}

/**
 * A view in the reference is the list of base positions it reads, in row-major order. Every view
 * op maps an output index to an input index; writes through a view land at those positions.
 */
interface RefView {
  shape: Shape;
  idx: number[];
}

function remap(v: RefView, shape: Shape, inIndexOf: (out: number[]) => number[]): RefView {
  return { shape, idx: Array.from({ length: numel(shape) }, (_, k) => v.idx[ravel(inIndexOf(unravel(k, shape)), v.shape)]!) };
}

// ---------------------------------------------------------------------------------------------
// Generators.

const dim = fc.integer({ min: 1, max: 4 });
const shapeArb = fc.array(dim, { minLength: 0, maxLength: 4 });
const value = fc.double({ min: -4, max: 4, noNaN: true, noDefaultInfinity: true });

/** `n` values from `arb`. */
const dataOf = (n: number, arb: fc.Arbitrary<number> = value): fc.Arbitrary<number[]> => fc.array(arb, { minLength: n, maxLength: n });

/** A shape that broadcasts to `out`: a suffix of it with some dims set to 1. */
const broadcastableTo = (out: Shape): fc.Arbitrary<Shape> =>
  fc
    .tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
    .map(([rank, ones]) => out.slice(out.length - rank).map((d, i) => (ones[i + out.length - rank] ? 1 : d)));

const f64 = (x: Arr): Tensor => rt.tensor(Float64Array.from(x.data), { shape: x.shape, dtype: 'float64' });

function expectArr(t: Tensor, ref: Arr, tol = TOL): void {
  expect(t.shape).toEqual(ref.shape);
  const got = t.dataSync();
  expect(got.length).toBe(ref.data.length);
  ref.data.forEach((want, k) => {
    const have = got[k]!;
    if (!(Math.abs(have - want) <= tol * (1 + Math.abs(want)))) {
      throw new Error(`element ${k} (index [${unravel(k, ref.shape).join(', ')}]): got ${have}, expected ${want}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Broadcasting.

interface BinaryCase {
  name: 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'pow';
  f: (a: number, b: number) => number;
  /** ∂f/∂a and ∂f/∂b. */
  da: (a: number, b: number) => number;
  db: (a: number, b: number) => number;
  a: fc.Arbitrary<number>;
  b: fc.Arbitrary<number>;
}

const nonZero = fc.tuple(fc.double({ min: 0.5, max: 3, noNaN: true }), fc.boolean()).map(([v, s]) => (s ? v : -v));
const positive = fc.double({ min: 0.5, max: 2, noNaN: true });
// Integers in a small range make ties likely, so maximum/minimum hit the a == b case.
const smallInt = fc.integer({ min: -3, max: 3 });

const BINARY: BinaryCase[] = [
  { name: 'add', f: (a, b) => a + b, da: () => 1, db: () => 1, a: value, b: value },
  { name: 'sub', f: (a, b) => a - b, da: () => 1, db: () => -1, a: value, b: value },
  { name: 'mul', f: (a, b) => a * b, da: (_, b) => b, db: (a) => a, a: value, b: value },
  { name: 'div', f: (a, b) => a / b, da: (_, b) => 1 / b, db: (a, b) => -a / (b * b), a: value, b: nonZero },
  { name: 'pow', f: (a, b) => a ** b, da: (a, b) => b * a ** (b - 1), db: (a, b) => a ** b * Math.log(a), a: positive, b: value },
  // PyTorch splits the gradient evenly between equal operands of maximum/minimum.
  { name: 'maximum', f: Math.max, da: (a, b) => (a > b ? 1 : a === b ? 0.5 : 0), db: (a, b) => (b > a ? 1 : a === b ? 0.5 : 0), a: smallInt, b: smallInt },
  { name: 'minimum', f: Math.min, da: (a, b) => (a < b ? 1 : a === b ? 0.5 : 0), db: (a, b) => (b < a ? 1 : a === b ? 0.5 : 0), a: smallInt, b: smallInt },
];

/** Two operand shapes that broadcast together, either way round, and their data. */
const binaryCase = (c: BinaryCase) =>
  shapeArb
    .chain((out) => fc.tuple(broadcastableTo(out), fc.constant(out), fc.boolean()))
    .map(([small, out, swap]) => (swap ? [out, small] : [small, out]) as [Shape, Shape])
    .chain(([sa, sb]) => fc.tuple(fc.constant(sa), fc.constant(sb), dataOf(numel(sa), c.a), dataOf(numel(sb), c.b), dataOf(numel(broadcastShape(sa, sb)))));

function binaryRef(c: BinaryCase, a: Arr, b: Arr, w: number[]): { out: Arr; ga: number[]; gb: number[] } {
  const shape = broadcastShape(a.shape, b.shape);
  const ga = new Array<number>(a.data.length).fill(0);
  const gb = new Array<number>(b.data.length).fill(0);
  const data = Array.from({ length: numel(shape) }, (_, k) => {
    const out = unravel(k, shape);
    const ia = ravel(broadcastIndex(out, a.shape), a.shape);
    const ib = ravel(broadcastIndex(out, b.shape), b.shape);
    const [x, y] = [a.data[ia]!, b.data[ib]!];
    ga[ia]! += w[k]! * c.da(x, y);
    gb[ib]! += w[k]! * c.db(x, y);
    return c.f(x, y);
  });
  return { out: { shape, data }, ga, gb };
}

describe('broadcasting of binary ops matches NumPy rules', () => {
  for (const c of BINARY) {
    it(`${c.name}: values over random compatible shapes, and gradients summed back to each operand's shape`, () => {
      fc.assert(
        fc.property(binaryCase(c), ([sa, sb, da, db, w]) => {
          const a = { shape: sa, data: da };
          const b = { shape: sb, data: db };
          const ref = binaryRef(c, a, b, w);
          const ta = f64(a).requiresGrad_();
          const tb = f64(b).requiresGrad_();
          const out = ta[c.name](tb);
          expectArr(out, ref.out);
          out.mul(f64({ shape: ref.out.shape, data: w })).sum().backward();
          expectArr(ta.grad!, { shape: sa, data: ref.ga }, 1e-8);
          expectArr(tb.grad!, { shape: sb, data: ref.gb }, 1e-8);
        }),
        RUNS,
      );
    });
  }

  it('a JS number operand broadcasts like a 0-d tensor and keeps float64', () => {
    fc.assert(
      fc.property(shapeArb.chain((s) => fc.tuple(fc.constant(s), dataOf(numel(s)), value)), ([s, d, k]) => {
        const t = f64({ shape: s, data: d });
        const r = t.mul(k).add(k);
        expect(r.dtype).toBe('float64');
        expectArr(r, { shape: s, data: d.map((v) => v * k + k) });
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Views.

/** One step of a view chain, drawn as raw numbers and interpreted against the current shape. */
interface Step {
  kind: number;
  a: number;
  b: number;
  c: number;
}
const stepArb: fc.Arbitrary<Step> = fc.record({ kind: fc.nat(), a: fc.nat(), b: fc.nat(), c: fc.nat() });

/** A permutation of 0..n-1 chosen by `seed`. */
function permutationOf(n: number, seed: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  let s = seed + 1;
  for (let i = n - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

type ViewOp = 'transpose' | 'permute' | 'narrow' | 'select' | 'unsqueeze' | 'squeeze' | 'expand' | 'reshape';
const ALIASING_OPS: ViewOp[] = ['transpose', 'permute', 'narrow', 'select', 'unsqueeze', 'squeeze'];
const ALL_OPS: ViewOp[] = [...ALIASING_OPS, 'expand', 'reshape'];

/**
 * Applies one step to both the tensor and the reference view; returns null when the step does
 * not apply to this shape. Half the dims are passed negative, as PyTorch allows.
 */
function applyStep(t: Tensor, v: RefView, step: Step, ops: ViewOp[]): { t: Tensor; v: RefView; desc: string } | null {
  const op = ops[step.kind % ops.length]!;
  const s = v.shape;
  const nd = s.length;
  const neg = (d: number, n = nd): number => (step.c % 2 === 1 ? d - n : d);
  switch (op) {
    case 'transpose': {
      if (nd === 0) return null;
      const [d0, d1] = [step.a % nd, step.b % nd];
      const shape = s.slice();
      [shape[d0], shape[d1]] = [s[d1]!, s[d0]!];
      const rv = remap(v, shape, (o) => {
        const i = o.slice();
        [i[d0], i[d1]] = [o[d1]!, o[d0]!];
        return i;
      });
      return { t: t.transpose(neg(d0), d1), v: rv, desc: `transpose(${neg(d0)}, ${d1})` };
    }
    case 'permute': {
      const p = permutationOf(nd, step.a);
      const shape = p.map((d) => s[d]!);
      const rv = remap(v, shape, (o) => {
        const i = new Array<number>(nd);
        p.forEach((d, k) => (i[d] = o[k]!));
        return i;
      });
      return { t: t.permute(p), v: rv, desc: `permute(${p.join(', ')})` };
    }
    case 'narrow': {
      if (nd === 0) return null;
      const d = step.a % nd;
      const start = step.b % s[d]!;
      const len = 1 + (step.c % (s[d]! - start));
      const shape = s.slice();
      shape[d] = len;
      const rv = remap(v, shape, (o) => o.map((j, k) => (k === d ? j + start : j)));
      return { t: t.narrow(d, start, len), v: rv, desc: `narrow(${d}, ${start}, ${len})` };
    }
    case 'select': {
      if (nd === 0) return null;
      const d = step.a % nd;
      const i = step.b % s[d]!;
      const shape = s.filter((_, k) => k !== d);
      const rv = remap(v, shape, (o) => [...o.slice(0, d), i, ...o.slice(d)]);
      return { t: t.select(neg(d), i), v: rv, desc: `select(${neg(d)}, ${i})` };
    }
    case 'unsqueeze': {
      if (nd >= 5) return null;
      const d = step.a % (nd + 1);
      const shape = [...s.slice(0, d), 1, ...s.slice(d)];
      const rv = remap(v, shape, (o) => [...o.slice(0, d), ...o.slice(d + 1)]);
      return { t: t.unsqueeze(neg(d, nd + 1)), v: rv, desc: `unsqueeze(${neg(d, nd + 1)})` };
    }
    case 'squeeze': {
      const ones = s.map((d, k) => (d === 1 ? k : -1)).filter((k) => k >= 0);
      if (ones.length === 0) return null;
      const d = ones[step.a % ones.length]!;
      const shape = s.filter((_, k) => k !== d);
      const rv = remap(v, shape, (o) => [...o.slice(0, d), 0, ...o.slice(d)]);
      return { t: t.squeeze(d), v: rv, desc: `squeeze(${d})` };
    }
    case 'expand': {
      // Grow size-1 dims and maybe add a leading dim; keep the element count small.
      const lead = nd < 4 && step.c % 3 === 0 ? [1 + (step.b % 3)] : [];
      const shape = [...lead, ...s.map((d, k) => (d === 1 && (step.a >> k) % 2 === 1 ? 1 + (step.b % 3) : d))];
      if (numel(shape) > 256) return null;
      const rv = remap(v, shape, (o) => s.map((d, k) => (d === 1 ? 0 : o[k + lead.length]!)));
      const arg = step.a % 2 === 0 ? shape : shape.map((d, k) => (k >= lead.length && d === s[k - lead.length] ? -1 : d));
      return { t: t.expand(arg), v: rv, desc: `expand(${arg.join(', ')})` };
    }
    case 'reshape': {
      // Flatten, merge two neighbours, or insert a 1 — row-major order is all that matters.
      const n = numel(s);
      let shape: Shape;
      const mode = step.a % 3;
      if (mode === 0) shape = [n];
      else if (mode === 1 && nd >= 2) {
        const d = step.b % (nd - 1);
        shape = [...s.slice(0, d), s[d]! * s[d + 1]!, ...s.slice(d + 2)];
      } else {
        if (nd >= 5) return null;
        const d = step.b % (nd + 1);
        shape = [...s.slice(0, d), 1, ...s.slice(d)];
      }
      const arg = step.c % 2 === 1 && shape.length > 0 ? shape.map((d, k) => (k === step.b % shape.length ? -1 : d)) : shape;
      return { t: t.reshape(arg), v: { shape, idx: v.idx }, desc: `reshape(${arg.join(', ')})` };
    }
  }
}

function runChain(t: Tensor, v: RefView, steps: Step[], ops: ViewOp[]): { t: Tensor; v: RefView; trace: string[] } {
  const trace: string[] = [];
  for (const st of steps) {
    const r = applyStep(t, v, st, ops);
    if (r === null) continue;
    trace.push(r.desc);
    ({ t, v } = r);
    expect(t.shape, trace.join('.')).toEqual(v.shape);
  }
  return { t, v, trace };
}

const baseCase = shapeArb.chain((s) => fc.tuple(fc.constant(s), dataOf(numel(s))));

const identity = (shape: Shape): RefView => ({ shape, idx: Array.from({ length: numel(shape) }, (_, k) => k) });

describe('views', () => {
  it('chains of transpose/permute/narrow/select/expand/reshape/squeeze/unsqueeze read the right values', () => {
    fc.assert(
      fc.property(baseCase, fc.array(stepArb, { maxLength: 6 }), ([s, d], steps) => {
        const x = f64({ shape: s, data: d });
        const { t, v, trace } = runChain(x, identity(s), steps, ALL_OPS);
        const ref = { shape: v.shape, data: v.idx.map((k) => d[k]!) };
        try {
          expectArr(t, ref, 0);
        } catch (e) {
          throw new Error(`x${s.length ? `[${s.join(', ')}]` : '[]'}.${trace.join('.')}: ${(e as Error).message}`);
        }
      }),
      RUNS,
    );
  });

  it('the gradient through a view chain lands on the base positions each element came from', () => {
    fc.assert(
      fc.property(
        baseCase,
        fc.array(stepArb, { maxLength: 6 }),
        fc.infiniteStream(value),
        ([s, d], steps, ws) => {
          const x = f64({ shape: s, data: d }).requiresGrad_();
          const { t, v } = runChain(x, identity(s), steps, ALL_OPS);
          const w = Array.from({ length: v.idx.length }, () => ws.next().value as number);
          t.mul(f64({ shape: v.shape, data: w })).sum().backward();
          const want = new Array<number>(d.length).fill(0);
          v.idx.forEach((k, j) => (want[k]! += w[j]!));
          expectArr(x.grad!, { shape: s, data: want }, 1e-12);
        },
      ),
      RUNS,
    );
  });

  it('writes through a view are visible in the base, and writes to the base in the view', () => {
    fc.assert(
      fc.property(
        baseCase,
        fc.array(stepArb, { maxLength: 6 }),
        fc.infiniteStream(value),
        ([s, d], steps, ws) => {
          const base = f64({ shape: s, data: d });
          const { t: view, v } = runChain(base, identity(s), steps, ALIASING_OPS);
          const w = Array.from({ length: v.idx.length }, () => ws.next().value as number);
          view.add_(f64({ shape: v.shape, data: w }));
          const want = d.slice();
          v.idx.forEach((k, j) => (want[k]! += w[j]!));
          expectArr(base, { shape: s, data: want }, 0);
          base.mul_(2);
          expectArr(view, { shape: v.shape, data: v.idx.map((k) => 2 * want[k]!) }, 0);
        },
      ),
      RUNS,
    );
  });

  it('round trips give back the original: transpose twice, permute then its inverse, reshape flat and back', () => {
    fc.assert(
      fc.property(baseCase, fc.nat(), fc.nat(), fc.nat(), ([s, d], a, b, seed) => {
        const x = f64({ shape: s, data: d });
        const nd = s.length;
        const orig = { shape: s, data: d };
        if (nd > 0) {
          const [d0, d1] = [a % nd, b % nd];
          const tt = x.transpose(d0, d1).transpose(d0, d1);
          expectArr(tt, orig, 0);
          expect(tt.isContiguous()).toBe(true);
        }
        const p = permutationOf(nd, seed);
        const inv = new Array<number>(nd);
        p.forEach((q, i) => (inv[q] = i));
        const pp = x.permute(p).permute(inv);
        expectArr(pp, orig, 0);
        expect(pp.isContiguous()).toBe(true);
        const flat = x.reshape(-1);
        expect(flat.shape).toEqual([numel(s)]);
        expectArr(flat.reshape(s), orig, 0);
        expectArr(x.permute(p).contiguous().permute(inv), orig, 0);
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Reductions.

type ReduceName = 'sum' | 'mean' | 'amax' | 'amin' | 'prod';

const REDUCE: Record<ReduceName, (vals: number[]) => number> = {
  sum: (v) => v.reduce((a, b) => a + b, 0),
  mean: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  amax: (v) => Math.max(...v),
  amin: (v) => Math.min(...v),
  prod: (v) => v.reduce((a, b) => a * b, 1),
};

/** The gradient of one group's reduced value w.r.t. each of its members. */
const REDUCE_GRAD: Record<ReduceName, (vals: number[]) => number[]> = {
  sum: (v) => v.map(() => 1),
  mean: (v) => v.map(() => 1 / v.length),
  // Ties share the gradient evenly, as in PyTorch.
  amax: (v) => {
    const m = Math.max(...v);
    const n = v.filter((x) => x === m).length;
    return v.map((x) => (x === m ? 1 / n : 0));
  },
  amin: (v) => {
    const m = Math.min(...v);
    const n = v.filter((x) => x === m).length;
    return v.map((x) => (x === m ? 1 / n : 0));
  },
  prod: (v) => v.map((_, i) => v.reduce((a, b, j) => (j === i ? a : a * b), 1)),
};

/**
 * A shape, data, the dims to reduce (undefined: all; a number; or a list, some negative) and
 * keepdim. amax/amin draw small integers so ties happen; prod draws values away from 0 and ±∞.
 */
const reduceCase = (name: ReduceName) =>
  shapeArb.chain((s) =>
    fc.tuple(
      fc.constant(s),
      dataOf(numel(s), name === 'amax' || name === 'amin' ? smallInt : name === 'prod' ? nonZero : value),
      // 0-d tensors with an explicit dim are covered by their own test below (a core bug).
      s.length === 0 ? fc.constant(undefined) : fc.oneof(fc.constant(undefined), oneDim(s.length), dimList(s.length)),
      fc.boolean(),
      dataOf(numel(s)),
    ),
  );

/** One dim of a rank-`nd` tensor (nd ≥ 1), possibly negative. */
const oneDim = (nd: number): fc.Arbitrary<number> => fc.integer({ min: -nd, max: nd - 1 });

/** A non-empty set of distinct dims of a rank-`nd` tensor (nd ≥ 1) in any order, each possibly negative. */
const dimList = (nd: number): fc.Arbitrary<number[]> =>
  fc
    .shuffledSubarray(Array.from({ length: nd }, (_, i) => i), { minLength: 1 })
    .chain((ds) => fc.array(fc.boolean(), { minLength: ds.length, maxLength: ds.length }).map((negs) => ds.map((d, i) => (negs[i] ? d - nd : d))));

function axesOf(dim: number | number[] | undefined, nd: number): number[] {
  if (dim === undefined) return Array.from({ length: nd }, (_, i) => i);
  const list = typeof dim === 'number' ? [dim] : dim;
  return [...new Set(list.map((d) => (d < 0 ? d + nd : d)))].sort((a, b) => a - b);
}

describe('reductions over random dim sets', () => {
  for (const name of Object.keys(REDUCE) as ReduceName[]) {
    it(`${name}(dim, keepdim) gives the reference values and gradients`, () => {
      fc.assert(
        fc.property(reduceCase(name), ([s, d, dims, keepdim, w]) => {
          const axes = axesOf(dims, s.length);
          const x = f64({ shape: s, data: d }).requiresGrad_();
          const ref = reduceRef({ shape: s, data: d }, axes, keepdim, REDUCE[name]);
          const out = x[name](dims, keepdim);
          expectArr(out, ref, 1e-10);

          // Gradient of Σ w·out: each group's weight times d(group value)/d(member).
          const wOut = w.slice(0, ref.data.length);
          out.mul(f64({ shape: ref.shape, data: wOut })).sum().backward();
          const keptShape = s.map((dd, i) => (axes.includes(i) ? 1 : dd));
          const members: number[][] = Array.from({ length: numel(keptShape) }, () => []);
          d.forEach((_, k) => {
            const g = ravel(unravel(k, s).map((j, i) => (axes.includes(i) ? 0 : j)), keptShape);
            members[g]!.push(k);
          });
          const want = new Array<number>(d.length).fill(0);
          members.forEach((ks, g) => {
            const grads = REDUCE_GRAD[name](ks.map((k) => d[k]!));
            ks.forEach((k, j) => (want[k] = wOut[g]! * grads[j]!));
          });
          expectArr(x.grad!, { shape: s, data: want }, 1e-10);
        }),
        RUNS,
      );
    });
  }
});

describe('reductions of 0-d tensors', () => {
  // PyTorch accepts dim 0 and -1 on a 0-d tensor and returns the value itself:
  // torch.tensor(3.).sum(0) == tensor(3.), torch.tensor(3.).amax(-1) == tensor(3.).
  // KNOWN CORE BUG (fails today): normalizeAxes maps the dim to axis [0] and the CPU kernel
  // rejects it ("axes must be sorted, unique and within [0, 0), got [0]").
  for (const name of Object.keys(REDUCE) as ReduceName[]) {
    it(`${name}(0) and ${name}([-1], true) of a 0-d tensor return the value, with gradient 1`, () => {
      const x = rt.tensor(3, { dtype: 'float64', requiresGrad: true });
      const a = x[name](0);
      expect(a.shape).toEqual([]);
      expect(a.item()).toBe(3);
      const b = x[name]([-1], true);
      expect(b.shape).toEqual([]);
      expect(b.item()).toBe(3);
      a.backward();
      expect(x.grad!.item()).toBe(1);
    });
  }

  it('without a dim, every reduction of a 0-d tensor returns the value', () => {
    const x = rt.tensor(3, { dtype: 'float64' });
    for (const name of Object.keys(REDUCE) as ReduceName[]) expect(x[name]().item()).toBe(3);
  });
});
