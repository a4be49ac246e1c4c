/**
 * Host storage and its pool.
 *
 * Touching fresh memory is expensive (page faults, zeroing), so released arrays are parked in a
 * pool keyed by (dtype, size class) and handed out again to the next allocation of a similar size.
 * A training loop then allocates the same shapes every step without new memory.
 *
 * Large storages usually live in the WebAssembly heap instead (`heap-storage.ts`): their `data` is a
 * view of the wasm memory, `ptr` its address there, `block` what `release` gives back.
 */
import { sizeClass as poolSizeClass, type DType, type Storage, type TypedArray, type View } from '@nabla/core';
import { newTypedArray } from './dtypes.js';
import type { HeapBlock } from './wasm/heap.js';
import { tinyTypedArray } from './tiny-storage.js';

export class CpuStorage implements Storage {
  released = false;

  /**
   * @param data the elements; may be longer than `numel` (a pooled size class), and is what goes
   *   back to the pool on release. Kernels index it through views, so the tail is never read —
   *   and a subarray per allocation would cost more than a scalar op.
   * @param block the heap block `data` views (see `wasm/heap.ts`), or null when `data` is an
   *   ordinary typed array
   */
  constructor(
    readonly dtype: DType,
    readonly numel: number,
    readonly data: TypedArray,
    readonly block: HeapBlock | null = null,
  ) {}

  /**
   * Derived rather than stored, like `ptr`: a scalar graph keeps one storage per saved tensor, and
   * each field is 8 bytes the garbage collector copies per storage.
   */
  get byteLength(): number {
    return this.numel * elementBytes(this.dtype);
  }

  /** The byte offset of element 0 in its heap's memory, or -1 when `data` is an ordinary typed array. */
  get ptr(): number {
    return this.block === null ? -1 : this.block.ptr;
  }
}

/**
 * Bytes per element of a cpu dtype. Compares the dtype (an interned string) rather than reading
 * `data.BYTES_PER_ELEMENT`: that load sees every typed array class the backend makes, goes
 * megamorphic, and cost a fifth of making and freeing a 0-d tensor (`byteLength` runs on every
 * allocate, claim and release).
 */
export function elementBytes(dtype: DType): number {
  if (dtype === 'float32' || dtype === 'int32') return 4;
  if (dtype === 'float64') return 8;
  return dtype === 'bool' ? 1 : 2;
}

/**
 * Storages of at most this many elements get an array of exactly their size (carved from a slab,
 * see tiny-storage.ts), not a padded 64-byte size class. Released ones are kept whole (the storage
 * object and its array) and handed out again to the next tiny allocation of the same dtype and
 * length: a backward pass through a scalar graph frees its temporaries as it goes, and then makes
 * the next ones without allocating (176 bytes and two objects less per 0-d tensor). Collected
 * ones (most scalars of a forward pass) simply go with the garbage collector.
 */
export const TINY_NUMEL = 4;

/** Released tiny storages kept per dtype and length (bounded: a pass frees and reuses a few at a time). */
export const TINY_PARKED = 1024;

/** The pool's size class of `numel` (core's `sizeClass`: 16 elements at least, then four per power of two). */
export function sizeClass(numel: number): number {
  return poolSizeClass(numel, 16);
}

export interface PoolOptions {
  /** Upper bound on bytes parked in the pool (default 256 MiB; 0 disables pooling). */
  readonly maxPooledBytes?: number;
}

export class BufferPool {
  private readonly free: Record<DType, Map<number, TypedArray[]>> = {
    float32: new Map(),
    float64: new Map(),
    int32: new Map(),
    bool: new Map(),
    float16: new Map(),
    bfloat16: new Map(),
  };
  /** Released tiny storages, per dtype one stack per length (index 1..TINY_NUMEL). */
  private readonly tiny: Record<DType, CpuStorage[][]> = {
    float32: tinyStacks(),
    float64: tinyStacks(),
    int32: tinyStacks(),
    bool: tinyStacks(),
    float16: tinyStacks(),
    bfloat16: tinyStacks(),
  };
  private bytes = 0;
  readonly maxBytes: number;

  constructor(options: PoolOptions = {}) {
    const max = options.maxPooledBytes ?? 256 * 1024 * 1024;
    if (!(typeof max === 'number' && max >= 0)) throw new Error(`cpu backend: maxPooledBytes must be a number of bytes >= 0, got ${typeof max} ${String(max)}`);
    this.maxBytes = max;
  }

  allocate(dtype: DType, numel: number): CpuStorage {
    if (numel <= TINY_NUMEL) {
      const kept = numel === 0 ? undefined : this.tinyStack(dtype, numel).pop();
      if (kept === undefined) return new CpuStorage(dtype, numel, tinyTypedArray(dtype, numel));
      // Core released it once its last holder let go, so nothing live reads it: it is new again.
      this.bytes -= kept.byteLength;
      kept.released = false;
      return kept;
    }
    const cls = sizeClass(numel);
    const list = this.free[dtype].get(cls);
    const recycled = list?.pop();
    if (recycled !== undefined) {
      this.bytes -= recycled.byteLength;
      return new CpuStorage(dtype, numel, recycled);
    }
    return new CpuStorage(dtype, numel, newTypedArray(dtype, cls));
  }

  release(storage: CpuStorage): void {
    const arr = storage.data;
    if (arr.length <= TINY_NUMEL) {
      const bytes = storage.byteLength;
      if (storage.numel === 0 || this.bytes + bytes > this.maxBytes) return;
      const stack = this.tinyStack(storage.dtype, storage.numel);
      if (stack.length >= TINY_PARKED) return;
      stack.push(storage);
      this.bytes += bytes;
      return;
    }
    // Over the cap the array is simply dropped for the GC; the pool keeps what it already has,
    // which is what the next steps of a loop are most likely to ask for again.
    if (this.bytes + arr.byteLength > this.maxBytes) return;
    const byCls = this.free[storage.dtype];
    let list = byCls.get(arr.length);
    if (list === undefined) {
      list = [];
      byCls.set(arr.length, list);
    }
    list.push(arr);
    this.bytes += arr.byteLength;
  }

  /**
   * The parked tiny storages of one dtype and length. float32 and float64 are read by name: a load
   * keyed by the dtype sees all six and goes megamorphic, on every allocation and release.
   */
  private tinyStack(dtype: DType, numel: number): CpuStorage[] {
    const t = this.tiny;
    const byLength = dtype === 'float32' ? t.float32 : dtype === 'float64' ? t.float64 : t[dtype];
    return byLength[numel]!;
  }

  pooledBytes(): number {
    return this.bytes;
  }

  clear(): void {
    for (const m of Object.values(this.free)) m.clear();
    for (const stacks of Object.values(this.tiny)) for (const s of stacks) s.length = 0;
    this.bytes = 0;
  }
}

function tinyStacks(): CpuStorage[][] {
  return Array.from({ length: TINY_NUMEL + 1 }, () => []);
}

/**
 * The typed array behind a view, or a clear error when the view is not from this backend. `what`
 * names the operand; a number `i` means `input i` (spelled out only on error: per-call strings
 * are a measurable part of a scalar op).
 */
export function dataOf(op: string, what: string | number, v: View): TypedArray {
  const s = v.storage;
  if (!(s instanceof CpuStorage)) throw new Error(`${op}: ${operandName(what)} is not a cpu storage`);
  if (s.released) throw new Error(`${op}: ${operandName(what)} uses a storage that was already released`);
  return s.data;
}

function operandName(what: string | number): string {
  return typeof what === 'number' ? `input ${what}` : what;
}

/**
 * Float64 work buffers reused across kernel calls (packed matmul panels, reduction accumulators).
 * Kernels never re-enter each other, so one buffer per slot is enough.
 */
export class Scratch {
  private readonly slots = new Map<string, Float64Array>();

  /** A buffer of at least `n` elements with unspecified contents. */
  f64(slot: string, n: number): Float64Array {
    const cur = this.slots.get(slot);
    if (cur !== undefined && cur.length >= n) return cur;
    // Grow geometrically so a slowly growing size does not reallocate every call.
    const buf = new Float64Array(Math.max(n, Math.min(2 * (cur?.length ?? 0), n * 2), 64));
    this.slots.set(slot, buf);
    return buf;
  }

  bytes(): number {
    let b = 0;
    for (const a of this.slots.values()) b += a.byteLength;
    return b;
  }

  clear(): void {
    this.slots.clear();
  }
}
