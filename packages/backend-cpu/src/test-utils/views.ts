/** Hand-built views and naive references for the kernel tests. */
import { encodeHalf, type DType, type ElementwiseSpec, type Expr, type TypedArray, type View } from '@nabla/core';
import type { CpuBackend } from '../backend.js';
import { CpuStorage } from '../storage.js';

export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

const CTOR = { float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array } as const;

/** Host data as `write` takes it: for float16/bfloat16, the values' 16-bit patterns. */
export function typed(dtype: DType, values: ArrayLike<number>): TypedArray {
  if (dtype === 'float16' || dtype === 'bfloat16') return encodeHalf(dtype, values);
  return new CTOR[dtype](Array.from(values));
}

/** A storage of `size` elements filled from `values` (the rest zero). */
export function storageWith(be: CpuBackend, dtype: DType, values: ArrayLike<number>, size = values.length): CpuStorage {
  const s = be.allocate(dtype, size);
  s.data.fill(0);
  be.write(s, typed(dtype, values));
  return s;
}

export function viewOf(storage: CpuStorage, shape: readonly number[], strides = contiguousStrides(shape), offset = 0): View {
  return { storage, dtype: storage.dtype, shape: [...shape], strides: [...strides], offset };
}

/** A contiguous view holding `values` (row-major). */
export function dense(be: CpuBackend, dtype: DType, shape: readonly number[], values: ArrayLike<number>): View {
  return viewOf(storageWith(be, dtype, values), shape);
}

/** A fresh, contiguous output view (filled with a sentinel so unwritten elements show up). */
export function empty(be: CpuBackend, dtype: DType, shape: readonly number[], fill = 77): View {
  const s = be.allocate(dtype, numel(shape));
  s.data.fill(fill);
  return viewOf(s, shape);
}

/**
 * A view with logical shape `shape` whose dims are laid out in memory in `perm` order, starting at
 * `offset` in a larger storage (the padding around it is filled with NaN-ish junk).
 * Element values come from `values` in row-major order of `shape`.
 */
export function permuted(be: CpuBackend, dtype: DType, shape: readonly number[], values: ArrayLike<number>, perm: readonly number[], offset = 3): View {
  const memShape = perm.map((p) => shape[p]!);
  const memStrides = contiguousStrides(memShape);
  const strides = new Array<number>(shape.length);
  perm.forEach((p, i) => (strides[p] = memStrides[i]!));
  const s = be.allocate(dtype, numel(shape) + offset + 2);
  s.data.fill(dtype === 'float32' || dtype === 'float64' ? -12345 : 99);
  const v = viewOf(s, shape, strides, offset);
  let k = 0;
  for (const idx of indices(shape)) s.data[offsetOf(v, idx)] = values[k++]!;
  return v;
}

export function* indices(shape: readonly number[]): Generator<number[]> {
  const n = numel(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    yield idx.slice();
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
}

export function offsetOf(v: View, idx: readonly number[]): number {
  let o = v.offset;
  for (let d = 0; d < idx.length; d++) o += idx[d]! * v.strides[d]!;
  return o;
}

export function at(v: View, idx: readonly number[]): number {
  return (v.storage as CpuStorage).data[offsetOf(v, idx)]!;
}

/** Row-major values of a view, read naively element by element. */
export function values(v: View): number[] {
  return [...indices(v.shape)].map((i) => at(v, i));
}

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randoms(n: number, seed = 1, lo = -1, hi = 1): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * r());
}

export function randInts(n: number, seed: number, lo: number, hi: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + Math.floor((hi - lo) * r()));
}

// Expression builders (local, so the tests do not need core's runtime).
export const inp = (index: number): Expr => ({ op: 'input', index });
export const par = (index: number): Expr => ({ op: 'param', index });
export const cst = (value: number): Expr => ({ op: 'const', value });
export const un = (op: string, a: Expr): Expr => ({ op, a }) as Expr;
export const bin = (op: string, a: Expr, b: Expr): Expr => ({ op, a, b }) as Expr;
export const where = (cond: Expr, a: Expr, b: Expr): Expr => ({ op: 'where', cond, a, b });

let specCounter = 0;
const isInt = (d: DType) => d === 'int32' || d === 'bool';

/** A spec as core builds it; `computeDtype` defaults to int32 when every operand is int32/bool. */
export function spec(
  name: string,
  expr: Expr,
  inputDtypes: readonly DType[],
  outDtype: DType,
  numParams = 0,
  computeDtype: DType = inputDtypes.every(isInt) && isInt(outDtype) ? 'int32' : 'float64',
): ElementwiseSpec {
  return { name, expr, inputDtypes, outDtype, computeDtype, numParams, key: `${name}#${++specCounter}` };
}

/** Float32 rounding of a float64 reference, for float32 outputs. */
export const f32 = Math.fround;

/** The whole backing storage of a view (to check what lies around it). */
export function raw(v: View): number[] {
  const s = v.storage as CpuStorage;
  return Array.from(s.data.subarray(0, s.numel));
}
