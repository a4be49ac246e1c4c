/** Where a tensor's gradient goes: its gradFn output, or its leaf accumulator. */
import { Tensor } from '../tensor/tensor.js';
import { AccumulateGrad } from './accumulate-grad.js';
import type { Edge, Node } from './node.js';

export const NULL_EDGE: Edge = Object.freeze([null, 0]) as Edge;

/**
 * The node `t`'s gradient flows into (its gradFn, or its leaf's accumulator, made on first use),
 * or null when none does; which of that node's outputs `t` is says `gradNr`, read after this call
 * (a view's place in the graph is brought up to date here first).
 */
export function gradNode(t: Tensor): Node | null {
  if (t._base !== null) Tensor._refreshView?.(t);
  if (t._gradFn !== null) return t._gradFn;
  if (t._requiresGrad) return (t._accNode ??= new AccumulateGrad(t));
  return null;
}

/** The output number of `gradNode(t)` that `t` is (0 for a leaf's accumulator). */
export function gradNr(t: Tensor): number {
  return t._gradFn !== null ? t._outputNr : 0;
}

export function gradEdge(t: Tensor): Edge {
  const node = gradNode(t);
  return node === null ? NULL_EDGE : node.edgeTo(gradNr(t));
}

/** The leaf's accumulator (created on first use and then kept, so hooks on it persist). */
export function accumulatorOf(t: Tensor): AccumulateGrad {
  return (t._accNode ??= new AccumulateGrad(t)) as AccumulateGrad;
}
