/**
 * Inclusive cumulative sums and products along one dim, front to back or back to front. The
 * running value is a JS number (float64), as PyTorch's CPU kernels accumulate float32 in double;
 * int32 results wrap on store like every int32 kernel.
 */
import type { View } from '@nabla/core';
import { dataOf } from '../storage.js';
import { fmtShape, numelOf, sameShape } from '../strided.js';
import { checkAlong, forEachRowAlong } from './rows.js';

export function scanAlong(op: 'cumsum' | 'cumprod', out: View, x: View, dim: number, reverse: boolean): void {
  checkAlong(op, dim, x.shape.length);
  if (!sameShape(out.shape, x.shape)) throw new Error(`${op}: out shape ${fmtShape(out.shape)} must equal input shape ${fmtShape(x.shape)}`);
  const len = x.shape[dim]!;
  if (len === 0 || numelOf(x.shape) === 0) return;
  const X = dataOf(op, 'x', x);
  const O = dataOf(op, 'out', out);
  const xd = x.strides[dim]!;
  const od = out.strides[dim]!;
  const start = reverse ? len - 1 : 0;
  const step = reverse ? -1 : 1;
  const intOut = out.dtype === 'int32';
  forEachRowAlong([x, out], dim, (bases) => {
    let p = bases[0]! + start * xd;
    let o = bases[1]! + start * od;
    const xs = step * xd;
    const os = step * od;
    if (op === 'cumsum') {
      let acc = 0;
      for (let j = 0; j < len; j++, p += xs, o += os) {
        acc += X[p]!;
        // int32 sums wrap at each step as PyTorch's integer accumulation does (exact below 2^53).
        if (intOut) acc |= 0;
        O[o] = acc;
      }
    } else {
      let acc = 1;
      for (let j = 0; j < len; j++, p += xs, o += os) {
        acc = intOut ? Math.imul(acc, X[p]!) : acc * X[p]!;
        O[o] = acc;
      }
    }
  });
}
