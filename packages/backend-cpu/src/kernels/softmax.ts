/**
 * softmax / logSoftmax along one dim of a strided view, stabilised by the row maximum:
 * softmax = e^{x-m} / Σ e^{x-m}, logSoftmax = x - m - log Σ e^{x-m}.
 * A row of all -inf gives NaN (as PyTorch), -inf entries next to finite ones give 0 / -inf, and a
 * NaN anywhere in a row makes the whole row NaN.
 */
import type { View } from '@nabla/core';
import { dataOf, type Scratch } from '../storage.js';
import { collapse, fmtShape, forEachRow, sameShape } from '../strided.js';
import { MIN_SOFTMAX_ROW, type SoftmaxRows } from '../wasm/softmax.js';

/** `wasm`: float32 rows contiguous in x and out, and long enough, run there instead (`wasm/softmax.ts`). */
export function softmaxAlong(op: 'softmax' | 'logSoftmax', out: View, x: View, dim: number, scratch: Scratch, wasm: SoftmaxRows | null = null): void {
  const rank = x.shape.length;
  if (!Number.isInteger(dim) || dim < 0 || dim >= rank) throw new Error(`${op}: dim ${dim} is out of range for rank ${rank}`);
  if (!sameShape(out.shape, x.shape)) {
    throw new Error(`${op}: out shape ${fmtShape(out.shape)} must equal input shape ${fmtShape(x.shape)}`);
  }
  const X = dataOf(op, 'x', x);
  const O = dataOf(op, 'out', out);
  const len = x.shape[dim]!;
  if (len === 0) return;
  const xd = x.strides[dim]!;
  const od = out.strides[dim]!;
  const keep = (_: number, d: number) => d !== dim;
  const g = collapse(x.shape.filter(keep), [x.strides.filter(keep), out.strides.filter(keep)]);
  const last = g.shape.length - 1;
  const xs = g.strides[0]![last]!;
  const os = g.strides[1]![last]!;
  // Exponentials are kept in float64 between the passes so a float32 out only rounds once.
  const e = scratch.f64('softmax', len);
  const log = op === 'logSoftmax';
  const simd = wasm !== null && x.dtype === 'float32' && out.dtype === 'float32' && xd === 1 && od === 1 && len >= MIN_SOFTMAX_ROW && wasm.fits(len);
  forEachRow(g.shape, g.strides, [x.offset, out.offset], (bases, n) => {
    let xb = bases[0]!;
    let ob = bases[1]!;
    for (let q = 0; q < n; q++, xb += xs, ob += os) {
      if (simd) {
        wasm.row(log, X, xb, O, ob, len);
        continue;
      }
      let m = -Infinity;
      for (let j = 0, p = xb; j < len; j++, p += xd) m = Math.max(m, X[p]!);
      let sum = 0;
      for (let j = 0, p = xb; j < len; j++, p += xd) {
        const v = Math.exp(X[p]! - m);
        e[j] = v;
        sum += v;
      }
      if (log) {
        const logSum = Math.log(sum);
        // Read x[j] right before writing out[j]: out may be x itself.
        for (let j = 0, p = xb, o = ob; j < len; j++, p += xd, o += od) O[o] = X[p]! - m - logSum;
      } else {
        for (let j = 0, o = ob; j < len; j++, o += od) O[o] = e[j]! / sum;
      }
    }
  });
}
