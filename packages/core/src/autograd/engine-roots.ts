/** Where a backward pass starts (engine.ts): the roots' edges into the graph and their gradients. */
import { NablaError, fmtShape } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { Tensor } from '../tensor/tensor.js';
import { gradEdge } from './edges.js';
import { makeZeros, sameShape } from './engine-support.js';
import type { Edge, MaybeGrad } from './node.js';

/** The edge each root's gradient enters the graph by. */
export function rootEdgesOf(roots: readonly Tensor[]): Edge[] {
  return roots.map((t, i) => {
    if (!(t instanceof Tensor)) throw new NablaError(`element ${i} of tensors is not a Tensor`, { op: 'backward' });
    t._alive('backward');
    const e = gradEdge(t);
    if (e[0] === null) {
      throw new NablaError(`element ${i} of tensors does not require grad and does not have a grad_fn`, { op: 'backward' });
    }
    return e;
  });
}

/**
 * The gradient each root starts with: the one given (checked, cast to the root's dtype) or, for
 * a one-element root, an implicit 1. What it makes is pushed onto `madeHere`; nothing made here
 * outlives a failure.
 */
export function rootGradsOf(rt: Runtime, roots: readonly Tensor[], given: readonly MaybeGrad[], madeHere: Tensor[]): Tensor[] {
  const gradOf = (t: Tensor, i: number): Tensor => {
    const g = given[i];
    if (g === null || g === undefined) {
      if (t.numel() !== 1) {
        throw new NablaError(`grad can be implicitly created only for scalar outputs (output ${i} has shape ${fmtShape(t.shape)})`, { op: 'backward' });
      }
      const one = makeZeros(rt, { shape: t.shape, dtype: t.dtype, device: t.device }).add_(1);
      madeHere.push(one);
      return one;
    }
    if (!(g instanceof Tensor)) throw new NablaError(`gradient ${i} must be a Tensor`, { op: 'backward' });
    if (!sameShape(g.shape, t.shape)) {
      throw new NablaError(
        `Mismatch in shape: grad_output[${i}] has a shape of ${fmtShape(g.shape)} and output[${i}] has a shape of ${fmtShape(t.shape)}.`,
        { op: 'backward' },
      );
    }
    if (g.device !== t.device) {
      throw new NablaError(`gradient ${i} is on ${g.device} but output ${i} is on ${t.device}`, { op: 'backward' });
    }
    if (g.dtype === t.dtype) return g;
    const cast = g.to(t.dtype);
    madeHere.push(cast);
    return cast;
  };
  try {
    return roots.map(gradOf);
  } catch (e) {
    for (const t of madeHere) t.dispose();
    throw e;
  }
}
