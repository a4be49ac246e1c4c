/** `autograd.backward`, `autograd.grad` and the autograd methods of Tensor. */
import { NablaError } from '../errors.js';
import { checkCallback } from '../validate/callback.js';
import { Tensor } from '../tensor/tensor.js';
import { accumulatorOf } from './edges.js';
import { runEngine } from './engine.js';
import { removable, type GradHook, type MaybeGrad, type RemovableHandle } from './node.js';
import type { AccumulateGrad, PostAccumulateGradHook } from './accumulate-grad.js';
import { accumulateInto } from './accumulate-grad.js';

export interface BackwardOptions {
  /** Keep saved tensors for another backward (default: `createGraph`). */
  retainGraph?: boolean | null;
  /** Record the graph of the gradients themselves (for higher-order derivatives). */
  createGraph?: boolean | null;
  /** Accumulate only into these tensors' `.grad`. */
  inputs?: Tensor | readonly Tensor[] | null;
}

export interface AutogradBackwardOptions extends BackwardOptions {
  gradTensors?: MaybeGrad | readonly MaybeGrad[] | null;
}

export interface GradOptions {
  gradOutputs?: MaybeGrad | readonly MaybeGrad[] | null;
  retainGraph?: boolean | null;
  createGraph?: boolean | null;
  /** Return null for inputs the outputs do not depend on instead of throwing. */
  allowUnused?: boolean | null;
}

function list<T>(x: T | readonly T[] | null | undefined): T[] {
  if (x === null || x === undefined) return [];
  return Array.isArray(x) ? (x as T[]).slice() : [x as T];
}

function rtOf(ts: readonly Tensor[], op: string): Tensor['rt'] {
  const t = ts[0];
  if (!(t instanceof Tensor)) throw new NablaError('expected at least one Tensor', { op });
  return t.rt;
}

/** Computes gradients of `tensors` and accumulates them into the leaves' `.grad`. */
export function backward(tensors: Tensor | readonly Tensor[], opts: AutogradBackwardOptions = {}): void {
  const roots = list(tensors);
  const grads = list(opts.gradTensors);
  if (grads.length && grads.length !== roots.length) {
    throw new NablaError(`got ${grads.length} gradients for ${roots.length} tensors`, { op: 'backward' });
  }
  const createGraph = !!opts.createGraph;
  const inputs = opts.inputs === undefined || opts.inputs === null ? null : list(opts.inputs);
  if (inputs !== null && inputs.length === 0) throw new NablaError("'inputs' argument to backward() cannot be empty.", { op: 'backward' });
  runEngine(rtOf(roots, 'backward'), {
    roots,
    rootGrads: grads,
    keepGraph: opts.retainGraph ?? createGraph,
    createGraph,
    inputs,
    accumulate: true,
    allowUnused: true,
  });
}

/**
 * Gradients of `outputs` w.r.t. `inputs`, returned (never written to `.grad`).
 *
 * @example
 * const x = nabla.tensor(2, { requiresGrad: true });
 * const [dy] = nabla.autograd.grad(x.pow(3), x, { createGraph: true }); // 3x² = 12
 * const [d2y] = nabla.autograd.grad(dy!, x);                            // 6x = 12
 */
export function grad(outputs: Tensor | readonly Tensor[], inputs: Tensor | readonly Tensor[], opts: GradOptions = {}): MaybeGrad[] {
  const outs = list(outputs);
  const ins = list(inputs);
  const grads = list(opts.gradOutputs);
  if (grads.length && grads.length !== outs.length) {
    throw new NablaError(`grad requires one gradOutput per output (got ${grads.length} for ${outs.length})`, { op: 'grad' });
  }
  const createGraph = !!opts.createGraph;
  return runEngine(rtOf(outs, 'grad'), {
    roots: outs,
    rootGrads: grads,
    keepGraph: opts.retainGraph ?? createGraph,
    createGraph,
    inputs: ins,
    accumulate: false,
    allowUnused: !!opts.allowUnused,
  });
}

declare module '../tensor/tensor.js' {
  interface Tensor {
    /**
     * Computes the gradient of this tensor w.r.t. graph leaves and accumulates it into `.grad`.
     *
     * @example
     * const x = nabla.tensor([2, 3], { requiresGrad: true });
     * x.pow(2).add(x.mul(2)).add(1).sum().backward();
     * x.grad!.tolist(); // [6, 8]
     */
    backward(gradient?: Tensor | null, opts?: BackwardOptions): void;
    /** The options alone (`backward({ retainGraph: true })`): an options object is never a gradient. */
    backward(opts: BackwardOptions): void;
    /** Keep `.grad` for this non-leaf after backward. */
    retainGrad(): void;
    /** A hook on this tensor's gradient; it may return a replacement. */
    registerHook(fn: GradHook): RemovableHandle;
    /** A hook that runs after a leaf's `.grad` was accumulated. */
    registerPostAccumulateGradHook(fn: (t: Tensor) => void): RemovableHandle;
  }
}

Object.assign(Tensor.prototype, {
  backward(this: Tensor, gradient?: Tensor | BackwardOptions | null, opts: BackwardOptions = {}) {
    if (gradient !== undefined && gradient !== null && !(gradient instanceof Tensor) && typeof gradient === 'object' && !Array.isArray(gradient)) {
      if (opts !== undefined && Object.keys(opts).length > 0) {
        throw new NablaError('backward(gradient, opts): the first argument is an options object, and options were given again second', { op: 'backward' });
      }
      return backward([this], { ...gradient, gradTensors: null });
    }
    backward([this], { ...opts, gradTensors: gradient === undefined || gradient === null ? null : [gradient as Tensor] });
  },
  retainGrad(this: Tensor) {
    this._alive('retainGrad');
    if (!this.requiresGrad) throw new NablaError("can't retain_grad on Tensor that has requires_grad=False", { op: 'retainGrad' });
    if (this.isLeaf || this._retainsGrad) return;
    this._retainsGrad = true;
    const node = this.gradFn!;
    const hooks = (node.retainHooks ??= []);
    const self = this;
    hooks[this._outputNr] = (g: Tensor) => accumulateInto(self, g);
  },
  registerHook(this: Tensor, fn: GradHook): RemovableHandle {
    this._alive('registerHook');
    checkCallback('registerHook', fn, 'hook');
    if (!this.requiresGrad) {
      throw new NablaError("cannot register a hook on a tensor that doesn't require gradient", { op: 'registerHook' });
    }
    if (this.isLeaf) return accumulatorOf(this).addTensorHook(0, fn);
    return this.gradFn!.addTensorHook(this._outputNr, fn);
  },
  registerPostAccumulateGradHook(this: Tensor, fn: PostAccumulateGradHook): RemovableHandle {
    this._alive('registerPostAccumulateGradHook');
    checkCallback('registerPostAccumulateGradHook', fn, 'hook');
    if (!this.isLeaf || !this.requiresGrad) {
      throw new NablaError('post accumulate grad hooks cannot be registered on non-leaf tensors or tensors that do not require grad', {
        op: 'registerPostAccumulateGradHook',
      });
    }
    return (accumulatorOf(this) as AccumulateGrad).addPostAccumulateHook(fn);
  },
});

export { removable };
