/**
 * Tensor lifetimes inside nn (internal). Three tools keep a training loop's memory flat without
 * breaking autograd:
 *
 * - `scoped(rt, fn)` runs one computation (a loss, a layer's forward) and frees the temporaries it
 *   made, keeping what it returns. A temporary that a graph saved for backward is not disposed
 *   yet (disposing it would make the graph create, at backward time, a live alias of it that
 *   nobody frees): it is freed later, once the graph lets go of it.
 * - `untracked(rt, fn)` makes what `fn` creates escape an enclosing `tidy`/`scoped`: parameters,
 *   optimizer state and caches must outlive the step that happened to create them.
 * - `keptTensors`: tensors no `tidy` may dispose (parameters, buffers, `keep()`).
 *
 * They read core's runtime bookkeeping: `Runtime._created` (the list that collects new tensors
 * while someone watches) and `Tensor._pins` (how many saved-for-backward slots hold a tensor).
 */
import { Tensor, type Runtime } from '@nabla/core';

/** Tensors that no `tidy` may dispose (parameters, buffers, `keep()`). */
export const keptTensors = new WeakSet<Tensor>();

/**
 * Tensors to dispose once the graph that saved them lets go, per runtime. Held weakly (the GC may
 * collect a graph that never ran backward, and its tensors with it); flushed by every `tidy`, and
 * by `releaseLater` whenever the set has doubled since the last flush (so it stays bounded by the
 * tensors graphs still hold, at amortized constant cost).
 */
interface Deferred {
  set: Set<WeakRef<Tensor>>;
  flushAt: number;
}
const deferred = new WeakMap<Runtime, Deferred>();

/** Disposes `t` now, or (when a graph holds it for backward) once the graph has let it go. */
export function releaseLater(rt: Runtime, t: Tensor): void {
  if (t.isDisposed || keptTensors.has(t)) return;
  if (t._pins === 0) {
    t.dispose();
    return;
  }
  let d = deferred.get(rt);
  if (!d) deferred.set(rt, (d = { set: new Set(), flushAt: 64 }));
  d.set.add(new WeakRef(t));
  if (d.set.size >= d.flushAt) flushDeferred(rt);
}

/** Disposes the deferred tensors of `rt` that no graph holds any more; forgets collected ones. */
export function flushDeferred(rt: Runtime): void {
  const d = deferred.get(rt);
  if (!d || d.set.size === 0) return;
  for (const ref of d.set) {
    const t = ref.deref();
    if (t === undefined || t.isDisposed) d.set.delete(ref);
    else if (t._pins === 0) {
      d.set.delete(ref);
      t.dispose();
    }
  }
  d.flushAt = Math.max(64, 2 * d.set.size);
}

/** Collects the tensors inside `value` (a tensor; arrays, Sets, Maps and plain objects of them). */
export function tensorsIn(value: unknown, out: Set<Tensor> = new Set(), seen: Set<object> = new Set()): Set<Tensor> {
  if (value instanceof Tensor) {
    out.add(value);
    return out;
  }
  if (value === null || typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  if (Array.isArray(value) || value instanceof Set) for (const v of value) tensorsIn(v, out, seen);
  else if (value instanceof Map) for (const v of value.values()) tensorsIn(v, out, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) tensorsIn(v, out, seen);
  return out;
}

/**
 * Runs `fn` collecting the tensors it makes on `rt`; returns its result and the collected tensors,
 * restoring the enclosing collector (if any) even when `fn` throws (then what `fn` made is
 * released before the error propagates).
 */
export function collect<T>(rt: Runtime, fn: () => T): { result: T; made: Tensor[]; outer: Tensor[] | null } {
  const outer = rt._created;
  const made: Tensor[] = [];
  rt._created = made;
  try {
    return { result: fn(), made, outer };
  } catch (e) {
    rt._created = outer;
    for (const t of made) releaseLater(rt, t);
    throw e;
  } finally {
    rt._created = outer;
  }
}

/**
 * Runs one computation and frees its temporaries: everything `fn` made on `rt` except what it
 * returns (and the tensors those are views of), which pass to the enclosing collector.
 */
export function scoped<T>(rt: Runtime, fn: () => T): T {
  const { result, made, outer } = collect(rt, fn);
  const keep = tensorsIn(result);
  for (const t of [...keep]) if (t._base !== null) keep.add(t._base);
  for (const t of made) {
    if (keep.has(t)) outer?.push(t);
    else if (outer !== null && t._pins > 0) outer.push(t); // the enclosing tidy frees it after backward
    else releaseLater(rt, t);
  }
  return result;
}

/** The lists of the `tidy` calls running on each runtime, innermost last. */
const tidies = new WeakMap<Runtime, Tensor[][]>();

/** Runs `fn` with `made` registered as the innermost tidy of `rt`. */
export function withTidy<T>(rt: Runtime, made: Tensor[], fn: () => T): T {
  let stack = tidies.get(rt);
  if (!stack) tidies.set(rt, (stack = []));
  stack.push(made);
  try {
    return fn();
  } finally {
    stack.pop();
  }
}

/**
 * Hands `t` to the innermost running `tidy` of its runtime, to be freed at its end (used for the
 * gradients that module backward hooks see: the engine never frees what a hook has seen). Only a
 * tensor made while that tidy runs (ids grow; the first tensor the tidy collected bounds them),
 * never one from before it (a gradient the caller passed to `backward`), and not when the backward
 * builds a graph (`createGraph`: gradients may then become `.grad` itself).
 */
export function adoptIntoTidy(t: Tensor | null | undefined): void {
  if (!t || t.rt.isGradEnabled()) return;
  const stack = tidies.get(t.rt);
  const top = stack?.[stack.length - 1];
  const first = top?.[0];
  if (top && first && t.id > first.id) top.push(t);
}

/** Runs `fn` so that the tensors it creates are not collected by an enclosing `tidy` or `scoped`. */
export function untracked<T>(rt: Runtime, fn: () => T): T {
  const prev = rt._created;
  if (prev === null) return fn();
  rt._created = null;
  try {
    return fn();
  } finally {
    rt._created = prev;
  }
}
