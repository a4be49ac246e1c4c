/**
 * CPU storages inside the backend's WebAssembly memory (`wasm/heap.ts`): large ones, where the
 * WebAssembly kernels then work in place instead of copying every operand in and its result out.
 * Small ones stay ordinary typed arrays (the pool's, or exact-size): a block and its finalizer
 * cost more than the copies they would save.
 */
import type { DType, Storage, TypedArray } from '@nabla/core';
import { CpuStorage } from './storage.js';
import { typedArrayClass } from './dtypes.js';
import type { WasmHeap } from './wasm/heap.js';

/**
 * Storages of at least this many bytes go to the heap. Below it the copies a kernel makes are a
 * few microseconds, about what a block, a view and a finalizer registration cost.
 */
export const HEAP_MIN_BYTES = 16384;

/** A storage of `numel` elements in `heap`, or null when the heap will not take it. */
export function allocateInHeap(heap: WasmHeap, dtype: DType, numel: number): CpuStorage | null {
  const r = heap.allocStorage(typedArrayClass(dtype), numel);
  if (r === null) return null;
  const s = new CpuStorage(dtype, numel, r.view, r.block);
  heap.track(s, r.block);
  return s;
}

/** Gives a heap storage's block back (the backend's `release`, after its checks). */
export function releaseFromHeap(s: CpuStorage): void {
  s.block!.heap.releaseStorage(s.block!);
}

/**
 * The byte address of `s`'s element 0 when it is a storage of `heap` (the kernels then work on it
 * in place), else -1: a storage of another backend or heap, or an ordinary typed array (copied).
 * A released storage never reaches here: `dataOf` refuses it first.
 */
export function heapPtr(s: Storage, heap: WasmHeap): number {
  return s instanceof CpuStorage && s.block !== null && s.block.heap === heap ? s.ptr : -1;
}
