/**
 * Module tasks on the worker pool: a generated kernel module (an elementwise expression today)
 * run over chunks of operands already laid out in the shared memory, the chunks handed out one at
 * a time through an atomic counter to whichever thread asks next, the caller included. A thread
 * that is slow or descheduled (a busy machine) then just takes fewer chunks: the call is never
 * much slower than on one thread.
 *
 * The workers cannot see the modules the backend generates at run time, so a task carries its
 * module: the caller writes a descriptor into the shared memory, the module's bytes beside it;
 * a worker compiles a module the first time it sees its id and keeps the instance. Arguments
 * travel as float64 (every i32 pointer and float parameter is exact there), so one descriptor
 * format serves every signature: argument 0 is the element count of a chunk, and argument j of
 * chunk c is `base[j] + c·chunk·stride[j]` (a pointer advancing with the data, or a constant).
 *
 * Descriptor at byte `p` (16-aligned), int32: [moduleId, bytesPtr, bytesLen, nArgs, counterPtr,
 * total, chunk, 0], then float64 base[nArgs] and stride[nArgs] from `p + 32`. The counter is an
 * int32 in the shared memory the caller zeroes.
 */

/**
 * The module id of the split fill (`fill.ts`). Generated elementwise modules take positive ids;
 * the backend's own module tasks take negative ones, so that a worker's cache never confuses them.
 */
export const FILL_MODULE_ID = -1;

/** Control slot saying what a wake-up is for: 0 a GEMM job, `MODULE_TASK` a module task. */
export const TASK_KIND = 6;
export const MODULE_TASK = 1;
/** Control slot holding the generation that posted the module task (the pool's GEN after the bump). */
export const TASK_GEN = 7;

/** Bytes of a descriptor with `nArgs` arguments. */
export function descriptorBytes(nArgs: number): number {
  return 32 + 16 * nArgs;
}

export interface TaskDescriptor {
  readonly moduleId: number;
  readonly bytesPtr: number;
  readonly bytesLen: number;
  readonly counterPtr: number;
  readonly total: number;
  readonly chunk: number;
  readonly base: readonly number[];
  readonly stride: readonly number[];
}

/** Writes a descriptor at `p` and zeroes its counter (see the file comment). */
export function writeDescriptor(buffer: ArrayBufferLike, p: number, d: TaskDescriptor): void {
  const I = new Int32Array(buffer, p, 8);
  I.set([d.moduleId, d.bytesPtr, d.bytesLen, d.base.length, d.counterPtr, d.total, d.chunk, 0]);
  const F = new Float64Array(buffer, p + 32, 2 * d.base.length);
  F.set(d.base);
  F.set(d.stride, d.base.length);
  new Int32Array(buffer, d.counterPtr, 1)[0] = 0;
}

/**
 * Takes chunks of the descriptor at `p` until none is left. This source also runs inside the
 * workers (as text, like `pool.ts`' `runSlice`), so it uses nothing outside its parameters.
 */
export function runModuleTask(memory: WebAssembly.Memory, p: number, cache: Map<number, (...a: number[]) => void>): void {
  if (p === 0) return;
  const buf = memory.buffer;
  const I = new Int32Array(buf);
  const q = p >> 2;
  const id = I[q]!;
  let run = cache.get(id);
  if (run === undefined) {
    const bytes = new Uint8Array(buf, I[q + 1]!, I[q + 2]!).slice();
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    run = inst.exports.run as (...a: number[]) => void;
    cache.set(id, run);
  }
  const nArgs = I[q + 3]!;
  const counter = I[q + 4]! >> 2;
  const total = I[q + 5]!;
  const chunk = I[q + 6]!;
  const F = new Float64Array(buf, p + 32, 2 * nArgs);
  const args = Array.from(F.subarray(0, nArgs));
  for (;;) {
    const start = Atomics.add(I, counter, 1) * chunk;
    if (start >= total) break;
    args[0] = Math.min(chunk, total - start);
    for (let j = 1; j < nArgs; j++) args[j] = F[j]! + start * F[nArgs + j]!;
    run(...args);
  }
}
