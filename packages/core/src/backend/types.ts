/**
 * The contract between core and a device backend.
 *
 * Core never touches tensor values: a backend owns its storage (typed arrays, GPU buffers, ...)
 * behind opaque `Storage` handles, and core hands kernels `View`s — a storage plus the strided
 * geometry of the elements an op reads or writes. Backends may be asynchronous: core only ever
 * *enqueues* work and reads values back when the user asks (`await t.data()`).
 *
 * What a backend provides:
 * - storage: `allocate`, `release`, `write` (host → device), `read` / `readSync` (device → host);
 * - `compileElementwise`: turns an expression (see `expr/ir.ts`) into a kernel; every elementwise
 *   op of core and of plugins runs through it;
 * - the structured kernels below (`KernelSignatures`), registered by name per dtype through the
 *   plugin context. `softmax`/`logSoftmax` are optional: core composes them stably from
 *   `max`/`sum` and elementwise kernels when a backend has none.
 */
import type { DType, TypedArray } from '../dtype.js';
import type { Expr } from '../expr/ir.js';

/** A block of device memory holding `numel` elements of one dtype. Opaque to core. */
export interface Storage {
  readonly dtype: DType;
  readonly numel: number;
  readonly byteLength: number;
}

/**
 * Strided geometry over a storage. Element `(i0, i1, ...)` lives at
 * `offset + Σ ik * strides[k]` (in elements). Strides may be 0 (broadcast) but are never negative.
 */
export interface View {
  readonly storage: Storage;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

export interface ElementwiseSpec {
  /** Op name, for kernel names and error messages (`'mul'`, `'siluBackward'`). */
  readonly name: string;
  readonly expr: Expr;
  readonly inputDtypes: readonly DType[];
  readonly outDtype: DType;
  /**
   * The type the expression computes in: the promoted type of its operands (JS-number parameters
   * included). An int32 input compared with 2.5 computes in float; float32 and float64 compute in
   * the device's float. Only when it is int32/bool may a backend use integer arithmetic.
   */
  readonly computeDtype: DType;
  readonly numParams: number;
  /** Unique for (expr, dtypes): equal keys compile to interchangeable kernels. */
  readonly key: string;
}

/**
 * Runs an elementwise expression. Every input has already been broadcast to `out.shape`
 * (stride 0 on broadcast dims). `out` may be a strided view (in-place ops on views); an input may
 * be the very same view as `out` (in-place), but never partially overlap it — core copies first.
 * `inputs` is lent for the call: a kernel reads it while it runs and keeps no reference to the
 * array afterwards (core refills the same array for its next call); the views in it it may keep.
 */
export type ElementwiseKernel = (out: View, inputs: readonly View[], params: readonly number[]) => void;

/** An `ElementwiseSpec` with a second output: `expr2` over the same inputs, params and dtypes. */
export interface ElementwisePairSpec extends ElementwiseSpec {
  readonly expr2: Expr;
}

/**
 * Writes `spec.expr` into `out` and `spec.expr2` into `out2` (both contiguous, of one shape and
 * dtype, never overlapping an input) in one pass. Returns false, having written nothing the
 * caller may read, to decline (a geometry it would not run as fast as the one-output kernel
 * would); the caller then takes its one-output path.
 */
export type ElementwisePairKernel = (out: View, out2: View, inputs: readonly View[], params: readonly number[]) => boolean;

/**
 * The structured kernels a backend registers, by name. `addmm`, `softmax` and `logSoftmax` are
 * optional (core composes them from the others), so a backend's full table can be typed as
 * `KernelSignatures` as it is; `registerKernels` registers such a table in one call.
 */
export interface KernelSignatures {
  /**
   * Reductions over `axes` (sorted, unique, non-empty). `out.shape` is `x.shape` with every reduced
   * axis set to 1. `sum`/`prod` of int32/bool give int32; `argmax`/`argmin` write int32 indices
   * along a single axis (first occurrence wins); `max`/`min` propagate NaN.
   */
  sum: (out: View, x: View, axes: readonly number[]) => void;
  prod: (out: View, x: View, axes: readonly number[]) => void;
  max: (out: View, x: View, axes: readonly number[]) => void;
  min: (out: View, x: View, axes: readonly number[]) => void;
  argmax: (out: View, x: View, axes: readonly number[]) => void;
  argmin: (out: View, x: View, axes: readonly number[]) => void;
  /** Batched matrix product: a [B, M, K] × b [B, K, N] → out [B, M, N]; any strides (0 on B for broadcast). */
  bmm: (out: View, a: View, b: View) => void;
  /**
   * out [M, N] = beta · bias + alpha · (a [M, K] · b [K, N]), the bias (broadcast to out's shape,
   * stride 0) added in the product's epilogue. With beta = 0 the bias is not read. Core composes
   * addmm from `bmm` on a backend that does not register it.
   */
  addmm?: (out: View, bias: View, a: View, b: View, beta: number, alpha: number) => void;
  /** out[..., i, ...] = x[..., index[..., i, ...], ...] along `dim`; `index` (int32) has out's shape. */
  gather: (out: View, x: View, dim: number, index: View) => void;
  /** out[..., index[..., i, ...], ...] += src[..., i, ...] along `dim`; `index` has src's shape. */
  scatterAdd: (out: View, dim: number, index: View, src: View) => void;
  /** out[..., index[..., i, ...], ...] = src[..., i, ...] along `dim`; of duplicates the last in index order wins. */
  scatter: (out: View, dim: number, index: View, src: View) => void;
  /**
   * Numerically stable softmax / log-softmax along `dim`; out and x have the same shape. Optional:
   * core composes them from `max`, `sum` and elementwise kernels on a backend without them.
   */
  softmax?: (out: View, x: View, dim: number) => void;
  logSoftmax?: (out: View, x: View, dim: number) => void;
  /**
   * Sorts each row of `x` along `dim` into `values` (x's dtype) and `indices` (int32 positions in
   * the row), both of x's shape. The sort is stable — equal values keep their order, ascending and
   * descending alike — and NaN sorts as the largest value (last ascending, first descending), as
   * PyTorch's.
   */
  sort: (values: View, indices: View, x: View, dim: number, descending: boolean) => void;
  /**
   * Inclusive cumulative sum / product along `dim`, from the row's end when `reverse`
   * (`out[i] = Σ_{j>=i} x[j]`). out and x have the same shape; int32/bool inputs give int32.
   */
  cumsum: (out: View, x: View, dim: number, reverse: boolean) => void;
  cumprod: (out: View, x: View, dim: number, reverse: boolean) => void;
}

export type KernelName = keyof KernelSignatures;

/**
 * The function registered for kernel `K`: its signature with the optionality taken off (a
 * registration always carries a kernel; leaving an optional one out means not registering it).
 *
 * @example
 * const sum: StructuredKernel<'sum'> = (out, x, axes) => { ... };
 */
export type StructuredKernel<K extends KernelName> = NonNullable<KernelSignatures[K]>;

export interface Backend {
  /** The device name tensors carry (`'cpu'`, `'webgpu'`). */
  readonly device: string;
  /** dtypes this device can hold. Asking for another is an error naming the device. */
  readonly dtypes: readonly DType[];
  /** Whether `readSync` works (the CPU: yes; WebGPU: no, reads need `await`). */
  readonly readsSync: boolean;
  /**
   * Storage is ordinary JS memory the garbage collector reclaims (the CPU). Core then lets a
   * storage whose tensors were all collected go with them (its finalizers hold only the count, not
   * the storage), and batches the finalizers of small storages (under `SMALL_STORAGE_BYTES`): one
   * costs ~0.3 µs, a tenth of a scalar op. Device memory (GPU buffers) is always given back through
   * `release`.
   */
  readonly gcManaged?: boolean;
  /** A human description of what runs the kernels (shown in test output). */
  describe(): string;

  /** A new storage; its contents are unspecified. */
  allocate(dtype: DType, numel: number): Storage;
  /** Gives a storage back (to a pool or the device). Core calls it exactly once per storage. */
  release(storage: Storage): void;
  /** Copies host data into `storage` starting at element `offset`. `data`'s type matches the dtype. */
  write(storage: Storage, data: TypedArray, offset?: number): void;
  /** The view's elements in row-major order, as a fresh array the caller owns. */
  readSync?(view: View): TypedArray;
  /**
   * The view's elements, asynchronously. The contents are those the view has once the work
   * recorded before the call has run; core keeps the storage alive until the promise settles.
   */
  read(view: View): Promise<TypedArray>;

  compileElementwise(spec: ElementwiseSpec): ElementwiseKernel;
  /**
   * Optional: two expressions over the same inputs in one pass (an activation's f(x) and f'(x),
   * `ops/elementwise/derivative-cache.ts`); null when the backend has no such form for `spec`.
   * Core detects it; a backend without it keeps the one-output path.
   */
  compileElementwisePair?(spec: ElementwisePairSpec): ElementwisePairKernel | null;

  /** Resolves when all queued work is done. */
  synchronize(): Promise<void>;
  /** Bytes the backend holds in pools beyond live storages, for `memory()`. */
  pooledBytes?(): number;
  dispose?(): void | Promise<void>;
}
