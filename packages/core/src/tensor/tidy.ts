/**
 * Scoped lifetimes: `tidy(fn)` frees every tensor made while `fn` runs except what it returns, so a
 * training step on a GPU leaves memory as it found it without a `dispose()` per intermediate
 * (TensorFlow.js's `tf.tidy`; PyTorch gets the same from reference counting).
 *
 * It builds on the runtime's collector (`Runtime._created`, which every new Tensor joins) and on
 * `dispose()`, which already waits for a graph that saved a tensor for backward: a tidy may end
 * before the backward that needs its tensors, and their storage goes when the graph lets go.
 */
import { NablaError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { Tensor } from './tensor.js';

/** The tensors in `value`: a tensor, or arrays, Sets, Maps and plain objects of them. */
function tensorsIn(value: unknown, out: Set<Tensor>, seen: Set<object>): Set<Tensor> {
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

export function tidy<T>(rt: Runtime, fn: () => T): T {
  if (typeof fn !== 'function') throw new NablaError(`tidy expects a function, got ${typeof fn}`, { op: 'tidy' });
  const outer = rt._created;
  const made: Tensor[] = [];
  rt._created = made;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    rt._created = outer;
    for (const t of made) if (!t._kept) t.dispose();
    throw e;
  } finally {
    rt._created = outer;
  }
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    for (const t of made) if (!t._kept) t.dispose();
    throw new NablaError('tidy cannot run an async function (what it makes after an await would escape it); await first, then tidy the synchronous part', {
      op: 'tidy',
    });
  }
  const returned = tensorsIn(result, new Set(), new Set());
  for (const t of made) {
    if (returned.has(t)) outer?.push(t);
    else if (!t._kept) t.dispose();
  }
  return result;
}

export function keep<T extends Tensor>(t: T): T {
  if (!(t instanceof Tensor)) throw new NablaError(`keep expects a Tensor, got ${t === null ? 'null' : typeof t}`, { op: 'keep' });
  t._kept = true;
  return t;
}

export function outsideTidy<T>(rt: Runtime, fn: () => T): T {
  const outer = rt._created;
  if (outer === null) return fn();
  rt._created = null;
  try {
    return fn();
  } finally {
    rt._created = outer;
  }
}
