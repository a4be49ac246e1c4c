/**
 * The WebAssembly side of one CPU backend: its shared memory, the GEMM module (compiled once) and
 * the cache of elementwise modules generated from expressions.
 */
import { ModuleBuilder } from './emitter.js';
import { emitGemm, GEMM_F32, GEMM_F64 } from './gemm-kernel.js';
import type { GemmFn, GemmKernels } from './gemm.js';
import { hasWasmSimd, WasmHeap } from './heap.js';

export class WasmRuntime {
  readonly heap: WasmHeap;
  readonly gemm: GemmKernels;

  private constructor(heap: WasmHeap, gemm: GemmKernels) {
    this.heap = heap;
    this.gemm = gemm;
  }

  /** A runtime, or null where WebAssembly SIMD is missing (the JavaScript kernels then run). */
  static create(): WasmRuntime | null {
    if (!hasWasmSimd()) return null;
    const heap = new WasmHeap();
    const exports = instantiate(heap, gemmModule(heap));
    return new WasmRuntime(heap, { float32: exports.gemm_float32 as GemmFn, float64: exports.gemm_float64 as GemmFn });
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
  return mod.encode();
}

function instantiate(heap: WasmHeap, bytes: Uint8Array): WebAssembly.Exports {
  const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  return new WebAssembly.Instance(module, heap.imports()).exports;
}
