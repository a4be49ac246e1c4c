/**
 * The browser side of the backend's browser tests: bundled with core and the cpu backend into
 * one module that a page on 127.0.0.1 loads. One runtime holds both backends; every check runs
 * the same program on a cpu and a webgpu tensor and compares the results. Node calls
 * `window.__nablaBrowserTests.run(group)` once per group and asserts on the JSON it returns.
 */
import {
  BINARY_FNS,
  createRuntime,
  defineElementwise,
  expr as E,
  runElementwise,
  UNARY_FNS,
  where,
  type Expr,
  type Runtime,
  type Tensor,
} from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { webgpuBackend, type WebGpuBackend } from '../src/index.js';
import { mlp } from '../src/test-utils/mlp.js';
import { mismatches, randoms, type Tolerance } from '../src/test-utils/numbers.js';
import { GROUPS, PAGE_GLOBAL, type AdapterReport, type GroupName, type GroupResult, type InitResult, type PageApi } from './protocol.js';


type Pair = readonly [Tensor, Tensor];
type DT = 'float32' | 'int32' | 'bool';

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The results of one group: comparisons made and the ones that failed. */
class Checks {
  checks = 0;
  readonly failures: string[] = [];
  readonly notes: string[] = [];

  constructor(readonly rt: Runtime) {}

  fail(label: string, why: string): void {
    this.failures.push(`${label}: ${why}`);
  }

  /** |got - want| <= atol + rtol·|want| elementwise; NaN matches NaN, infinities match exactly. */
  close(label: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance = {}): void {
    this.checks++;
    if (got.length !== want.length) return this.fail(label, `length ${got.length}, want ${want.length}`);
    const bad = mismatches(got, want, tol, 6);
    if (bad.count > 0) {
      this.fail(label, `${bad.count} of ${want.length} mismatch (rtol ${tol.rtol ?? 1e-6}, atol ${tol.atol ?? 1e-6}): ${bad.first.join('; ')}`);
    }
  }

  /** `f` on the cpu tensors and on the webgpu ones: same shape, dtype, values, or the same error. */
  async same(label: string, pairs: readonly Pair[], f: (...xs: Tensor[]) => Tensor, tol: Tolerance = {}): Promise<void> {
    let c: Tensor;
    try {
      c = f(...pairs.map((p) => p[0]));
    } catch (e) {
      // The cpu refuses (a dtype PyTorch rejects): webgpu must refuse with the same message.
      this.checks++;
      try {
        f(...pairs.map((p) => p[1])).dispose();
        this.fail(label, `cpu throws '${message(e)}' but webgpu does not`);
      } catch (e2) {
        if (message(e2) !== message(e)) this.fail(label, `webgpu throws '${message(e2)}', cpu '${message(e)}'`);
      }
      return;
    }
    try {
      const g = f(...pairs.map((p) => p[1]));
      if (g.device !== 'webgpu') return this.fail(label, `result on ${g.device}`);
      if (g.shape.join() !== c.shape.join()) return this.fail(label, `shape [${g.shape}], want [${c.shape}]`);
      if (g.dtype !== c.dtype) return this.fail(label, `dtype ${g.dtype}, want ${c.dtype}`);
      this.close(label, await g.data(), c.dataSync(), tol);
      // An op may return its input (`to` the same dtype): only results that are new are freed.
      if (!pairs.some((p) => p[1] === g)) g.dispose();
    } catch (e) {
      this.checks++;
      this.fail(label, `webgpu threw ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
    if (!pairs.some((p) => p[0] === c)) c.dispose();
  }

  /** The same values as a tensor on each device. */
  pair(values: ArrayLike<number>, shape: readonly number[], dtype: DT = 'float32'): Pair {
    const data = dtype === 'float32' ? Float32Array.from(values) : dtype === 'int32' ? Int32Array.from(values) : Uint8Array.from(values);
    return [this.rt.tensor(data, { device: 'cpu', shape }), this.rt.tensor(data, { device: 'webgpu', shape })];
  }
}

// ---------------------------------------------------------------------------------------------
// Elementwise

/** ±0, halves, tiny and huge values, overflow edges of exp, ±inf and NaN. */
const SPECIALS = [
  0, -0, 1, -1, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3, -3, 1e-8, -1e-8, 1e-4, -1e-4, 0.3, -0.7, 0.999, -0.999, 1.001,
  10, -10, 20, -20, 50, -50, 88, 89, -100, -104, 1e30, -1e30, Infinity, -Infinity, NaN,
];
const VALUES = [...SPECIALS, ...randoms(200, 1, -1, 1), ...randoms(200, 2, -10, 10), ...randoms(100, 3, -100, 100), ...randoms(100, 4, -0.01, 0.01)];
/** The backend reduces trig arguments accurately up to |x| = 4e6. */
const TRIG_VALUES = [...VALUES.filter((v) => !(Math.abs(v) >= 1e30 && Number.isFinite(v))), 8192.5, -5e4, 123456.7, 3e6];

async function expressionFunctions(k: Checks): Promise<void> {
  const x0 = E.input(0);
  const x1 = E.input(1);
  for (const fn of UNARY_FNS) {
    const def = defineElementwise({ name: `browser_${fn}`, arity: 1, expr: { op: fn, a: x0 } as Expr, dtype: 'float' });
    const values = fn === 'sin' || fn === 'cos' || fn === 'tan' ? TRIG_VALUES : VALUES;
    await k.same(fn, [k.pair(values, [values.length])], (x) => runElementwise(def, [x!]));
  }
  const base = [...SPECIALS.slice(0, 22), 1e30, -1e30, Infinity, -Infinity, NaN];
  const a: number[] = [];
  const b: number[] = [];
  for (const u of base) for (const v of [...base, 2, -2, 0.3, 4.5]) (a.push(u), b.push(v));
  a.push(...randoms(300, 7, -5, 5));
  b.push(...randoms(300, 8, -5, 5));
  const pa = k.pair(a, [a.length]);
  const pb = k.pair(b, [b.length]);
  for (const fn of BINARY_FNS) {
    const def = defineElementwise({ name: `browser_${fn}`, arity: 2, expr: { op: fn, a: x0, b: x1 } as Expr, dtype: 'float' });
    await k.same(fn, [pa, pb], (x, y) => runElementwise(def, [x!, y!]), { rtol: fn === 'pow' ? 1e-5 : 1e-6 });
  }
  if (UNARY_FNS.length !== 27 || BINARY_FNS.length !== 16) {
    k.fail('coverage', `core has ${UNARY_FNS.length} unary and ${BINARY_FNS.length} binary functions; this page expects 27 and 16`);
  }
}

/** Core's elementwise tensor methods (every one in core's table) in each dtype. */
const UNARY_METHODS = [
  'neg', 'abs', 'sqrt', 'rsqrt', 'exp', 'log', 'log1p', 'expm1', 'sin', 'cos', 'tan', 'tanh', 'sigmoid', 'relu',
  'sign', 'reciprocal', 'square', 'round', 'floor', 'ceil', 'trunc', 'logicalNot', 'isnan',
] as const;
const BINARY_METHODS = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'gt', 'ge', 'lt', 'le', 'logicalAnd', 'logicalOr'] as const;

type Unary = (x: Tensor) => Tensor;
type Binary = (x: Tensor, y: Tensor | number) => Tensor;
const unary = (m: (typeof UNARY_METHODS)[number]): Unary => (x) => (x[m] as () => Tensor).call(x);
const binary = (m: (typeof BINARY_METHODS)[number]): Binary => (x, y) => (x[m] as (o: Tensor | number) => Tensor).call(x, y);

async function coreOps(k: Checks): Promise<void> {
  const rt = k.rt;
  const f = k.pair(randoms(60, 21, -4, 4).map((v, i) => (i % 7 === 0 ? Math.round(v) : v)), [3, 4, 5]);
  const pos = k.pair(randoms(60, 22, 0.1, 5), [3, 4, 5]);
  const ints = k.pair(randoms(60, 23, -50, 50).map(Math.trunc), [3, 4, 5], 'int32');
  const smallInts = k.pair(randoms(60, 24, 0, 5).map(Math.trunc), [3, 4, 5], 'int32');
  const bools = k.pair(randoms(60, 25, 0, 1).map((v) => (v < 0.5 ? 1 : 0)), [3, 4, 5], 'bool');
  const bools2 = k.pair(randoms(60, 26, 0, 1).map((v) => (v < 0.3 ? 1 : 0)), [3, 4, 5], 'bool');
  for (const m of UNARY_METHODS) {
    await k.same(`${m} float32`, [m === 'sqrt' || m === 'log' || m === 'rsqrt' ? pos : f], unary(m));
    await k.same(`${m} int32`, [ints], unary(m));
    await k.same(`${m} bool`, [bools], unary(m));
  }
  const row = k.pair(randoms(5, 27, -3, 3), [5]);
  const col = k.pair(randoms(4, 28, 0.5, 2), [4, 1]);
  for (const m of BINARY_METHODS) {
    const fn = binary(m);
    await k.same(`${m} float32`, [f, pos], (x, y) => fn(x!, y!), { rtol: 2e-6 });
    await k.same(`${m} broadcast [3,4,5]·[4,1]·[5]`, [f, col, row], (x, c, r) => fn(fn(x!, c!), r!), { rtol: 2e-6 });
    await k.same(`${m} int32`, [ints, m === 'pow' ? smallInts : ints], (x, y) => fn(x!, y!));
    await k.same(`${m} float32 · int32 (promotion)`, [f, smallInts], (x, y) => fn(x!, y!), { rtol: 2e-6 });
    await k.same(`${m} bool`, [bools, bools2], (x, y) => fn(x!, y!));
    await k.same(`${m} with a number`, [f], (x) => fn(x, 2.5), { rtol: 2e-6 });
    await k.same(`${m} int32 with an int`, [ints], (x) => fn(x, 3));
  }
  await k.same('clamp', [f], (x) => x.clamp(-1, 1.5));
  await k.same('clamp min only, int32', [ints], (x) => x.clamp(-5));
  await k.same('where', [f, pos], (x, y) => where(x!.lt(0), x!, y!));
  await k.same('maskedFill', [f, bools], (x, m) => x!.maskedFill(m!, -9));
  for (const from of [f, ints, bools]) for (const to of ['float32', 'int32', 'bool'] as const) await k.same(`${from[0].dtype} -> ${to}`, [from], (x) => x.to(to));
  const casts = k.pair([1.9, -1.9, 3e9, -0.5, NaN, 0, 2.5e10, Infinity], [8]);
  await k.same('float -> int32 truncation and out of range', [casts], (x) => x.to('int32'));
  await k.same('float -> bool (NaN is true)', [casts], (x) => x.to('bool'));
  const wrap = k.pair([2147483647, -2147483648, 123456789, 46341], [4], 'int32');
  await k.same('int32 wraps', [wrap], (x) => x.add(1).mul(x).sub(x.neg()));

  const a = k.pair(randoms(24, 29), [2, 3, 4]);
  const v = k.pair(randoms(4, 30), [4]);
  await k.same('transpose + broadcast view', [a, v], (x, y) => x!.transpose(0, 2).add(y!.reshape([4, 1, 1])));
  await k.same('narrow/select offsets', [a], (x) => x.permute(2, 0, 1).narrow(0, 1, 2).select(2, 1).exp());
  await k.same('expand', [a, v], (x, y) => y!.expand([3, 4]).mul(x!.select(0, 1)));
  const r6 = k.pair(randoms(720, 31), [2, 3, 4, 5, 1, 6]);
  await k.same('rank 6 permuted', [r6], (x) => x.permute(5, 3, 1, 4, 0, 2).sigmoid().mul(x.permute(5, 3, 1, 4, 0, 2)));
  await k.same('0-d operand', [a], (x) => x.mul(rt.tensor(3, { device: x.device })));
  await k.same('empty', [k.pair([], [0, 3])], (x) => x.add(1));

  const inPlace = async (device: string): Promise<number[]> => {
    const x = rt.tensor(Float32Array.from(randoms(12, 32)), { device, shape: [3, 4] });
    x.t().mul_(2);
    x.narrow(1, 1, 2).add_(x.narrow(1, 1, 2));
    x.select(0, 2).fill_(7);
    x.add_(x.t().t());
    x.div_(3).sub_(1);
    return Array.from(device === 'cpu' ? x.dataSync() : await x.data());
  };
  k.close('in place on strided views (input is the output)', await inPlace('webgpu'), await inPlace('cpu'));
}

// ---------------------------------------------------------------------------------------------
// Matmul

async function matmul(k: Checks): Promise<void> {
  // f32 sums of K products (the cpu sums in float64): rounding grows with K.
  const tol = (n: number): Tolerance => ({ rtol: 1e-5, atol: 2e-6 * Math.sqrt(n) });
  const shapes = [
    [1, 1, 1],
    [17, 33, 65],
    [64, 64, 64],
    [65, 63, 129],
    [70, 150, 53],
    [3, 500, 2],
    [129, 7, 1],
    [1, 40, 200],
  ] as const;
  for (const [m, kk, n] of shapes) {
    const a = k.pair(randoms(m * kk, m + kk), [m, kk]);
    const b = k.pair(randoms(kk * n, kk + n + 1), [kk, n]);
    await k.same(`mm ${m}x${kk} · ${kk}x${n}`, [a, b], (x, y) => x!.mm(y!), tol(kk));
  }
  const a = k.pair(randoms(40 * 23, 1), [40, 23]);
  const b = k.pair(randoms(31 * 40, 2), [31, 40]);
  await k.same('aᵀ·bᵀ', [a, b], (x, y) => x!.t().mm(y!.t()), tol(40));
  await k.same('a·aᵀ (one buffer bound twice)', [a], (x) => x.mm(x.t()), tol(23));
  const c = k.pair(randoms(2 * 9 * 10, 3), [2, 9, 10]);
  await k.same('strided views with offsets', [c], (x) => x.permute(2, 0, 1).select(1, 1).mm(x.select(0, 0)), tol(9));
  const p = k.pair(randoms(2 * 5 * 6, 4), [2, 1, 5, 6]);
  const q = k.pair(randoms(3 * 6 * 7, 5), [3, 6, 7]);
  await k.same('matmul with broadcast batches', [p, q], (x, y) => x!.matmul(y!), tol(6));
  const vec = k.pair(randoms(6, 6), [6]);
  await k.same('matrix · vector', [p, vec], (x, y) => x!.matmul(y!), tol(6));
  await k.same('dot', [vec, vec], (x, y) => x!.dot(y!), tol(6));
  const d = k.pair(randoms(4 * 33 * 17, 7), [4, 33, 17]);
  const e = k.pair(randoms(4 * 17 * 70, 8), [4, 17, 70]);
  await k.same('bmm 4 × 33x17 · 17x70', [d, e], (x, y) => x!.bmm(y!), tol(17));
  const i = k.pair([100000, 3, -7, 2, 5, 1], [2, 3], 'int32');
  const j = k.pair([100000, 1, 2, 4, -9, 8], [3, 2], 'int32');
  await k.same('int32 products wrap', [i, j], (x, y) => x!.mm(y!));
  await k.same('K = 0 gives zeros', [k.pair([], [3, 0]), k.pair([], [0, 2])], (x, y) => x!.mm(y!));
}

// ---------------------------------------------------------------------------------------------
// Reductions

async function reductions(k: Checks): Promise<void> {
  const permuted = (): Pair => {
    const [c, g] = k.pair(randoms(60, 41, -2, 2), [5, 3, 4]);
    return [c.permute(1, 2, 0), g.permute(1, 2, 0)];
  };
  const p = permuted();
  const dimSets: (number | number[])[] = [0, 1, 2, -1, [0, 1], [0, 2], [1, 2], [0, 1, 2]];
  for (const op of ['sum', 'prod', 'amax', 'amin', 'mean'] as const) {
    for (const dims of dimSets) {
      for (const keep of [false, true]) await k.same(`${op}(${JSON.stringify(dims)}, keepdim ${keep})`, [p], (x) => x[op](dims, keep), { rtol: 1e-5 });
    }
    await k.same(`${op}()`, [p], (x) => x[op](), { rtol: 1e-5 });
  }
  for (const op of ['argmax', 'argmin'] as const) {
    for (const d of [0, 1, 2]) for (const keep of [false, true]) await k.same(`${op}(${d}, keepdim ${keep})`, [p], (x) => x[op](d, keep));
    await k.same(`${op}()`, [p], (x) => x[op]());
    const ties = k.pair([1, 3, 3, 0, 0, -1, 2, 2, 2, NaN, 5, NaN], [4, 3]);
    await k.same(`${op} ties and NaN`, [ties], (x) => x[op](1));
  }
  for (const d of [0, 1, 2]) {
    await k.same(`max(${d}).values`, [p], (x) => x.max(d).values);
    await k.same(`max(${d}).indices`, [p], (x) => x.max(d).indices);
    await k.same(`min(${d}).indices`, [p], (x) => x.min(d).indices);
  }
  await k.same('var(1)', [p], (x) => x.var(1), { rtol: 1e-5 });
  await k.same('std([0, 2], keepdim)', [p], (x) => x.std([0, 2], { keepdim: true }), { rtol: 1e-5 });
  await k.same('norm(2, 2)', [p], (x) => x.norm(2, 2), { rtol: 1e-5 });
  await k.same('logsumexp(0)', [p], (x) => x.logsumexp(0), { rtol: 1e-5 });

  const ones = k.pair(randoms(7, 42), [7, 1]);
  await k.same('sum of rows of 1', [ones], (x) => x.sum(1));
  await k.same('amax of rows of 1', [ones], (x) => x.amax(1));
  const n = 20_000;
  const long = k.pair(randoms(n, 43, 0, 1), [2, n / 2]);
  await k.same('sum of rows of 10,000', [long], (x) => x.sum(1), { rtol: 1e-6 });
  await k.same('sum of 20,000', [long], (x) => x.sum(), { rtol: 1e-6 });
  await k.same('amin of rows of 10,000', [long], (x) => x.amin(1));
  await k.same('argmax of rows of 10,000', [long], (x) => x.argmax(1));
  await k.same('sum over a leading dim of 2', [long], (x) => x.sum(0), { rtol: 1e-6 });
  const withNaN = randoms(999, 44);
  withNaN[500] = NaN;
  await k.same('amax propagates NaN in a long row', [k.pair(withNaN, [999])], (x) => x.amax(0));
  const ints = k.pair([2147483647, 1, -5, 7, 3, -2, 1 << 20, 4096, 3], [3, 3], 'int32');
  await k.same('int32 sum wraps', [ints], (x) => x.sum(1));
  await k.same('int32 prod wraps', [ints], (x) => x.prod(0));
  await k.same('int32 amax', [ints], (x) => x.amax(0));
  const bools = k.pair([1, 0, 1, 1, 1, 1, 0, 0, 0], [3, 3], 'bool');
  await k.same('bool sum -> int32', [bools], (x) => x.sum(1));
  await k.same('bool any', [bools], (x) => x.amax(1));
  await k.same('bool all', [bools], (x) => x.amin(0));
  const empty = k.pair([], [3, 0]);
  await k.same('empty sum is 0', [empty], (x) => x.sum(1));
  await k.same('empty prod is 1', [empty], (x) => x.prod(1));
}

// ---------------------------------------------------------------------------------------------
// Softmax

async function softmax(k: Checks): Promise<void> {
  for (const op of ['softmax', 'logSoftmax'] as const) {
    await k.same(`${op} of rows of 1`, [k.pair([5, -1e30, 0], [3, 1])], (x) => x[op](1));
    const long = k.pair(randoms(20_000, 51, -20, 20), [2, 10_000]);
    await k.same(`${op} of rows of 10,000`, [long], (x) => x[op](1), { rtol: 1e-5, atol: 1e-9 });
    await k.same(`${op} of rows of 10,000 (last dim, transposed input)`, [long], (x) => x.t()[op](0), { rtol: 1e-5, atol: 1e-9 });
    const [c, g] = k.pair(randoms(3 * 40 * 50, 52, -5, 5), [50, 3, 40]);
    const p: Pair = [c.permute(1, 2, 0), g.permute(1, 2, 0)];
    for (const d of [0, 1, 2, -1]) await k.same(`${op}(${d}) of a permuted [3, 40, 50]`, [p], (x) => x[op](d), { rtol: 1e-5, atol: 1e-6 });
    const specials = k.pair([-Infinity, 0, -Infinity, -Infinity, NaN, 1, 1000, 1002], [4, 2]);
    await k.same(`${op} with -inf, an all -inf row, NaN and huge logits`, [specials], (x) => x[op](1));
  }
  const long = k.rt.tensor(Float32Array.from(randoms(20_000, 53, -20, 20)), { device: 'webgpu', shape: [2, 10_000] });
  k.close('softmax rows of 10,000 sum to 1', await long.softmax(1).sum(1).data(), [1, 1], { rtol: 0, atol: 1e-5 });

  const grad = async (device: string): Promise<number[]> => {
    const x = k.rt.tensor(Float32Array.from(randoms(6 * 7, 54, -3, 3)), { device, shape: [6, 7], requiresGrad: true });
    const w = k.rt.tensor(Float32Array.from(randoms(6 * 7, 55)), { device, shape: [6, 7] });
    x.softmax(1).mul(w).sum().add(x.logSoftmax(0).mul(w).sum()).backward();
    return Array.from(device === 'cpu' ? x.grad!.dataSync() : await x.grad!.data());
  };
  k.close('gradients through softmax and logSoftmax', await grad('webgpu'), await grad('cpu'), { rtol: 1e-5, atol: 1e-6 });
}

// ---------------------------------------------------------------------------------------------
// Sort and scans

async function sortAndScans(k: Checks): Promise<void> {
  // Multiples of 1/4: ties, exact in float32, so the stable sorts agree on every index.
  const tied = (n: number, seed: number): number[] => randoms(n, seed, -8, 8).map((v) => Math.round(v * 4) / 4);
  const [c, g] = k.pair(tied(3 * 5 * 7, 71), [7, 3, 5]);
  const p: Pair = [c.permute(1, 2, 0), g.permute(1, 2, 0)];
  for (const d of [0, 1, 2]) {
    for (const desc of [false, true]) {
      await k.same(`sort(${d}, ${desc}).values`, [p], (x) => x.sort(d, desc).values);
      await k.same(`sort(${d}, ${desc}).indices`, [p], (x) => x.sort(d, desc).indices);
    }
    await k.same(`cumsum(${d})`, [p], (x) => x.cumsum(d), { rtol: 1e-5, atol: 1e-5 });
    await k.same(`cumprod(${d})`, [p], (x) => x.cumprod(d), { rtol: 1e-5, atol: 1e-5 });
  }
  const specials = k.pair([NaN, 1, -Infinity, 0, -0, Infinity, NaN, -2, 1, NaN], [2, 5]);
  await k.same('sort indices with NaN and infinities', [specials], (x) => x.sort(1).indices);
  await k.same('descending sort indices with NaN', [specials], (x) => x.sort(1, true).indices);
  const long = k.pair(tied(2 * 1500, 72), [2, 1500]);
  await k.same('sort of rows of 1,500', [long], (x) => x.sort(1).values);
  await k.same('topk(7) of rows of 1,500', [long], (x) => x.topk(7).indices);
  await k.same('cumsum of rows of 1,500', [long], (x) => x.cumsum(1), { rtol: 1e-4, atol: 1e-3 });
  const ints = k.pair(tied(40, 73).map(Math.trunc), [4, 10], 'int32');
  await k.same('int32 sort', [ints], (x) => x.sort(1).values);
  await k.same('int32 cumprod wraps', [ints], (x) => x.cumprod(1));
  await k.same('bool cumsum -> int32', [k.pair([1, 0, 1, 1, 0, 1], [2, 3], 'bool')], (x) => x.cumsum(1));
  await k.same('nanToNum', [specials], (x) => x.nanToNum());
  await k.same('isfinite', [specials], (x) => x.isfinite());

  const grad = async (device: string): Promise<number[]> => {
    const x = k.rt.tensor(Float32Array.from(randoms(5 * 8, 74, 0.5, 1.5)), { device, shape: [5, 8], requiresGrad: true });
    const w = k.rt.tensor(Float32Array.from(randoms(5 * 8, 75)), { device, shape: [5, 8] });
    x.sort(1).values.mul(w).sum().add(x.topk(3, 0).values.square().sum()).add(x.cumprod(1).mul(w).sum()).add(x.cumsum(0).mul(w).sum()).backward();
    return Array.from(device === 'cpu' ? x.grad!.dataSync() : await x.grad!.data());
  };
  k.close('gradients through sort, topk, cumprod and cumsum', await grad('webgpu'), await grad('cpu'), { rtol: 1e-4, atol: 1e-5 });
}

// ---------------------------------------------------------------------------------------------
// A 2-layer MLP trained with SGD

async function training(k: Checks): Promise<void> {
  const rt = k.rt;
  const read = async (t: Tensor): Promise<number[]> => Array.from(t.device === 'cpu' ? t.dataSync() : await t.data());
  const x = Float32Array.from(randoms(32 * 8, 61, -2, 2));
  const y = Float32Array.from(randoms(32 * 3, 62, -1, 1));
  for (const act of ['tanh', 'relu'] as const) {
    const nets = { cpu: mlp(rt, 'cpu', [8, 16, 3], act, 7), webgpu: mlp(rt, 'webgpu', [8, 16, 3], act, 7) };
    const losses: Record<string, number[]> = { cpu: [], webgpu: [] };
    for (const device of ['cpu', 'webgpu'] as const) {
      const xt = rt.tensor(x, { device, shape: [32, 8] });
      const yt = rt.tensor(y, { device, shape: [32, 3] });
      for (let s = 0; s < 5; s++) {
        const loss = nets[device].step(xt, yt, 0.1);
        losses[device]!.push((await read(loss))[0]!);
        loss.dispose();
      }
    }
    const [lc, lg] = [losses.cpu!, losses.webgpu!];
    k.notes.push(`${act} MLP 8-16-3, 5 SGD steps: losses cpu ${lc.map((l) => l.toFixed(6)).join(' ')} / webgpu ${lg.map((l) => l.toFixed(6)).join(' ')}`);
    k.close(`${act}: losses of 5 steps within 1e-4 of the cpu`, lg, lc, { rtol: 0, atol: 1e-4 });
    k.checks++;
    if (!(lg[4]! < lg[0]!)) k.fail(`${act}: loss decreases`, `step 5 ${lg[4]} >= step 1 ${lg[0]}`);
    for (let p = 0; p < 4; p++) {
      k.close(`${act}: parameter ${p} after 5 steps within 1e-4`, await read(nets.webgpu.params[p]!), await read(nets.cpu.params[p]!), { rtol: 0, atol: 1e-4 });
    }
  }
}

// ---------------------------------------------------------------------------------------------

const RUNNERS: Record<GroupName, (k: Checks) => Promise<void>> = {
  [GROUPS[0]]: expressionFunctions,
  [GROUPS[1]]: coreOps,
  [GROUPS[2]]: matmul,
  [GROUPS[3]]: reductions,
  [GROUPS[4]]: softmax,
  [GROUPS[5]]: sortAndScans,
  [GROUPS[6]]: training,
};

let runtime: Runtime | null = null;
/** Uncaptured WebGPU errors since the last group started. */
let gpuErrors: string[] = [];
/** Why the device was lost, once it is. */
let deviceLost: string | null = null;

async function init(): Promise<InitResult> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { ok: false, reason: `navigator.gpu is undefined (isSecureContext ${isSecureContext}; WebGPU is disabled or unsupported in this browser)` };
  const adapter = await gpu.requestAdapter();
  if (!adapter) return { ok: false, reason: 'navigator.gpu.requestAdapter() returned null (no usable GPU or software adapter in this browser)' };
  const info: Record<string, string | number | boolean> = {};
  for (const key of ['vendor', 'architecture', 'device', 'description', 'backend', 'driver', 'type', 'subgroupMinSize', 'subgroupMaxSize', 'isFallbackAdapter']) {
    const v = (adapter.info as unknown as Record<string, unknown>)[key];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') info[key] = v;
  }
  runtime = await createRuntime({ plugins: [cpuBackend(), webgpuBackend()] });
  const be = runtime.backend('webgpu') as WebGpuBackend;
  be.gpuDevice.addEventListener('uncapturederror', (e) => gpuErrors.push((e as GPUUncapturedErrorEvent).error.message));
  void be.gpuDevice.lost.then((l) => (deviceLost = `${l.reason}: ${l.message}`));
  const report: AdapterReport = { description: be.adapterDescription, info, features: [...adapter.features].sort(), userAgent: navigator.userAgent };
  return { ok: true, adapter: report };
}

async function run(name: string): Promise<GroupResult> {
  const t0 = performance.now();
  if (!runtime) throw new Error('init() did not make a runtime');
  const runner = RUNNERS[name as GroupName];
  if (!runner) throw new Error(`no check group '${name}'`);
  const k = new Checks(runtime);
  gpuErrors = [];
  let error: string | undefined;
  try {
    await runner(k);
    await runtime.synchronize('webgpu');
  } catch (e) {
    error = e instanceof Error ? (e.stack ?? e.message) : String(e);
  }
  for (const m of gpuErrors.slice(0, 5)) k.fail('uncaptured WebGPU error', m);
  if (gpuErrors.length > 5) k.fail('uncaptured WebGPU errors', `${gpuErrors.length - 5} more`);
  if (deviceLost !== null) k.fail('GPU device lost', deviceLost);
  const out: GroupResult = { name, checks: k.checks, failures: k.failures, notes: k.notes, ms: Math.round(performance.now() - t0) };
  return error === undefined ? out : { ...out, error };
}

const api: PageApi = { init, run };
(globalThis as unknown as Record<string, PageApi>)[PAGE_GLOBAL] = api;
