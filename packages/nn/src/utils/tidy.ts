/**
 * `tidy(fn)`: frees every tensor made while `fn` runs, except what it returns, so a training step
 * leaves memory as it found it (TensorFlow.js's `tf.tidy`; PyTorch gets this from reference
 * counting). Parameters, gradients accumulated into `.grad`, optimizer state and buffers are
 * never freed by it.
 *
 * Run `backward()` inside the same `tidy` as the forward pass when you can: the intermediates are
 * then freed at its end. A tensor that a graph still holds for a later backward is freed by a
 * later `tidy` on that runtime once the graph has let go of it (or by the garbage collector if
 * the graph is dropped without a backward).
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
import { defaultRuntime, NablaError, Runtime, Tensor } from '@nabla/core';
import { collect, flushDeferred, keptTensors, releaseLater, tensorsIn, withTidy } from '../lifetime.js';

/**
 * Marks `t` so that no enclosing `tidy` disposes it; it is then the caller's to dispose.
 *
 * @example
 * let last: Tensor | null = null;
 * nn.utils.tidy(rt, () => { last = nn.utils.keep(model.call(x)); });
 */
export function keep<T extends Tensor>(t: T): T {
  if (!(t instanceof Tensor)) throw new NablaError(`keep expects a Tensor, got ${t === null ? 'null' : typeof t}`, { op: 'keep' });
  keptTensors.add(t);
  return t;
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
  flushDeferred(rt);
  const { result, made, outer } = collect(rt, () => withTidy(rt, rt._created!, fn));
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    for (const t of made) releaseLater(rt, t);
    throw new NablaError('tidy cannot run an async function (what it makes after an await would escape); await first, then tidy the synchronous part', { op: 'tidy' });
  }
  const returned = tensorsIn(result);
  for (const t of [...returned]) if (t._base !== null) returned.add(t._base);
  for (const t of made) {
    if (returned.has(t)) outer?.push(t);
    else releaseLater(rt, t);
  }
  flushDeferred(rt);
  return result;
}
