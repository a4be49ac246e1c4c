/**
 * The 16-bit CPU kernels against a reference that spells PyTorch's rule out element by element:
 * widen each 16-bit input exactly (core's conversion), run the float32 kernel, round the result
 * once to nearest even (core's conversion). The fused row conversions, the tiled elementwise
 * kernels and the cast kernels must agree with it to the bit, on every geometry.
 */
import { describe, expect, it } from 'vitest';
import {
  float32BitsToBfloat16Bits,
  float32BitsToHalfBits,
  halfBitsToFloat32Bits,
  type DType,
  type ElementwiseSpec,
  type Expr,
  type HalfDType,
  type View,
} from '@nabla/core';
import { CpuBackend } from './backend.js';
import { narrowBf16Row, narrowF16Row, widenBf16Row, widenF16Row } from './half-convert.js';
import { MIN_TILED_ROW, TILE } from './half-elementwise.js';
import { CpuStorage } from './storage.js';
import { bin, contiguousStrides, inp, indices, numel, offsetOf, par, rng, spec, un, viewOf } from './test-utils/views.js';

const HALVES: readonly HalfDType[] = ['float16', 'bfloat16'];
const f32 = new Float32Array(1);
const f32w = new Uint32Array(f32.buffer);
const bitsOf = (x: number): number => ((f32[0] = x), f32w[0]!);
const fromBits = (u: number): number => ((f32w[0] = u), f32[0]!);
const widenBits = (d: HalfDType, h: number): number => (d === 'float16' ? halfBitsToFloat32Bits(h) : (h << 16) >>> 0);
const narrowBits = (d: HalfDType, u: number): number => (d === 'float16' ? float32BitsToHalfBits(u) : float32BitsToBfloat16Bits(u));

/** Values that exercise every branch of the conversions: ties, subnormals, overflow, NaN, ±0, ±Inf. */
function specials(d: HalfDType): number[] {
  const tiny = d === 'float16' ? 2 ** -24 : 2 ** -133;
  const big = d === 'float16' ? 65504 : 3.3e38;
  return [0, -0, NaN, Infinity, -Infinity, tiny, -tiny, 3 * tiny, big, -big, big * 1.0009765625, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -14, 2 ** -15 * 1.5];
}

/** `n` values: mostly random normals of mixed scale, with the specials sprinkled in. */
function sample(d: HalfDType, n: number, seed: number): number[] {
  const r = rng(seed);
  const sp = specials(d);
  return Array.from({ length: n }, (_, i) => (i % 17 === 5 ? sp[i % sp.length]! : (r() * 2 - 1) * 2 ** Math.floor(r() * 24 - 16)));
}

/** A storage of `size` 16-bit patterns rounded from `values`, junk around the used ones. */
function halfStorage(be: CpuBackend, d: HalfDType, size: number, values: (i: number) => number): CpuStorage {
  const s = be.allocate(d, size);
  for (let i = 0; i < size; i++) s.data[i] = narrowBits(d, bitsOf(values(i)));
  return s;
}

/** The reference: the float32 kernel on exactly widened copies, then one rounding per element. */
function reference(be: CpuBackend, sp: ElementwiseSpec, out: View, inputs: readonly View[], params: readonly number[]): number[] {
  const wide = (d: DType): DType => (d === 'float16' || d === 'bfloat16' ? 'float32' : d);
  const k = be.compileElementwise({ ...sp, inputDtypes: sp.inputDtypes.map(wide), outDtype: wide(sp.outDtype), computeDtype: wide(sp.computeDtype), key: `${sp.key}|ref` });
  const ins = inputs.map((v) => {
    if (v.dtype !== 'float16' && v.dtype !== 'bfloat16') return v;
    const src = (v.storage as CpuStorage).data;
    const s = be.allocate('float32', src.length);
    for (let i = 0; i < src.length; i++) s.data[i] = fromBits(widenBits(v.dtype, src[i]!));
    return { ...v, storage: s, dtype: 'float32' as DType };
  });
  const o = be.allocate(wide(out.dtype), numel(out.shape));
  const ov = viewOf(o, out.shape);
  k(ov, ins, params);
  const outD = out.dtype;
  return [...indices(out.shape)].map((idx) => {
    const x = o.data[offsetOf(ov, idx)]!;
    return outD === 'float16' || outD === 'bfloat16' ? narrowBits(outD, bitsOf(x)) : x;
  });
}

function read(v: View): number[] {
  return [...indices(v.shape)].map((idx) => (v.storage as CpuStorage).data[offsetOf(v, idx)]!);
}

/** Runs `sp` on the 16-bit views and compares every output element's bits with the reference. */
function check(be: CpuBackend, sp: ElementwiseSpec, out: View, inputs: readonly View[], params: readonly number[] = []): void {
  const want = reference(be, sp, out, inputs, params);
  be.compileElementwise(sp)(out, inputs, params);
  const got = read(out);
  const bad = got.findIndex((g, i) => !(Object.is(g, want[i]) || (Number.isNaN(g) && Number.isNaN(want[i]))));
  expect(bad, bad < 0 ? '' : `${sp.name} element ${bad}: got ${got[bad]}, want ${want[bad]}`).toBe(-1);
}

const ADD: Expr = bin('add', inp(0), inp(1));
const FMA: Expr = bin('add', bin('mul', inp(0), par(0)), un('exp', inp(1)));

describe('16-bit row conversions', () => {
  it('widen every float16 and bfloat16 pattern exactly, strided', () => {
    const src = new Uint16Array(65536 * 2);
    for (let h = 0; h < 65536; h++) src[2 * h] = h;
    const dst = new Int32Array(65536);
    widenF16Row(src, 0, 2, dst, 0, 1, 65536);
    for (let h = 0; h < 65536; h++) if (dst[h]! >>> 0 !== halfBitsToFloat32Bits(h)) expect.fail(`float16 ${h}`);
    widenBf16Row(src, 0, 2, dst, 0, 1, 65536);
    for (let h = 0; h < 65536; h++) if (dst[h]! >>> 0 !== (h << 16) >>> 0) expect.fail(`bfloat16 ${h}`);
  });

  it('narrow 2^22 float32 patterns (every exponent, ties, NaN, Inf) to nearest even', () => {
    const n = 1 << 22;
    const src = new Int32Array(n);
    const r = rng(7);
    for (let i = 0; i < n; i++) {
      // Every exponent and sign; low mantissa bits forced to ties and near-ties for a quarter of them.
      const u = ((i & 0x1ff) << 23) | Math.floor(r() * 0x800000);
      src[i] = i % 4 === 0 ? (u & ~0x1fff) | 0x1000 : i % 4 === 1 ? (u & ~0xffff) | 0x8000 : u;
    }
    const out = new Uint16Array(2 * n);
    narrowF16Row(src, 0, 1, out, 1, 2, n);
    for (let i = 0; i < n; i++) if (out[2 * i + 1] !== float32BitsToHalfBits(src[i]! >>> 0)) expect.fail(`float16 of ${(src[i]! >>> 0).toString(16)}`);
    narrowBf16Row(src, 0, 1, out, 0, 2, n);
    for (let i = 0; i < n; i++) if (out[2 * i] !== float32BitsToBfloat16Bits(src[i]! >>> 0)) expect.fail(`bfloat16 of ${(src[i]! >>> 0).toString(16)}`);
  });
});

describe.each(HALVES)('tiled %s elementwise kernels match widen → float32 kernel → round', (d) => {
  const be = new CpuBackend();
  const dense = (n: number, seed: number): View => {
    const xs = sample(d, n, seed);
    return viewOf(halfStorage(be, d, n, (i) => xs[i]!), [n]);
  };

  it.each([0, 1, MIN_TILED_ROW - 1, MIN_TILED_ROW, TILE - 1, TILE, TILE + 1, 2 * TILE + 37])('contiguous, %i elements', (n) => {
    const xs = sample(d, n, 1);
    const ys = sample(d, n, 2);
    const x = viewOf(halfStorage(be, d, n, (i) => xs[i]!), [n]);
    const y = viewOf(halfStorage(be, d, n, (i) => ys[i]!), [n]);
    check(be, spec('add', ADD, [d, d], d), viewOf(be.allocate(d, n), [n]), [x, y]);
    check(be, spec('fma', FMA, [d, d], d, 1), viewOf(be.allocate(d, n), [n]), [x, y], [0.3]);
    check(be, spec('gt', bin('gt', inp(0), inp(1)), [d, d], 'bool'), viewOf(be.allocate('bool', n), [n]), [x, y]);
  });

  it('transposed and offset inputs, a transposed output', () => {
    const [R, C] = [37, 301];
    const xs = sample(d, R * C + 5, 3);
    const x = viewOf(halfStorage(be, d, R * C + 5, (i) => xs[i]!), [R, C], [1, R], 5);
    const y = dense(R * C, 4);
    const yv = viewOf(y.storage as CpuStorage, [R, C]);
    check(be, spec('add', ADD, [d, d], d), viewOf(be.allocate(d, R * C), [R, C]), [x, yv]);
    check(be, spec('add', ADD, [d, d], d), viewOf(be.allocate(d, R * C), [R, C], [1, R]), [yv, x]);
  });

  it('row and column broadcasts, a scalar, and mixed float32 operands', () => {
    const [R, C] = [9, 5000];
    const x = viewOf(dense(R * C, 5).storage as CpuStorage, [R, C]);
    const row = viewOf(dense(C, 6).storage as CpuStorage, [R, C], [0, 1]);
    const col = viewOf(dense(R, 7).storage as CpuStorage, [R, C], [1, 0]);
    const one = viewOf(dense(1, 8).storage as CpuStorage, [R, C], [0, 0]);
    const f = be.allocate('float32', R * C);
    const r = rng(9);
    for (let i = 0; i < R * C; i++) f.data[i] = Math.fround((r() - 0.5) * 100);
    const fv = viewOf(f, [R, C]);
    for (const other of [row, col, one]) check(be, spec('add', ADD, [d, d], d), viewOf(be.allocate(d, R * C), [R, C]), [x, other]);
    check(be, spec('mix', ADD, [d, 'float32'], 'float32'), viewOf(be.allocate('float32', R * C), [R, C]), [x, fv]);
    check(be, spec('mix', ADD, ['float32', d], d), viewOf(be.allocate(d, R * C), [R, C]), [fv, col]);
  });

  it('in place: the output is the first input', () => {
    const n = 3 * TILE + 11;
    const x = dense(n, 10);
    const y = dense(n, 11);
    const copy = viewOf(be.allocate(d, n), [n]);
    (copy.storage as CpuStorage).data.set((x.storage as CpuStorage).data.subarray(0, n));
    const want = reference(be, spec('add', ADD, [d, d], d), x, [copy, y], []);
    be.compileElementwise(spec('add', ADD, [d, d], d))(x, [x, y], []);
    expect(read(x)).toEqual(want);
  });

  it('short rows (a column walk) and 3-d views go through the bridge with the same bits', () => {
    const shape = [40, 3, 70];
    const n = numel(shape);
    const x = viewOf(dense(n, 12).storage as CpuStorage, shape);
    const y = viewOf(dense(n, 13).storage as CpuStorage, shape);
    const yt = viewOf(y.storage as CpuStorage, [70, 3, 40], [1, 70, 3 * 70]);
    const xt = viewOf(x.storage as CpuStorage, [70, 3, 40], [1, 70, 3 * 70]);
    check(be, spec('add', ADD, [d, d], d), viewOf(be.allocate(d, n), [70, 3, 40], contiguousStrides([70, 3, 40])), [xt, yt]);
    check(be, spec('add', ADD, [d, d], d), viewOf(be.allocate(d, n), shape), [x, y]);
  });

  it('casts to and from float32 and between the 16-bit types keep every bit', () => {
    const n = 65536;
    const h = be.allocate(d, n);
    for (let i = 0; i < n; i++) h.data[i] = i;
    const f = be.allocate('float32', n);
    be.compileElementwise(spec('to32', inp(0), [d], 'float32'))(viewOf(f, [n]), [viewOf(h, [n])], []);
    const w = new Uint32Array(f.data.buffer, f.data.byteOffset, n);
    for (let i = 0; i < n; i++) if (w[i] !== widenBits(d, i)) expect.fail(`${d} ${i} → float32`);
    const back = be.allocate(d, n);
    be.compileElementwise(spec('to16', inp(0), ['float32'], d))(viewOf(back, [256, 256], [1, 256]), [viewOf(f, [256, 256], [1, 256])], []);
    for (let i = 0; i < n; i++) if (back.data[i] !== narrowBits(d, widenBits(d, i))) expect.fail(`${d} ${i} round trip`);
    const o: HalfDType = d === 'float16' ? 'bfloat16' : 'float16';
    const other = be.allocate(o, n);
    be.compileElementwise(spec('cross', inp(0), [d], o))(viewOf(other, [n]), [viewOf(h, [n])], []);
    for (let i = 0; i < n; i++) if (other.data[i] !== narrowBits(o, widenBits(d, i))) expect.fail(`${d} ${i} → ${o}`);
  });
});
