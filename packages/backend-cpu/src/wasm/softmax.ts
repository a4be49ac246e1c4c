/**
 * float32 softmax / logSoftmax rows in WebAssembly SIMD (`softmax-kernel.ts`): max → exp-and-sum
 * → divide (softmax) or subtract (logSoftmax). Rows of whole vectors whose input and output live
 * in the backend's heap run in place; others are copied into the scratch, padded with -Inf to
 * whole vectors, and copied out. `kernels/softmax.ts` walks the
 * geometry and hands over rows that are contiguous in both the input and the output and at least
 * `MIN_SOFTMAX_ROW` long; float64 and everything else keep the JavaScript row (exact Math.exp).
 *
 * float32 rounds the exponentials and the division in float32 (PyTorch's float32 kernel does the
 * same); the sum is kept in float64, as the JavaScript kernel keeps it.
 */
import type { TypedArray } from '@nabla/core';
import { heapCopy } from './bulk.js';
import { align16 } from './heap.js';
import type { WasmRuntime } from './runtime.js';
import { emitSoftmax, type SoftmaxExports } from './softmax-kernel.js';

/** Shorter rows run faster in JavaScript than with two copies and three calls. */
export const MIN_SOFTMAX_ROW = 32;

/** What `kernels/softmax.ts` runs a row with: `n` elements of X from `p` into O from `o`, both step 1. */
export type SoftmaxRow = (log: boolean, X: TypedArray, p: number, O: TypedArray, o: number, n: number) => void;

export class SoftmaxRows {
  private readonly k: SoftmaxExports;

  constructor(private readonly rt: WasmRuntime) {
    this.k = rt.instantiate(emitSoftmax(rt.heap.memoryType())) as unknown as SoftmaxExports;
  }

  /** Runs one row (the caller checked `fits`). */
  readonly row: SoftmaxRow = (log, X, p, O, o, n) => {
    const heap = this.rt.heap;
    const k = this.k;
    const xp = heap.ptrOf(X);
    const op = heap.ptrOf(O);
    if (xp >= 0 && op >= 0 && (n & 3) === 0) {
      const x = xp + 4 * p;
      const y = op + 4 * o;
      // An output overlapping the input elsewhere is staged (below), as every other row.
      if (x === y || x + 4 * n <= y || y + 4 * n <= x) {
        const m = k.sm_max(x, n);
        if (log) {
          const eAt = heap.scratch(4 * n);
          if (eAt >= 0) {
            const sum = k.sm_exp_sum(x, eAt, n, m);
            if (x !== y) heapCopy(heap)(y, x, 4 * n);
            k.sm_log(y, n, m, Math.log(sum));
            return;
          }
        } else {
          k.sm_div(y, n, k.sm_exp_sum(x, y, n, m));
          return;
        }
      }
    }
    const padded = (n + 3) & ~3;
    const at = heap.scratch(8 * padded + 64);
    const eAt = align16(at + 4 * padded);
    // Views are read after `scratch`: growing a plain memory detaches them.
    const H = heap.f32;
    H.set(X.subarray(p, p + n), at / 4);
    H.fill(-Infinity, at / 4 + n, at / 4 + padded);
    const m = k.sm_max(at, padded);
    if (log) {
      const sum = k.sm_exp_sum(at, eAt, padded, m);
      k.sm_log(at, padded, m, Math.log(sum));
      O.set(H.subarray(at / 4, at / 4 + n), o);
    } else {
      const sum = k.sm_exp_sum(at, at, padded, m);
      k.sm_div(at, padded, sum);
      O.set(H.subarray(at / 4, at / 4 + n), o);
    }
  };

  /** Whether a row of `n` float32 elements fits the memory. */
  fits(n: number): boolean {
    // Reserving the scratch now means the row's call finds it (it only ever grows).
    return this.rt.heap.fits(8 * n + 128) && this.rt.heap.scratch(8 * ((n + 3) & ~3) + 64) >= 0;
  }
}
