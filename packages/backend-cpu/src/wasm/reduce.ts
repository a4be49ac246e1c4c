/**
 * Reductions whose innermost (collapsed) dim is reduced and contiguous run each row through a
 * WebAssembly SIMD fold (`reduce-kernel.ts`), in chunks of `FOLD_CHUNK` elements: in place when
 * the row lives in the backend's heap, else each chunk copied into the scratch (a memcpy, in L2)
 * and folded there. The chunks are the same either way, so are the bits. `kernels/reduce.ts` walks the geometry;
 * this only replaces its per-row fold. Short or strided rows keep the JavaScript fold. Reductions
 * over leading axes add whole rows into an accumulator in the heap (`columns`). Everything runs on
 * the calling thread (README, *Reductions*, says why).
 */
import type { TypedArray } from '@nabla/core';
import { accFoldName, emitRowFolds, rowFoldName, type AccFold, type RowDtype, type RowFold, type RowOp } from './reduce-kernel.js';
import type { WasmRuntime } from './runtime.js';

/** Elements per fold call (32 KiB of float64). */
export const FOLD_CHUNK = 4096;
/** Rows shorter than this fold faster in JavaScript than with a copy and a call. */
export const MIN_FOLD_ROW = 64;

/** What `kernels/reduce.ts` folds a row with: `n` elements of `X` from `p`, step `s`. */
export type RowFn = (X: TypedArray, p: number, s: number, n: number) => number;

/** Rows of a reduction over leading axes folded into a float64 accumulator in the heap (`RowFolds.columns`). */
export interface ColumnFold {
  /** The accumulator, `nOut` slots, filled with the op's identity. */
  readonly acc: Float64Array;
  /** Folds `rows` rows of `n` elements of the input, from element `p` and `step` apart, into the slots from `a`. */
  add(a: number, p: number, n: number, rows: number, step: number): void;
}

export class RowFolds {
  private readonly folds = new Map<string, RowFold>();
  private readonly accs = new Map<string, AccFold>();

  constructor(private readonly rt: WasmRuntime) {
    const exports = rt.instantiate(emitRowFolds(rt.heap.memoryType()));
    for (const op of ['sum', 'max', 'min'] as const) {
      for (const dtype of ['float32', 'float64'] as const) {
        this.folds.set(rowFoldName(op, dtype), exports[rowFoldName(op, dtype)] as RowFold);
        this.accs.set(accFoldName(op, dtype), exports[accFoldName(op, dtype)] as AccFold);
      }
    }
  }

  /**
   * A float64 accumulator of `nOut` slots in the heap's scratch and the SIMD fold of contiguous
   * rows of `X` into it, or null when `X` is not in the heap (its rows are short: the JavaScript
   * fold is as fast) or the scratch will not fit. The bits are the JavaScript fold's: each slot
   * takes its elements in the same order, in float64.
   */
  columns(op: RowOp, dtype: RowDtype, X: TypedArray, nOut: number, identity: number): ColumnFold | null {
    const heap = this.rt.heap;
    const xp = heap.ptrOf(X);
    if (xp < 0) return null;
    const at = heap.scratch(nOut * 8);
    if (at < 0) return null;
    const acc = heap.f64.subarray(at / 8, at / 8 + nOut);
    acc.fill(identity);
    const fold = this.accs.get(accFoldName(op, dtype))!;
    const es = dtype === 'float32' ? 4 : 8;
    return { acc, add: (a, p, n, rows, step) => fold(at + a * 8, xp + p * es, n, rows, step * es) };
  }

  /** `js` with contiguous rows of at least `MIN_FOLD_ROW` folded in WebAssembly. */
  row(op: RowOp, dtype: RowDtype, js: RowFn): RowFn {
    const fold = this.folds.get(rowFoldName(op, dtype))!;
    const heap = this.rt.heap;
    const f32 = dtype === 'float32';
    const combine = op === 'sum' ? (a: number, b: number) => a + b : op === 'max' ? Math.max : Math.min;
    const start = op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity;
    return (X, p, s, n) => {
      if (s !== 1 || n < MIN_FOLD_ROW) return js(X, p, s, n);
      const es = f32 ? 4 : 8;
      let r = start;
      const xp = heap.ptrOf(X);
      if (xp >= 0) {
        for (let c0 = 0; c0 < n; c0 += FOLD_CHUNK) r = combine(r, fold(xp + (p + c0) * es, Math.min(FOLD_CHUNK, n - c0)));
        return r;
      }
      const S = heap.scratch(FOLD_CHUNK * 8);
      if (S < 0) return js(X, p, s, n);
      // The views are read after `scratch`: growing a plain memory detaches them.
      const H = f32 ? heap.f32 : heap.f64;
      for (let c0 = 0; c0 < n; c0 += FOLD_CHUNK) {
        const m = Math.min(FOLD_CHUNK, n - c0);
        H.set(X.subarray(p + c0, p + c0 + m), S / es);
        r = combine(r, fold(S, m));
      }
      return r;
    };
  }
}
