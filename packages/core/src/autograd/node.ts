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
 * A node's edges when one of them points at an output other than 0 or it has more than two:
 * `[node0, nr0, node1, nr1, ...]`, one flat array (see `Node._e`).
 */
export type EdgeList = (Node | null | number)[];

function flatEdges(n: number): EdgeList {
  const a: EdgeList = new Array(2 * n);
  for (let i = 0; i < n; i++) {
    a[2 * i] = null;
    a[2 * i + 1] = 0;
  }
  return a;
}

/**
 * What few nodes carry: hooks, the anomaly-mode stack. Kept out of the node itself (one field
 * instead of five) because every op of a graph makes a node and the graph survives young-generation
 * collections: each field is 8 bytes copied per node per scavenge.
 */
interface NodeExtras {
  /** The node's creation order (`Node.seq`), moved here from `_x` when the extras were made. */
  readonly seq: number;
  stack: string | null;
  preHooks: NodePreHook[] | null;
  postHooks: NodeHook[] | null;
  tensorHooks: (GradHook[] | undefined)[] | null;
  retainHooks: (((g: Tensor) => void) | undefined)[] | null;
}

export abstract class Node {
  /**
   * The creation order (`seq`) while no rarely set field was written, then the `NodeExtras` that
   * hold it and them: one field for both, since every op makes a node and a graph's nodes survive
   * young-generation collections (8 bytes copied per field per node per scavenge).
   */
  private _x: number | NodeExtras = nextSeq++;

  // The backward engine's bookkeeping for the pass that last reached this node (engine.ts): on the
  // node itself rather than in per-pass maps, which cost more than the rest of the loop.
  /**
   * @internal The pass these fields belong to (0: none yet): its id while the node is on a path to
   * a requested input (every node of a plain backward), minus its id while not.
   */
  _pass = 0;
  /** @internal gradients still to arrive before the node can run */
  _deps = 0;
  /** @internal gradients received so far: one slot per forward output, or a one-output node's gradient bare */
  _buf: (Tensor | null)[] | Tensor | null = null;

  // The edges, one per forward input: where its gradient goes (PyTorch's next_functions). Kept
  // without an array per edge or per node in the common case, since every op makes a node and a
  // graph's nodes survive young-generation collections (and the engine walks them twice):
  /**
   * @internal The number of edges (0, 1 or 2) when `_c0`/`_c1` hold them and each points at
   * output 0 of its node; otherwise an `EdgeList` (`_c0`/`_c1` then stay null).
   */
  _e: number | EdgeList = 0;
  /** @internal edge 0's node (null: no gradient flows to input 0), in the count form of `_e` */
  _c0: Node | null = null;
  /** @internal edge 1's node, in the count form of `_e` */
  _c1: Node | null = null;

  constructor(
    /** One edge per forward input (where its gradient goes), or how many edges `_setEdge` will fill in. */
    next: readonly Edge[] | number,
    /** Shape/dtype/device of each forward output, to validate and materialize gradients. */
    public readonly outMeta: readonly TensorMeta[],
  ) {
    if (typeof next === 'number') {
      if (next > 2) this._e = flatEdges(next);
      else this._e = next;
    } else {
      this._e = next.length > 2 ? flatEdges(next.length) : next.length;
      for (let i = 0; i < next.length; i++) this._setEdge(i, next[i]![0], next[i]![1]);
    }
  }

  /** @internal Points edge `i` at output `nr` of `node` (while the node is being recorded). */
  _setEdge(i: number, node: Node | null, nr: number): void {
    let e = this._e;
    if (typeof e === 'number') {
      if (nr === 0 || node === null) {
        if (i === 0) this._c0 = node;
        else this._c1 = node;
        return;
      }
      const flat = flatEdges(e);
      if (e > 0) flat[0] = this._c0;
      if (e > 1) flat[2] = this._c1;
      this._c0 = this._c1 = null;
      this._e = e = flat;
    }
    e[2 * i] = node;
    e[2 * i + 1] = node === null ? 0 : nr;
  }

  /** @internal How many edges (forward inputs) the node has. */
  _numEdges(): number {
    const e = this._e;
    return typeof e === 'number' ? e : e.length >> 1;
  }

  /** @internal The node edge `i` points at (null: no gradient flows there). */
  _childAt(i: number): Node | null {
    const e = this._e;
    if (typeof e !== 'number') return e[2 * i] as Node | null;
    return i === 0 ? this._c0 : this._c1;
  }

  /** @internal Which output of `_childAt(i)` edge `i` points at. */
  _nrAt(i: number): number {
    const e = this._e;
    return typeof e === 'number' ? 0 : (e[2 * i + 1] as number);
  }

  /**
   * One `[node | null, outputNumber]` per forward input: where its gradient goes. Built on each
   * read (the node keeps its edges flat), so read it once per walk.
   */
  get next(): Edge[] {
    const n = this._numEdges();
    const out = new Array<Edge>(n);
    for (let i = 0; i < n; i++) out[i] = [this._childAt(i), this._nrAt(i)];
    return out;
  }

  /** Creation order; the engine runs later nodes first when several are ready. */
  get seq(): number {
    const x = this._x;
    return typeof x === 'number' ? x : x.seq;
  }

  private extras(): NodeExtras {
    const x = this._x;
    if (typeof x !== 'number') return x;
    return (this._x = { seq: x, stack: null, preHooks: null, postHooks: null, tensorHooks: null, retainHooks: null });
  }

  /** Forward stack of the op that made this node, kept when anomaly detection is on. */
  get stack(): string | null {
    const x = this._x;
    return typeof x === 'number' ? null : x.stack;
  }
  set stack(v: string | null) {
    if (v !== null || typeof this._x !== 'number') this.extras().stack = v;
  }

  get preHooks(): NodePreHook[] | null {
    const x = this._x;
    return typeof x === 'number' ? null : x.preHooks;
  }
  set preHooks(v: NodePreHook[] | null) {
    if (v !== null || typeof this._x !== 'number') this.extras().preHooks = v;
  }

  get postHooks(): NodeHook[] | null {
    const x = this._x;
    return typeof x === 'number' ? null : x.postHooks;
  }
  set postHooks(v: NodeHook[] | null) {
    if (v !== null || typeof this._x !== 'number') this.extras().postHooks = v;
  }

  /** Tensor hooks by output number (hooks registered on the tensors this node produced). */
  get tensorHooks(): (GradHook[] | undefined)[] | null {
    const x = this._x;
    return typeof x === 'number' ? null : x.tensorHooks;
  }
  set tensorHooks(v: (GradHook[] | undefined)[] | null) {
    if (v !== null || typeof this._x !== 'number') this.extras().tensorHooks = v;
  }

  /** retainGrad() hooks by output number; they run after the tensor hooks. */
  get retainHooks(): (((g: Tensor) => void) | undefined)[] | null {
    const x = this._x;
    return typeof x === 'number' ? null : x.retainHooks;
  }
  set retainHooks(v: (((g: Tensor) => void) | undefined)[] | null) {
    if (v !== null || typeof this._x !== 'number') this.extras().retainHooks = v;
  }

  /** @internal Whether any hook or the anomaly stack was set (one load for the engine's common case). */
  get _hasExtras(): boolean {
    return typeof this._x !== 'number';
  }

  /** The edge that points at output `nr` of this node (a new array each time: only roots and captures ask). */
  edgeTo(nr: number): Edge {
    return [this, nr];
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

  /** `[node | null, index]` per forward input, as PyTorch's `next_functions` (built on each read). */
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

  /**
   * `outputNr`: which output of the node being recorded `tensor` is (-1: an input or other).
   * `adopt`: `tensor` was saved bare at version 0 (see `saveTensor`) and is pinned already.
   */
  constructor(tensor: Tensor, op: string, outputNr = -1, adopt = false) {
    if (adopt) {
      this.version = 0;
      this.held = tensor;
      return;
    }
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

/**
 * What an op's node keeps of a tensor it saved: the tensor itself (pinned) when that says all
 * (version 0, no saved-tensor hooks: most saved tensors were never written in place), else a
 * `SavedTensor` with the version it had. A graph saves about one tensor per op, and a bare one
 * spares a 40-byte object that lives as long as the graph.
 */
export type Saved = Tensor | SavedTensor;

/** @internal Saves `t` for backward as `Saved` (`outputNr` as in `SavedTensor`). */
export function saveTensor(t: Tensor, op: string, outputNr = -1): Saved {
  if (t._ref.version === 0 && t.rt._savedHooks === null && !t._inference) {
    t._pin();
    return t;
  }
  return new SavedTensor(t, op, outputNr);
}

/**
 * @internal The `SavedTensor` a bare saved tensor stands for, when it needs one: it was written in
 * place since (the version check must fail with the usual message) or disposed (an alias is made).
 */
export function adoptSaved(s: Saved): SavedTensor | null {
  if (s instanceof SavedTensor) return s;
  if (s._ref.version === 0 && !s._disposed) return null;
  return new SavedTensor(s, '', -1, true);
}

/** @internal Describes a `Saved` without unpacking it. */
export function savedInfo(s: Saved, name: string): SavedInfo {
  if (s instanceof SavedTensor) return s.info(name);
  const numel = s.shape.reduce((a, b) => a * b, 1);
  return { name, shape: s.shape, dtype: s.dtype, device: s.device, bytes: numel * bytesPerElement(s.dtype), packed: false };
}

/** @internal The graph lets go of a `Saved`. */
export function releaseSaved(s: Saved): void {
  if (s instanceof SavedTensor) s.release();
  else s._unpin();
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
