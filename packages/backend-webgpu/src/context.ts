/**
 * What the structured kernels share: the dispatcher that records their work, checked access to
 * the buffers behind views, and short-lived temporary buffers from the pool.
 */
import type { View } from '@nabla/core';
import type { Dispatcher } from './dispatcher.js';
import { checkBounds, numelOf } from './geometry.js';
import { copyToDense } from './kernels/copy.js';
import { GpuStorage, type BufferPool } from './storage.js';

export class KernelContext {
  constructor(
    readonly dispatcher: Dispatcher,
    private readonly pool: BufferPool,
  ) {}

  /** The storage behind `v`, checked to be a live webgpu storage that holds the whole view. */
  storage(op: string, what: string, v: View): GpuStorage {
    const s = v.storage;
    if (!(s instanceof GpuStorage)) throw new Error(`${op}: ${what} is not a webgpu storage`);
    if (s.released) throw new Error(`${op}: ${what} uses a storage that was already released`);
    checkBounds(op, what, v);
    return s;
  }

  /**
   * A scratch buffer of `numel` elements for work recorded now. It goes back to the pool at once:
   * the queue runs in order, so a later reuse cannot overtake the work recorded here.
   */
  withTemp<T>(numel: number, use: (buffer: GPUBuffer) => T): T {
    const t = this.pool.acquire(Math.max(numel, 1));
    try {
      return use(t.buffer);
    } finally {
      this.pool.give(t.buffer, t.capacity);
    }
  }

  /**
   * Runs `run` with `x`'s buffer, or with a dense copy of `x` when it shares a buffer with `out`
   * (a kernel binds its output read-write, and WebGPU forbids binding that buffer again).
   */
  apart<T>(op: string, x: View, out: View, run: (buffer: GPUBuffer, x: View) => T): T {
    const xs = this.storage(op, 'input', x);
    const os = this.storage(op, 'out', out);
    if (xs.buffer !== os.buffer) return run(xs.buffer, x);
    return this.withTemp(numelOf(x.shape), (tmp) => {
      copyToDense(this, xs.buffer, x, tmp);
      return run(tmp, { ...x, strides: denseStrides(x.shape), offset: 0 });
    });
  }
}

export function denseStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  for (let d = shape.length - 1, s = 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  return strides;
}
