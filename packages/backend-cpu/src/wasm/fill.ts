/**
 * Fills of heap storages (`fill_`, `zeros`, `onesLike`: the gradient a `backward()` starts from)
 * as a WebAssembly SIMD store loop. The typed arrays' own `fill` stores element by element with
 * relaxed atomics on a shared memory, and the doubling `memory.copy` this replaces reads back
 * half of what it writes: measured on 4 MB of float32 (1000², Zen 3, one thread), doubling copies
 * 0.19-0.22 ms, `memory.fill` (bytes only) 0.07-0.09 ms, this loop the same as `memory.fill`.
 *
 * The caller stores the value into the first 16 bytes (a whole number of elements of any dtype);
 * the loop loads that vector and stores it every 16 bytes to the end, and once more over the last
 * 16 (16 is a multiple of every element size, so each store lands on element boundaries).
 *
 * Large fills (`FILL_THREAD_MIN_BYTES`) on a backend with worker threads are split across them as
 * a module task (`pool-tasks.ts`): the same store loop over chunks of `FILL_CHUNK_BYTES` taken from
 * an atomic counter, the caller too, each chunk ending with the same overlapping store. Every byte
 * gets the value's bytes whoever stores it (overlapping stores write identical bytes), so the
 * result is that of one thread, bit for bit.
 */
import { heapModuleOf } from './bulk.js';
import { ValType, type Code, type ModuleBuilder } from './emitter.js';
import { align16, type WasmHeap } from './heap.js';
import { FillGate } from './fill-gate.js';
import { poolOf, type ThreadPool } from './pool.js';
import { descriptorBytes, FILL_MODULE_ID, runModuleTask, writeDescriptor } from './pool-tasks.js';

/** `repeat(at, bytes)`: repeats the 16 bytes at `at` up to `at + bytes` (bytes ≥ 16, a multiple of the element size). */
type RepeatFn = (at: number, bytes: number) => void;
/** `run(bytes, dst, seed)`: the module task's chunk: the 16 bytes at `seed` stored over `dst .. dst + bytes`, the last store ending there. */
type RunFn = (bytes: number, dst: number, seed: number) => void;

/**
 * Fills of at least this many bytes are split across the pool's threads; smaller ones stay on
 * the caller (a worker's wake-up costs more than it would store).
 */
export const FILL_THREAD_MIN_BYTES = 1 << 20;
/** Bytes per chunk of a split fill (a multiple of 64): ~5 µs of stores, small next to a claim's atomic. */
export const FILL_CHUNK_BYTES = 1 << 16;

/** Stores `v` at `p`, `p + 16`, ... while a whole vector fits before `end`, then once ending at `end`. */
function emitStores(c: Code, v: number, p: number, end: number): void {
  // Four vectors per iteration while 64 bytes remain, then one at a time.
  c.block().loop();
  c.get(p).i32c(64).op('i32.add').get(end).op('i32.gt_s').brIf(1);
  for (let k = 0; k < 4; k++) c.get(p).get(v).vmem('v128.store', 0, 16 * k);
  c.get(p).i32c(64).op('i32.add').set(p);
  c.br(0).end().end();
  c.block().loop();
  c.get(p).i32c(16).op('i32.add').get(end).op('i32.gt_s').brIf(1);
  c.get(p).get(v).vmem('v128.store', 0);
  c.get(p).i32c(16).op('i32.add').set(p);
  c.br(0).end().end();
  // The last (up to) 16 bytes, overlapping what is stored already.
  c.get(end).i32c(16).op('i32.sub').get(v).vmem('v128.store', 0);
}

function emitFill(mod: ModuleBuilder): void {
  {
    const c = mod.func('repeat', [ValType.i32, ValType.i32]);
    const [AT, BYTES] = [0, 1];
    const v = c.local(ValType.v128);
    const p = c.local(ValType.i32);
    const end = c.local(ValType.i32);
    c.get(AT).vmem('v128.load', 0).set(v);
    c.get(AT).get(BYTES).op('i32.add').set(end);
    c.get(AT).i32c(16).op('i32.add').set(p);
    emitStores(c, v, p, end);
  }
  {
    const c = mod.func('run', [ValType.i32, ValType.i32, ValType.i32]);
    const [BYTES, DST, SEED] = [0, 1, 2];
    const v = c.local(ValType.v128);
    const p = c.local(ValType.i32);
    const end = c.local(ValType.i32);
    c.get(SEED).vmem('v128.load', 0).set(v);
    c.get(DST).set(p);
    c.get(DST).get(BYTES).op('i32.add').set(end);
    emitStores(c, v, p, end);
  }
}

/** The caller's cache of module-task functions for `runModuleTask`, per heap. */
const ownTasks = new WeakMap<WasmHeap, Map<number, (...a: number[]) => void>>();
/** Chunks of the current split fill the caller ran (fills never re-enter each other). */
let callerChunks = 0;
/** Whether splitting pays off on each pool's machine just now (`fill-gate.ts`). */
const gates = new WeakMap<ThreadPool, FillGate>();

/** The split-fill gate of `pool` (tests look at it). */
export function fillGateOf(pool: ThreadPool): FillGate {
  let g = gates.get(pool);
  if (g === undefined) gates.set(pool, (g = new FillGate()));
  return g;
}

/**
 * Fills `n` elements of `view` (a view of `heap`'s memory) from element `from` with `value`, as
 * the view's own `fill` would store it.
 */
export function heapFill(heap: WasmHeap, view: { fill(v: number, s: number, e: number): unknown; readonly byteOffset: number; readonly BYTES_PER_ELEMENT: number }, from: number, n: number, value: number): void {
  const es = view.BYTES_PER_ELEMENT;
  const seed = 16 / es;
  if (n <= seed) {
    view.fill(value, from, from + n);
    return;
  }
  view.fill(value, from, from + seed);
  const at = view.byteOffset + from * es;
  const bytes = n * es;
  if (bytes >= FILL_THREAD_MIN_BYTES && fillThreaded(heap, at, bytes)) return;
  (heapModuleOf(heap, emitFill).exports.repeat as RepeatFn)(at, bytes);
}

/**
 * Repeats the 16 bytes at `at` up to `at + bytes` on every thread of the heap's pool (see the
 * file comment). False when there is no pool, when recent split fills were not evenly shared
 * (`fill-gate.ts`: the machine has no core to spare), or no scratch for the descriptor (the caller
 * then fills alone).
 */
function fillThreaded(heap: WasmHeap, at: number, bytes: number): boolean {
  const pool = poolOf(heap.memory);
  if (pool === null) return false;
  const gate = fillGateOf(pool);
  if (!gate.wants()) return false;
  const m = heapModuleOf(heap, emitFill);
  const nArgs = 3;
  const desc = heap.scratch(descriptorBytes(nArgs) + 16 + align16(m.bytes.length));
  if (desc < 0) return false;
  const counter = desc + descriptorBytes(nArgs);
  const modAt = counter + 16;
  heap.u8.set(m.bytes, modAt);
  writeDescriptor(heap.memory.buffer, desc, {
    moduleId: FILL_MODULE_ID,
    bytesPtr: modAt,
    bytesLen: m.bytes.length,
    counterPtr: counter,
    total: bytes - 16,
    chunk: FILL_CHUNK_BYTES,
    base: [0, at + 16, at],
    stride: [0, 1, 0],
  });
  let own = ownTasks.get(heap);
  if (own === undefined) {
    const run = m.exports.run as RunFn;
    // Counts the chunks the caller runs, for the gate.
    own = new Map([[FILL_MODULE_ID, (b: number, d: number, s: number): void => {
      callerChunks++;
      run(b, d, s);
    }]]) as Map<number, (...a: number[]) => void>;
    ownTasks.set(heap, own);
  }
  const cache = own;
  const take = (): void => runModuleTask(heap.memory, desc, cache);
  callerChunks = 0;
  pool.runTasks(new Array<number>(pool.threads).fill(desc), take, take);
  gate.record(callerChunks, Math.ceil((bytes - 16) / FILL_CHUNK_BYTES), pool.threads);
  return true;
}
