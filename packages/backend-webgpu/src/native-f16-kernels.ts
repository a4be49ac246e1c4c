/**
 * The structured kernels that read and write float16 directly on a device with `shader-f16`:
 * bmm and addmm (kernels/matmul.ts) and sum/prod/max/min (kernels/reduce.ts), each with f16
 * operands, f32 accumulation and one rounding. The other structured kernels, bfloat16, and a
 * float16 kernel whose input shares the output's buffer keep the half bridge's f32 stand-ins
 * (`packed`).
 */
import type { KernelSignatures, View } from '@nabla/core';
import type { KernelContext } from './context.js';
import { addmm, bmm } from './kernels/matmul.js';
import { reduce, type ReduceOp } from './kernels/reduce.js';
import { GpuStorage } from './storage.js';

/** Whether every input lives in a buffer other than `out`'s (else the bridge's copies handle it). */
function apart(out: View, ...xs: View[]): boolean {
  const o = out.storage;
  return o instanceof GpuStorage && xs.every((x) => x.storage instanceof GpuStorage && x.storage.buffer !== o.buffer);
}

export function nativeF16Kernels(ctx: KernelContext, packed: KernelSignatures, onNative: () => void): KernelSignatures {
  const red = (op: ReduceOp): KernelSignatures['sum'] => (out, x, axes) => {
    const f16 = x.dtype === 'float16' && (out.dtype === 'float16' || out.dtype === 'float32');
    if (!f16 || !apart(out, x)) return packed[op]!(out, x, axes);
    onNative();
    reduce(ctx, op, out, x, axes, true);
  };
  return {
    ...packed,
    sum: red('sum'),
    prod: red('prod'),
    max: red('max'),
    min: red('min'),
    bmm: (out, a, b) => {
      if (a.dtype !== 'float16' || !apart(out, a, b)) return packed.bmm!(out, a, b);
      onNative();
      bmm(ctx, out, a, b, true);
    },
    addmm: (out, bias, a, b, beta, alpha) => {
      if (a.dtype !== 'float16' || !apart(out, bias, a, b)) return packed.addmm!(out, bias, a, b, beta, alpha);
      onNative();
      addmm(ctx, out, bias, a, b, beta, alpha, true);
    },
  };
}
