/**
 * Dispatch hooks: a scoped callback that sees every kernel an op launches, before it runs, and may
 * answer it with results it already has instead (PyTorch's `TorchDispatchMode`, as its selective
 * activation checkpointing uses it). `@nabla/checkpoint` keeps the outputs of the ops a policy
 * saves during the first run and answers those ops' kernels in the recompute, so a recompute that
 * keeps the matmuls runs none.
 *
 * The seam sits where kernels launch (`runKernel` and elementwise ops), so a hook sees the op the
 * user called (`mm`), the backend kernel (`bmm`), and the tensors it reads and writes. An answer is
 * one tensor per write with the write's shape, dtype and device; core copies it into the write (an
 * elementwise identity the hooks do not see) and skips the kernel, so the op's output, views and
 * graph are built as without hooks. Nothing here reads tensor values, so hooks work on
 * asynchronous devices. With no hook in force the cost is one comparison per kernel launch.
 */
import { NablaError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../tensor/tensor.js';
import { popDispatchHook, pushDispatchHook, setDispatchCopier, type DispatchHook } from './dispatch-seam.js';
import { runElementwise } from './elementwise/define.js';
import { identity } from './elementwise/table.js';

export type { DispatchHook, KernelCall } from './dispatch-seam.js';

setDispatchCopier((dst, src) => void runElementwise(identity, [src], undefined, dst));

/**
 * Runs the synchronous `fn` with `hook` seeing every kernel launched on runtime `rt` meanwhile.
 * Hooks nest: every hook in force sees every launch, innermost first, and the innermost answer is
 * used.
 *
 * @example
 * const ops: string[] = [];
 * withDispatchHook(rt, (call) => void ops.push(`${call.op}:${call.kernel}`), () => x.matmul(w).relu());
 * ops; // ['mm:bmm', 'relu:elementwise']
 * // answer a kernel instead of running it: y's values are a copy of `kept`
 * const y = withDispatchHook(rt, (call) => (call.op === 'mm' ? [kept] : undefined), () => x.matmul(w));
 */
export function withDispatchHook<T>(rt: Runtime, hook: DispatchHook, fn: () => T): T {
  const op = 'withDispatchHook';
  if (typeof hook !== 'function') throw new NablaError(`hook must be a function (call) => tensors | undefined, got ${typeof hook}`, { op });
  if (typeof fn !== 'function') throw new NablaError(`expects a function to run, got ${typeof fn}`, { op });
  pushDispatchHook(rt, hook);
  let result: T;
  try {
    result = fn();
  } finally {
    popDispatchHook(rt);
  }
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    throw new NablaError('cannot run an async function (ops after an await would run without the hook); await first, then run the synchronous part inside', { op });
  }
  return result;
}

/**
 * An opaque object that identifies `t`'s storage while it lives: tensors that share memory (views,
 * `detach()`) have the same key. Dispatch hooks use it to follow what a kernel writes.
 *
 * @example
 * storageKey(x) === storageKey(x.detach()); // true
 * storageKey(x) === storageKey(x.clone());  // false
 */
export function storageKey(t: Tensor): object {
  return t._ref;
}

/**
 * The version counter of `t`'s storage (PyTorch's `t._version`): every in-place write bumps it, for
 * all tensors that share the storage. A hook that keeps a result to answer a later launch with
 * checks it to know the result was not changed in place since.
 *
 * @example
 * const v = storageVersion(x);
 * x.add_(1);
 * storageVersion(x) === v + 1; // true
 */
export function storageVersion(t: Tensor): number {
  return t._ref.version;
}
