/**
 * Runs elementwise expressions through generated WebAssembly SIMD kernels
 * (`elementwise-kernel.ts`), with the compiled JavaScript kernel as the fallback.
 *
 * The wasm path takes every geometry whose output walks memory contiguously along its innermost
 * (collapsed) dim while each input is either contiguous or broadcast along it: flat tensors,
 * scalars, row and column broadcasts (a bias add), transposed outputs walked in their own order.
 * Anything else (gathers through strides, tiny tensors, ops without a SIMD form) runs the
 * JavaScript kernel.
 *
 * Operands that live in the backend's heap (`CpuStorage.ptr`, large storages) are read and written
 * in place: the kernel runs over the whole row on their pointers. The others are staged: each
 * chunk of `CHUNK` elements is copied into a scratch slot (a memcpy for same-typed arrays), the
 * kernel runs, the result is copied out; chunks stay in L2. A kernel stores whole vectors, so a
 * row's last `len % lanes` elements always go through the slots (a direct store there would
 * write past the row); every element still goes through the same kernel code, so the results are
 * the same bits either way. A row whose output shares its storage with an input at another offset
 * is staged whole (as before: the copies fix the order of reads and writes).
 */
import type { ElementwiseKernel, ElementwiseSpec, Expr, TypedArray } from '@nabla/core';
import { heapPtr } from '../heap-storage.js';
import { dataOf } from '../storage.js';
import { elementwiseGeometry, forEachRow, numelOf } from '../strided.js';
import { ModuleBuilder } from './emitter.js';
import { denseStep, emitElementwise, wasmPlan, type WasmPlan } from './elementwise-kernel.js';
import { memcpyElementwise } from './elementwise-memcpy.js';
import { align16, type WasmHeap } from './heap.js';
import type { ThreadPool } from './pool.js';
import { descriptorBytes, runModuleTask, writeDescriptor } from './pool-tasks.js';
import type { WasmRuntime } from './runtime.js';

/** Elements per kernel call on staged operands: 8 operands of 4096 float64 stay well inside L2. */
export const CHUNK = 4096;
const SLOT = CHUNK * 8 + 64;
/** Below this many elements, or rows shorter than `MIN_ROW`, the JavaScript kernel is faster. */
export const MIN_NUMEL = 256;
const MIN_ROW = 16;

export type RunFn = (...args: number[]) => void;

/** The wasm kernel for `spec` in front of `js`, or `js` itself when `spec` has no SIMD form. */
export function wasmElementwise(rt: WasmRuntime, spec: ElementwiseSpec, js: ElementwiseKernel): ElementwiseKernel {
  const direct = memcpyElementwise(spec, js, rt.heap);
  if (direct !== null) return direct;
  const plan = wasmPlan(spec);
  if (plan === null) return js;
  let run: RunFn;
  let bytes: Uint8Array;
  try {
    const mod = new ModuleBuilder(rt.heap.memoryType());
    emitElementwise(mod, spec, plan);
    bytes = mod.encode();
    run = rt.instantiate(bytes).run as RunFn;
  } catch {
    // A browser's main thread refuses synchronous compiles of large modules: stay in JavaScript.
    return js;
  }
  const nIn = spec.inputDtypes.length;
  const esOut = plan.lane === 'f32' ? 4 : 8;
  const lanes = plan.lane === 'f32' ? 4 : 2;
  const args = new Array<number>(2 + 2 * nIn + spec.numParams).fill(0);
  const D: TypedArray[] = new Array<TypedArray>(nIn);
  const innerStride = new Array<number>(nIn).fill(0);
  const ptrs = new Array<number>(nIn).fill(-1);
  const staged = new Array<number>(2 * nIn).fill(-1);
  const moduleId = nextModuleId++;
  const heap = rt.heap;
  // A fill (`fill_`, `zero_`: the output's storage is an input the expression never reads) only
  // stores: one thread already writes at the memory's speed, and a worker's wake-up costs more
  // than a second writer gains (README, *Threads*).
  const storesOnly = !readsInput(spec.expr);

  return (out, inputs, params) => {
    const shape = out.shape;
    if (shape.length === 0) return js(out, inputs, params); // scalars: no lookup at all
    const n = numelOf(shape);
    if (n < MIN_NUMEL || inputs.length !== nIn) return js(out, inputs, params);
    const g = elementwiseGeometry(spec.name, out, inputs);
    const last = g.shape.length - 1;
    const inner = g.shape[last]!;
    if (g.strides[0]![last] !== 1 || inner < MIN_ROW) return js(out, inputs, params);
    for (let k = 0; k < nIn; k++) {
      const s = g.strides[k + 1]![last]!;
      if (s !== 0 && s !== 1) return js(out, inputs, params);
      innerStride[k] = s;
    }
    if (params.length < spec.numParams) throw new Error(`${spec.name}: expected ${spec.numParams} params, got ${params.length}`);
    const O = dataOf(spec.name, 'out', out);
    for (let k = 0; k < nIn; k++) D[k] = dataOf(spec.name, k, inputs[k]!);
    // In place where the storages are the heap's, unless an input overlaps the output elsewhere.
    let outPtr = heapPtr(out.storage, heap);
    for (let k = 0; k < nIn; k++) {
      const v = inputs[k]!;
      ptrs[k] = innerStride[k] === 1 ? heapPtr(v.storage, heap) : -1;
      if (outPtr >= 0 && v.storage === out.storage && (v.offset !== out.offset || !sameStrides(v.strides, out.strides))) outPtr = -1;
    }
    if (outPtr < 0) for (let k = 0; k < nIn; k++) if (inputs[k]!.storage === out.storage) ptrs[k] = -1;
    let allInPlace = outPtr >= 0;
    for (let k = 0; k < nIn; k++) if (innerStride[k] !== 0 && ptrs[k]! < 0) allInPlace = false;
    const pool = rt.pool;
    let threaded =
      pool !== null &&
      !storesOnly &&
      inner >= THREAD_MIN_NUMEL &&
      (plan.cost >= THREAD_MIN_COST || (allInPlace && inner * Math.max(plan.cost, 4) >= THREAD_MIN_WORK));
    let slots = heap.scratch(SLOT * (nIn + 1) + (threaded ? threadedBytes(plan, nIn, args.length, bytes.length, inner, outPtr, ptrs) : 0));
    if (slots < 0 && threaded) {
      // Staging whole rows would not fit the memory: one thread, in chunks.
      threaded = false;
      slots = heap.scratch(SLOT * (nIn + 1));
    }
    if (slots < 0) return js(out, inputs, params);
    for (let j = 0; j < spec.numParams; j++) args[2 + 2 * nIn + j] = params[j]!;
    const offsets = [out.offset];
    for (const v of inputs) offsets.push(v.offset);
    // A slot's contents are remembered only within this call, and only for inputs the call never
    // writes (an input sharing the output's storage can change under it).
    for (let k = 0; k < nIn; k++) staged[2 * k] = inputs[k]!.storage === out.storage ? -2 : -1;
    const job: Job = { heap, plan, run, args, O, D, innerStride, es: esOut, bytes, moduleId, slots, outPtr, ptrs, staged };
    let direct = outPtr >= 0;
    for (let k = 0; k < nIn; k++) if (ptrs[k]! >= 0) direct = true;
    if (direct) inPlaceRows.count++;
    forEachRow(g.shape, g.strides, offsets, (bases, len) => {
      fillBroadcasts(job, bases);
      // The vector-aligned prefix may use the heap operands in place; the tail is staged.
      const body = direct ? len - (len % lanes) : len;
      if (threaded && pool !== null && runThreaded(job, pool, bases, body)) {
        if (body < len) runChunks(job, bases, body, len, true);
        return;
      }
      runChunks(job, bases, 0, body, false);
      if (body < len) runChunks(job, bases, body, len, true);
    });
  };
}

/** Whether `e` reads any input (a fill's expression is a parameter or a constant alone). */
function readsInput(e: Expr): boolean {
  if (e.op === 'input') return true;
  if (e.op === 'param' || e.op === 'const') return false;
  if (e.op === 'where') return readsInput(e.cond) || readsInput(e.a) || readsInput(e.b);
  return readsInput(e.a) || ('b' in e && readsInput(e.b));
}

function sameStrides(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * What a wasm elementwise kernel call's rows share, the one-output kernel's and the pair's
 * (`elementwise-pair.ts`) alike: the module, its argument list, the operands' data and pointers.
 */
export interface KernelJob {
  readonly heap: WasmHeap;
  readonly plan: WasmPlan;
  readonly run: RunFn;
  readonly args: number[];
  readonly D: readonly TypedArray[];
  readonly innerStride: readonly number[];
  /** Bytes per output element (4 or 8). */
  readonly es: number;
  /** The module's bytes and id, for worker threads (pool-tasks.ts). */
  readonly bytes: Uint8Array;
  readonly moduleId: number;
  /** Heap address of element 0 of the output (-1: staged), and of each dense input (-1: staged). */
  readonly outPtr: number;
  readonly ptrs: readonly number[];
}

/** Everything one kernel call's rows share. */
interface Job extends KernelJob {
  readonly O: TypedArray;
  /** The scratch block: the output's slot, then one per input, then the threaded layout. */
  readonly slots: number;
  /**
   * Per input, the source index and length last copied into its slot in this call ([2k], [2k+1];
   * -2 at [2k]: never reuse). A row-broadcast input (a bias added to each row of a batch) is then
   * copied once per call instead of once per row.
   */
  readonly staged: number[];
}

/**
 * Rows at least this long, of expressions at least this costly (`WasmPlan.cost`), are split
 * across the worker threads; staged operands are copied in and out by the caller alone, so only
 * arithmetic-heavy expressions gain. When every operand is in the heap nothing is copied, and
 * cheaper expressions are split too once a row holds `THREAD_MIN_WORK` (length × cost, a cost
 * counted at least 4 for the loads and stores): 2^18 elements of an add, about what a wake-up of
 * the workers costs several times over.
 */
export const THREAD_MIN_NUMEL = 1 << 15;
export const THREAD_MIN_COST = 30;
export const THREAD_MIN_WORK = THREAD_MIN_NUMEL * THREAD_MIN_COST;

/**
 * Elements per chunk a thread claims in a threaded row: each claim costs an atomic add on a
 * shared line and a call from JavaScript into the kernel; 2^14 elements (a few microseconds of
 * work) keep that small while a late thread still finds chunks left. A multiple of every lane
 * count, so chunk boundaries never split a vector.
 */
export const THREAD_CHUNK = 1 << 14;

let nextModuleId = 1;

/** Rows run with an operand in place (tests check the in-place path really ran). */
export const inPlaceRows = { count: 0 };

/** Broadcast inputs: one vector of the value, read with step 0, filled once per row (workers read it too). */
function fillBroadcasts(job: Job, bases: readonly number[]): void {
  const { heap, plan, args, D, innerStride, slots } = job;
  const nIn = D.length;
  for (let k = 0; k < nIn; k++) {
    const slot = slots + SLOT * (k + 1);
    args[2 + k] = slot;
    if (innerStride[k] === 0) {
      args[2 + nIn + k] = 0;
      fillVector(heap.u8, heap.f32, heap.f64, plan.inputBytes[k]!, slot, D[k]![bases[k + 1]!]!);
    } else {
      args[2 + nIn + k] = denseStep(plan, k);
    }
  }
}

/**
 * Elements [from, to) of one row: heap operands in place (unless `staged`), the others through
 * the slots in chunks. Without `staged`, to − from is a whole number of vectors when any operand
 * is in place.
 */
function runChunks(job: Job, bases: readonly number[], from: number, to: number, staged: boolean): void {
  const { heap, plan, run, args, O, D, innerStride, es: esOut, slots, outPtr, ptrs, staged: memo } = job;
  const nIn = D.length;
  const H = esOut === 4 ? heap.f32 : heap.f64;
  let allDirect = !staged && outPtr >= 0;
  for (let k = 0; k < nIn && allDirect; k++) if (innerStride[k] !== 0 && ptrs[k]! < 0) allDirect = false;
  const step = allDirect ? Math.max(to - from, 1) : CHUNK;
  for (let c0 = from; c0 < to; c0 += step) {
    const m = Math.min(step, to - c0);
    for (let k = 0; k < nIn; k++) {
      if (innerStride[k] === 0) continue;
      const bytes = plan.inputBytes[k]!;
      const b = bases[k + 1]! + c0;
      if (!staged && ptrs[k]! >= 0) {
        args[2 + k] = ptrs[k]! + b * bytes;
        continue;
      }
      const slot = slots + SLOT * (k + 1);
      args[2 + k] = slot;
      if (memo[2 * k] === b && memo[2 * k + 1] === m) continue;
      const dst = bytes === 1 ? heap.u8 : bytes === 4 ? heap.f32 : heap.f64;
      dst.set(D[k]!.subarray(b, b + m), slot / bytes);
      if (memo[2 * k] !== -2) {
        memo[2 * k] = b;
        memo[2 * k + 1] = m;
      }
    }
    args[0] = m;
    const inPlace = !staged && outPtr >= 0;
    args[1] = inPlace ? outPtr + (bases[0]! + c0) * esOut : slots;
    run(...args);
    if (!inPlace) O.set(H.subarray(slots / esOut, slots / esOut + m), bases[0]! + c0);
  }
}

/** Scratch bytes `runThreaded` lays out after the slots for a row of `len`. */
function threadedBytes(plan: WasmPlan, nIn: number, nArgs: number, moduleBytes: number, len: number, outPtr: number, ptrs: readonly number[]): number {
  let p = 64 + descriptorBytes(nArgs) + 16 + align16(moduleBytes);
  for (let k = 0; k < nIn; k++) if (ptrs[k]! < 0) p += align16(len * plan.inputBytes[k]! + 16);
  if (outPtr < 0) p += align16(len * (plan.lane === 'f32' ? 4 : 8) + 16);
  return p;
}

/**
 * One row's first `len` elements split across the pool: staged inputs are copied whole into the
 * scratch first, heap operands are used in place; then every thread (the caller too) takes
 * chunks of `THREAD_CHUNK` elements from a shared counter and runs the kernel on them, and the
 * caller copies a staged result out. A thread that gets no CPU just takes fewer chunks, and one
 * that wakes after the last chunk is taken is not waited for (`runTasks`' takeBack). Every element goes through
 * the same kernel code, so results are identical for every thread count. False when the layout
 * would not fit the scratch (the caller then runs the row alone).
 */
function runThreaded(job: Job, pool: ThreadPool, bases: readonly number[], len: number): boolean {
  const { heap, plan, run, args, O, D, innerStride, es: esOut, bytes, moduleId, slots, outPtr, ptrs } = job;
  const nIn = D.length;
  const nArgs = args.length;
  if (len === 0) return true;
  let p = align16(slots + SLOT * (nIn + 1));
  const desc = p;
  p += descriptorBytes(nArgs);
  const counter = p;
  p = align16(p + 4);
  const modAt = p;
  p = align16(p + bytes.length);
  const base = args.slice();
  const stride = new Array<number>(nArgs).fill(0);
  for (let k = 0; k < nIn; k++) {
    if (innerStride[k] === 0) continue; // the broadcast slot the caller filled
    const eb = plan.inputBytes[k]!;
    stride[2 + k] = eb;
    if (ptrs[k]! >= 0) {
      base[2 + k] = ptrs[k]! + bases[k + 1]! * eb;
      continue;
    }
    base[2 + k] = p;
    const dst = eb === 1 ? heap.u8 : eb === 4 ? heap.f32 : heap.f64;
    dst.set(D[k]!.subarray(bases[k + 1]!, bases[k + 1]! + len), p / eb);
    p = align16(p + len * eb + 16);
  }
  const outAt = outPtr >= 0 ? outPtr + bases[0]! * esOut : p;
  base[1] = outAt;
  stride[1] = esOut;
  if (outPtr < 0) p = align16(p + len * esOut + 16);
  if (p > slots + heap.scratchBytes()) return false;
  heap.u8.set(bytes, modAt);
  writeDescriptor(heap.memory.buffer, desc, { moduleId, bytesPtr: modAt, bytesLen: bytes.length, counterPtr: counter, total: len, chunk: THREAD_CHUNK, base, stride });
  const own = new Map([[moduleId, run]]);
  const take = (): void => runModuleTask(heap.memory, desc, own);
  pool.runTasks(new Array<number>(pool.threads).fill(desc), take, take);
  if (outPtr < 0) {
    const H = esOut === 4 ? heap.f32 : heap.f64;
    O.set(H.subarray(outAt / esOut, outAt / esOut + len), bases[0]!);
  }
  return true;
}

function fillVector(u8: Uint8Array, f32: Float32Array, f64: Float64Array, bytes: number, slot: number, value: number): void {
  if (bytes === 1) u8.fill(value, slot, slot + 4);
  else if (bytes === 4) f32.fill(value, slot / 4, slot / 4 + 4);
  else f64.fill(value, slot / 8, slot / 8 + 2);
}

