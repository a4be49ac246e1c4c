/**
 * Runs elementwise expressions through generated WebAssembly SIMD kernels
 * (`elementwise-kernel.ts`), with the compiled JavaScript kernel as the fallback.
 *
 * The wasm path takes every geometry whose output walks memory contiguously along its innermost
 * (collapsed) dim while each input is either contiguous or broadcast along it: flat tensors,
 * scalars, row and column broadcasts (a bias add), transposed outputs walked in their own order.
 * Rows are processed in chunks of `CHUNK` elements: each input's chunk is copied into the shared
 * memory (a memcpy for same-typed arrays), the kernel runs, the result is copied out. Chunks stay in
 * L2, so the copies cost far less than the arithmetic they feed. Anything else (gathers through
 * strides, tiny tensors, ops without a SIMD form) runs the JavaScript kernel.
 */
import type { ElementwiseKernel, ElementwiseSpec, TypedArray } from '@nabla/core';
import { dataOf } from '../storage.js';
import { elementwiseGeometry, forEachRow, numelOf } from '../strided.js';
import { ModuleBuilder } from './emitter.js';
import { denseStep, emitElementwise, wasmPlan, type WasmPlan } from './elementwise-kernel.js';
import { memcpyElementwise } from './elementwise-memcpy.js';
import { align16, ARENA } from './heap.js';
import type { ThreadPool } from './pool.js';
import { descriptorBytes, runModuleTask, writeDescriptor } from './pool-tasks.js';
import type { WasmRuntime } from './runtime.js';

/** Elements per kernel call: 8 operands of 4096 float64 stay well inside L2. */
export const CHUNK = 4096;
const SLOT = CHUNK * 8 + 64;
/** Below this many elements, or rows shorter than `MIN_ROW`, the JavaScript kernel is faster. */
export const MIN_NUMEL = 256;
const MIN_ROW = 16;

type RunFn = (...args: number[]) => void;

/** The wasm kernel for `spec` in front of `js`, or `js` itself when `spec` has no SIMD form. */
export function wasmElementwise(rt: WasmRuntime, spec: ElementwiseSpec, js: ElementwiseKernel): ElementwiseKernel {
  const direct = memcpyElementwise(spec, js);
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
  rt.heap.ensure(ARENA + SLOT * (nIn + 1));
  const esOut = plan.lane === 'f32' ? 4 : 8;
  const args = new Array<number>(2 + 2 * nIn + spec.numParams).fill(0);
  const D: TypedArray[] = new Array<TypedArray>(nIn);
  const innerStride = new Array<number>(nIn).fill(0);
  const moduleId = nextModuleId++;

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
    for (let k = 0; k < nIn; k++) D[k] = dataOf(spec.name, `input ${k}`, inputs[k]!);
    for (let j = 0; j < spec.numParams; j++) args[2 + 2 * nIn + j] = params[j]!;
    const offsets = [out.offset];
    for (const v of inputs) offsets.push(v.offset);
    const job: Job = { rt, plan, run, args, O, D, innerStride, esOut, bytes, moduleId };
    forEachRow(g.shape, g.strides, offsets, (bases, len) => {
      fillBroadcasts(job, bases);
      const pool = rt.pool;
      if (pool !== null && len >= THREAD_MIN_NUMEL && plan.cost >= THREAD_MIN_COST && runThreaded(job, pool, bases, len)) return;
      runChunks(job, bases, 0, len);
    });
  };
}

/** Everything one kernel call's rows share. */
interface Job {
  readonly rt: WasmRuntime;
  readonly plan: WasmPlan;
  readonly run: RunFn;
  readonly args: number[];
  readonly O: TypedArray;
  readonly D: readonly TypedArray[];
  readonly innerStride: readonly number[];
  readonly esOut: number;
  /** The module's bytes and id, for worker threads (pool-tasks.ts). */
  readonly bytes: Uint8Array;
  readonly moduleId: number;
}

/**
 * Rows at least this long, of expressions at least this costly (`WasmPlan.cost`), are split
 * across the worker threads. The caller still makes every copy in and out, so only
 * arithmetic-heavy expressions (a transcendental or more per element) gain.
 */
export const THREAD_MIN_NUMEL = 1 << 15;
export const THREAD_MIN_COST = 30;

let nextModuleId = 1;

/** Broadcast inputs: one vector of the value, read with step 0, filled once per row (workers read it too). */
function fillBroadcasts(job: Job, bases: readonly number[]): void {
  const { rt, plan, args, D, innerStride } = job;
  const heap = rt.heap;
  const nIn = D.length;
  for (let k = 0; k < nIn; k++) {
    const slot = ARENA + SLOT * (k + 1);
    args[2 + k] = slot;
    if (innerStride[k] === 0) {
      args[2 + nIn + k] = 0;
      fillVector(heap.u8, heap.f32, heap.f64, plan.inputBytes[k]!, slot, D[k]![bases[k + 1]!]!);
    } else {
      args[2 + nIn + k] = denseStep(plan, k);
    }
  }
}

/** Elements [from, to) of one row, through the arena in chunks. */
function runChunks(job: Job, bases: readonly number[], from: number, to: number): void {
  const { rt, plan, run, args, O, D, innerStride, esOut } = job;
  const heap = rt.heap;
  const nIn = D.length;
  const outByte = ARENA;
  const H = esOut === 4 ? heap.f32 : heap.f64;
  for (let c0 = from; c0 < to; c0 += CHUNK) {
    const m = Math.min(CHUNK, to - c0);
    for (let k = 0; k < nIn; k++) {
      if (innerStride[k] === 0) continue;
      const slot = ARENA + SLOT * (k + 1);
      args[2 + k] = slot;
      const src = D[k]!;
      const b = bases[k + 1]! + c0;
      const bytes = plan.inputBytes[k]!;
      const dst = bytes === 1 ? heap.u8 : bytes === 4 ? heap.f32 : heap.f64;
      dst.set(src.subarray(b, b + m), slot / bytes);
    }
    args[0] = m;
    args[1] = outByte;
    run(...args);
    O.set(H.subarray(outByte / esOut, outByte / esOut + m), bases[0]! + c0);
  }
}

/**
 * One row split across the pool: the caller stages the whole row's dense inputs in the shared
 * memory, then every thread (the caller too) takes chunks of `CHUNK` elements from a shared
 * counter and runs the kernel on them, and the caller copies the results out. The copies are
 * those one thread makes anyway; only the arithmetic is shared, and a thread that gets no CPU
 * just takes fewer chunks. Every element goes through the same kernel code, so results are
 * identical for every thread count. False when the staging would not fit the memory (the caller
 * then runs the row alone).
 */
function runThreaded(job: Job, pool: ThreadPool, bases: readonly number[], len: number): boolean {
  const { rt, plan, run, args, O, D, innerStride, esOut, bytes, moduleId } = job;
  const heap = rt.heap;
  const nIn = D.length;
  const nArgs = args.length;
  let p = align16(ARENA + SLOT * (nIn + 1));
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
    base[2 + k] = p;
    stride[2 + k] = plan.inputBytes[k]!;
    p = align16(p + len * plan.inputBytes[k]! + 16);
  }
  const outAt = p;
  base[1] = outAt;
  stride[1] = esOut;
  p = align16(p + len * esOut + 16);
  if (!heap.fits(p)) return false;
  heap.ensure(p);
  heap.u8.set(bytes, modAt);
  for (let k = 0; k < nIn; k++) {
    if (innerStride[k] === 0) continue;
    const eb = plan.inputBytes[k]!;
    const dst = eb === 1 ? heap.u8 : eb === 4 ? heap.f32 : heap.f64;
    dst.set(D[k]!.subarray(bases[k + 1]!, bases[k + 1]! + len), base[2 + k]! / eb);
  }
  writeDescriptor(heap.memory.buffer, desc, { moduleId, bytesPtr: modAt, bytesLen: bytes.length, counterPtr: counter, total: len, chunk: CHUNK, base, stride });
  const own = new Map([[moduleId, run]]);
  pool.runTasks(new Array<number>(pool.threads).fill(desc), () => runModuleTask(heap.memory, desc, own));
  const H = esOut === 4 ? heap.f32 : heap.f64;
  O.set(H.subarray(outAt / esOut, outAt / esOut + len), bases[0]!);
  return true;
}

function fillVector(u8: Uint8Array, f32: Float32Array, f64: Float64Array, bytes: number, slot: number, value: number): void {
  if (bytes === 1) u8.fill(value, slot, slot + 4);
  else if (bytes === 4) f32.fill(value, slot / 4, slot / 4 + 4);
  else f64.fill(value, slot / 8, slot / 8 + 2);
}

