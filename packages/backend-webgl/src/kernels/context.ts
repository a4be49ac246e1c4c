import type { DType, View } from '@nabla/core';
import type { GlDevice } from '../device.js';
import type { GlStorage } from '../storage.js';

/** What the structured kernels need from the backend. */
export interface KernelContext {
  readonly dev: GlDevice;
  /** A scratch float32 storage of `numel` elements; give it back with `release`. */
  temp(numel: number): GlStorage;
  release(s: GlStorage): void;
  /** Runs `sc` into a new texture for `s` and gives the old texture back to the pool. */
  runInto(s: GlStorage, what: string, run: (cls: number) => ReturnType<GlDevice['run']>): void;
  /** Copies (and converts) `src` into `out` (same shape, any strides). */
  copy(out: View, src: View): void;
  /** Reads a view to the host (synchronous). */
  readSync(v: View): ArrayLike<number>;
  /** Runs an elementwise expression kernel. */
  elementwise(name: string, key: string, expr: import('@nabla/core').Expr, out: View, inputs: readonly View[], params: readonly number[], inputDtypes: readonly DType[]): void;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}

export function viewOf(storage: GlStorage, shape: readonly number[], strides: readonly number[] = contiguousStrides(shape), offset = 0): View {
  return { storage, dtype: storage.dtype, shape, strides, offset };
}

/** Loop bounds in gpu.js kernels are compiled in: round up so that growing sizes rarely recompile. */
export function loopBound(n: number): number {
  return Math.max(16, 2 ** Math.ceil(Math.log2(Math.max(n, 1))));
}
