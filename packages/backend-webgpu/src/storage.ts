/**
 * GPU storage and its pool.
 *
 * Creating a GPUBuffer is expensive (a driver allocation, zeroing), and a training loop asks for
 * the same sizes every step, so released buffers are parked in a pool keyed by size class and
 * handed out again. Every dtype is 4 bytes per element on the device, so one pool serves all.
 *
 * Reusing a buffer right away is safe: every kernel is recorded into one queue in program order,
 * so work that still reads a buffer's old contents runs before work that writes its new ones.
 * Destroying is not: a buffer over the pool's cap may still be used by commands that are recorded
 * but not yet submitted, so it is destroyed only after the next submit (see `Dispatcher`).
 */
import { sizeClass as poolSizeClass, type DType, type Storage } from '@nabla/core';
import { ELEMENT_BYTES } from './dtypes.js';

export const BUFFER_USAGE = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

export const MAP_MODE_READ = 0x0001;

export class GpuStorage implements Storage {
  readonly byteLength: number;
  released = false;

  constructor(
    readonly dtype: DType,
    readonly numel: number,
    /** Holds at least `numel` elements (its size class). */
    readonly buffer: GPUBuffer,
    readonly capacity: number,
  ) {
    // float16/bfloat16 pack two elements per word (half-storage.ts).
    this.byteLength = numel * (dtype === 'float16' || dtype === 'bfloat16' ? 2 : ELEMENT_BYTES);
  }
}

/** The pool's size class of `numel` (core's `sizeClass`: 64 elements at least, then four per power of two). */
export function sizeClass(numel: number): number {
  return poolSizeClass(numel, 64);
}

export interface PoolOptions {
  /** Upper bound on bytes parked in the pool (default 512 MiB; 0 disables pooling). */
  readonly maxPooledBytes?: number;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private bytes = 0;
  /** Buffers created and not destroyed (live + pooled), for tests and `describe`. */
  private created = 0;
  readonly maxBytes: number;

  constructor(
    private readonly device: GPUDevice,
    /** Destroys a buffer once no recorded command can still use it. */
    private readonly destroyLater: (b: GPUBuffer) => void,
    options: PoolOptions = {},
  ) {
    const max = options.maxPooledBytes ?? 512 * 1024 * 1024;
    if (!(typeof max === 'number' && max >= 0)) throw new Error(`webgpu backend: maxPooledBytes must be a number of bytes >= 0, got ${typeof max} ${String(max)}`);
    this.maxBytes = max;
  }

  /** A buffer of at least `numel` elements (`STORAGE | COPY_SRC | COPY_DST`). */
  acquire(numel: number): { buffer: GPUBuffer; capacity: number } {
    const cls = sizeClass(numel);
    const recycled = this.free.get(cls)?.pop();
    if (recycled !== undefined) {
      this.bytes -= cls * ELEMENT_BYTES;
      return { buffer: recycled, capacity: cls };
    }
    const buffer = this.device.createBuffer({
      size: cls * ELEMENT_BYTES,
      usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST,
    });
    this.created++;
    return { buffer, capacity: cls };
  }

  give(buffer: GPUBuffer, capacity: number): void {
    const size = capacity * ELEMENT_BYTES;
    // Over the cap the buffer is destroyed; the pool keeps what it has, which is what the next
    // steps of a loop most likely ask for again.
    if (this.bytes + size > this.maxBytes) {
      this.created--;
      this.destroyLater(buffer);
      return;
    }
    let list = this.free.get(capacity);
    if (list === undefined) this.free.set(capacity, (list = []));
    list.push(buffer);
    this.bytes += size;
  }

  pooledBytes(): number {
    return this.bytes;
  }

  /** Buffers alive on the device (handed out or pooled). */
  liveBuffers(): number {
    return this.created;
  }

  clear(): void {
    for (const list of this.free.values()) for (const b of list) this.destroyLater(b);
    this.created -= [...this.free.values()].reduce((n, l) => n + l.length, 0);
    this.free.clear();
    this.bytes = 0;
  }
}
