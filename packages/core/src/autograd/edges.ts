/** Where a tensor's gradient goes: its gradFn output, or its leaf accumulator. */
import { Tensor } from '../tensor/tensor.js';
import { AccumulateGrad } from './accumulate-grad.js';
import type { Edge } from './node.js';

export const NULL_EDGE: Edge = Object.freeze([null, 0]) as Edge;

export function gradEdge(t: Tensor): Edge {
  if (t._base !== null) Tensor._refreshView?.(t);
  if (t._gradFn !== null) return t._gradFn.edgeTo(t._outputNr);
  if (t._requiresGrad) return (t._accNode ??= new AccumulateGrad(t)).edgeTo(0);
  return NULL_EDGE;
}

/** The leaf's accumulator (created on first use and then kept, so hooks on it persist). */
export function accumulatorOf(t: Tensor): AccumulateGrad {
  return (t._accNode ??= new AccumulateGrad(t)) as AccumulateGrad;
}
