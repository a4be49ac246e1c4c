/**
 * The linear memory every generated kernel of one backend shares, and typed views over it.
 *
 * Operands are copied in (packed, for GEMM; in cache-sized chunks, for elementwise kernels) and
 * results copied out, so tensors keep living in ordinary typed arrays that the garbage collector
 * manages (core leaves small CPU storages to it; storages inside a linear memory could not be
 * reclaimed that way). Kernels never re-enter each other, so one scratch arena at a fixed base is
 * enough: each kernel call lays out its regions from `ARENA` up.
 */

const PAGE = 65536;
/** Where the arena starts (bytes); below it is free for constants a module may want. */
export const ARENA = 1024;

export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  private buffer: ArrayBuffer | SharedArrayBuffer;
  f32: Float32Array;
  f64: Float64Array;
  u8: Uint8Array;
  i32: Int32Array;

  /** The most this memory may grow to (a shared memory declares it; 2 GiB keeps i32 pointers positive). */
  readonly maxBytes: number;

  constructor(readonly shared = false) {
    this.maxBytes = shared ? 16384 * PAGE : 32768 * PAGE;
    // A shared memory must declare a maximum; 1 GiB bounds what one kernel call may pack.
    this.memory = shared ? new WebAssembly.Memory({ initial: 16, maximum: 16384, shared: true }) : new WebAssembly.Memory({ initial: 16 });
    this.buffer = this.memory.buffer;
    this.f32 = new Float32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
    this.u8 = new Uint8Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
  }

  /**
   * Makes the memory at least `bytes` long and refreshes the views (growing detaches them).
   * Callers check `fits` first; past `maxBytes` this throws.
   */
  ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    if (this.memory.buffer !== this.buffer) {
      this.buffer = this.memory.buffer;
      this.f32 = new Float32Array(this.buffer);
      this.f64 = new Float64Array(this.buffer);
      this.u8 = new Uint8Array(this.buffer);
      this.i32 = new Int32Array(this.buffer);
    }
  }

  /** Whether `bytes` of operands can be laid out in this memory. */
  fits(bytes: number): boolean {
    return bytes <= this.maxBytes;
  }

  /** The memory's size, reported with the backend's pooled bytes. */
  bytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** The import object every kernel module of this heap is instantiated with. */
  imports(): WebAssembly.Imports {
    return { env: { memory: this.memory } };
  }

  /** The memory type modules declare for their import. */
  memoryType(): { initial: number; maximum?: number; shared?: boolean } {
    return this.shared ? { initial: 1, maximum: 16384, shared: true } : { initial: 1 };
  }
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
