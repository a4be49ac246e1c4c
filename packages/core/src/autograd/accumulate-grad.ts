/**
 * The node at the end of every path: it adds the incoming gradient into a leaf's `.grad`.
 * Without createGraph it accumulates in place (as PyTorch does); with createGraph it builds
 * `grad + g` so the accumulated gradient stays differentiable.
 */
import { Tensor } from '../tensor/tensor.js';
import { Node, removable, type MaybeGrad, type RemovableHandle } from './node.js';

export type PostAccumulateGradHook = (t: Tensor) => void;

export class AccumulateGrad extends Node {
  postAccumulateHooks: PostAccumulateGradHook[] | null = null;

  constructor(readonly variable: Tensor) {
    super([], [{ shape: variable.shape, dtype: variable.dtype, device: variable.device }]);
  }

  name(): string {
    return 'AccumulateGrad';
  }

  apply(gradOutputs: MaybeGrad[]): MaybeGrad[] {
    const g = gradOutputs[0];
    if (g) accumulateInto(this.variable, g);
    if (this.postAccumulateHooks) for (const h of this.postAccumulateHooks.slice()) h(this.variable);
    return [];
  }

  addPostAccumulateHook(fn: PostAccumulateGradHook): RemovableHandle {
    return removable((this.postAccumulateHooks ??= []), fn);
  }
}

/** `t.grad += g` with PyTorch's rules (used for leaves and for retained non-leaf grads). */
export function accumulateInto(t: Tensor, g: Tensor): void {
  const createGraph = t.rt.gradMode.enabled;
  const old = t._grad;
  if (old === null) {
    // Never alias a gradient buffer another tensor may also receive: own a contiguous copy,
    // unless the graph of the gradient must be kept (createGraph) or the gradient is still
    // arriving from another device (a fresh buffer nobody else holds; it cannot be copied yet).
    if (createGraph) t._grad = g;
    else if (g._ref.pending !== null) t._grad = g.detach();
    else {
      // The detached alias would pin g's storage until the GC runs; let it go with g.
      const d = g.detach();
      t._grad = d.clone();
      d.dispose();
    }
  } else if (createGraph || old.requiresGrad) {
    t._grad = old.add(g);
  } else if (old._ref.pending !== null || g._ref.pending !== null) {
    t._grad = addWhenSettled(old, g);
  } else {
    old.add_(g);
  }
  if (t.rt.events.watching['grad:accumulate']) t.rt.events.emit('grad:accumulate', { tensorId: t.id, shape: t.shape });
}

/**
 * `old + g` for gradients still arriving from an asynchronous device (a `to()` whose gradient flows
 * back to a CPU leaf, accumulated over two backward passes): the sum is queued behind the copies
 * and the result is itself pending, so nothing blocks and nothing reads a half-copied buffer. The
 * operands are private to the accumulation (the old `.grad` is replaced), so nobody can write them
 * meanwhile.
 */
export function addWhenSettled(old: Tensor, g: Tensor): Tensor {
  // The aliases belong to the queued sum, not to a backward step that would free them at its end.
  const rt = old.rt;
  const collecting = rt._created;
  rt._created = null;
  const a = old.detach();
  const b = g.detach();
  rt._created = collecting;
  const out = rt.zeros(old.shape, { dtype: old.dtype, device: old.device });
  rt._created = null;
  const target = out.detach();
  rt._created = collecting;
  const ref = out._ref;
  const waits = [a._ref.pending, b._ref.pending].filter((p): p is Promise<void> => p !== null);
  ref.pending = Promise.all(waits)
    .then(() => {
      ref.pending = null;
      target.add_(a).add_(b);
    })
    .finally(() => {
      ref.pending = null;
      for (const t of [a, b, target]) t.dispose();
    });
  rt.trackTransfer(ref.pending);
  return out;
}
