/**
 * The Tensor: strided geometry over a storage that a backend owns, plus autograd metadata.
 *
 * This file holds only what every tensor *is*: its geometry, its data access, its autograd
 * fields and its lifetime. Ops (`add`, `sum`, `view`, ...) and autograd methods (`backward`, hooks)
 * are installed on the prototype by `ops/methods.ts` and `autograd/tensor-methods.ts`, which keeps
 * this file free of import cycles.
 */
import type { Storage, View } from '../backend/types.js';
import { allocTypedArray, isFloating, type DType, type TypedArray } from '../dtype.js';
import { hostValues } from '../dtype/host.js';
import { isHalfDType } from '../dtype/half.js';
import { formatFloatBody, withSuffixes } from './format-float.js';
import { NablaError, fmtShape } from '../errors.js';
import type { GcKey, StorageRef } from '../runtime/memory.js';
import type { Runtime } from '../runtime/runtime.js';
import { isContiguous, numelOf } from '../shape.js';
import type { Node } from '../autograd/node.js';

let nextTensorId = 1;

/** Nested arrays as `tolist()` returns them. */
export type NestedArray<T> = T | NestedArray<T>[];

/**
 * The fields most tensors never set (views, leaves' gradients and accumulators, `keep()`,
 * `retainGrad()`), made on first write. Every op makes a tensor, and a graph's tensors survive
 * young-generation collections: each field a Tensor carries is 8 bytes copied per tensor per
 * scavenge, so the object holds only what every op reads.
 */
interface TensorRare {
  grad: Tensor | null;
  retainsGrad: boolean;
  base: Tensor | null;
  viewFn: ((base: Tensor) => Tensor) | null;
  viewVersion: number;
  viewTracksGrad: boolean;
  accNode: Node | null;
  kept: boolean;
}

/** Bits of `Tensor._flags`. */
const REQUIRES_GRAD = 1;
const INFERENCE = 2;
const DISPOSED = 4;
/** `_slot` lives in these five bits of `_flags` (a batch of small storages has `SMALL_BATCH` = 32 slots). */
const SLOT_SHIFT = 3;
const SLOT_MASK = 31 << SLOT_SHIFT;
/** The flags and the slot: what setting `_outputNr` keeps. */
const LOW_MASK = 255;
/** `_outputNr` lives in `_flags` from this bit on (node output counts stay far below 2^22, so `_flags` stays a Smi). */
const OUTPUT_NR_SHIFT = 8;

/**
 * A tensor is also the `View` its kernels see (`storage`, `dtype`, `shape`, `strides`, `offset`):
 * its geometry never changes, so a separate view object per tensor (64 bytes, one more object per
 * op for the garbage collector to copy) would only repeat its fields.
 */
export class Tensor implements View {
  /** Unique per process, for events and debugging. */
  readonly id: number;
  readonly shape: readonly number[];
  readonly dtype: DType;

  /** @internal */ _ref: StorageRef;
  /** @internal `_ref.storage`, here for kernels (the View's field) */
  readonly storage: Storage;
  /** @internal what the finalizer watches in this tensor's place (runtime/memory.ts) */
  _gcKey: GcKey | null = null;
  /** @internal element strides (the View's field; `stride()` is the public copy) */
  readonly strides: readonly number[];
  /** @internal element offset into the storage (the View's field; PyTorch's `storage_offset()`) */
  readonly offset: number;
  /** @internal */ _gradFn: Node | null = null;
  /** @internal how many saved-for-backward slots hold this tensor; dispose waits for them */
  _pins = 0;
  /** @internal REQUIRES_GRAD | INFERENCE | DISPOSED, `_slot` and `_outputNr` above them (one field for five) */
  private _flags = 0;
  /** @internal see `TensorRare` */
  private _rare: TensorRare | null = null;
  /** @internal the backward pass that made this gradient and may free it (autograd/reclaim.ts) */ _claim: { readonly owner: object } | null = null;

  /** @internal Use the factories (`nabla.tensor`, `nabla.zeros`, ...) to make tensors. */
  constructor(rt: Runtime, ref: StorageRef, shape: readonly number[], strides: readonly number[], offset: number, dtype: DType) {
    this.id = nextTensorId++;
    this._ref = ref;
    this.storage = ref.storage;
    this.shape = shape;
    this.strides = strides;
    this.offset = offset;
    this.dtype = dtype;
    rt.memoryTracker.track(this, ref);
    if (rt.gradMode.inference) this._flags |= INFERENCE; // after track(), which set the slot
    if (rt._created !== null) rt._created.push(this);
    if (rt.events.watching['tensor:create']) {
      rt.events.emit('tensor:create', { id: this.id, shape, dtype, device: this.device, bytes: ref.storage.byteLength });
    }
  }

  /**
   * The runtime whose backend holds this tensor's storage. Read through the storage reference
   * (whose tracker is the runtime's) rather than kept in a field: every op makes a tensor, and a
   * graph's tensors survive young-generation collections (8 bytes copied per field per scavenge).
   */
  get rt(): Runtime {
    return this._ref.tracker._rt!;
  }

  /** The device holding the storage (`'cpu'`, `'webgpu'`, ...). */
  get device(): string {
    return this._ref.backend.device;
  }

  // ---- internal fields kept as bits of `_flags` or in `_rare` (see `TensorRare`)

  private rare(): TensorRare {
    return (this._rare ??= { grad: null, retainsGrad: false, base: null, viewFn: null, viewVersion: 0, viewTracksGrad: false, accNode: null, kept: false });
  }

  /** @internal which output of `_gradFn` this tensor is */
  get _outputNr(): number {
    return this._flags >>> OUTPUT_NR_SHIFT;
  }
  set _outputNr(v: number) {
    this._flags = (this._flags & LOW_MASK) | (v << OUTPUT_NR_SHIFT);
  }

  /** @internal its slot in its claim (`_gcKey.h`) when that is a batch of small storages */
  get _slot(): number {
    return (this._flags & SLOT_MASK) >>> SLOT_SHIFT;
  }
  set _slot(v: number) {
    this._flags = (this._flags & ~SLOT_MASK) | (v << SLOT_SHIFT);
  }

  /** @internal requires_grad of a leaf. Non-leaves require grad through their gradFn. */
  get _requiresGrad(): boolean {
    return (this._flags & REQUIRES_GRAD) !== 0;
  }
  set _requiresGrad(v: boolean) {
    this._flags = v ? this._flags | REQUIRES_GRAD : this._flags & ~REQUIRES_GRAD;
  }
  /** @internal made under inferenceMode: never enters autograd */
  get _inference(): boolean {
    return (this._flags & INFERENCE) !== 0;
  }
  set _inference(v: boolean) {
    this._flags = v ? this._flags | INFERENCE : this._flags & ~INFERENCE;
  }
  /** @internal */
  get _disposed(): boolean {
    return (this._flags & DISPOSED) !== 0;
  }
  set _disposed(v: boolean) {
    this._flags = v ? this._flags | DISPOSED : this._flags & ~DISPOSED;
  }
  /** @internal */
  get _grad(): Tensor | null {
    return this._rare === null ? null : this._rare.grad;
  }
  set _grad(v: Tensor | null) {
    if (v !== null || this._rare !== null) this.rare().grad = v;
  }
  /** @internal */
  get _retainsGrad(): boolean {
    return this._rare !== null && this._rare.retainsGrad;
  }
  set _retainsGrad(v: boolean) {
    if (v || this._rare !== null) this.rare().retainsGrad = v;
  }
  /** @internal the root tensor this one is a view of (null: not a view) */
  get _base(): Tensor | null {
    return this._rare === null ? null : this._rare.base;
  }
  set _base(v: Tensor | null) {
    if (v !== null || this._rare !== null) this.rare().base = v;
  }
  /** @internal rebuilds this view from its base with differentiable view ops */
  get _viewFn(): ((base: Tensor) => Tensor) | null {
    return this._rare === null ? null : this._rare.viewFn;
  }
  set _viewFn(v: ((base: Tensor) => Tensor) | null) {
    if (v !== null || this._rare !== null) this.rare().viewFn = v;
  }
  /** @internal storage version when the view's gradFn was last (re)built */
  get _viewVersion(): number {
    return this._rare === null ? 0 : this._rare.viewVersion;
  }
  set _viewVersion(v: number) {
    if (v !== 0 || this._rare !== null) this.rare().viewVersion = v;
  }
  /** @internal the view was made with grad mode on, so it follows its base's history */
  get _viewTracksGrad(): boolean {
    return this._rare !== null && this._rare.viewTracksGrad;
  }
  set _viewTracksGrad(v: boolean) {
    if (v || this._rare !== null) this.rare().viewTracksGrad = v;
  }
  /** @internal the leaf's AccumulateGrad node, created once so hooks registered on it stick */
  get _accNode(): Node | null {
    return this._rare === null ? null : this._rare.accNode;
  }
  set _accNode(v: Node | null) {
    if (v !== null || this._rare !== null) this.rare().accNode = v;
  }
  /** @internal marked by `keep()`: no `tidy` disposes it */
  get _kept(): boolean {
    return this._rare !== null && this._rare.kept;
  }
  set _kept(v: boolean) {
    if (v || this._rare !== null) this.rare().kept = v;
  }

  // ---- geometry

  get ndim(): number {
    return this.shape.length;
  }

  numel(): number {
    return numelOf(this.shape);
  }

  /** Element strides (PyTorch's `stride()`). */
  stride(): number[] {
    return this.strides.slice();
  }

  isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  /** @internal `strides` (the name most of core reads) */
  get _strides(): readonly number[] {
    return this.strides;
  }

  /** @internal `offset` (the name most of core reads) */
  get _offset(): number {
    return this.offset;
  }

  /** @internal The view a kernel sees: the tensor itself (see the class comment). */
  _view(): View {
    return this;
  }

  // ---- autograd fields

  get requiresGrad(): boolean {
    return this._requiresGrad || this._gradFn !== null;
  }

  set requiresGrad(flag: boolean) {
    this._setRequiresGrad(flag, 'requiresGrad');
  }

  /** @internal */
  _setRequiresGrad(flag: boolean, op: string): void {
    if (this._gradFn !== null) {
      if (flag) return;
      throw new NablaError(
        "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph " +
          "that doesn't require differentiation use var_no_grad = var.detach().",
        { op },
      );
    }
    if (flag && !isFloating(this.dtype)) {
      throw new NablaError(`only Tensors of floating point dtype can require gradients (got ${this.dtype})`, { op });
    }
    if (flag && this._inference) {
      throw new NablaError('Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.', { op });
    }
    this._requiresGrad = flag;
  }

  get gradFn(): Node | null {
    if (this._base !== null) Tensor._refreshView?.(this);
    return this._gradFn;
  }

  get isLeaf(): boolean {
    return this._gradFn === null;
  }

  get retainsGrad(): boolean {
    return this._retainsGrad;
  }

  /** The accumulated gradient (leaves, or non-leaves after `retainGrad()`); assignable. */
  get grad(): Tensor | null {
    return this._grad;
  }

  set grad(g: Tensor | null | undefined) {
    if (g === null || g === undefined) {
      this._grad = null;
      return;
    }
    if (!(g instanceof Tensor)) throw new NablaError('assigned grad must be a Tensor or null', { op: 'grad' });
    if (g.device !== this.device) {
      throw new NablaError(`assigned grad has data located on ${g.device} different from the tensor's device ${this.device}`, { op: 'grad' });
    }
    if (g.dtype !== this.dtype) {
      throw new NablaError(`assigned grad has data of a different type (${g.dtype}) than the tensor (${this.dtype})`, { op: 'grad' });
    }
    if (g.shape.length !== this.shape.length || g.shape.some((d, i) => d !== this.shape[i])) {
      throw new NablaError(`assigned grad has shape ${fmtShape(g.shape)} but the tensor has shape ${fmtShape(this.shape)}`, { op: 'grad' });
    }
    this._grad = g;
  }

  /**
   * @internal Installed by the view module: rebuilds a view's gradFn after its base was modified
   * in place (PyTorch regenerates a view's grad_fn lazily the same way).
   */
  static _refreshView: ((t: Tensor) => void) | null = null;

  // ---- data

  /** @internal Throws if this tensor was disposed. */
  _alive(op: string): this {
    if (this._disposed) {
      throw new NablaError(`tensor #${this.id} (${this.dtype} ${fmtShape(this.shape)} on ${this.device}) was disposed and cannot be used`, { op });
    }
    return this;
  }

  /** The elements in row-major order, synchronously (CPU-like backends only). */
  dataSync(): TypedArray {
    return this._readSync('dataSync');
  }

  /** @internal A synchronous read on behalf of `op`, whose error names the async method to use. */
  _readSync(op: 'dataSync' | 'item' | 'tolist'): TypedArray {
    this._alive(op);
    this._settled(op);
    const b = this._ref.backend;
    if (!b.readsSync || !b.readSync) {
      const use = op === 'item' ? 'await tensor.itemAsync()' : op === 'tolist' ? 'await tensor.tolistAsync()' : 'await tensor.data()';
      throw new NablaError(`tensor on device '${this.device}' cannot be read synchronously; use ${use} instead`, { op });
    }
    return hostValues(this.dtype, b.readSync(this._view()));
  }

  /** The elements in row-major order. */
  async data(): Promise<TypedArray> {
    this._alive('data');
    // The storage stays alive while it is read, even if the tensor is disposed meanwhile.
    const ref = this._ref;
    ref.retain();
    try {
      if (ref.pending) await ref.pending;
      return hostValues(this.dtype, await ref.backend.read(this._view()));
    } catch (e) {
      if (e instanceof NablaError) throw e;
      throw new NablaError(`reading tensor #${this.id} (${this.dtype} ${fmtShape(this.shape)}) from device ${this.device} failed: ${(e as Error).message}`, {
        op: 'data',
        cause: e,
      });
    } finally {
      ref.release();
    }
  }

  /** @internal Throws if this tensor's values are still being copied from another device. */
  _settled(op: string): this {
    if (this._ref.pending !== null) {
      throw new NablaError(
        `tensor #${this.id} (${this.dtype} ${fmtShape(this.shape)} on ${this.device}) is still being copied from an asynchronous device; ` +
          `await tensor.data() or await nabla.synchronize() before using it in ${op}`,
        { op },
      );
    }
    return this;
  }

  /** The value of a one-element tensor. */
  item(): number {
    this._checkItem('item');
    return this._readSync('item')[0]!;
  }

  async itemAsync(): Promise<number> {
    this._checkItem('itemAsync');
    return (await this.data())[0]!;
  }

  private _checkItem(op: string): void {
    if (this.numel() !== 1) {
      throw new NablaError(`a Tensor with ${this.numel()} elements cannot be converted to Scalar (shape ${fmtShape(this.shape)})`, { op });
    }
  }

  /** Nested JS arrays (booleans for bool tensors), synchronously. */
  tolist(): NestedArray<number | boolean> {
    return nest(this._readSync('tolist'), this.shape, this.dtype === 'bool');
  }

  async tolistAsync(): Promise<NestedArray<number | boolean>> {
    return nest(await this.data(), this.shape, this.dtype === 'bool');
  }

  // ---- lifetime

  /**
   * Releases this tensor's claim on its storage now (views and saved-for-backward copies keep the
   * storage alive until they are gone too). Using a disposed tensor is an error. Idempotent.
   */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    const tracker = this.rt.memoryTracker;
    tracker.uncount(this);
    if (this._pins === 0) tracker.releaseHolder(this, this._ref);
    if (this.rt.events.watching['tensor:dispose']) this.rt.events.emit('tensor:dispose', { id: this.id });
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** @internal A saved-for-backward slot took / gave back this tensor. */
  _pin(): void {
    this._pins++;
  }

  _unpin(): void {
    if (--this._pins === 0 && this._disposed) {
      this.rt.memoryTracker.releaseHolder(this, this._ref);
    }
  }

  toString(): string {
    const head = `tensor(${fmtShape(this.shape)}, dtype=${this.dtype}, device=${this.device}`;
    const grad = this._gradFn ? `, gradFn=<${this._gradFn.name()}>` : this._requiresGrad ? ', requiresGrad=true' : '';
    if (this._disposed) return `${head}${grad}, disposed)`;
    if (this._ref.pending !== null) return `${head}${grad}, arriving from another device)`;
    if (!this._ref.backend.readsSync || this.numel() > 100) return `${head}${grad})`;
    if (isHalfDType(this.dtype)) return halfRepr(this);
    return `tensor(${JSON.stringify(this.tolist())}, dtype=${this.dtype}${this.device !== 'cpu' ? `, device=${this.device}` : ''}${grad})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** PyTorch's repr of a float16/bfloat16 tensor (its number layout; Nabla's suffix names). */
function halfRepr(t: Tensor): string {
  const suffixes: string[] = [];
  if (t.device !== 'cpu') suffixes.push(`device=${t.device}`);
  suffixes.push(`dtype=${t.dtype}`);
  const fn = t.gradFn;
  if (fn) suffixes.push(`gradFn=<${fn.name()}>`);
  else if (t.requiresGrad) suffixes.push('requiresGrad=true');
  return withSuffixes(`tensor(${formatFloatBody(t.dataSync(), t.shape)}`, suffixes);
}

function nest(flat: TypedArray, shape: readonly number[], bool: boolean): NestedArray<number | boolean> {
  const conv = (v: number): number | boolean => (bool ? v !== 0 : v);
  if (shape.length === 0) return conv(flat[0]!);
  let k = 0;
  const build = (d: number): NestedArray<number | boolean>[] => {
    const out = new Array<NestedArray<number | boolean>>(shape[d]!);
    for (let i = 0; i < shape[d]!; i++) out[i] = d === shape.length - 1 ? conv(flat[k++]!) : build(d + 1);
    return out;
  };
  return build(0);
}

/** @internal An empty typed array of the right type (used for zero-element reads). */
export function emptyData(dtype: DType): TypedArray {
  return allocTypedArray(dtype, 0);
}
