/**
 * Graph nodes (PyTorch's `grad_fn`s). A node receives the gradients of its forward outputs and
 * returns the gradients of its forward inputs, one per edge in `next`. Nodes are created by ops
 * when grad mode is on and some input requires grad; the engine (`engine.ts`) runs them.
 */
import { bytesPerElement, type DType } from '../dtype.js';
import { NablaError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { packSaved, releasePacked, unpackPacked, type Packed } from './saved-hooks.js';

/** Where a gradient goes: the node that consumes it and which of its outputs it belongs to. */
export type Edge = readonly [Node | null, number];

export interface TensorMeta {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: string;
}

export type MaybeGrad = Tensor | null;
/** A tensor hook: sees the gradient, may return a replacement. */
export type GradHook = (grad: Tensor) => Tensor | void | null | undefined;
/** A node hook: sees gradients w.r.t. the node's inputs and outputs, may replace the input ones. */
export type NodeHook = (gradInputs: MaybeGrad[], gradOutputs: MaybeGrad[]) => MaybeGrad[] | void | null | undefined;
/** A node pre-hook: sees the gradients w.r.t. the outputs before the node runs, may replace them. */
export type NodePreHook = (gradOutputs: MaybeGrad[]) => MaybeGrad[] | void | null | undefined;

/** One tensor a node saved for backward, described without reading it. */
export interface SavedInfo {
  /** `self`, `other`, `input2`, ... for inputs; `result` (or `result1`, ...) for outputs; `saved0`, ... for custom Functions. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: string;
  /** Bytes of the saved view's elements. */
  readonly bytes: number;
  /** Whether a saved-tensor hook packed it. */
  readonly packed: boolean;
}

export interface RemovableHandle {
  remove(): void;
}

export function removable<T>(list: T[], item: T): RemovableHandle {
  list.push(item);
  return {
    remove() {
      const i = list.indexOf(item);
      if (i >= 0) list.splice(i, 1);
    },
  };
}

let nextSeq = 0;

/**
 * What few nodes carry: hooks, the anomaly-mode stack, edges to outputs other than 0. Kept out of
 * the node itself (one field instead of six) because every op of a graph makes a node and the
 * graph survives young-generation collections: each field is 8 bytes copied per node per scavenge.
 */
interface NodeExtras {
  stack: string | null;
  preHooks: NodePreHook[] | null;
  postHooks: NodeHook[] | null;
  tensorHooks: (GradHook[] | undefined)[] | null;
  retainHooks: (((g: Tensor) => void) | undefined)[] | null;
  edgeCache: Edge[] | null;
  edge0: Edge | null;
}

export abstract class Node {
  /** Creation order; the engine runs later nodes first when several are ready. */
  readonly seq = nextSeq++;
  /**
   * `[this, 0]` (made once: edges are immutable and shared; most nodes have one output), or, once
   * a rarely set field was written, the `NodeExtras` holding them and that edge: one field where
   * two were, as every op makes a node and a graph's nodes survive young-generation collections.
   */
  private _x: Edge | NodeExtras | null = null;

  // The backward engine's bookkeeping for the pass that last reached this node (engine.ts): on the
  // node itself rather than in per-pass maps, which cost more than the rest of the loop.
  /** @internal the pass these fields belong to (0: none yet) */
  _pass = 0;
  /** @internal gradients still to arrive before the node can run */
  _deps = 0;
  /** @internal on a path to a requested input */
  _needed = false;
  /** @internal gradients received so far, one slot per forward output */
  _buf: (Tensor | null)[] | null = null;

  constructor(
    /** One edge per forward input: where its gradient goes. */
    public next: Edge[],
    /** Shape/dtype/device of each forward output, to validate and materialize gradients. */
    public readonly outMeta: readonly TensorMeta[],
  ) {}

  /** The rarely set fields, or null when none was written yet. */
  private get _extras(): NodeExtras | null {
    const x = this._x;
    return x === null || Array.isArray(x) ? null : (x as NodeExtras);
  }

  private extras(): NodeExtras {
    const x = this._x;
    if (x !== null && !Array.isArray(x)) return x as NodeExtras;
    const e: NodeExtras = { stack: null, preHooks: null, postHooks: null, tensorHooks: null, retainHooks: null, edgeCache: null, edge0: x as Edge | null };
    this._x = e;
    return e;
  }

  /** Forward stack of the op that made this node, kept when anomaly detection is on. */
  get stack(): string | null {
    return this._extras === null ? null : this._extras.stack;
  }
  set stack(v: string | null) {
    if (v !== null || this._extras !== null) this.extras().stack = v;
  }

  get preHooks(): NodePreHook[] | null {
    return this._extras === null ? null : this._extras.preHooks;
  }
  set preHooks(v: NodePreHook[] | null) {
    if (v !== null || this._extras !== null) this.extras().preHooks = v;
  }

  get postHooks(): NodeHook[] | null {
    return this._extras === null ? null : this._extras.postHooks;
  }
  set postHooks(v: NodeHook[] | null) {
    if (v !== null || this._extras !== null) this.extras().postHooks = v;
  }

  /** Tensor hooks by output number (hooks registered on the tensors this node produced). */
  get tensorHooks(): (GradHook[] | undefined)[] | null {
    return this._extras === null ? null : this._extras.tensorHooks;
  }
  set tensorHooks(v: (GradHook[] | undefined)[] | null) {
    if (v !== null || this._extras !== null) this.extras().tensorHooks = v;
  }

  /** retainGrad() hooks by output number; they run after the tensor hooks. */
  get retainHooks(): (((g: Tensor) => void) | undefined)[] | null {
    return this._extras === null ? null : this._extras.retainHooks;
  }
  set retainHooks(v: (((g: Tensor) => void) | undefined)[] | null) {
    if (v !== null || this._extras !== null) this.extras().retainHooks = v;
  }

  /**
   * The edge that points at output `nr` of this node. Edge 0 is not frozen (the `readonly` tuple
   * type guards it): every op of a graph makes one, and `Object.freeze` costs a map transition each.
   */
  edgeTo(nr: number): Edge {
    if (nr === 0) {
      const x = this._x;
      if (x === null) return (this._x = [this, 0] as Edge);
      if (Array.isArray(x)) return x as Edge;
      return ((x as NodeExtras).edge0 ??= [this, 0] as Edge);
    }
    const cache = (this.extras().edgeCache ??= []);
    return (cache[nr] ??= Object.freeze([this, nr]) as Edge);
  }

  /** PyTorch's class name for the node: `MulBackward0`, `AccumulateGrad`, ... */
  abstract name(): string;

  /** Gradients w.r.t. the forward inputs, one per edge (null where none flows). */
  abstract apply(gradOutputs: MaybeGrad[]): MaybeGrad[];

  /** Frees what was saved for backward (after a backward pass without `retainGraph`). */
  release(): void {}

  /**
   * What this node saved for backward, as metadata only (nothing is unpacked or read): PyTorch's
   * `_saved_self` / `_saved_other` / `_saved_result` names for graph pictures and memory reports.
   */
  savedInfo(): SavedInfo[] {
    return [];
  }

  /** `[node | null, index]` per forward input, as PyTorch's `next_functions`. */
  get nextFunctions(): Edge[] {
    return this.next;
  }

  registerHook(fn: NodeHook): RemovableHandle {
    return removable((this.postHooks ??= []), fn);
  }

  registerPrehook(fn: NodePreHook): RemovableHandle {
    return removable((this.preHooks ??= []), fn);
  }

  addTensorHook(outputNr: number, fn: GradHook): RemovableHandle {
    const hooks = (this.tensorHooks ??= []);
    return removable((hooks[outputNr] ??= []), fn);
  }

  toString(): string {
    return `<${this.name()}>`;
  }
}

/**
 * A value an op saved for its backward, with the version it had then. It pins the tensor, so a
 * user's `dispose()` of it frees the storage only once the graph lets go of it too. Under
 * saved-tensor hooks (`saved-hooks.ts`) it keeps the hook's handle instead, and pins nothing.
 */
/** Aliases made for saved tensors the user disposed before backward (rare: kept off the slot). */
const aliases = new WeakMap<SavedTensor, Tensor>();

export class SavedTensor {
  readonly version: number;
  /** The saved tensor, or what a saved-tensor hook made of it: one field, as graphs hold many slots. */
  private readonly held: Tensor | Packed;

  /** `outputNr`: which output of the node being recorded `tensor` is (-1: an input or other). */
  constructor(tensor: Tensor, op: string, outputNr = -1) {
    if (tensor._inference) {
      throw new NablaError(
        'Inference tensors cannot be saved for backward. To work around you can make a clone to get a normal tensor and use it in autograd.',
        { op },
      );
    }
    this.version = tensor._ref.version;
    const hooks = tensor.rt._savedHooks;
    if (hooks === null) {
      this.held = tensor;
      tensor._pin();
    } else {
      this.held = packSaved(hooks, tensor, op, outputNr);
    }
  }

  /** The saved tensor; null when a saved-tensor hook packed it (see `packed`). */
  get tensor(): Tensor | null {
    return this.held instanceof Tensor ? this.held : null;
  }

  /** @internal What a saved-tensor hook made of it (null: no hooks were in force). */
  get packed(): Packed | null {
    return this.held instanceof Tensor ? null : this.held;
  }

  /** The saved tensor described without unpacking it. */
  info(name: string): SavedInfo {
    const m = this.packed ?? this.tensor!;
    const numel = m.shape.reduce((a, b) => a * b, 1);
    return { name, shape: m.shape, dtype: m.dtype, device: m.device, bytes: numel * bytesPerElement(m.dtype), packed: this.packed !== null };
  }

  /** @internal The graph lets go: unpin, and free the alias made if the user disposed the tensor. */
  release(): void {
    if (this.packed !== null) {
      releasePacked(this.packed);
      return;
    }
    const t = this.tensor!;
    t._unpin();
    // An alias exists only for a tensor disposed before backward (see `live`).
    const alias = t._disposed ? aliases.get(this) : undefined;
    if (alias !== undefined) {
      alias.dispose();
      aliases.delete(this);
    }
  }

  /** @internal */
  live(): Tensor {
    const t = this.tensor!;
    if (!t._disposed) return t;
    let alias = aliases.get(this);
    if (alias === undefined) {
      t._ref.retain();
      // The alias lives as long as this slot, not as long as the backward step that made it.
      const collecting = t.rt._created;
      t.rt._created = null;
      const a = new Tensor(t.rt, t._ref, t.shape, t._strides, t._offset, t.dtype);
      t.rt._created = collecting;
      a._gradFn = t._gradFn;
      a._outputNr = t._outputNr;
      a._requiresGrad = t._requiresGrad;
      a._accNode = t._accNode;
      aliases.set(this, (alias = a));
    }
    return alias;
  }
}

export const FREED_MESSAGE =
  'Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). ' +
  'Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). ' +
  'Specify retainGraph: true if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.';

export function freedError(node: Node): NablaError {
  return new NablaError(FREED_MESSAGE, { op: node.name() });
}

/**
 * Checks a saved tensor is still what was saved (PyTorch's version-counter check) and returns it;
 * a packed one is unpacked by its hook first, then checked against the original's counter.
 */
export function unpackSaved(s: SavedTensor, node: Node): Tensor {
  const p = s.packed;
  if (p !== null) {
    const u = unpackPacked(p, node);
    if (p.counter.version !== s.version) {
      const owner = p.outputNr < 0 ? `output ${-1 - p.outputNr} of ${node.name()}` : p.gradFn ? `output ${p.outputNr} of ${p.gradFn.name()}` : 'a leaf';
      throw versionError(p.dtype, p.shape, owner, p.counter.version, s.version, node);
    }
    return u;
  }
  const t = s.tensor!;
  if (t._ref.version !== s.version) {
    const owner = t._gradFn ? `output ${t._outputNr} of ${t._gradFn.name()}` : 'a leaf';
    throw versionError(t.dtype, t.shape, owner, t._ref.version, s.version, node);
  }
  return s.live();
}

function versionError(dtype: string, shape: readonly number[], owner: string, now: number, saved: number, node: Node): NablaError {
  return new NablaError(
    `one of the variables needed for gradient computation has been modified by an inplace operation: ` +
      `[${dtype} ${fmtShape(shape)}], which is ${owner}, is at version ${now}; expected version ${saved} instead. ` +
      `Hint: the backtrace further above (enable anomaly detection) shows the operation that failed to compute its gradient.`,
    { op: node.name() },
  );
}
