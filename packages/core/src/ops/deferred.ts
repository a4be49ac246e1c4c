/**
 * Kernels over data that is still arriving. A tensor copied from an asynchronous device
 * (`to('cpu')` of a WebGPU tensor) has a storage whose contents land later
 * (`StorageRef.pending`). Rather than refuse it, a kernel that reads such a storage is queued
 * behind the copy, and what it writes becomes pending in turn, so ops compose before anything is
 * awaited. Order is kept per storage: a queued kernel runs once every storage it reads or writes
 * has landed, and a write into a storage waits for the queued kernels that still read its old
 * contents. Nothing runs out of program order, so no kernel sees a half-written buffer.
 *
 * Synchronous reads of pending data throw an error naming the async method; `await t.data()` and
 * `synchronize()` wait, and report a queued kernel's failure.
 */
import type { StorageRef } from '../runtime/memory.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../tensor/tensor.js';

const noop = (): void => {};

/**
 * What a kernel reading `reads` and writing `writes` must wait for: the data of both still
 * arriving, and the queued kernels that still read what it overwrites. null: nothing.
 */
function waitsOf(reads: readonly Tensor[], writes: readonly Tensor[]): Promise<void>[] | null {
  let waits: Promise<void>[] | null = null;
  for (let i = 0; i < reads.length; i++) {
    const p = reads[i]!._ref.pending;
    if (p !== null) (waits ??= []).push(p);
  }
  for (let i = 0; i < writes.length; i++) {
    const r = writes[i]!._ref;
    if (r.pending !== null) (waits ??= []).push(r.pending);
    if (r.lastRead !== null) (waits ??= []).push(r.lastRead);
  }
  return waits;
}

/** Runs `run` (a kernel reading `reads` and writing `writes`) now, or queued when it must wait. */
export function launch(rt: Runtime, reads: readonly Tensor[], writes: readonly Tensor[], run: () => void): void {
  const waits = waitsOf(reads, writes);
  if (waits === null) run();
  else queue(rt, reads, writes, waits, run);
}

/**
 * `launch` for work that completes later (a read-back from an asynchronous device): it starts at
 * once when nothing it touches is pending (so a device records it in program order), and its
 * storages are kept, its reads registered and its writes pending until it has completed.
 */
export function launchAsync(rt: Runtime, reads: readonly Tensor[], writes: readonly Tensor[], run: () => Promise<void>): void {
  queue(rt, reads, writes, waitsOf(reads, writes) ?? [], run);
}

function queue(rt: Runtime, reads: readonly Tensor[], writes: readonly Tensor[], waits: Promise<void>[], run: () => void | Promise<void>): void {
  // The storages stay alive until the kernel ran, whatever their tensors do meanwhile.
  const refs = new Set<StorageRef>();
  for (const t of reads) refs.add(t._ref);
  for (const t of writes) refs.add(t._ref);
  for (const r of refs) r.retain();

  // With nothing to wait for, start now (inside the executor, so a throw becomes a rejection).
  const done: Promise<void> = waits.length === 0 ? new Promise<void>((resolve) => resolve(run())) : Promise.all(waits).then(run);
  const finished = done.then(noop, noop);
  for (const t of reads) {
    const r = t._ref;
    r.readers++;
    r.lastRead = r.lastRead === null ? finished : Promise.all([r.lastRead, finished]).then(noop);
  }
  for (const t of writes) {
    const r = t._ref;
    const mine: Promise<void> = done.finally(() => {
      if (r.pending === mine) r.pending = null;
    });
    // Whoever awaits the tensor sees a failure; nobody awaiting it is not an unhandled rejection.
    mine.catch(noop);
    r.pending = mine;
  }
  void finished.then(() => {
    for (const t of reads) {
      const r = t._ref;
      if (--r.readers === 0) r.lastRead = null;
    }
    for (const r of refs) r.release();
  });
  rt.trackTransfer(done);
}
