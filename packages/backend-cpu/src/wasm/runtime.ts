/**
 * The WebAssembly side of one CPU backend: its shared memory, the GEMM module (compiled once) and
 * the cache of elementwise modules generated from expressions.
 */
import { ModuleBuilder } from './emitter.js';
import { emitGemm, GEMM_F32, GEMM_F64 } from './gemm-kernel.js';
import { emitPack } from './gemm-pack.js';
import type { GemmFn, GemmKernels, PackFn } from './gemm.js';
import { hasWasmSimd, WasmHeap, type HeapOptions } from './heap.js';
import { ThreadPool } from './pool.js';

export class WasmRuntime {
  readonly heap: WasmHeap;
  readonly gemm: GemmKernels;
  /** Worker threads for large GEMMs (null: one thread). */
  pool: ThreadPool | null = null;

  private constructor(
    heap: WasmHeap,
    private readonly gemmMod: WebAssembly.Module,
  ) {
    this.heap = heap;
    const exports = new WebAssembly.Instance(gemmMod, heap.imports()).exports;
    const fn = (name: string): PackFn => exports[name] as PackFn;
    this.gemm = {
      float32: exports.gemm_float32 as GemmFn,
      float64: exports.gemm_float64 as GemmFn,
      pack: {
        float32: { a: fn(`pack_float32_${GEMM_F32.MR}`), b: fn(`pack_float32_${GEMM_F32.NR}`) },
        float64: { a: fn(`pack_float64_${GEMM_F64.MR}`), b: fn(`pack_float64_${GEMM_F64.NR}`) },
      },
    };
  }

  /**
   * A runtime, or null where WebAssembly SIMD is missing (the JavaScript kernels then run).
   * `shared`: a SharedArrayBuffer-backed memory, which worker threads can run kernels on.
   */
  static create(shared = false, heapOptions: HeapOptions = {}): WasmRuntime | null {
    if (!hasWasmSimd()) return null;
    if (shared && typeof SharedArrayBuffer === 'undefined') return null;
    const heap = new WasmHeap(shared, heapOptions);
    return new WasmRuntime(heap, new WebAssembly.Module(gemmModule(heap) as Uint8Array<ArrayBuffer>));
  }

  /** Starts worker threads (the caller counts as one); the count that actually runs. */
  async startThreads(threads: number): Promise<number> {
    if (!this.heap.shared || threads <= 1) return 1;
    this.pool = await ThreadPool.start(threads, this.heap.memory, this.gemmMod, this.gemm, [
      [`pack_float32_${GEMM_F32.MR}`, `pack_float32_${GEMM_F32.NR}`],
      [`pack_float64_${GEMM_F64.MR}`, `pack_float64_${GEMM_F64.NR}`],
    ]);
    return this.pool?.threads ?? 1;
  }

  async dispose(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    await p?.dispose();
  }

  /** Compiles and instantiates `bytes` against this runtime's memory. */
  instantiate(bytes: Uint8Array): WebAssembly.Exports {
    return instantiate(this.heap, bytes);
  }
}

function gemmModule(heap: WasmHeap): Uint8Array {
  const mod = new ModuleBuilder(heap.memoryType());
  emitGemm(mod, GEMM_F32);
  emitGemm(mod, GEMM_F64);
  for (const s of [GEMM_F32, GEMM_F64]) for (const R of new Set([s.MR, s.NR])) emitPack(mod, s.dtype, R);
  return mod.encode();
}

function instantiate(heap: WasmHeap, bytes: Uint8Array): WebAssembly.Exports {
  const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  return new WebAssembly.Instance(module, heap.imports()).exports;
}
