import { BINARY_FNS, defineElementwise, expr as E, runElementwise, UNARY_FNS, where, type Expr, type Runtime, type Tensor } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateBody } from './compile-elementwise.js';
import { expectClose, pair, randoms, sameOnBoth } from './test-utils/compare.js';
import { gpuRuntime, probe } from './test-utils/setup.js';

const adapter = await probe();

/** ±0, halves (round-half-even), tiny and huge values, overflow edges of exp, ±inf and NaN. */
const SPECIALS = [
  0, -0, 1, -1, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3, -3, 1e-8, -1e-8, 1e-4, -1e-4, 0.3, -0.7, 0.999, -0.999, 1.001,
  10, -10, 20, -20, 50, -50, 88, 89, -100, -104, 1e30, -1e30, Infinity, -Infinity, NaN,
];
const VALUES = [...SPECIALS, ...randoms(200, 1, -1, 1), ...randoms(200, 2, -10, 10), ...randoms(100, 3, -100, 100), ...randoms(100, 4, -0.01, 0.01)];
/** sin/cos/tan reduce arguments accurately up to |x| = 4e6 (see README). */
const TRIG_VALUES = [...VALUES.filter((v) => !(Math.abs(v) >= 1e30 && Number.isFinite(v))), 8192.5, -5e4, 123456.7, 3e6];

const x0 = E.input(0);
const x1 = E.input(1);

describe('generateBody', () => {
  it('evaluates a shared node once', () => {
    const s = E.sigmoid(x0);
    const body = generateBody(E.mul(x0, E.sub(E.c(1), s)) as Expr, 'float');
    expect(body.statements.filter((l) => l.includes('nb_sigmoid'))).toHaveLength(1);
    expect(body.inputs).toEqual([0]);
  });

  it('computes int32 arithmetic in i32 and falls back to f32 where ints have no meaning', () => {
    const body = generateBody(E.add(E.mul(x0, x1), E.exp(x0)), 'int');
    expect(body.statements.join('\n')).toMatch(/\(x0 \* x1\)/);
    expect(body.statements.join('\n')).toMatch(/nb_exp\(f32\(x0\)\)/);
    expect(body.result.ty).toBe('f');
  });

  it('rejects unknown ops', () => {
    expect(() => generateBody({ op: 'frobnicate', a: x0 } as unknown as Expr, 'float')).toThrow(/unknown op 'frobnicate'/);
  });
});

describe.skipIf(!adapter.ok)('elementwise kernels on webgpu match the cpu backend', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = (await gpuRuntime())!;
  });
  afterAll(async () => {
    await rt.dispose();
  });

  const unaryDef = (fn: string) => defineElementwise({ name: `test_${fn}`, arity: 1, expr: { op: fn, a: x0 } as Expr, dtype: 'float' });
  const binaryDef = (fn: string) => defineElementwise({ name: `test_${fn}`, arity: 2, expr: { op: fn, a: x0, b: x1 } as Expr, dtype: 'float' });

  for (const fn of UNARY_FNS) {
    it(`${fn} (float32)`, async () => {
      const values = ['sin', 'cos', 'tan'].includes(fn) ? TRIG_VALUES : VALUES;
      const p = pair(rt, values, [values.length]);
      await sameOnBoth([p], (x) => runElementwise(unaryDef(fn), [x]), { rtol: 1e-6, atol: 1e-6 }, fn);
    });
  }

  it('every IR function has a test above', () => {
    expect(UNARY_FNS.length).toBe(27);
    expect(BINARY_FNS.length).toBe(16);
  });

  for (const fn of BINARY_FNS) {
    it(`${fn} (float32)`, async () => {
      const base = [...SPECIALS.slice(0, 22), 1e30, -1e30, Infinity, -Infinity, NaN];
      const a: number[] = [];
      const b: number[] = [];
      for (const u of base) for (const v of [...base, 2, -2, 0.3, 4.5]) (a.push(u), b.push(v));
      a.push(...randoms(300, 7, -5, 5));
      b.push(...randoms(300, 8, -5, 5));
      const pa = pair(rt, a, [a.length]);
      const pb = pair(rt, b, [b.length]);
      await sameOnBoth([pa, pb], (x, y) => runElementwise(binaryDef(fn), [x!, y!]), { rtol: fn === 'pow' ? 1e-5 : 1e-6, atol: 1e-6 }, fn);
    });
  }

  it('pow follows PyTorch: 0^0 = 1, 1^NaN = 1, negative bases with integer exponents', async () => {
    const base = rt.tensor([0, -2, -2, -8, 1, -1, -0.5, -3, 2, -0], { device: 'webgpu' });
    const ex = rt.tensor([0, 3, 2, 1 / 3, NaN, Infinity, -3, 0.5, 100, -1], { device: 'webgpu' });
    expect(Array.from(await base.pow(ex).data())).toEqual([1, -8, 4, NaN, 1, 1, -8, NaN, 2 ** 100, -Infinity]);
  });

  it('round, sign, relu, max and min handle halves, NaN and -0 as PyTorch does', async () => {
    const x = rt.tensor([0.5, 1.5, 2.5, -0.5, -2.5, NaN, -0, 3.7], { device: 'webgpu' });
    expect(Array.from(await x.round().data())).toEqual([0, 2, 2, -0, -2, NaN, -0, 4]);
    expect(Array.from(await x.sign().data())).toEqual([1, 1, 1, -1, -1, NaN, 0, 1]);
    expect(Array.from(await x.relu().data())).toEqual([0.5, 1.5, 2.5, 0, 0, NaN, 0, 3.7].map(Math.fround));
    expect(Array.from(await x.maximum(1).data())).toEqual([1, 1.5, 2.5, 1, 1, NaN, 1, 3.7].map(Math.fround));
    expect(Array.from(await x.minimum(1).data())).toEqual([0.5, 1, 1, -0.5, -2.5, NaN, -0, 1].map(Math.fround));
  });

  it('tanh, sigmoid, exp and log stay finite and exact at the extremes', async () => {
    const x = rt.tensor([100, -100, 1e-30, 0], { device: 'webgpu' });
    expect(Array.from(await x.tanh().data())).toEqual([1, -1, Math.fround(1e-30), 0]);
    const z = rt.tensor([-0], { device: 'webgpu' });
    for (const f of ['tanh', 'sin', 'tan', 'expm1', 'log1p', 'neg'] as const) expect(Object.is((await z[f]().data())[0], f === 'neg' ? 0 : -0), f).toBe(true);
    expect(Array.from(await x.sigmoid().data())).toEqual([1, 0, 0.5, 0.5]);
    expect(Array.from(await x.exp().data())).toEqual([Infinity, 0, 1, 1]);
    expect(Array.from(await x.log().data())).toEqual([Math.fround(Math.log(100)), NaN, Math.fround(Math.log(Math.fround(1e-30))), -Infinity]);
    const small = rt.tensor([1e-7, -1e-7, 1e-20], { device: 'webgpu' });
    expectClose(await small.log1p().data(), [1e-7, -1e-7, 1e-20].map((v) => Math.log1p(Math.fround(v))), { rtol: 2e-7, atol: 0 });
    expectClose(await small.expm1().data(), [1e-7, -1e-7, 1e-20].map((v) => Math.expm1(Math.fround(v))), { rtol: 2e-7, atol: 0 });
  });

  it('core ops with JS-number parameters (one compiled kernel for every value)', async () => {
    const p = pair(rt, randoms(64, 9, -3, 3), [8, 8]);
    await sameOnBoth([p], (x) => x.mul(2.5).add(-1).clamp(-2, 1.25), {}, 'clamp');
    await sameOnBoth([p], (x) => x.clamp(undefined, 0.5), {}, 'clamp max only');
    await sameOnBoth([p], (x) => x.pow(3).sub(x.pow(0.5)), { rtol: 2e-6 }, 'pow by numbers');
    await sameOnBoth([p], (x) => rt.tensor(2, { device: x.device }).pow(x), { rtol: 2e-6 }, 'number base');
  });

  it('comparisons, logic, where and maskedFill give bool / selected values', async () => {
    const a = pair(rt, [1, NaN, 3, -0, 5, 6], [2, 3]);
    const b = pair(rt, [1, 2, NaN, 0, 4, 7], [2, 3]);
    for (const op of ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const) await sameOnBoth([a, b], (x, y) => x![op](y!), {}, op);
    await sameOnBoth([a, b], (x, y) => x!.gt(y!).logicalOr(x!.isnan()).logicalNot(), {}, 'logic');
    await sameOnBoth([a, b], (x, y) => where(x!.lt(y!), x!, y!), {}, 'where');
    await sameOnBoth([a, b], (x, y) => x!.maskedFill(y!.gt(2), -9), {}, 'maskedFill');
    const m = await a[1].gt(b[1]).data();
    expect(m).toBeInstanceOf(Uint8Array);
  });

  it('int32 arithmetic wraps like int32 and comparisons stay exact', async () => {
    const big = [2147483647, -2147483648, 123456789, -7, 0, 46341];
    const a = pair(rt, big, [6], 'int32');
    const b = pair(rt, [1, -1, 1000, 3, 5, 46341], [6], 'int32');
    await sameOnBoth([a, b], (x, y) => x!.add(y!), {}, 'add');
    await sameOnBoth([a, b], (x, y) => x!.sub(y!), {}, 'sub');
    await sameOnBoth([a, b], (x, y) => x!.mul(y!), {}, 'mul');
    await sameOnBoth([a], (x) => x.neg().abs(), {}, 'neg abs');
    await sameOnBoth([a], (x) => x.sign().square().relu(), {}, 'sign square relu');
    await sameOnBoth([a, b], (x, y) => x!.maximum(y!).minimum(y!.mul(2)), {}, 'max min');
    await sameOnBoth([a, b], (x, y) => x!.ge(y!), {}, 'ge');
    await sameOnBoth([b], (x) => x.pow(3), {}, 'int pow');
    await sameOnBoth([a], (x) => x.clamp(-5), {}, 'int clamp with an infinite bound');
    const r = a[1].add(1);
    expect(r.dtype).toBe('int32');
    expect(await r.data()).toBeInstanceOf(Int32Array);
  });

  it('converts between dtypes as the cpu does (truncation, wrap, NaN -> true)', async () => {
    const f = pair(rt, [1.9, -1.9, 3e9, -0.5, NaN, 0, 2.5e10, Infinity], [8]);
    await sameOnBoth([f], (x) => x.to('int32'), {}, 'float -> int32');
    await sameOnBoth([f], (x) => x.to('bool'), {}, 'float -> bool');
    const i = pair(rt, [3, -4, 0, 16777217], [4], 'int32');
    await sameOnBoth([i], (x) => x.to('float32'), {}, 'int32 -> float32');
    await sameOnBoth([i], (x) => x.to('bool').to('int32'), {}, 'int32 -> bool -> int32');
    await sameOnBoth([i], (x) => x.add(0.5), {}, 'int32 + 0.5 promotes to float');
    const bo = pair(rt, [1, 0, 1], [3], 'bool');
    await sameOnBoth([bo], (x) => x.to('float32').add(x.to('int32')), {}, 'bool arithmetic');
  });

  it('reads strided, transposed, broadcast and offset views', async () => {
    const a = pair(rt, randoms(24, 11), [2, 3, 4]);
    const b = pair(rt, randoms(4, 12), [4]);
    await sameOnBoth([a, b], (x, y) => x!.transpose(0, 2).add(y!.reshape([4, 1, 1])), {}, 'transpose + broadcast');
    await sameOnBoth([a], (x) => x.permute(2, 0, 1).narrow(0, 1, 2).select(2, 1).exp(), {}, 'narrow/select offsets');
    await sameOnBoth([a, b], (x, y) => y!.expand([3, 4]).mul(x!.select(0, 1)), {}, 'expand');
    await sameOnBoth([a], (x) => x.mul(rt.tensor(3, { device: x.device })), {}, '0-d operand');
    const r6 = pair(rt, randoms(720, 13), [2, 3, 4, 5, 1, 6]);
    await sameOnBoth([r6], (x) => x.permute(5, 3, 1, 4, 0, 2).sigmoid().mul(x.permute(5, 3, 1, 4, 0, 2)), {}, 'rank 6 permuted');
  });

  it('writes into strided views in place, including an input that is the output', async () => {
    const run = async (device: string) => {
      const x = rt.tensor(Float32Array.from(randoms(12, 14)), { device, shape: [3, 4] });
      x.t().mul_(2);
      x.narrow(1, 1, 2).add_(x.narrow(1, 1, 2));
      x.select(0, 2).fill_(7);
      x.add_(x.t().t());
      return Array.from(device === 'cpu' ? x.dataSync() : await x.data());
    };
    expectClose(await run('webgpu'), await run('cpu'));
  });

  it('handles empty tensors and a single element', async () => {
    const e = rt.zeros([0, 3], { device: 'webgpu' });
    expect((await e.add(1).data()).length).toBe(0);
    expect(await rt.tensor(2, { device: 'webgpu' }).mul(3).itemAsync()).toBe(6);
  });

  it('compiles each op once per dtype combination and layout', async () => {
    const { WebGpuBackend } = await import('./backend.js');
    const be = rt.backend('webgpu') as InstanceType<typeof WebGpuBackend>;
    const probeOp = defineElementwise({ name: 'cacheProbe', arity: 1, numParams: 1, expr: E.mul(x0, E.param(0)) });
    const x = rt.tensor(Float32Array.from(randoms(16, 15)), { device: 'webgpu', shape: [4, 4] });
    const before = be.dispatcher.numKernels;
    for (let i = 0; i < 5; i++) runElementwise(probeOp, [x], [i]).dispose();
    expect(be.dispatcher.numKernels).toBe(before + 1);
    runElementwise(probeOp, [x.t()], [3]).dispose();
    expect(be.dispatcher.numKernels).toBe(before + 2);
  });
});

describe.skipIf(!adapter.ok)('elementwise kernels over 2-D grids', () => {
  let rt: Runtime;
  beforeAll(async () => {
    // 16 workgroups per dimension at most: 5,000 elements need a 16 × 2 grid.
    rt = (await gpuRuntime({ maxWorkgroupsPerDimension: 16 }))!;
  });
  afterAll(async () => {
    await rt.dispose();
  });

  it('covers every element exactly once', async () => {
    const n = 5000;
    const p = pair(rt, randoms(n, 16), [50, 100]);
    await sameOnBoth([p], (x) => x.mul(2).add(1), {}, 'flat');
    await sameOnBoth([p], (x) => x.t().mul(2).add(1), {}, 'strided');
    const idx: Tensor = rt.arange(n, { device: 'webgpu', dtype: 'int32' });
    const got = await idx.add(0).data();
    expect(Array.from(got)).toEqual(Array.from({ length: n }, (_, i) => i));
  });
});
