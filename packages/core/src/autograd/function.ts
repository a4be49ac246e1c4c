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
 */
import { NablaError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { gradEdge, NULL_EDGE } from './edges.js';
import { Node, SavedTensor, freedError, unpackSaved, type Edge, type MaybeGrad, type TensorMeta } from './node.js';
import { aliasView } from '../ops/view.js';

/** The `ctx` a custom Function's forward and backward share. Extra fields are free (`ctx.alpha = 2`). */
export class FunctionCtx {
  /** Per forward argument: whether its gradient is needed (false for non-tensors). */
  needsInputGrad: boolean[] = [];
  /** @internal */ _saved: SavedTensor[] | null = null;
  /** @internal */ _dirty: Set<Tensor> = new Set();
  /** @internal */ _nonDiff: Set<Tensor> = new Set();
  /** @internal */ _materialize = true;
  /** @internal */ _node: FunctionNode | null = null;
  /** @internal */ _freed = false;
  [field: string]: unknown;

  /** Saves tensors for backward (checked against later in-place changes). */
  saveForBackward(...tensors: (Tensor | null | undefined)[]): void {
    this._saved = tensors.map((t) => (t ? new SavedTensor(t, 'saveForBackward') : (null as unknown as SavedTensor)));
  }

  /** The tensors given to `saveForBackward`, in order. */
  get savedTensors(): Tensor[] {
    if (this._freed) throw freedError(this._node!);
    return (this._saved ?? []).map((s) => (s ? unpackSaved(s, this._node!) : (null as unknown as Tensor)));
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
  forward(ctx: FunctionCtx, ...args: unknown[]): unknown;
  backward(ctx: FunctionCtx, ...grads: MaybeGrad[]): unknown;
};

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
    return grads.map((g, i) => {
      if (g === null || g === undefined) return null;
      if (!(g instanceof Tensor)) {
        throw new NablaError(`function ${this.name()} returned a non-Tensor gradient at index ${i} (${typeof g})`, { op: this.name() });
      }
      if (!this.argIsTensor[i]) {
        throw new NablaError(`function ${this.name()} returned a gradient different than None at position ${i + 1}, but the corresponding forward input was not a Variable`, { op: this.name() });
      }
      return g;
    });
  }

  override release(): void {
    const ctx = this.ctx;
    if (ctx._freed) return;
    ctx._freed = true;
    if (ctx._saved) for (const s of ctx._saved) s?.release();
  }
}

/** Base class of custom differentiable functions; subclasses define static forward and backward. */
export class Function {
  /** Runs forward with grad off and, when an input requires grad, records `<Name>Backward`. */
  static apply<F extends { forward: (...args: never[]) => unknown }>(this: F, ...args: unknown[]): ReturnType<F['forward']> {
    const cls = this as unknown as FunctionClass;
    if (typeof cls.forward !== 'function' || cls.forward === (Function as unknown as FunctionClass).forward) {
      throw new NablaError(`${cls.name} must define static forward(ctx, ...args)`, { op: `${cls.name}.apply` });
    }
    const tensors = args.filter((a): a is Tensor => a instanceof Tensor);
    const first = tensors[0];
    if (!first) throw new NablaError('a Function needs at least one Tensor argument', { op: `${cls.name}.apply` });
    const rt = first.rt;
    const ctx = new FunctionCtx();
    ctx.needsInputGrad = args.map((a) => a instanceof Tensor && a.requiresGrad);
    const gm = rt.gradMode;
    const raw = gm.run(false, gm.inference, () => cls.forward(ctx, ...args));
    const outs = Array.isArray(raw) ? (raw as unknown[]) : [raw];
    outs.forEach((o, i) => {
      if (!(o instanceof Tensor)) throw new NablaError(`forward must return Tensors, got ${typeof o} at output ${i}`, { op: `${cls.name}.apply` });
    });
    const grad = gm.enabled && ctx.needsInputGrad.some(Boolean);
    if (!grad) return raw as ReturnType<F['forward']>;

    const next: Edge[] = args.map((a) => (a instanceof Tensor ? gradEdge(a) : NULL_EDGE));
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
      if (o.dtype !== 'float32' && o.dtype !== 'float64') return;
      o._gradFn = node;
      o._outputNr = i;
      if (ctx._dirty.has(o)) o._ref.version++;
    });
    return (Array.isArray(raw) ? results : results[0]) as ReturnType<F['forward']>;
  }

  static forward(this: unknown, _ctx: FunctionCtx, ..._args: unknown[]): unknown {
    const name = typeof this === 'function' && this.name ? this.name : 'Function';
    throw new NablaError(`${name}.forward must be overridden (a subclass of Function defines static forward(ctx, ...inputs))`, { op: `${name}.forward` });
  }

  static backward(this: unknown, _ctx: FunctionCtx, ..._grads: MaybeGrad[]): unknown {
    const name = typeof this === 'function' && this.name ? this.name : 'Function';
    throw new NablaError(`${name}.backward must be overridden (a subclass of Function defines static backward(ctx, ...gradOutputs))`, { op: `${name}.backward` });
  }
}
