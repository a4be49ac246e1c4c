/**
 * The WebAssembly side of one CPU backend: its shared memory, the GEMM module (compiled once) and
 * the cache of elementwise modules generated from expressions.
 */
import { ModuleBuilder } from './emitter.js';
import { emitGemm, GEMM_F32, GEMM_F64, hasRelaxedMadd } from './gemm-kernel.js';
import { emitPack } from './gemm-pack.js';
import type { GemmFn, GemmKernels, PackFn } from './gemm.js';
import { hasWasmSimd, WasmHeap, type HeapOptions } from './heap.js';
import { MAX_THREADS, ThreadPool } from './pool.js';
import { workerHost, type WorkerHost } from './worker-host.js';

export class WasmRuntime {
  readonly heap: WasmHeap;
  readonly gemm: GemmKernels;
  /** Worker threads for large GEMMs (null: one thread). */
  pool: ThreadPool | null = null;
  private host: { readonly kind: WorkerHost['kind']; readonly callerMayBlock: boolean } | null = null;

  private constructor(
    heap: WasmHeap,
    private readonly gemmMod: WebAssembly.Module,
    /** Whether the GEMM micro-kernel multiply-adds with relaxed SIMD's `relaxed_madd`. */
    readonly fma: boolean,
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
   * `fma`: multiply-add with relaxed SIMD where the engine has it (`hasRelaxedMadd`); the workers
   * run the same module, so every thread rounds alike.
   */
  static create(shared = false, heapOptions: HeapOptions = {}, fma = true): WasmRuntime | null {
    if (!hasWasmSimd()) return null;
    if (shared && typeof SharedArrayBuffer === 'undefined') return null;
    const heap = new WasmHeap(shared, heapOptions);
    const useFma = fma && hasRelaxedMadd();
    return new WasmRuntime(heap, new WebAssembly.Module(gemmModule(heap, useFma) as Uint8Array<ArrayBuffer>), useFma);
  }

  /**
   * Starts worker threads (the caller counts as one): the count that actually runs, and, when it
   * is fewer than asked, why. `from`: the host to spawn them with (tests; default: this platform's);
   * `spin`: whether the workers may stay awake after their work (`ThreadPool.spin`).
   */
  async startThreads(threads: number, from?: WorkerHost, spin = true): Promise<{ readonly threads: number; readonly note?: string }> {
    if (threads <= 1) return { threads: 1 };
    // The host first: its reason (a page without cross-origin isolation) is the one a user can act on.
    const host = from ?? (await workerHost());
    if (typeof host === 'string') return { threads: 1, note: host };
    if (!this.heap.shared) return { threads: 1, note: 'this engine has no SharedArrayBuffer for a shared WebAssembly memory' };
    try {
      this.pool = await ThreadPool.start(host, threads, this.heap.memory, this.gemmMod, this.gemm, [
        [`pack_float32_${GEMM_F32.MR}`, `pack_float32_${GEMM_F32.NR}`],
        [`pack_float64_${GEMM_F64.MR}`, `pack_float64_${GEMM_F64.NR}`],
      ]);
    } catch (e) {
      return { threads: 1, note: `${host.kind}: ${(e as Error).message}` };
    }
    if (this.pool !== null) {
      this.pool.spin = spin;
      this.host = { kind: host.kind, callerMayBlock: host.callerMayBlock };
    }
    const n = this.pool?.threads ?? 1;
    return n < threads ? { threads: n, note: `at most ${MAX_THREADS} threads` } : { threads: n };
  }

  /** Which workers run the pool, and whether the caller sleeps (else spins) while they finish; null on one thread. */
  get workers(): { readonly kind: WorkerHost['kind']; readonly callerMayBlock: boolean } | null {
    return this.pool === null ? null : this.host;
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

function gemmModule(heap: WasmHeap, fma: boolean): Uint8Array {
  const mod = new ModuleBuilder(heap.memoryType());
  emitGemm(mod, { ...GEMM_F32, fma });
  emitGemm(mod, { ...GEMM_F64, fma });
  for (const s of [GEMM_F32, GEMM_F64]) for (const R of new Set([s.MR, s.NR])) emitPack(mod, s.dtype, R);
  return mod.encode();
}

function instantiate(heap: WasmHeap, bytes: Uint8Array): WebAssembly.Exports {
  const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  return new WebAssembly.Instance(module, heap.imports()).exports;
}
