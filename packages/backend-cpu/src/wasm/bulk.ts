/**
 * Copies of heap storages as WebAssembly `memory.copy` (memmove). Typed arrays over a
 * SharedArrayBuffer copy and fill element by element with relaxed atomics: measured here, `set`
 * between two shared views and `fill` of one run 2.5-4x slower than on ordinary arrays, and
 * `memory.copy` runs at the ordinary arrays' speed. (Fills: `fill.ts`.)
 */
import { ModuleBuilder, ValType } from './emitter.js';
import type { WasmHeap } from './heap.js';

type CopyFn = (dst: number, src: number, bytes: number) => void;

/** A compiled small module: its exports on the caller, and its bytes (for workers that run it as a module task). */
export interface HeapModule {
  readonly exports: WebAssembly.Exports;
  readonly bytes: Uint8Array;
}

const modules = new WeakMap<WasmHeap, Map<(mod: ModuleBuilder) => void, HeapModule>>();

/**
 * The small module `emit` builds against `heap`'s memory, compiled once per heap and `emit` (the
 * bulk copies here, the fills of `fill.ts`).
 */
export function heapModuleOf(heap: WasmHeap, emit: (mod: ModuleBuilder) => void): HeapModule {
  let byEmit = modules.get(heap);
  if (byEmit === undefined) modules.set(heap, (byEmit = new Map()));
  let m = byEmit.get(emit);
  if (m === undefined) {
    const mod = new ModuleBuilder(heap.memoryType());
    emit(mod);
    const bytes = mod.encode();
    m = { exports: new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), heap.imports()).exports, bytes };
    byEmit.set(emit, m);
  }
  return m;
}

/** The exports of `heapModuleOf(heap, emit)`. */
export function heapModule(heap: WasmHeap, emit: (mod: ModuleBuilder) => void): WebAssembly.Exports {
  return heapModuleOf(heap, emit).exports;
}

function emitCopy(mod: ModuleBuilder): void {
  const c = mod.func('copy', [ValType.i32, ValType.i32, ValType.i32]);
  c.get(0).get(1).get(2);
  c.w.bytes([0xfc, 10, 0, 0]); // memory.copy 0 0
}

/** `memory.copy(dst, src, bytes)` on `heap`'s memory (compiled once per heap). */
export function heapCopy(heap: WasmHeap): CopyFn {
  return heapModule(heap, emitCopy).copy as CopyFn;
}
