/**
 * The wasm pair kernel: f and f' of an activation (core's `ops/elementwise/derivative-cache.ts`)
 * from one generated SIMD loop that stores two outputs (`emitElementwise` with two roots), their
 * shared nodes (silu's σ(x)) evaluated once.
 *
 * It runs where the one-output kernel (`elementwise.ts`) would run wasm *in place*: both outputs
 * and every dense input in the backend's heap, the innermost dim contiguous (inputs dense or
 * broadcast along it). Each row's vector-aligned prefix runs on the heap pointers (split across the
 * pool's threads like the one-output kernel's, through a module task whose extra output pointer
 * advances with the other), its last `len % lanes` elements through a vector of scratch. Where the
 * one-output kernel would run JavaScript (tiny tensors, gathers through strides, float64
 * transcendentals) the JavaScript pair kernel runs; where it would stage operands through copies
 * the pair declines, and core takes its one-output path. So f(x) is always computed by the same
 * code, bit for bit, as the forward without the pair: the same vmath routines, lane for lane.
 */
import type { ElementwisePairKernel, ElementwisePairSpec, TypedArray } from '@nabla/core';
import { heapPtr } from '../heap-storage.js';
import { dataOf } from '../storage.js';
import { elementwiseGeometry, forEachRow, numelOf } from '../strided.js';
import { ModuleBuilder } from './emitter.js';
import { denseStep, emitElementwise, wasmPlan, type WasmPlan } from './elementwise-kernel.js';
import { MIN_NUMEL, THREAD_CHUNK, THREAD_MIN_COST, THREAD_MIN_NUMEL, THREAD_MIN_WORK, type KernelJob, type RunFn } from './elementwise.js';
import { align16, type WasmHeap } from './heap.js';
import type { ThreadPool } from './pool.js';
import { descriptorBytes, runModuleTask, writeDescriptor } from './pool-tasks.js';
import type { WasmRuntime } from './runtime.js';

const MIN_ROW = 16;

let nextModuleId = 1 << 20; // apart from the one-output kernels' ids (elementwise.ts counts from 1)

/** Rows the pair ran in wasm, and calls it declined (tests check which path ran). */
export const pairStats = { rows: 0, declined: 0 };

/** The wasm pair kernel for `spec` in front of `js`, or `js` itself when `spec` has no SIMD form. */
export function wasmElementwisePair(rt: WasmRuntime, spec: ElementwisePairSpec, js: ElementwisePairKernel): ElementwisePairKernel {
  const roots = [spec.expr, spec.expr2];
  const plan = wasmPlan(spec, roots);
  if (plan === null) return js;
  let run: RunFn;
  let bytes: Uint8Array;
  try {
    const mod = new ModuleBuilder(rt.heap.memoryType());
    emitElementwise(mod, spec, plan, roots);
    bytes = mod.encode();
    run = rt.instantiate(bytes).run as RunFn;
  } catch {
    return js; // a browser's main thread may refuse a synchronous compile
  }
  const nIn = spec.inputDtypes.length;
  const es = plan.lane === 'f32' ? 4 : 8;
  const lanes = plan.lane === 'f32' ? 4 : 2;
  const nArgs = 3 + 2 * nIn + spec.numParams;
  const moduleId = nextModuleId++;
  const heap = rt.heap;
  const innerStride = new Array<number>(nIn).fill(0);
  const ptrs = new Array<number>(nIn).fill(-1);
  const D = new Array<TypedArray>(nIn);

  return (out, out2, inputs, params) => {
    const shape = out.shape;
    const n = numelOf(shape);
    if (shape.length === 0 || n < MIN_NUMEL || inputs.length !== nIn) return js(out, out2, inputs, params);
    const g = elementwiseGeometry(spec.name, out, inputs);
    const last = g.shape.length - 1;
    const inner = g.shape[last]!;
    if (g.strides[0]![last] !== 1 || inner < MIN_ROW) return js(out, out2, inputs, params);
    for (let k = 0; k < nIn; k++) {
      const s = g.strides[k + 1]![last]!;
      if (s !== 0 && s !== 1) return js(out, out2, inputs, params);
      innerStride[k] = s;
    }
    if (params.length < spec.numParams) throw new Error(`${spec.name}: expected ${spec.numParams} params, got ${params.length}`);
    // Only in place: staging through copies is the one-output kernel's job.
    const outPtr = heapPtr(out.storage, heap);
    const out2Ptr = heapPtr(out2.storage, heap);
    let inPlace = outPtr >= 0 && out2Ptr >= 0 && out.storage !== out2.storage;
    for (let k = 0; k < nIn && inPlace; k++) {
      const v = inputs[k]!;
      D[k] = dataOf(spec.name, k, v);
      ptrs[k] = innerStride[k] === 1 ? heapPtr(v.storage, heap) : -1;
      if ((innerStride[k] === 1 && ptrs[k]! < 0) || v.storage === out.storage || v.storage === out2.storage) inPlace = false;
    }
    if (!inPlace) {
      pairStats.declined++;
      return false;
    }
    const pool = rt.pool;
    const threaded = pool !== null && inner >= THREAD_MIN_NUMEL && (plan.cost >= THREAD_MIN_COST || inner * Math.max(plan.cost, 4) >= THREAD_MIN_WORK);
    // Scratch: a vector per broadcast input, then the tail's vector per input and per output, then a task's layout.
    const tailAt = 16 * nIn;
    const taskAt = tailAt + 16 * (nIn + 2);
    const scratch = heap.scratch(taskAt + (threaded ? 64 + descriptorBytes(nArgs) + 16 + align16(bytes.length) : 0));
    if (scratch < 0) {
      pairStats.declined++;
      return false;
    }
    const args = new Array<number>(nArgs).fill(0);
    for (let j = 0; j < spec.numParams; j++) args[3 + 2 * nIn + j] = params[j]!;
    const job: Job = { heap, plan, run, args, D, innerStride, es, lanes, bytes, moduleId, scratch, tailAt, taskAt, outPtr, out2Ptr, ptrs, nIn };
    const o2 = out2.offset - out.offset;
    const offsets = [out.offset];
    for (const v of inputs) offsets.push(v.offset);
    forEachRow(g.shape, g.strides, offsets, (bases, len) => {
      pairStats.rows++;
      const body = len - (len % lanes);
      if (body > 0) {
        if (!(threaded && pool !== null && runThreaded(job, pool, bases, o2, body))) runRow(job, bases, o2, body);
      }
      if (body < len) runTail(job, bases, o2, body, len);
    });
    return true;
  };
}

/** A pair call's rows: the one-output kernel's fields, and the second output's and the scratch's. */
interface Job extends KernelJob {
  readonly lanes: number;
  readonly scratch: number;
  readonly tailAt: number;
  readonly taskAt: number;
  readonly out2Ptr: number;
  readonly nIn: number;
}

/** Points the arguments at element `from` of the row whose bases are `bases` (broadcast inputs: their vector). */
function pointArgs(job: Job, bases: readonly number[], o2: number, from: number): void {
  const { heap, plan, args, D, innerStride, es, scratch, outPtr, out2Ptr, ptrs, nIn } = job;
  args[1] = outPtr + (bases[0]! + from) * es;
  args[2] = out2Ptr + (bases[0]! + o2 + from) * es;
  for (let k = 0; k < nIn; k++) {
    if (innerStride[k] === 0) {
      const slot = scratch + 16 * k;
      fillVector(heap, plan.inputBytes[k]!, slot, D[k]![bases[k + 1]!]!);
      args[3 + k] = slot;
      args[3 + nIn + k] = 0;
    } else {
      args[3 + k] = ptrs[k]! + (bases[k + 1]! + from) * plan.inputBytes[k]!;
      args[3 + nIn + k] = denseStep(plan, k);
    }
  }
}

/** A row's first `len` elements (whole vectors), on this thread. */
function runRow(job: Job, bases: readonly number[], o2: number, len: number): void {
  pointArgs(job, bases, o2, 0);
  job.args[0] = len;
  job.run(...job.args);
}

/** Elements [from, to) of a row (fewer than a vector): through the scratch, as the one-output kernel's tail. */
function runTail(job: Job, bases: readonly number[], o2: number, from: number, to: number): void {
  const { heap, plan, args, D, innerStride, es, scratch, tailAt, nIn } = job;
  pointArgs(job, bases, o2, from);
  const m = to - from;
  for (let k = 0; k < nIn; k++) {
    if (innerStride[k] === 0) continue;
    const eb = plan.inputBytes[k]!;
    const slot = scratch + tailAt + 16 * k;
    const dst = eb === 1 ? heap.u8 : eb === 4 ? heap.f32 : heap.f64;
    const b = bases[k + 1]! + from;
    dst.set(D[k]!.subarray(b, b + m), slot / eb);
    args[3 + k] = slot;
  }
  const t1 = scratch + tailAt + 16 * nIn;
  const t2 = t1 + 16;
  args[0] = m;
  args[1] = t1;
  args[2] = t2;
  job.run(...args);
  const H = es === 4 ? heap.f32 : heap.f64;
  const O = bases[0]! + from;
  // The outputs are the heap's: write the tail's lanes into them directly.
  H.copyWithin((job.outPtr / es) + O, t1 / es, t1 / es + m);
  H.copyWithin((job.out2Ptr / es) + O + o2, t2 / es, t2 / es + m);
}

/**
 * A row's first `len` elements (whole vectors) split across the pool: every thread, the caller
 * too, takes chunks of `THREAD_CHUNK` from a shared counter (as the one-output kernel's
 * `runThreaded`, all operands in place). Every element goes through the same kernel code, so the
 * results are the same for every thread count. False when the layout does not fit the scratch.
 */
function runThreaded(job: Job, pool: ThreadPool, bases: readonly number[], o2: number, len: number): boolean {
  const { heap, plan, args, innerStride, es, bytes, moduleId, scratch, taskAt, nIn } = job;
  pointArgs(job, bases, o2, 0);
  const nArgs = args.length;
  let p = align16(scratch + taskAt);
  const desc = p;
  p += descriptorBytes(nArgs);
  const counter = p;
  p = align16(p + 4);
  const modAt = p;
  p = align16(p + bytes.length);
  if (p > scratch + heap.scratchBytes()) return false;
  const stride = new Array<number>(nArgs).fill(0);
  stride[1] = es;
  stride[2] = es;
  for (let k = 0; k < nIn; k++) if (innerStride[k] !== 0) stride[3 + k] = plan.inputBytes[k]!;
  heap.u8.set(bytes, modAt);
  writeDescriptor(heap.memory.buffer, desc, { moduleId, bytesPtr: modAt, bytesLen: bytes.length, counterPtr: counter, total: len, chunk: THREAD_CHUNK, base: args.slice(), stride });
  const own = new Map([[moduleId, job.run]]);
  const take = (): void => runModuleTask(heap.memory, desc, own);
  pool.runTasks(new Array<number>(pool.threads).fill(desc), take, take);
  return true;
}

function fillVector(heap: WasmHeap, bytes: number, slot: number, value: number): void {
  if (bytes === 1) heap.u8.fill(value, slot, slot + 4);
  else if (bytes === 4) heap.f32.fill(value, slot / 4, slot / 4 + 4);
  else heap.f64.fill(value, slot / 8, slot / 8 + 2);
}
