/**
 * Wrapping every structured kernel of a table the same way: what a backend needs to run a second
 * set of dtypes through its first (float16/bfloat16 through the float32 kernels, widened before and
 * narrowed after), without restating per backend which arguments each kernel writes.
 */
import type { DType } from '../dtype.js';
import { isHalfDType } from '../dtype/half.js';
import type { KernelName, KernelSignatures, View } from './types.js';

/** The 16-bit floating dtypes, which backends usually run through their float32 kernels. */
export const HALF_DTYPES: readonly DType[] = ['float16', 'bfloat16'];

/** Which argument positions each structured kernel writes (the rest it only reads). */
export const KERNEL_OUTPUTS: { readonly [K in KernelName]: readonly number[] } = {
  sum: [0],
  prod: [0],
  max: [0],
  min: [0],
  argmax: [0],
  argmin: [0],
  bmm: [0],
  addmm: [0],
  gather: [0],
  scatterAdd: [0],
  scatter: [0],
  softmax: [0],
  logSoftmax: [0],
  sort: [0, 1],
  cumsum: [0],
  cumprod: [0],
};

/** Runs `kernel` on `args`; `outs` are the positions of `args` it writes. */
export type KernelWrapper = (kernel: (...args: unknown[]) => void, args: unknown[], outs: readonly number[]) => void;

/**
 * A kernel table whose every kernel calls `wrap` with the original kernel, its arguments and the
 * positions it writes.
 *
 * @example
 * // float16/bfloat16 through the float32 kernels (bridge widens inputs, narrows outputs):
 * const halfKernels = wrapKernels(backend.kernels, (k, args, outs) => bridge.run(k, args, outs));
 */
export function wrapKernels(kernels: KernelSignatures, wrap: KernelWrapper): KernelSignatures {
  const out: Partial<Record<KernelName, unknown>> = {};
  for (const name of Object.keys(KERNEL_OUTPUTS) as KernelName[]) {
    const k = kernels[name] as ((...args: unknown[]) => void) | undefined;
    if (k !== undefined) out[name] = (...args: unknown[]) => wrap(k, args, KERNEL_OUTPUTS[name]);
  }
  return out as KernelSignatures;
}

/** What a backend's half bridge does with one 16-bit view: a float32 stand-in, and back. */
export interface Widening<W> {
  /** Whether `a` is one of this backend's views (kernel arguments are also numbers and arrays). */
  owns(a: unknown): a is View;
  /** A float32 stand-in for `v`, holding its values. */
  widen(v: View): W;
  /** The stand-in's view, passed to the float32 kernel. */
  viewOf(w: W): View;
  /** Rounds the stand-in's values back into `v`. */
  narrow(w: W, v: View): void;
  /** Gives the stand-in's memory back. */
  done(w: W): void;
}

/**
 * Runs a float32 `kernel` on `args` whose float16/bfloat16 views are widened first; the views at
 * `outs` (argument positions) are narrowed back afterwards. Outputs are widened with their
 * contents, since some kernels accumulate into them (scatterAdd). Stand-ins are given back even
 * when the kernel throws.
 *
 * @example
 * const halfKernels = wrapKernels(kernels, (k, args, outs) => runWidened(k, args, outs, bridge));
 */
export function runWidened<W>(kernel: (...args: unknown[]) => void, args: readonly unknown[], outs: readonly number[], how: Widening<W>): void {
  const made: W[] = [];
  const written: [W, View][] = [];
  try {
    const call = args.map((a, i) => {
      if (!how.owns(a) || !isHalfDType(a.dtype)) return a;
      const w = how.widen(a);
      made.push(w);
      if (outs.includes(i)) written.push([w, a]);
      return how.viewOf(w);
    });
    kernel(...call);
    for (const [w, v] of written) how.narrow(w, v);
  } finally {
    for (const w of made) how.done(w);
  }
}
