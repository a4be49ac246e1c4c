/**
 * The CPU backend: typed arrays in a size-class pool, elementwise kernels compiled to JavaScript,
 * and hand-written structured kernels. Everything runs synchronously on the calling thread.
 */
import type {
  Backend,
  DType,
  ElementwiseKernel,
  ElementwisePairKernel,
  ElementwisePairSpec,
  ElementwiseSpec,
  KernelName,
  KernelSignatures,
  Storage,
  TypedArray,
  View,
} from '@nabla/core';
import { ElementwiseCompiler } from './compile-elementwise.js';
import { CPU_DTYPES, isCpuDType, matchesDType, newTypedArray } from './dtypes.js';
import { HalfBridge, specHasHalf } from './half-storage.js';
import { halfKernelTable } from './half-kernels.js';
import { gather, scatter, scatterAdd } from './kernels/gather.js';
import { addmm, bmm } from './kernels/matmul.js';
import { argReduce, reduce } from './kernels/reduce.js';
import { scanAlong } from './kernels/scan.js';
import { softmaxAlong } from './kernels/softmax.js';
import { sortAlong } from './kernels/sort.js';
import { allocateInHeap, HEAP_MIN_BYTES, releaseFromHeap } from './heap-storage.js';
import { BufferPool, CpuStorage, dataOf, elementBytes, Scratch, type PoolOptions } from './storage.js';
import { checkBounds, collapse, forEachRow, isContiguous, numelOf } from './strided.js';
import { wasmElementwise } from './wasm/elementwise.js';
import { compileElementwisePair } from './compile-elementwise-pair.js';
import { wasmElementwisePair } from './wasm/elementwise-pair.js';
import { bmmWasm, GEMM_MIN_FLOPS } from './wasm/gemm.js';
import { hasRelaxedMadd } from './wasm/gemm-kernel.js';
import { hasWasmSimd } from './wasm/heap.js';
import { RowFolds } from './wasm/reduce.js';
import { SoftmaxRows } from './wasm/softmax.js';
import { WasmRuntime } from './wasm/runtime.js';
import { autoThreads } from './wasm/worker-host.js';

export interface CpuBackendOptions extends PoolOptions {
  /**
   * Run the hot kernels (matmul, elementwise expressions) as WebAssembly SIMD (default: true where
   * the engine supports it). `false`, or the environment variable `NABLA_CPU_WASM=0`, keeps every
   * kernel in JavaScript.
   */
  readonly wasm?: boolean;
  /**
   * Let the matrix-product micro-kernel multiply-add with relaxed SIMD's `relaxed_madd` where the
   * engine has it (default: true; Chrome 114+, Node 22+, Node 20 with
   * `--experimental-wasm-relaxed-simd`): one fused multiply-add on CPUs with FMA, ~20% more
   * GFLOP/s and one rounding per step instead of two. Relaxed SIMD lets an engine fuse or not, so
   * float32 products may differ in the last bits between machines (never between thread counts
   * on one machine); `false`, or `NABLA_CPU_FMA=0`, keeps a separate multiply and add everywhere.
   *
   * @example
   * ```ts
   * const rt = await createRuntime({ plugins: [cpuBackend({ fma: false })] });
   * console.log((rt.backend('cpu') as CpuBackend).info.fma); // false
   * ```
   */
  readonly fma?: boolean;
  /**
   * Threads for large matrix products and large, arithmetic-heavy elementwise work: a number, or
   * `'auto'` (the cores this process may use: Node's `availableParallelism()`, a browser's
   * `navigator.hardwareConcurrency`, at most 8). Default 1. Needs WebAssembly SIMD and shared
   * memory: Node's worker_threads, or Web Workers in a cross-origin-isolated page; elsewhere the
   * backend runs on one thread and `info.threadsNote` and `describe()` say why. Results are
   * identical for every count.
   *
   * @example
   * ```ts
   * const rt = await createRuntime({ plugins: [cpuBackend({ threads: 2 })] });
   * const cpu = rt.backend('cpu') as CpuBackend;
   * console.log(cpu.info.threads, cpu.info.threadsNote ?? 'all threads run');
   * // Node: 2 'all threads run'; a page without COOP/COEP: 1 '2 asked: the page is not cross-origin isolated, ...'
   * ```
   */
  readonly threads?: number | 'auto';
  /**
   * Let worker threads stay awake for a moment after their work while work comes close together
   * (0.15 ms after a matrix product, 0.5 ms after an elementwise task), as OpenMP's default wait
   * policy does, instead of sleeping at once (default: true). Waking a sleeping thread costs
   * ~0.1 ms on a virtual machine, about what a training step's products are apart: on 2 threads
   * the MLP 784-256-256-10 step took 12-14% less time with it on an idle machine. Turn it off
   * (OpenMP's `OMP_WAIT_POLICY=passive`) where other processes keep every core busy: there a
   * spinning worker takes CPU its own caller needs (the same step 5-12% slower with it).
   *
   * @example
   * ```ts
   * const rt = await createRuntime({ plugins: [cpuBackend({ threads: 'auto', spin: false })] });
   * ```
   */
  readonly spin?: boolean;
  /**
   * Keep large storages (16 KiB and up) inside the WebAssembly memory, where the wasm kernels
   * work on them in place (default: true where that memory can be shared: always in Node, in a
   * browser when cross-origin isolated). `false`, or `NABLA_CPU_HEAP=0`, keeps every storage an
   * ordinary typed array and copies operands in and out of the kernels.
   */
  readonly heapStorage?: boolean;
  /**
   * The most bytes the WebAssembly memory may reach with storages (default 512 MiB); past it new
   * storages are ordinary typed arrays. It bounds what a loop that leaves its tensors to the
   * garbage collector can hold there before the collector's finalizers give the blocks back.
   */
  readonly heapStorageBytes?: number;
}

/**
 * Throws an error naming the option, what it got and what it takes, for an option of the wrong
 * kind: `{ wasm: 'no' }` would otherwise read as true and leave wasm on without a word.
 */
function checkOptions(options: CpuBackendOptions): void {
  const bad = (name: string, wants: string): Error => {
    const got = (options as Record<string, unknown>)[name];
    return new Error(`cpu backend: ${name} must be ${wants}, got ${typeof got} ${String(got)}`);
  };
  for (const name of ['wasm', 'fma', 'spin', 'heapStorage'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') throw bad(name, 'true or false');
  }
  const threads = options.threads;
  if (threads !== undefined && threads !== 'auto' && !(Number.isInteger(threads) && threads >= 1)) {
    throw bad('threads', "a positive integer or 'auto'");
  }
  // maxPooledBytes is checked by the BufferPool it configures (storage.ts), which tests build alone.
  const bytes = options.heapStorageBytes;
  if (bytes !== undefined && !(typeof bytes === 'number' && bytes >= 0)) throw bad('heapStorageBytes', 'a number of bytes >= 0');
}

function heapWanted(options: CpuBackendOptions): boolean {
  if (options.heapStorage === false) return false;
  const env = typeof process !== 'undefined' ? process.env?.NABLA_CPU_HEAP : undefined;
  if (env === '0' || env === 'false') return false;
  // A browser shares memory only when cross-origin isolated.
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  return isolated !== false && typeof SharedArrayBuffer !== 'undefined';
}

function fmaWanted(options: CpuBackendOptions): boolean {
  if (options.fma === false) return false;
  const env = typeof process !== 'undefined' ? process.env?.NABLA_CPU_FMA : undefined;
  return env !== '0' && env !== 'false';
}

function wasmWanted(options: CpuBackendOptions): boolean {
  if (options.wasm === false) return false;
  const env = typeof process !== 'undefined' ? process.env?.NABLA_CPU_WASM : undefined;
  return env !== '0' && env !== 'false';
}

/** The dtypes each structured kernel is registered for (the dtype of its main input). */
export const KERNEL_DTYPES: { readonly [K in KernelName]: readonly DType[] } = {
  sum: ['float32', 'float64', 'int32', 'bool'],
  prod: ['float32', 'float64', 'int32', 'bool'],
  max: ['float32', 'float64', 'int32', 'bool'],
  min: ['float32', 'float64', 'int32', 'bool'],
  argmax: ['float32', 'float64', 'int32'],
  argmin: ['float32', 'float64', 'int32'],
  bmm: ['float32', 'float64', 'int32'],
  addmm: ['float32', 'float64', 'int32'],
  gather: ['float32', 'float64', 'int32', 'bool'],
  scatterAdd: ['float32', 'float64', 'int32', 'bool'],
  scatter: ['float32', 'float64', 'int32', 'bool'],
  softmax: ['float32', 'float64'],
  logSoftmax: ['float32', 'float64'],
  sort: ['float32', 'float64', 'int32', 'bool'],
  cumsum: ['float32', 'float64', 'int32', 'bool'],
  cumprod: ['float32', 'float64', 'int32', 'bool'],
};

export class CpuBackend implements Backend {
  readonly device = 'cpu';
  readonly dtypes: readonly DType[] = CPU_DTYPES;
  readonly readsSync = true;
  /** Typed arrays are JS memory: core may leave small ones to the garbage collector. */
  readonly gcManaged = true;
  /** Every structured kernel, the optional ones included. */
  readonly kernels: Required<KernelSignatures>;
  /** The same kernels for float16/bfloat16 storages, run on float32 stand-ins (half-storage.ts). */
  readonly halfKernels: KernelSignatures;
  private readonly pool: BufferPool;
  private readonly half: HalfBridge;
  private readonly scratch = new Scratch();
  private readonly compiler = new ElementwiseCompiler();
  private readonly wasmKernels = new Map<string, ElementwiseKernel>();
  private readonly pairKernels = new Map<string, ElementwisePairKernel | null>();
  private readonly wasmOn: boolean;
  private wasmRt: WasmRuntime | null = null;
  private readonly threadsWanted: number | 'auto';
  private readonly spinWanted: boolean;
  private readonly fmaWanted: boolean;
  private threadCount = 1;
  /** Why fewer threads run than were asked (undefined when they all run). */
  private threadsNote: string | undefined;
  /** Large storages go to the wasm heap (turned off when the runtime could not share its memory). */
  private heapOn: boolean;
  private readonly heapStorageBytes: number | undefined;

  constructor(options: CpuBackendOptions = {}) {
    checkOptions(options);
    this.pool = new BufferPool(options);
    this.wasmOn = wasmWanted(options) && hasWasmSimd();
    this.threadsWanted = options.threads ?? 1;
    this.heapOn = this.wasmOn && heapWanted(options);
    this.heapStorageBytes = options.heapStorageBytes;
    this.spinWanted = options.spin ?? true;
    this.fmaWanted = fmaWanted(options);
    const s = this.scratch;
    this.kernels = {
      sum: (out, x, axes) => reduce('sum', out, x, axes, s, this.folds),
      prod: (out, x, axes) => reduce('prod', out, x, axes, s),
      max: (out, x, axes) => reduce('max', out, x, axes, s, this.folds),
      min: (out, x, axes) => reduce('min', out, x, axes, s, this.folds),
      argmax: (out, x, axes) => argReduce('argmax', out, x, axes),
      argmin: (out, x, axes) => argReduce('argmin', out, x, axes),
      bmm: (out, a, b) => {
        const w = this.wasmOn && useWasmGemm(out, a, b) ? this.wasm : null;
        if (w === null || !bmmWasm(w.heap, w.gemm, out, a, b, w.pool)) bmm(out, a, b, s);
      },
      addmm: (out, bias, a, b, beta, alpha) => {
        const w = this.wasmOn && useWasmGemm(out, asBatch(a), asBatch(b)) ? this.wasm : null;
        if (w === null || !addmmWasm(w, out, bias, a, b, beta, alpha)) addmm(out, bias, a, b, beta, alpha, s);
      },
      gather: (out, x, dim, index) => gather(out, x, dim, index),
      scatterAdd: (out, dim, index, src) => scatterAdd(out, dim, index, src),
      scatter: (out, dim, index, src) => scatter(out, dim, index, src),
      softmax: (out, x, dim) => softmaxAlong('softmax', out, x, dim, s, this.softmaxRows),
      logSoftmax: (out, x, dim) => softmaxAlong('logSoftmax', out, x, dim, s, this.softmaxRows),
      sort: (values, indices, x, dim, descending) => sortAlong(values, indices, x, dim, descending),
      cumsum: (out, x, dim, reverse) => scanAlong('cumsum', out, x, dim, reverse),
      cumprod: (out, x, dim, reverse) => scanAlong('cumprod', out, x, dim, reverse),
    };
    this.half = new HalfBridge(this.pool);
    this.halfKernels = halfKernelTable(this.kernels, this.half);
  }

  /**
   * The WebAssembly kernels (memory and modules are made on first use), or null when they are off
   * (`wasm: false`, `NABLA_CPU_WASM=0`) or the engine lacks WebAssembly SIMD.
   */
  get wasm(): WasmRuntime | null {
    if (!this.wasmOn) return null;
    return (this.wasmRt ??= this.createRuntime());
  }

  /** A runtime on a shared memory when storages or threads will use it, else a plain one. */
  private createRuntime(): WasmRuntime | null {
    if (this.heapOn || this.threadsWanted !== 1) {
      const rt = WasmRuntime.create(true, { storageBytes: this.heapStorageBytes }, this.fmaWanted);
      if (rt !== null) return rt;
    }
    this.heapOn = false;
    return WasmRuntime.create(false, {}, this.fmaWanted);
  }

  /**
   * Starts the worker threads `threads` asks for (the plugin's install calls it). Where threads
   * cannot run (no wasm, no SharedArrayBuffer, no worker threads) the backend stays on one.
   */
  async init(): Promise<void> {
    const wanted = this.threadsWanted === 'auto' ? await autoThreads() : this.threadsWanted;
    if (wanted <= 1) return;
    if (!this.wasmOn) {
      this.threadsNote = `${wanted} asked, but threads run only the WebAssembly kernels, which are off here`;
      return;
    }
    const rt = this.wasm;
    if (rt === null || rt.pool !== null) return;
    const got = await rt.startThreads(wanted, undefined, this.spinWanted);
    this.threadCount = got.threads;
    this.threadsNote = got.note === undefined ? undefined : `${wanted} asked: ${got.note}`;
  }

  private rowFolds: RowFolds | null = null;
  /** The WebAssembly row folds of reductions (made on first use), or null when wasm is off. */
  get folds(): RowFolds | null {
    const w = this.wasm;
    if (w === null) return null;
    return (this.rowFolds ??= new RowFolds(w));
  }

  private softmaxSimd: SoftmaxRows | null = null;
  private softmaxOff = false;
  /** The WebAssembly float32 softmax rows (made on first use), or null when wasm is off. */
  get softmaxRows(): SoftmaxRows | null {
    const w = this.wasm;
    if (w === null || this.softmaxOff) return null;
    if (this.softmaxSimd === null) {
      try {
        this.softmaxSimd = new SoftmaxRows(w);
      } catch {
        // A browser's main thread may refuse a synchronous compile: the JavaScript rows run.
        this.softmaxOff = true;
      }
    }
    return this.softmaxSimd;
  }

  /**
   * What runs the kernels: 'wasm-simd' or 'js', whether matrix products multiply-add with relaxed
   * SIMD (`fma`), on how many threads, and, when fewer threads run than `threads` asked, why
   * (`threadsNote`).
   */
  get info(): { readonly kernels: 'wasm-simd' | 'js'; readonly fma: boolean; readonly threads: number; readonly threadsNote?: string } {
    const info = { kernels: this.wasmOn ? ('wasm-simd' as const) : ('js' as const), fma: this.fmaOn, threads: this.threadCount };
    return this.threadsNote === undefined ? info : { ...info, threadsNote: this.threadsNote };
  }

  /** Whether the GEMM kernel multiply-adds with relaxed SIMD (the runtime makes the same choice). */
  private get fmaOn(): boolean {
    return this.wasmOn && this.fmaWanted && hasRelaxedMadd();
  }

  describe(): string {
    const kernels = this.wasmOn ? `WebAssembly SIMD${this.fmaOn ? ' (FMA)' : ''} + JavaScript` : 'JavaScript';
    const kind = this.wasmRt?.workers?.kind;
    const on = kind === 'web-worker' ? ' on Web Workers' : kind === 'worker_threads' ? ' on worker_threads' : '';
    const note = this.threadsNote === undefined ? '' : ` (${this.threadsNote})`;
    const threads = this.threadCount === 1 ? `1 thread${note}` : `${this.threadCount} threads${on}${note}`;
    return `cpu (${kernels}, ${threads}, ${typeof process !== 'undefined' ? `Node ${process.version}` : 'browser'})`;
  }

  allocate(dtype: DType, numel: number): CpuStorage {
    if (!isCpuDType(dtype)) throw new Error(`cpu: unsupported dtype '${String(dtype)}' (the cpu device holds ${CPU_DTYPES.join(', ')})`);
    if (!Number.isSafeInteger(numel) || numel < 0) throw new Error(`cpu: cannot allocate ${numel} elements`);
    if (this.heapOn && numel * elementBytes(dtype) >= HEAP_MIN_BYTES) {
      const w = this.wasm;
      if (w !== null && this.heapOn) {
        const s = allocateInHeap(w.heap, dtype, numel);
        if (s !== null) return s;
      }
    }
    return this.pool.allocate(dtype, numel);
  }

  release(storage: Storage): void {
    const s = this.own(storage, 'release');
    if (s.released) throw new Error('cpu: storage released twice');
    s.released = true;
    if (s.block !== null) releaseFromHeap(s);
    else this.pool.release(s);
  }

  /** Whether large storages are placed in the WebAssembly memory (see `heapStorage`). */
  get heapStorage(): boolean {
    // Making the runtime settles it: where its memory cannot be shared, storages stay typed arrays.
    return this.heapOn && this.wasm?.heap.shared === true;
  }

  write(storage: Storage, data: TypedArray, offset = 0): void {
    const s = this.own(storage, 'write');
    if (s.released) throw new Error('cpu: write to a released storage');
    if (!matchesDType(data, s.dtype)) {
      throw new Error(`cpu: write of ${data.constructor.name} into a ${s.dtype} storage`);
    }
    if (!Number.isInteger(offset) || offset < 0 || offset + data.length > s.numel) {
      throw new Error(`cpu: write of ${data.length} elements at offset ${offset} overflows a storage of ${s.numel}`);
    }
    s.data.set(data, offset);
    if (s.dtype === 'bool') {
      // Kernels read bool as 0/1 without checking; a host byte of 2 or 255 means true.
      const d = s.data;
      for (let i = offset, end = offset + data.length; i < end; i++) if (d[i]! > 1) d[i] = 1;
    }
  }

  readSync(view: View): TypedArray {
    const src = dataOf('read', 'view', view);
    checkBounds('read', 'view', view);
    const n = numelOf(view.shape);
    if (isContiguous(view.shape, view.strides)) return src.slice(view.offset, view.offset + n);
    const dst = newTypedArray(view.storage.dtype, n);
    if (n === 0) return dst;
    const g = collapse(view.shape, [view.strides]);
    const s = g.strides[0]![g.shape.length - 1]!;
    let k = 0;
    forEachRow(g.shape, g.strides, [view.offset], (bases, len) => {
      for (let j = 0, p = bases[0]!; j < len; j++, p += s) dst[k++] = src[p]!;
    });
    return dst;
  }

  read(view: View): Promise<TypedArray> {
    try {
      return Promise.resolve(this.readSync(view));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  compileElementwise(spec: ElementwiseSpec): ElementwiseKernel {
    if (specHasHalf(spec)) return this.half.elementwise(spec, (s) => this.compileWide(s));
    return this.compileWide(spec);
  }

  /** An elementwise kernel over float32/float64/int32/bool views. */
  private compileWide(spec: ElementwiseSpec): ElementwiseKernel {
    const js = this.compiler.compile(spec);
    const w = this.wasm;
    if (w === null) return js;
    let k = this.wasmKernels.get(spec.key);
    if (k === undefined) {
      k = wasmElementwise(w, spec, js);
      this.wasmKernels.set(spec.key, k);
    }
    return k;
  }

  /** f and f' in one pass (core's derivative cache): wasm where the one-output kernel would be, else JavaScript. */
  compileElementwisePair(spec: ElementwisePairSpec): ElementwisePairKernel | null {
    if (specHasHalf(spec)) return null;
    let k = this.pairKernels.get(spec.key);
    if (k === undefined) {
      const js = compileElementwisePair(spec);
      const w = this.wasm;
      k = js === null || w === null ? js : wasmElementwisePair(w, spec, js);
      this.pairKernels.set(spec.key, k);
    }
    return k;
  }

  synchronize(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Bytes parked in the storage pool, kernel scratch buffers, and the WebAssembly memory but for
   * the live storages in it (core counts those in `numBytes`): together, all the host memory the
   * backend holds.
   */
  pooledBytes(): number {
    const heap = this.wasmRt?.heap;
    return this.pool.pooledBytes() + this.scratch.bytes() + (heap === undefined ? 0 : heap.pooledBytes());
  }

  async dispose(): Promise<void> {
    this.pool.clear();
    this.scratch.clear();
    // Kernels compiled so far keep working on their own memory; new ones get a fresh runtime.
    this.wasmKernels.clear();
    this.pairKernels.clear();
    const rt = this.wasmRt;
    this.wasmRt = null;
    this.threadCount = 1;
    this.threadsNote = undefined;
    await rt?.dispose();
  }

  private own(storage: Storage, op: string): CpuStorage {
    if (!(storage instanceof CpuStorage)) throw new Error(`cpu: ${op} of a storage that is not a cpu storage`);
    return storage;
  }
}

/** float32/float64 products big enough to repay packing go to the SIMD GEMM; int32 and tiny ones stay in JavaScript. */
/** A 2-D view as a batch of one, the shape the GEMM kernels take. */
function asBatch(v: View): View {
  return { ...v, shape: [1, ...v.shape], strides: [0, ...v.strides] };
}

/**
 * addmm on the WebAssembly GEMM, `alpha·(a·b) + beta·bias` applied as C is copied out (one pass).
 * False when the GEMM declines, or when the bias shares out's storage, so the caller runs the
 * JavaScript kernel instead.
 */
function addmmWasm(w: WasmRuntime, out: View, bias: View, a: View, b: View, beta: number, alpha: number): boolean {
  if (out.shape.length !== 2 || bias.shape.length !== 2 || bias.storage === out.storage) return false;
  const epilogue = { bias: dataOf('addmm', 'bias', bias), off: bias.offset, rs: bias.strides[0]!, cs: bias.strides[1]!, alpha, beta };
  return bmmWasm(w.heap, w.gemm, asBatch(out), asBatch(a), asBatch(b), w.pool, epilogue);
}

function useWasmGemm(out: View, a: View, b: View): boolean {
  const d = out.dtype;
  if ((d !== 'float32' && d !== 'float64') || a.dtype !== d || b.dtype !== d) return false;
  if (a.shape.length !== 3 || b.shape.length !== 3) return false;
  return a.shape[1]! * a.shape[2]! * b.shape[2]! >= GEMM_MIN_FLOPS;
}
