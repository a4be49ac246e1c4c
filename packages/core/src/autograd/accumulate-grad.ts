/**
 * The node at the end of every path: it adds the incoming gradient into a leaf's `.grad`.
 * Without createGraph it accumulates in place (as PyTorch does); with createGraph it builds
 * `grad + g` so the accumulated gradient stays differentiable.
 */
import { Tensor } from '../tensor/tensor.js';
import { Node, removable, type MaybeGrad, type RemovableHandle } from './node.js';
import type { Reclaimer } from './reclaim.js';

export type PostAccumulateGradHook = (t: Tensor) => void;

export class AccumulateGrad extends Node {
  postAccumulateHooks: PostAccumulateGradHook[] | null = null;

  constructor(readonly variable: Tensor) {
    super([], [{ shape: variable.shape, dtype: variable.dtype, device: variable.device }]);
  }

  name(): string {
    return 'AccumulateGrad';
  }

  /**
   * `reclaim`: the engine's, when the pass may hand over what it made. A first gradient that only
   * this slot holds then becomes `.grad` itself instead of a copy (PyTorch's AccumulateGrad steals
   * it the same way), and the pass no longer owns it.
   */
  apply(gradOutputs: MaybeGrad[], reclaim?: Reclaimer): MaybeGrad[] {
    const g = gradOutputs[0];
    if (g) {
      const steal = reclaim !== undefined && this.variable._grad === null && !this.variable.rt.gradMode.enabled && reclaim.exclusive(g);
      if (steal) reclaim.handOver(g);
      accumulateInto(this.variable, g, steal);
    }
    if (this.postAccumulateHooks) for (const h of this.postAccumulateHooks.slice()) h(this.variable);
    return [];
  }

  addPostAccumulateHook(fn: PostAccumulateGradHook): RemovableHandle {
    return removable((this.postAccumulateHooks ??= []), fn);
  }
}

/** A `.grad` made inside a backward that a `tidy` may be collecting: it belongs to the leaf. */
function keptGrad(g: Tensor): Tensor {
  g._kept = true;
  return g;
}

/**
 * `t.grad += g` with PyTorch's rules (used for leaves and for retained non-leaf grads). `owned`:
 * nothing else holds g (the engine checked), so a first gradient is kept as it is.
 */
export function accumulateInto(t: Tensor, g: Tensor, owned = false): void {
  const createGraph = t.rt.gradMode.enabled;
  const old = t._grad;
  if (old === null) {
    // Never alias a gradient buffer another tensor may also receive: own a contiguous copy, unless
    // the graph of the gradient must be kept (createGraph). A gradient still arriving from another
    // device is copied (and accumulated into) once it lands (ops/deferred.ts).
    if (createGraph || owned) t._grad = keptGrad(g);
    else {
      // The detached alias would pin g's storage until the GC runs; let it go with g.
      const d = g.detach();
      t._grad = d.clone();
      d.dispose();
    }
  } else if (createGraph || old.requiresGrad) {
    t._grad = keptGrad(old.add(g));
  } else {
    old.add_(g);
  }
  if (t.rt.events.watching['grad:accumulate']) t.rt.events.emit('grad:accumulate', { tensorId: t.id, shape: t.shape });
}
