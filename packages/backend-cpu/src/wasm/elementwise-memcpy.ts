/**
 * The two expressions that are pure data movement — a copy (`clone`, `contiguous`, `copy_`, the
 * engine's copy of a fresh gradient) and a fill (`fill_`, `zeros`, `onesLike`) — run as the
 * typed arrays' own `set` / `fill` (memcpy / memset) over contiguous rows: a generated kernel
 * would copy the data into the module's memory and back, three passes for one.
 *
 * Storages in the backend's heap copy through WebAssembly `memory.copy` (`bulk.ts`) and fill
 * through a SIMD store loop (`fill.ts`): typed arrays over shared memory copy and fill element by
 * element.
 *
 * Only conversions `set` and `fill` perform exactly as core's IR stores do qualify: a copy within
 * one dtype or between float dtypes, a fill of any dtype (bool stores `v != 0`). Everything else,
 * small tensors, and rows that are not contiguous go to the next kernel.
 */
import type { ElementwiseKernel, ElementwiseSpec, TypedArray, View } from '@nabla/core';
import { heapPtr } from '../heap-storage.js';
import { dataOf } from '../storage.js';
import { collapse, forEachRow, numelOf, orderByStrides, sameShape } from '../strided.js';
import { heapCopy } from './bulk.js';
import { heapFill } from './fill.js';
import type { WasmHeap } from './heap.js';

const isFloat = (d: string): boolean => d === 'float32' || d === 'float64';
/** Smaller tensors (and empty ones) go straight to the next kernel: the geometry walk would cost more than it saves. */
const MIN_NUMEL = 256;

/** A copy or fill kernel for `spec` in front of `next`, or null when `spec` is neither. */
export function memcpyElementwise(spec: ElementwiseSpec, next: ElementwiseKernel, heap: WasmHeap | null = null): ElementwiseKernel | null {
  const e = spec.expr;
  const out = spec.outDtype;
  if (e.op === 'input' && e.index === 0 && spec.inputDtypes.length === 1) {
    const inp = spec.inputDtypes[0]!;
    if (inp !== out && !(isFloat(inp) && isFloat(out))) return null;
    return (o, inputs, params) => {
      if (!copyRows(spec.name, o, inputs[0]!, heap)) next(o, inputs, params);
    };
  }
  if (e.op === 'param' || e.op === 'const') {
    return (o, inputs, params) => {
      const v = e.op === 'param' ? params[e.index] : e.value;
      if (v === undefined || !fillRows(spec.name, o, out === 'bool' ? Number(v !== 0) : v, heap)) next(o, inputs, params);
    };
  }
  return null;
}

function ptrIn(v: View, heap: WasmHeap | null): number {
  return heap === null ? -1 : heapPtr(v.storage, heap);
}

function copyRows(op: string, out: View, x: View, heap: WasmHeap | null): boolean {
  if (out.shape.length === 0 || numelOf(out.shape) < MIN_NUMEL || !sameShape(out.shape, x.shape)) return false;
  const ordered = orderByStrides(out.shape, [out.strides, x.strides], 0);
  const g = collapse(ordered.shape, ordered.strides);
  const last = g.shape.length - 1;
  if (g.strides[0]![last] !== 1 || g.strides[1]![last] !== 1) return false;
  const O = dataOf(op, 'out', out);
  const X: TypedArray = dataOf(op, 'input 0', x);
  const op0 = ptrIn(out, heap);
  const xp = ptrIn(x, heap);
  if (op0 >= 0 && xp >= 0 && out.dtype === x.dtype) {
    const copy = heapCopy(heap!);
    const es = O.BYTES_PER_ELEMENT;
    forEachRow(g.shape, g.strides, [out.offset, x.offset], (bases, len) => copy(op0 + bases[0]! * es, xp + bases[1]! * es, len * es));
    return true;
  }
  forEachRow(g.shape, g.strides, [out.offset, x.offset], (bases, len) => {
    O.set(X.subarray(bases[1]!, bases[1]! + len), bases[0]!);
  });
  return true;
}

function fillRows(op: string, out: View, v: number, heap: WasmHeap | null): boolean {
  if (out.shape.length === 0 || numelOf(out.shape) < MIN_NUMEL) return false;
  const ordered = orderByStrides(out.shape, [out.strides], 0);
  const g = collapse(ordered.shape, ordered.strides);
  const last = g.shape.length - 1;
  if (g.strides[0]![last] !== 1) return false;
  const O = dataOf(op, 'out', out);
  if (ptrIn(out, heap) >= 0) {
    forEachRow(g.shape, g.strides, [out.offset], (bases, len) => heapFill(heap!, O, bases[0]!, len, v));
    return true;
  }
  forEachRow(g.shape, g.strides, [out.offset], (bases, len) => {
    O.fill(v, bases[0]!, bases[0]! + len);
  });
  return true;
}
