/**
 * Module tasks on the worker pool: a generated kernel module (an elementwise expression today)
 * run by every thread on its own slice of operands already laid out in the shared memory.
 *
 * The workers cannot see the modules the backend generates at run time, so each task carries its
 * module: the caller writes a descriptor per thread into the shared memory, the module's bytes
 * beside it, and its id; a worker compiles a module the first time it sees its id and keeps the
 * instance. Arguments travel as float64 (every i32 pointer and float parameter is exact there), so
 * one descriptor format serves every signature. `ThreadPool.runTasks` wakes the workers.
 *
 * Descriptor at byte `p` (16-aligned): int32 [moduleId, bytesPtr, bytesLen, nArgs], then nArgs
 * float64 from `p + 16`. A thread whose descriptor pointer is 0 has nothing to do.
 */

/** Control slot saying what a wake-up is for: 0 a GEMM job, `MODULE_TASK` a module task. */
export const TASK_KIND = 4;
export const MODULE_TASK = 1;

/** Bytes of one descriptor with `nArgs` arguments. */
export function descriptorBytes(nArgs: number): number {
  return 16 + ((8 * nArgs + 15) & ~15);
}

/** Writes a descriptor at `p` (see the file comment). */
export function writeDescriptor(buffer: ArrayBufferLike, p: number, moduleId: number, bytesPtr: number, bytesLen: number, args: readonly number[]): void {
  const I = new Int32Array(buffer, p, 4);
  I[0] = moduleId;
  I[1] = bytesPtr;
  I[2] = bytesLen;
  I[3] = args.length;
  new Float64Array(buffer, p + 16, args.length).set(args);
}

/**
 * Runs thread `t`'s descriptor. This source also runs inside the workers (as text, like
 * `pool.ts`' `runSlice`), so it uses nothing outside its parameters.
 */
export function runModuleTask(memory: WebAssembly.Memory, C: Int32Array, t: number, cache: Map<number, (...a: number[]) => void>, slicesAt: number): void {
  const p = C[slicesAt + 4 * t]!;
  if (p === 0) return;
  const buf = memory.buffer;
  const I = new Int32Array(buf, p, 4);
  const id = I[0]!;
  let run = cache.get(id);
  if (run === undefined) {
    const bytes = new Uint8Array(buf, I[1]!, I[2]!).slice();
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    run = inst.exports.run as (...a: number[]) => void;
    cache.set(id, run);
  }
  const args = Array.from(new Float64Array(buf, p + 16, I[3]!));
  run(...args);
}
