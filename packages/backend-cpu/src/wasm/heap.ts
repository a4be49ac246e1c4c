/**
 * The linear memory every generated kernel of one backend shares: large CPU storages live in it
 * (when it is shared, so growing it never detaches their views), and kernels take their scratch
 * from it. One allocator (`heap-allocator.ts`) hands out both, so they never collide.
 *
 * A storage in the heap is an ordinary typed array over the memory's SharedArrayBuffer, so every
 * JavaScript kernel reads it unchanged, and the WebAssembly kernels read and write it in place
 * through `CpuStorage.ptr` (or `ptrOf` of its array) instead of copying operands in and out.
 * Storages are given back by `release`, or, for a tensor the garbage collector took (core leaves
 * CPU storages to it), by a finalizer on the storage: the memory is not the collector's to free.
 *
 * Kernels never re-enter each other, so one scratch block is enough: `scratch(bytes)` returns it,
 * grown (moved) when a call needs more.
 */
import { HeapAllocator } from './heap-allocator.js';

const PAGE = 65536;
/** Where the allocator starts (bytes); below it is free for constants a module may want. */
export const ARENA = 1024;
/**
 * Pages a memory may grow to. 2 GiB keeps every pointer a positive i32 (kernels compare some
 * signed); a shared memory declares it, and V8 reserves address space for it (not memory: pages
 * are committed as the memory grows, and touched only as blocks are used).
 */
export const MAX_PAGES = 32768;

/** A typed-array constructor of the kind storages use. */
export type ViewCtor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; readonly BYTES_PER_ELEMENT: number };

export interface HeapOptions {
  /**
   * Storages are not placed where the heap would pass this many bytes (they become ordinary
   * typed arrays instead): a bound on what a loop that leaves its tensors to the collector (whose
   * finalizers run only when the event loop turns) can pile up. Scratch may go past it.
   */
  readonly storageBytes?: number;
}

/** Storage blocks stop here by default (see `HeapOptions.storageBytes`). */
export const DEFAULT_STORAGE_BYTES = 512 * 1024 * 1024;

export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  private buffer: ArrayBuffer | SharedArrayBuffer;
  f32: Float32Array;
  f64: Float64Array;
  u8: Uint8Array;
  i32: Int32Array;

  /** The most this memory may grow to, in pages and bytes. */
  readonly maxPages: number;
  readonly maxBytes: number;
  readonly storageBytes: number;
  private readonly alloc: HeapAllocator;
  /** Every buffer object the memory has had (a shared memory's grow makes a new, longer one). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private scratchAt = -1;
  private scratchSize = 0;
  /** Exact bytes (numel × element size) of the storages in the heap now. */
  private storageLive = 0;
  private storageCount = 0;
  /** Frees the block of a storage the collector took without `release`. */
  private readonly reaper = new FinalizationRegistry<HeapBlock>((b) => this.freeBlock(b));


  constructor(
    readonly shared = false,
    options: HeapOptions = {},
  ) {
    this.memory = shared ? sharedMemory() : new WebAssembly.Memory({ initial: 16 });
    this.maxPages = shared ? (this.memory as unknown as { maxPages: number }).maxPages : MAX_PAGES;
    this.maxBytes = this.maxPages * PAGE;
    this.storageBytes = Math.min(options.storageBytes ?? DEFAULT_STORAGE_BYTES, this.maxBytes);
    this.buffer = this.memory.buffer;
    this.buffers.add(this.buffer);
    this.f32 = new Float32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
    this.u8 = new Uint8Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.alloc = new HeapAllocator(ARENA, (end) => this.grow(end));
  }

  /**
   * Makes the memory at least `bytes` long and refreshes the views (a plain memory's grow detaches
   * them). Past `maxBytes` this throws.
   */
  ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    if (this.memory.buffer !== this.buffer) {
      this.buffer = this.memory.buffer;
      this.buffers.add(this.buffer);
      this.f32 = new Float32Array(this.buffer);
      this.f64 = new Float64Array(this.buffer);
      this.u8 = new Uint8Array(this.buffer);
      this.i32 = new Int32Array(this.buffer);
    }
  }

  /** The allocator's growth: by an eighth at least, so a growing loop does not grow per block. */
  private grow(end: number): boolean {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return true;
    if (end > this.maxBytes) return false;
    try {
      this.ensure(Math.min(this.maxBytes, Math.max(end, have + (have >> 3))));
      return true;
    } catch {
      return false; // the engine refused the pages: callers fall back
    }
  }

  /** Whether `bytes` of scratch could be laid out in this memory. */
  fits(bytes: number): boolean {
    return bytes <= this.maxBytes - ARENA;
  }

  /**
   * The scratch block, at least `bytes` long (its byte address), or -1 when the memory cannot
   * hold it. Its contents are unspecified; views are read after the call (it may grow the memory).
   */
  scratch(bytes: number): number {
    if (bytes <= this.scratchSize) return this.scratchAt;
    if (this.scratchAt >= 0) this.alloc.free(this.scratchAt);
    // Grow geometrically so a slowly growing size does not move the block every call.
    let at = this.alloc.alloc(Math.max(bytes, this.scratchSize + (this.scratchSize >> 1)));
    if (at < 0) at = this.alloc.alloc(bytes);
    this.scratchAt = at;
    this.scratchSize = at < 0 ? 0 : this.alloc.sizeOf(at);
    return at;
  }

  /** The scratch block's size (what `scratch` last returned holds at least this many bytes). */
  scratchBytes(): number {
    return this.scratchSize;
  }

  /**
   * A view of `numel` elements in a block of its own, or null when storages may not grow the heap
   * further (`storageBytes`) or the memory is not shared (a plain memory's grow would detach it).
   */
  allocStorage<T extends ArrayBufferView>(ctor: ViewCtor<T>, numel: number): HeapBlockView<T> | null {
    if (!this.shared) return null;
    const bytes = numel * ctor.BYTES_PER_ELEMENT;
    const at = this.alloc.alloc(bytes, this.storageBytes);
    if (at < 0) return null;
    this.storageLive += bytes;
    this.storageCount++;
    return { view: new ctor(this.buffer, at, numel), block: new HeapBlock(this, at, bytes) };
  }

  /**
   * Frees `block` when `owner` is collected, unless `releaseStorage(block)` came first. (No
   * unregister token: a released block is marked, and its owner's finalizer then does nothing,
   * which is cheaper than unregistering.)
   */
  track(owner: object, block: HeapBlock): void {
    this.reaper.register(owner, block);
  }

  /** Gives a storage's block back now. */
  releaseStorage(block: HeapBlock): void {
    this.freeBlock(block);
  }

  private freeBlock(b: HeapBlock): void {
    if (b.released) return;
    b.released = true;
    this.storageLive -= b.bytes;
    this.storageCount--;
    this.alloc.free(b.ptr);
  }

  /** The byte address of `a`'s element 0 when `a` is a view of this memory, else -1. */
  ptrOf(a: ArrayBufferView): number {
    return this.buffers.has(a.buffer) ? a.byteOffset : -1;
  }

  /** The memory's size. */
  bytes(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Bytes the memory holds beyond its live storages' own (which core counts in `numBytes`): free
   * blocks, never-used pages, the scratch block, class rounding. With them, the memory is
   * accounted in full.
   */
  pooledBytes(): number {
    return this.bytes() - this.storageLive;
  }

  /** Live storages in the heap and their exact bytes; the allocator's block totals (tests, diagnostics). */
  stats(): { storages: number; storageBytes: number; usedBytes: number; freeBytes: number; top: number; memoryBytes: number; scratchBytes: number } {
    return {
      storages: this.storageCount,
      storageBytes: this.storageLive,
      usedBytes: this.alloc.usedBytes(),
      freeBytes: this.alloc.freeBytes(),
      top: this.alloc.end(),
      memoryBytes: this.bytes(),
      scratchBytes: this.scratchSize,
    };
  }

  /** The import object every kernel module of this heap is instantiated with. */
  imports(): WebAssembly.Imports {
    return { env: { memory: this.memory } };
  }

  /** The memory type modules declare for their import. */
  memoryType(): { initial: number; maximum?: number; shared?: boolean } {
    return this.shared ? { initial: 1, maximum: this.maxPages, shared: true } : { initial: 1 };
  }
}

/**
 * A shared memory of the largest maximum the engine will reserve: a shared memory cannot move, so
 * V8 reserves address space for its whole maximum up front, which a 32-bit or constrained engine
 * may refuse for 2 GiB. The maximum it got rides along as `maxPages`.
 */
function sharedMemory(): WebAssembly.Memory {
  let err: unknown;
  for (const maximum of [MAX_PAGES, MAX_PAGES / 2, MAX_PAGES / 8]) {
    try {
      return Object.assign(new WebAssembly.Memory({ initial: 16, maximum, shared: true }), { maxPages: maximum });
    } catch (e) {
      err = e;
    }
  }
  throw err;
}

/** A storage's block: its heap, address and exact bytes, and whether it was given back. */
export class HeapBlock {
  released = false;
  constructor(
    readonly heap: WasmHeap,
    readonly ptr: number,
    readonly bytes: number,
  ) {}
}

export interface HeapBlockView<T> {
  readonly view: T;
  readonly block: HeapBlock;
}

/** Rounds a byte offset up to 16 (vector alignment). */
export function align16(n: number): number {
  return (n + 15) & ~15;
}

let simdSupport: boolean | undefined;

/** Whether this engine runs WebAssembly SIMD (a one-instruction probe module). */
export function hasWasmSimd(): boolean {
  if (simdSupport !== undefined) return simdSupport;
  try {
    // (func (result v128) v128.const 0)
    const probe = new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00,
      0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, ...new Array<number>(16).fill(0), 0x0b,
    ]);
    simdSupport = typeof WebAssembly === 'object' && WebAssembly.validate(probe);
  } catch {
    simdSupport = false;
  }
  return simdSupport;
}
