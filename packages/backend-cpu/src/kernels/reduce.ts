/**
 * Reductions (sum, prod, max, min) over any set of axes, and argmax/argmin over one axis, for
 * strided inputs and outputs.
 *
 * The input is walked in its own memory order into a dense float64 accumulator with one slot per
 * output element; the result is then stored into `out` (whose strides are arbitrary). When the
 * innermost (collapsed) dim is reduced, each row is folded in a local first — pairwise for sums,
 * so long float rows keep their accuracy; when it is kept, the row is added slot by slot, which keeps
 * reads sequential for reductions over leading axes. With the wasm folds (`wasm/reduce.ts`),
 * contiguous float rows are folded in SIMD, and kept rows of an input in the heap are added into
 * an accumulator in the heap (the same additions in the same order).
 */
import type { TypedArray, View } from '@nabla/core';
import { dataOf, type Scratch } from '../storage.js';
import { checkReduceAxes } from '@nabla/core';
import { collapse, fmtShape, forEachRow, numelOf } from '../strided.js';
import type { RowFolds } from '../wasm/reduce.js';

export type ReduceOp = 'sum' | 'prod' | 'max' | 'min';

/** Row-major strides of `shape` with 0 on `zeroed` dims: the accumulator slot of each element. */
function denseStrides(shape: readonly number[], zeroed: readonly boolean[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = zeroed[d] ? 0 : acc;
    if (!zeroed[d]) acc *= shape[d]!;
  }
  return s;
}

/** Pairwise summation: error grows with log(n) rather than n. */
function rowSum(X: TypedArray, p: number, s: number, n: number): number {
  if (n <= 128) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let j = 0;
    for (; j + 3 < n; j += 4) {
      s0 += X[p]!;
      s1 += X[p + s]!;
      s2 += X[p + 2 * s]!;
      s3 += X[p + 3 * s]!;
      p += 4 * s;
    }
    for (; j < n; j++, p += s) s0 += X[p]!;
    return s0 + s1 + (s2 + s3);
  }
  const h = n >> 1;
  return rowSum(X, p, s, h) + rowSum(X, p + h * s, s, n - h);
}

function rowProd(X: TypedArray, p: number, s: number, n: number): number {
  let r = 1;
  for (let j = 0; j < n; j++, p += s) r *= X[p]!;
  return r;
}

/** int32/bool products wrap like int32 arithmetic (a float64 product would lose low bits first). */
function rowProdInt(X: TypedArray, p: number, s: number, n: number): number {
  let r = 1;
  for (let j = 0; j < n; j++, p += s) r = Math.imul(r, X[p]!);
  return r;
}

// Math.max/min return NaN as soon as either side is NaN, which is the NaN propagation we want.
function rowMax(X: TypedArray, p: number, s: number, n: number): number {
  let r = -Infinity;
  for (let j = 0; j < n; j++, p += s) r = Math.max(r, X[p]!);
  return r;
}

function rowMin(X: TypedArray, p: number, s: number, n: number): number {
  let r = Infinity;
  for (let j = 0; j < n; j++, p += s) r = Math.min(r, X[p]!);
  return r;
}

function accSum(A: Float64Array, a: number, as: number, X: TypedArray, p: number, s: number, n: number): void {
  for (let j = 0; j < n; j++, p += s, a += as) A[a] += X[p]!;
}

function accProd(A: Float64Array, a: number, as: number, X: TypedArray, p: number, s: number, n: number): void {
  for (let j = 0; j < n; j++, p += s, a += as) A[a] *= X[p]!;
}

function accProdInt(A: Float64Array, a: number, as: number, X: TypedArray, p: number, s: number, n: number): void {
  for (let j = 0; j < n; j++, p += s, a += as) A[a] = Math.imul(A[a]!, X[p]!);
}

function accMax(A: Float64Array, a: number, as: number, X: TypedArray, p: number, s: number, n: number): void {
  for (let j = 0; j < n; j++, p += s, a += as) A[a] = Math.max(A[a]!, X[p]!);
}

function accMin(A: Float64Array, a: number, as: number, X: TypedArray, p: number, s: number, n: number): void {
  for (let j = 0; j < n; j++, p += s, a += as) A[a] = Math.min(A[a]!, X[p]!);
}

/** Kept rows shorter than this add up faster in JavaScript than through a call into WebAssembly. */
export const MIN_COLUMN_ROW = 16;

type RowFn = (X: TypedArray, p: number, s: number, n: number) => number;
type AccFn = (A: Float64Array, a: number, as: number, X: TypedArray, p: number, s: number, n: number) => void;

const IDENTITY: Record<ReduceOp, number> = { sum: 0, prod: 1, max: -Infinity, min: Infinity };

/** Stores dense `acc` (row-major over out.shape) into the strided `out`. */
function storeDense(op: string, out: View, acc: Float64Array): void {
  const O = dataOf(op, 'out', out);
  const g = collapse(out.shape, [out.strides]);
  const os = g.strides[0]!;
  const s = os[os.length - 1]!;
  let k = 0;
  const bool = out.dtype === 'bool';
  forEachRow(g.shape, g.strides, [out.offset], (bases, n) => {
    let p = bases[0]!;
    if (bool) for (let j = 0; j < n; j++, p += s) O[p] = acc[k++] !== 0 ? 1 : 0;
    // Int32Array stores wrap an integer-valued sum exactly like int32 addition would have.
    else for (let j = 0; j < n; j++, p += s) O[p] = acc[k++]!;
  });
}

/** `folds`: WebAssembly SIMD folds for contiguous float rows (null: JavaScript only). */
export function reduce(op: ReduceOp, out: View, x: View, axes: readonly number[], scratch: Scratch, folds: RowFolds | null = null): void {
  const reduced = checkReduceAxes(op, x, out, axes);
  const X = dataOf(op, 'x', x);
  const nOut = numelOf(out.shape);
  if (nOut === 0) return;
  const g = collapse(x.shape, [x.strides, denseStrides(x.shape, reduced)]);
  const last = g.shape.length - 1;
  const xs = g.strides[0]![last]!;
  const as = g.strides[1]![last]!;
  const simd = folds !== null && op !== 'prod' && (x.dtype === 'float32' || x.dtype === 'float64');
  // Leading axes reduced over contiguous rows (a bias's gradient): whole rows into the accumulator in SIMD.
  const cols = simd && xs === 1 && as === 1 && g.shape[last]! >= MIN_COLUMN_ROW ? folds.columns(op, x.dtype as 'float32' | 'float64', X, nOut, IDENTITY[op]) : null;
  const acc = cols?.acc ?? scratch.f64('reduce', nOut).subarray(0, nOut);
  if (cols === null) acc.fill(IDENTITY[op]);
  if (numelOf(x.shape) === 0) {
    if (op === 'max' || op === 'min') throw new Error(`${op}: cannot reduce over an empty dimension`);
    storeDense(op, out, acc);
    return;
  }
  const intArith = x.dtype === 'int32' || x.dtype === 'bool';
  let row: RowFn = op === 'sum' ? rowSum : op === 'max' ? rowMax : op === 'min' ? rowMin : intArith ? rowProdInt : rowProd;
  if (simd) row = folds.row(op as 'sum' | 'max' | 'min', x.dtype as 'float32' | 'float64', row);
  const accRow: AccFn = op === 'sum' ? accSum : op === 'max' ? accMax : op === 'min' ? accMin : intArith ? accProdInt : accProd;
  const combine = op === 'sum'
    ? (a: number, b: number) => a + b
    : op === 'max' ? Math.max : op === 'min' ? Math.min : intArith ? Math.imul : (a: number, b: number) => a * b;

  if (cols !== null && last === 1 && g.strides[1]![0] === 0) {
    // [rows, n] over its rows: one call.
    cols.add(0, x.offset, g.shape[1]!, g.shape[0]!, g.strides[0]![0]!);
  } else {
    forEachRow(g.shape, g.strides, [x.offset, 0], (bases, n) => {
      const a = bases[1]!;
      if (as === 0) acc[a] = combine(acc[a]!, row(X, bases[0]!, xs, n));
      else if (cols !== null) cols.add(a, bases[0]!, n, 1, 0);
      else accRow(acc, a, as, X, bases[0]!, xs, n);
    });
  }
  storeDense(op, out, acc);
}

/**
 * argmax/argmin along one axis: the first index of the extreme value; a NaN counts as the extreme
 * for both (PyTorch: the first NaN wins, like max/min propagating it).
 */
export function argReduce(op: 'argmax' | 'argmin', out: View, x: View, axes: readonly number[]): void {
  if (axes.length !== 1) throw new Error(`${op}: reduces exactly one axis, got [${axes.join(', ')}]`);
  checkReduceAxes(op, x, out, axes);
  if (out.dtype !== 'int32') throw new Error(`${op}: out must be int32, got ${out.dtype}`);
  const X = dataOf(op, 'x', x);
  const O = dataOf(op, 'out', out);
  if (numelOf(out.shape) === 0) return;
  const ax = axes[0]!;
  const len = x.shape[ax]!;
  if (len === 0) throw new Error(`${op}: cannot reduce over an empty dimension`);
  const step = x.strides[ax]!;
  const keep = (_: number, d: number) => d !== ax;
  const g = collapse(x.shape.filter(keep), [x.strides.filter(keep), out.strides.filter(keep)]);
  const last = g.shape.length - 1;
  const xs = g.strides[0]![last]!;
  const os = g.strides[1]![last]!;
  const isMax = op === 'argmax';
  forEachRow(g.shape, g.strides, [x.offset, out.offset], (bases, n) => {
    let p = bases[0]!;
    let o = bases[1]!;
    for (let q = 0; q < n; q++, p += xs, o += os) {
      let best = X[p]!;
      let bi = 0;
      if (best === best) {
        let e = p + step;
        for (let j = 1; j < len; j++, e += step) {
          const v = X[e]!;
          if (isMax ? v > best : v < best) {
            best = v;
            bi = j;
          } else if (v !== v) {
            bi = j;
            break;
          }
        }
      }
      O[o] = bi;
    }
  });
}
