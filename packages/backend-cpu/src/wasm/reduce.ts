/**
 * Reductions whose innermost (collapsed) dim is reduced and contiguous run each row through a
 * WebAssembly SIMD fold (`reduce-kernel.ts`), in chunks of `FOLD_CHUNK` elements: in place when
 * the row lives in the backend's heap, else each chunk copied into the scratch (a memcpy, in L2)
 * and folded there. The chunks are the same either way, so are the bits. `kernels/reduce.ts` walks the geometry;
 * this only replaces its per-row fold. Short or strided rows keep the JavaScript fold. Long rows
 * in the heap are folded on every thread (`THREAD_MIN_FOLD`), and reductions over leading axes
 * add whole rows into an accumulator in the heap (`columns`).
 */
import type { TypedArray } from '@nabla/core';
import { align16 } from './heap.js';
import { descriptorBytes, runModuleTask, writeDescriptor } from './pool-tasks.js';
import { accFoldName, emitChunkFold, emitRowFolds, rowFoldName, type AccFold, type RowDtype, type RowFold, type RowOp } from './reduce-kernel.js';
import type { WasmRuntime } from './runtime.js';

/** Elements per fold call (32 KiB of float64). */
export const FOLD_CHUNK = 4096;
/** Rows shorter than this fold faster in JavaScript than with a copy and a call. */
export const MIN_FOLD_ROW = 64;

/**
 * Rows in the heap at least this long are folded by every thread of the pool. One thread folds
 * 2^19 float32 elements (2 MiB, out of L2) in 0.1-0.2 ms here, several worker wake-ups; below
 * that, on a busy machine, a late worker costs more than the split saves.
 */
export const THREAD_MIN_FOLD = 1 << 19;
/** Elements a thread claims at a time: a few microseconds of folding, four `FOLD_CHUNK` pieces. */
const TASK_CHUNK = 4 * FOLD_CHUNK;
/**
 * Module ids of the fold tasks: far above the elementwise kernels' ids (counted from 1 in
 * `elementwise.ts`), since a worker keeps one instance per id.
 */
const TASK_ID_BASE = 1 << 30;

/** What `kernels/reduce.ts` folds a row with: `n` elements of `X` from `p`, step `s`. */
export type RowFn = (X: TypedArray, p: number, s: number, n: number) => number;

/** One thread-split fold: its module's bytes (for the workers), id and the caller's instance. */
interface FoldTask {
  readonly bytes: Uint8Array;
  readonly id: number;
  readonly run: (...args: number[]) => void;
}

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
  private readonly tasks = new Map<string, FoldTask>();

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
        const pool = this.rt.pool;
        if (pool !== null && n >= THREAD_MIN_FOLD) {
          const r1 = this.threaded(op, dtype, xp + p * es, n, start, combine);
          if (r1 !== null) return r1;
        }
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

  /**
   * The fold of the `n` elements at byte address `xp` on every thread (`pool-tasks.ts`): the
   * threads take `TASK_CHUNK` elements at a time and store each `FOLD_CHUNK` piece's fold, which
   * the caller then combines in order, exactly as the one-thread loop does; null when the layout
   * does not fit the scratch.
   */
  private threaded(op: RowOp, dtype: RowDtype, xp: number, n: number, start: number, combine: (a: number, b: number) => number): number | null {
    const pool = this.rt.pool!;
    const heap = this.rt.heap;
    const task = this.task(op, dtype);
    const pieces = Math.ceil(n / FOLD_CHUNK);
    const desc = 0;
    const counter = align16(desc + descriptorBytes(3));
    const modAt = counter + 16;
    const partsAt = align16(modAt + task.bytes.length);
    const base = heap.scratch(partsAt + pieces * 8);
    if (base < 0) return null;
    heap.u8.set(task.bytes, base + modAt);
    const es = dtype === 'float32' ? 4 : 8;
    // Argument j of the chunk from element s is base[j] + s·stride[j]: the output pointer moves
    // 8 bytes per FOLD_CHUNK elements (a power of two, so s·stride is exact).
    writeDescriptor(heap.memory.buffer, base + desc, {
      moduleId: task.id,
      bytesPtr: base + modAt,
      bytesLen: task.bytes.length,
      counterPtr: base + counter,
      total: n,
      chunk: TASK_CHUNK,
      base: [0, xp, base + partsAt],
      stride: [0, es, 8 / FOLD_CHUNK],
    });
    const own = new Map([[task.id, task.run]]);
    const take = (): void => runModuleTask(heap.memory, base + desc, own);
    pool.runTasks(new Array<number>(pool.threads).fill(base + desc), take, take);
    const F = heap.f64;
    let r = start;
    for (let k = 0, q = (base + partsAt) / 8; k < pieces; k++) r = combine(r, F[q + k]!);
    return r;
  }

  private task(op: RowOp, dtype: RowDtype): FoldTask {
    const key = rowFoldName(op, dtype);
    let t = this.tasks.get(key);
    if (t === undefined) {
      const bytes = emitChunkFold(this.rt.heap.memoryType(), op, dtype, FOLD_CHUNK);
      t = { bytes, id: TASK_ID_BASE + nextTaskId++, run: this.rt.instantiate(bytes).run as (...args: number[]) => void };
      this.tasks.set(key, t);
    }
    return t;
  }
}

let nextTaskId = 0;
