/**
 * `tidy(fn)` and `keep(t)` as nn users meet them: core's scoped lifetimes (see `@nabla/core`'s
 * `tidy`), with an overload that names the runtime. A training step inside a tidy leaves memory
 * as it found it; parameters, buffers, `.grad` and optimizer state are never freed by it.
 *
 * Run `backward()` inside the same `tidy` as the forward pass when you can: the intermediates are
 * then freed at its end. A graph that outlives the tidy keeps the storage of what it saved until
 * its backward runs (or the garbage collector takes it).
 *
 * @example
 * for (let step = 0; step < 1000; step++) {
 *   const loss = nn.utils.tidy(rt, () => {
 *     opt.zeroGrad();
 *     const l = nn.crossEntropy(model.call(x), y);
 *     l.backward();
 *     opt.step();
 *     return l.item(); // a number: nothing made here survives
 *   });
 * }
 * // rt.memory().numTensors and numBytes are the same after every step.
 */
import { defaultRuntime, keep as coreKeep, NablaError, Runtime, type Tensor } from '@nabla/core';

/**
 * Marks `t` so that no enclosing `tidy` disposes it; it is then the caller's to dispose.
 *
 * @example
 * let last: Tensor | null = null;
 * nn.utils.tidy(rt, () => { last = nn.utils.keep(model.call(x)); });
 */
export function keep<T extends Tensor>(t: T): T {
  return coreKeep(t);
}

/**
 * Runs `fn` and disposes every tensor created meanwhile on `rt` (default: the default runtime)
 * except those in its result (a tensor, or arrays / plain objects / Maps of them) and those passed
 * to `keep()`. Returned tensors belong to an enclosing `tidy`, if any. `fn` must be synchronous.
 *
 * @example
 * const acc = nn.utils.tidy(rt, () => model.call(x).argmax(1).eq(y).to('float32').mean().item());
 */
export function tidy<T>(fn: () => T): T;
export function tidy<T>(rt: Runtime, fn: () => T): T;
export function tidy<T>(a: Runtime | (() => T), b?: () => T): T {
  const rt = a instanceof Runtime ? a : defaultRuntime();
  const fn = a instanceof Runtime ? b : a;
  if (typeof fn !== 'function') throw new NablaError('tidy expects a function: tidy(fn) or tidy(runtime, fn)', { op: 'tidy' });
  return rt.tidy(fn);
}
