/**
 * Custom differentiable functions, as PyTorch's `torch.autograd.Function`.
 *
 * @example
 * class MyReLU extends nabla.Function {
 *   static forward(ctx: nabla.FunctionCtx, x: nabla.Tensor) {
 *     ctx.saveForBackward(x);
 *     return x.clamp(0);
 *   }
 *   static backward(ctx: nabla.FunctionCtx, g: nabla.Tensor) {
 *     const [x] = ctx.savedTensors;
 *     return g.mul(x!.gt(0));
 *   }
 * }
 * const y = MyReLU.apply(x);
 *
 * // PyTorch 2's style: forward without ctx, then setupContext(ctx, inputs, output).
 * class Cube extends nabla.Function {
 *   static forward(x: nabla.Tensor) { return x.pow(3); }
 *   static setupContext(ctx: nabla.FunctionCtx, [x]: [nabla.Tensor]) { ctx.saveForBackward(x); }
 *   static backward(ctx: nabla.FunctionCtx, g: nabla.Tensor) { const [x] = ctx.savedTensors; return g.mul(x!.square().mul(3)); }
 * }
 * nabla.gradcheck(Cube.apply, [x]); // apply works unbound
 */
import { isFloating } from '../dtype.js';
import { NablaError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { accumulatorOf, gradEdge } from './edges.js';
import { Node, SavedTensor, freedError, unpackSaved, type Edge, type MaybeGrad, type SavedInfo, type TensorMeta } from './node.js';
import { aliasView } from '../ops/view.js';

/** The `ctx` a custom Function's forward and backward share. Extra fields are free (`ctx.alpha = 2`). */
export class FunctionCtx {
  /** Per forward argument: whether its gradient is needed (false for non-tensors). */
  needsInputGrad: boolean[] = [];
  /** @internal */ _saved: (SavedTensor | null)[] | null = null;
  /** @internal what forward passed to saveForBackward, saved once apply has wired the outputs */
  _toSave: (Tensor | null)[] | null = null;
  /** @internal */ _dirty: Set<Tensor> = new Set();
  /** @internal */ _nonDiff: Set<Tensor> = new Set();
  /** @internal */ _materialize = true;
  /** @internal */ _node: FunctionNode | null = null;
  /** @internal */ _freed = false;
  [field: string]: unknown;

  /**
   * Saves tensors for backward (checked against later in-place changes). As in PyTorch they are
   * saved when forward has returned, so saved outputs know their node (and saved-tensor hooks see
   * them in their final state).
   */
  saveForBackward(...tensors: (Tensor | null | undefined)[]): void {
    this._toSave = tensors.map((t) => t ?? null);
  }

  /** The tensors given to `saveForBackward`, in order. */
  get savedTensors(): Tensor[] {
    if (this._freed) throw freedError(this._node!);
    if (this._saved === null) return (this._toSave ?? []) as Tensor[];
    return this._saved.map((s) => (s ? unpackSaved(s, this._node!) : (null as unknown as Tensor)));
  }

  /** Declares inputs that forward modified in place (and returns). */
  markDirty(...tensors: Tensor[]): void {
    for (const t of tensors) this._dirty.add(t);
  }

  /** Declares outputs that are not differentiable (indices, masks). */
  markNonDifferentiable(...tensors: Tensor[]): void {
    for (const t of tensors) this._nonDiff.add(t);
  }

  /** When false, backward receives null (not zeros) for outputs that got no gradient. */
  setMaterializeGrads(flag: boolean): void {
    this._materialize = flag;
  }
}

type FunctionClass = {
  name: string;
  forward(...args: unknown[]): unknown;
  setupContext?(ctx: FunctionCtx, inputs: unknown[], output: unknown): void;
  backward(ctx: FunctionCtx, ...grads: MaybeGrad[]): unknown;
};

/** `forward`'s arguments after `ctx` (classic style), or all of them (setupContext style). */
export type FunctionArgs<F> = F extends { forward: (...args: infer A) => unknown }
  ? A extends [FunctionCtx, ...infer R]
    ? R
    : A
  : never;

/** What `apply` returns: `forward`'s result. */
export type FunctionResult<F> = F extends { forward: (...args: never[]) => infer R } ? R : never;

/** The graph node of a custom Function: `<ClassName>Backward`. */
export class FunctionNode extends Node {
  keepsNullGrads: boolean;
  constructor(
    readonly fn: FunctionClass,
    readonly ctx: FunctionCtx,
    next: Edge[],
    meta: TensorMeta[],
    private readonly argIsTensor: boolean[],
  ) {
    super(next, meta);
    this.keepsNullGrads = !ctx._materialize;
  }

  name(): string {
    return `${this.fn.name}Backward`;
  }

  apply(gradOutputs: MaybeGrad[]): MaybeGrad[] {
    if (this.ctx._freed) throw freedError(this);
    const r = this.fn.backward(this.ctx, ...gradOutputs);
    const grads = Array.isArray(r) ? r : [r];
    const n = this.argIsTensor.length;
    if (grads.length !== n) {
      throw new NablaError(`function ${this.name()} returned an incorrect number of gradients (expected ${n}, got ${grads.length})`, {
        op: this.name(),
      });
    }
    const checked = grads.map((g, i) => {
      if (g === null || g === undefined) return null;
      if (!(g instanceof Tensor)) {
        throw new NablaError(`function ${this.name()} returned a non-Tensor gradient at index ${i} (${typeof g})`, { op: this.name() });
      }
      if (!this.argIsTensor[i]) {
        throw new NablaError(`function ${this.name()} returned a gradient different than None at position ${i + 1}, but the corresponding forward input was not a Variable`, { op: this.name() });
      }
      return g;
    });
    // One gradient per forward argument comes back; the node's edges are the tensor arguments only.
    return checked.filter((_, i) => this.argIsTensor[i]);
  }

  override savedInfo(): SavedInfo[] {
    const out: SavedInfo[] = [];
    this.ctx._saved?.forEach((s, i) => {
      if (s) out.push(s.info(`saved${i}`));
    });
    return out;
  }

  override release(): void {
    const ctx = this.ctx;
    if (ctx._freed) return;
    ctx._freed = true;
    if (ctx._saved) for (const s of ctx._saved) s?.release();
  }
}

const NOT_OVERRIDDEN = Symbol('nabla.notOverridden');
const bound = new WeakMap<object, (...args: unknown[]) => unknown>();

/**
 * Base class of custom differentiable functions; subclasses define static `forward` and
 * `backward`, and either take `ctx` as forward's first argument or define `setupContext`.
 */
export class Function {
  /**
   * Runs forward with grad off and, when an input requires grad, records `<Name>Backward`. Works
   * unbound too (`gradcheck(Swish.apply, [x])`): each class's `apply` is its own bound function.
   */
  static apply<F extends { forward: (...args: never[]) => unknown }>(this: F, ...args: FunctionArgs<F>): FunctionResult<F>;
  /** Taken unbound (`gradcheck(Swish.apply, [x])`), where TypeScript cannot see the class. */
  static apply(...args: Tensor[]): Tensor;
  static apply(this: unknown, ...args: unknown[]): unknown {
    return applyFunction(this as FunctionClass, args);
  }

  static forward(this: unknown, ..._args: unknown[]): unknown {
    const name = typeof this === 'function' && this.name ? this.name : 'Function';
    throw new NablaError(
      `${name}.forward must be overridden: You must implement the forward function for custom autograd.Function (static forward(ctx, ...inputs), or forward(...inputs) with setupContext).`,
      { op: `${name}.forward` },
    );
  }

  /**
   * PyTorch 2's style: `forward(...args)` without ctx computes the output; then
   * `setupContext(ctx, inputs, output)` saves what backward needs.
   */
  static setupContext(_ctx: FunctionCtx, _inputs: unknown[], _output: unknown): void {}

  static backward(this: { name: string }, _ctx: FunctionCtx, ..._grads: MaybeGrad[]): unknown {
    throw new NablaError(
      `${this.name}: You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD (${this.name}.backward must be overridden: static backward(ctx, ...grads)).`,
      { op: `${this.name}Backward` },
    );
  }
}
(Function.setupContext as unknown as Record<symbol, boolean>)[NOT_OVERRIDDEN] = true;

// `apply` is an accessor at run time: read from a subclass (`Swish.apply`), it gives a function
// bound to that subclass, the same one each time, so it may be passed around unbound. The method
// declaration above is what TypeScript sees (typed from forward's parameters).
Object.defineProperty(Function, 'apply', {
  configurable: true,
  get(this: object) {
    let f = bound.get(this);
    if (f === undefined) {
      const cls = this as FunctionClass;
      f = (...args: unknown[]) => applyFunction(cls, args);
      Object.defineProperty(f, 'name', { value: `${cls.name}.apply` });
      bound.set(this, f);
    }
    return f;
  },
});

function usesSetupContext(cls: FunctionClass): boolean {
  const s = cls.setupContext as unknown as Record<symbol, boolean> | undefined;
  return typeof s === 'function' && !s[NOT_OVERRIDDEN];
}

function applyFunction(cls: FunctionClass, args: unknown[]): unknown {
  if (typeof cls.forward !== 'function' || cls.forward === (Function as unknown as FunctionClass).forward) {
    throw new NablaError(`${cls.name} must define static forward(ctx, ...args) (or forward(...args) with setupContext)`, { op: `${cls.name}.apply` });
  }
  const tensors = args.filter((a): a is Tensor => a instanceof Tensor);
  const first = tensors[0];
  if (!first) throw new NablaError('a Function needs at least one Tensor argument', { op: `${cls.name}.apply` });
  const rt = first.rt;
  const ctx = new FunctionCtx();
  ctx.needsInputGrad = args.map((a) => a instanceof Tensor && a.requiresGrad);
  const gm = rt.gradMode;
  const setup = usesSetupContext(cls);
  const raw = gm.run(false, gm.inference, () => {
    if (!setup) return cls.forward(ctx, ...args);
    const out = cls.forward(...args);
    cls.setupContext!(ctx, args, out);
    return out;
  });
  const outs = Array.isArray(raw) ? (raw as unknown[]) : [raw];
  outs.forEach((o, i) => {
    if (!(o instanceof Tensor)) throw new NablaError(`forward must return Tensors, got ${typeof o} at output ${i}`, { op: `${cls.name}.apply` });
  });
  const grad = gm.enabled && ctx.needsInputGrad.some(Boolean);
  if (!grad) return raw;

  // PyTorch lists only tensor inputs among the node's next functions.
  const next: Edge[] = tensors.map((a) => gradEdge(a));
  const results = (outs as Tensor[]).map((o) => {
    const isInput = tensors.includes(o);
    if (isInput && ctx._dirty.has(o)) {
      if (o.isLeaf && o._requiresGrad) {
        throw new NablaError('a leaf Variable that requires grad has been used in an in-place operation.', { op: `${cls.name}.apply` });
      }
      return o;
    }
    // An input returned unchanged becomes a view, so it can carry this node as history.
    return isInput ? gm.run(false, gm.inference, () => aliasView(o)) : o;
  });
  const meta: TensorMeta[] = results.map((o) => ({ shape: o.shape, dtype: o.dtype, device: o.device }));
  const node = new FunctionNode(cls, ctx, next, meta, args.map((a) => a instanceof Tensor));
  ctx._node = node;
  if (gm.anomaly) node.stack = new Error(`forward of ${cls.name}`).stack ?? null;
  results.forEach((o, i) => {
    if (ctx._nonDiff.has(outs[i] as Tensor)) return;
    if (!isFloating(o.dtype)) return;
    o._gradFn = node;
    o._outputNr = i;
    if (ctx._dirty.has(o)) o._ref.version++;
  });
  if (ctx._toSave !== null) {
    // A leaf saved without being an input still needs its accumulator, for a hook's unpacked copy.
    for (const t of ctx._toSave) if (t !== null && t._requiresGrad && t._gradFn === null) accumulatorOf(t);
    ctx._saved = ctx._toSave.map((t) => (t ? new SavedTensor(t, `${cls.name}.saveForBackward`) : null));
    ctx._toSave = null;
  }
  return Array.isArray(raw) ? results : results[0];
}
