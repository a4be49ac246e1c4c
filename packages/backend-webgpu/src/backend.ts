/**
 * The WebGPU backend: GPU buffers in a size-class pool, elementwise kernels generated as WGSL
 * from core's expressions, and hand-written WGSL for the structured kernels. Kernel calls only
 * record work (see `Dispatcher`); values come back through `await read()`.
 */
import { isHalfDType } from '@nabla/core';
import type {
  Backend,
  DType,
  ElementwiseKernel,
  ElementwiseSpec,
  KernelName,
  KernelSignatures,
  Storage,
  TypedArray,
  View,
} from '@nabla/core';
import { acquireDevice, isNode, type AcquiredDevice, type AdapterOptions } from './adapter.js';
import { compileElementwise } from './compile-elementwise.js';
import { KernelContext } from './context.js';
import { Dispatcher } from './dispatcher.js';
import { ELEMENT_BYTES, fromDeviceWords, hostArray, isWebGpuDType, matchesDType, toDeviceWords, WEBGPU_DTYPES } from './dtypes.js';
import { isContiguous, numelOf } from './geometry.js';
import { copyToDense } from './kernels/copy.js';
import { gather, scatter, scatterAdd } from './kernels/gather.js';
import { addmm, bmm } from './kernels/matmul.js';
import { argReduce, reduce } from './kernels/reduce.js';
import { scan } from './kernels/scan.js';
import { softmax } from './kernels/softmax.js';
import { sort } from './kernels/sort.js';
import { probeNodeAdapter } from './probe.js';
import { BufferPool, GpuStorage, type PoolOptions } from './storage.js';
import { HalfBridge, isCastSpec, specHasHalf } from './half-storage.js';
import { nativeF16Spec } from './native-f16.js';
import { nativeF16Kernels } from './native-f16-kernels.js';
import { halfKernelTable } from './half-kernels.js';
import { checkOptions } from './options.js';

export interface WebGpuBackendOptions extends AdapterOptions, PoolOptions {
  /**
   * Lowers the workgroups-per-dimension limit (65535 by default) so tests can exercise the 2-D
   * grids that very large tensors need.
   */
  readonly maxWorkgroupsPerDimension?: number;
}

/** The dtypes each structured kernel is registered for (the dtype of its main input). */
export const KERNEL_DTYPES: { readonly [K in KernelName]: readonly DType[] } = {
  sum: ['float32', 'int32', 'bool'],
  prod: ['float32', 'int32', 'bool'],
  max: ['float32', 'int32', 'bool'],
  min: ['float32', 'int32', 'bool'],
  argmax: ['float32', 'int32'],
  argmin: ['float32', 'int32'],
  bmm: ['float32', 'int32'],
  addmm: ['float32', 'int32'],
  gather: ['float32', 'int32', 'bool'],
  scatterAdd: ['float32', 'int32', 'bool'],
  scatter: ['float32', 'int32', 'bool'],
  softmax: ['float32'],
  logSoftmax: ['float32'],
  sort: ['float32', 'int32', 'bool'],
  cumsum: ['float32', 'int32', 'bool'],
  cumprod: ['float32', 'int32', 'bool'],
};

/** How one 16-bit dtype is held and computed on this device. */
export interface HalfDTypeInfo {
  /** `'f16'`: bound as WGSL `array<f16>`; `'packed-u32'`: two halves per u32 word. Same bytes either way. */
  readonly storage: 'f16' | 'packed-u32';
  /**
   * `'f16'`: elementwise kernels read and write f16 directly; an op that is one IEEE operation on
   * float16 tensors runs in f16 arithmetic, every other op in f32 rounded once (native-f16.ts).
   * `'f32'`: every kernel runs on f32 stand-ins converted by integer code. Reductions and matmul
   * accumulate in f32 either way.
   */
  readonly arithmetic: 'f16' | 'f32';
}

/** What `backendInfo()` reports. */
export interface WebGpuBackendInfo {
  readonly adapter: string;
  readonly half: {
    /** float16's path; kept at the top level for readers of the packed-only shape. */
    readonly storage: 'f16' | 'packed-u32';
    readonly arithmetic: 'f16' | 'f32';
    /** Whether the adapter offers `shader-f16`. */
    readonly shaderF16: boolean;
    /** Whether this device was made with `shader-f16` (false when the option `float16: 'packed'` turned it off). */
    readonly nativeF16: boolean;
    readonly float16: HalfDTypeInfo;
    readonly bfloat16: HalfDTypeInfo;
  };
}

export class WebGpuBackend implements Backend {
  readonly device = 'webgpu';
  readonly dtypes: readonly DType[] = WEBGPU_DTYPES;
  readonly readsSync = false;
  /** Every structured kernel, the optional ones included. */
  readonly kernels: Required<KernelSignatures>;
  /** The same kernels for float16/bfloat16 storages, run on float32 stand-ins (half-storage.ts). */
  readonly halfKernels: KernelSignatures;
  readonly dispatcher: Dispatcher;
  private readonly half: HalfBridge;
  readonly gpuDevice: GPUDevice;
  readonly adapterDescription: string;
  private readonly pool: BufferPool;
  private readonly ctx: KernelContext;
  private readonly compiled = new Map<string, ElementwiseKernel>();
  private readonly maxBindingBytes: number;
  /** Held for the device's lifetime: Dawn crashes if its instance is collected first. */
  private readonly acquired: AcquiredDevice;
  /** float16 elementwise kernels compile to WGSL f16 (the device has `shader-f16`). */
  readonly nativeF16: boolean;
  private readonly shaderF16Offered: boolean;
  /** Elementwise kernels compiled for native f16 (tests check that the native path ran). */
  nativeF16Kernels = 0;
  /** Structured kernel calls (bmm, addmm, sum, prod, max, min) that ran on f16 operands directly. */
  nativeF16Structured = 0;

  /**
   * Gets an adapter and a device (see `AdapterOptions`) and makes a backend on them. In Node, when
   * the options name no adapter source (`gpu`, `dawnFlags`, `featureLevel`), the software adapters
   * a machine without a GPU has are tried too (see `probeNodeAdapter`).
   */
  static async create(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    checkOptions(options);
    const explicit = options.gpu !== undefined || options.dawnFlags !== undefined || options.featureLevel !== undefined;
    if (!explicit && isNode()) {
      const found = await probeNodeAdapter();
      if (!found.ok) throw new Error(`webgpu: no WebGPU adapter is available (${found.reason})`);
      options = { ...options, ...found.options };
    }
    return new WebGpuBackend(await acquireDevice(options), options);
  }

  constructor(acquired: AcquiredDevice, options: WebGpuBackendOptions = {}) {
    this.acquired = acquired;
    this.gpuDevice = acquired.device;
    this.adapterDescription = acquired.description;
    this.nativeF16 = acquired.device.features?.has('shader-f16') === true && options.float16 !== 'packed';
    this.shaderF16Offered = acquired.adapter.features?.has('shader-f16') === true;
    this.dispatcher = new Dispatcher(acquired.device, options.maxWorkgroupsPerDimension);
    this.pool = new BufferPool(acquired.device, (b) => this.dispatcher.destroyLater(b), options);
    this.ctx = new KernelContext(this.dispatcher, this.pool);
    const limits = acquired.device.limits;
    this.maxBindingBytes = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    const c = this.ctx;
    this.kernels = {
      sum: (out, x, axes) => reduce(c, 'sum', out, x, axes),
      prod: (out, x, axes) => reduce(c, 'prod', out, x, axes),
      max: (out, x, axes) => reduce(c, 'max', out, x, axes),
      min: (out, x, axes) => reduce(c, 'min', out, x, axes),
      argmax: (out, x, axes) => argReduce(c, 'argmax', out, x, axes),
      argmin: (out, x, axes) => argReduce(c, 'argmin', out, x, axes),
      bmm: (out, a, b) => bmm(c, out, a, b),
      addmm: (out, bias, a, b, beta, alpha) => addmm(c, out, bias, a, b, beta, alpha),
      gather: (out, x, dim, index) => gather(c, out, x, dim, index),
      scatterAdd: (out, dim, index, src) => scatterAdd(c, out, dim, index, src),
      scatter: (out, dim, index, src) => scatter(c, out, dim, index, src),
      softmax: (out, x, dim) => softmax(c, 'softmax', out, x, dim),
      logSoftmax: (out, x, dim) => softmax(c, 'logSoftmax', out, x, dim),
      sort: (values, indices, x, dim, descending) => sort(c, values, indices, x, dim, descending),
      cumsum: (out, x, dim, reverse) => scan(c, 'cumsum', out, x, dim, reverse),
      cumprod: (out, x, dim, reverse) => scan(c, 'cumprod', out, x, dim, reverse),
    };
    this.half = new HalfBridge(this.dispatcher, this.pool, c);
    const packedHalf = halfKernelTable(this.kernels, this.half);
    this.halfKernels = this.nativeF16 ? nativeF16Kernels(c, packedHalf, () => this.nativeF16Structured++) : packedHalf;
  }

  /**
   * What runs here: the adapter, and how float16/bfloat16 are held and computed. float16 uses
   * WGSL's native f16 when the device has `shader-f16` (see the option `float16`); bfloat16 is
   * always packed u32 words with f32 arithmetic (WGSL has no bf16).
   */
  backendInfo(): WebGpuBackendInfo {
    const packed: HalfDTypeInfo = { storage: 'packed-u32', arithmetic: 'f32' };
    const f16: HalfDTypeInfo = this.nativeF16 ? { storage: 'f16', arithmetic: 'f16' } : packed;
    return {
      adapter: this.adapterDescription,
      half: { ...f16, shaderF16: this.shaderF16Offered, nativeF16: this.nativeF16, float16: f16, bfloat16: packed },
    };
  }

  describe(): string {
    return `webgpu: ${this.adapterDescription}`;
  }

  allocate(dtype: DType, numel: number): GpuStorage {
    if (!isWebGpuDType(dtype)) {
      throw new Error(`webgpu: unsupported dtype '${String(dtype)}' (the webgpu device holds ${WEBGPU_DTYPES.join(', ')})`);
    }
    if (!Number.isSafeInteger(numel) || numel < 0) throw new Error(`webgpu: cannot allocate ${numel} elements`);
    const words = isHalfDType(dtype) ? HalfBridge.words(numel) : numel;
    if (words * ELEMENT_BYTES > this.maxBindingBytes) {
      throw new Error(
        `webgpu: cannot allocate ${numel} ${dtype} elements (${numel * ELEMENT_BYTES} bytes): the device binds at most ${this.maxBindingBytes} bytes per buffer`,
      );
    }
    this.dispatcher.throwIfFailed();
    const { buffer, capacity } = this.pool.acquire(words);
    return new GpuStorage(dtype, numel, buffer, capacity);
  }

  release(storage: Storage): void {
    const s = this.own(storage, 'release');
    if (s.released) throw new Error('webgpu: storage released twice');
    s.released = true;
    this.pool.give(s.buffer, s.capacity);
  }

  write(storage: Storage, data: TypedArray, offset = 0): void {
    const s = this.own(storage, 'write');
    if (s.released) throw new Error('webgpu: write to a released storage');
    if (!matchesDType(data, s.dtype)) throw new Error(`webgpu: write of ${data.constructor.name} into a ${s.dtype} storage`);
    if (!Number.isInteger(offset) || offset < 0 || offset + data.length > s.numel) {
      throw new Error(`webgpu: write of ${data.length} elements at offset ${offset} overflows a storage of ${s.numel}`);
    }
    if (data.length === 0) return;
    this.dispatcher.throwIfFailed();
    // A queue write runs before commands still being recorded: submit those first if they use
    // this buffer (it may be a pooled buffer an earlier tensor still reads).
    if (this.dispatcher.usedInBatch(s.buffer)) this.dispatcher.flush();
    if (isHalfDType(s.dtype)) {
      // Queue writes move whole words: an even start, and an odd length padded into the capacity.
      if (offset % 2 !== 0) throw new Error(`webgpu: a ${s.dtype} write must start at an even element (got ${offset})`);
      const padded = data.length % 2 === 0 ? (data as Uint16Array) : new Uint16Array(data.length + 1);
      if (padded !== data) padded.set(data);
      this.gpuDevice.queue.writeBuffer(s.buffer, offset * 2, padded.buffer, padded.byteOffset, padded.byteLength);
      return;
    }
    const words = toDeviceWords(data, s.dtype);
    this.gpuDevice.queue.writeBuffer(s.buffer, offset * ELEMENT_BYTES, words.buffer, words.byteOffset, words.byteLength);
  }

  async read(view: View): Promise<TypedArray> {
    const s = this.ctx.storage('read', 'view', view);
    const n = numelOf(view.shape);
    if (n === 0) {
      await this.dispatcher.settle();
      return hostArray(view.dtype, 0);
    }
    if (isHalfDType(s.dtype)) {
      const nw = HalfBridge.words(n);
      const packed = await this.ctx.withTemp(nw, (tmp) => {
        this.half.gather(view, tmp);
        return this.dispatcher.readback(tmp, 0, nw * ELEMENT_BYTES);
      });
      return new Uint16Array(packed, 0, n);
    }
    let words: ArrayBuffer;
    if (isContiguous(view.shape, view.strides)) {
      words = await this.dispatcher.readback(s.buffer, view.offset * ELEMENT_BYTES, n * ELEMENT_BYTES);
    } else {
      words = await this.ctx.withTemp(n, (tmp) => {
        copyToDense(this.ctx, s.buffer, view, tmp);
        return this.dispatcher.readback(tmp, 0, n * ELEMENT_BYTES);
      });
    }
    return fromDeviceWords(words, s.dtype, n);
  }

  compileElementwise(spec: ElementwiseSpec): ElementwiseKernel {
    let k = this.compiled.get(spec.key);
    // float16 without bfloat16 compiles to WGSL f16, except casts, which stay bit-exact integer
    // code (hardware conversions need not keep PyTorch's NaN patterns).
    if (k === undefined && this.nativeF16 && nativeF16Spec(spec) && !isCastSpec(spec)) {
      k = compileElementwise(spec, this.dispatcher, this.gpuDevice.limits.maxStorageBuffersPerShaderStage - 2, true);
      this.nativeF16Kernels++;
      this.compiled.set(spec.key, k);
    }
    if (k === undefined && specHasHalf(spec)) {
      k = this.half.elementwise(spec, (s) => this.compileElementwise(s));
      this.compiled.set(spec.key, k);
    }
    if (k === undefined) {
      const maxInputs = this.gpuDevice.limits.maxStorageBuffersPerShaderStage - 2;
      k = compileElementwise(spec, this.dispatcher, maxInputs);
      this.compiled.set(spec.key, k);
    }
    return k;
  }

  synchronize(): Promise<void> {
    return this.dispatcher.synchronize();
  }

  /** Bytes of GPU buffers parked in the pool. */
  pooledBytes(): number {
    return this.pool.pooledBytes();
  }

  /** GPU buffers alive (handed out or pooled), for leak checks. */
  liveBuffers(): number {
    return this.pool.liveBuffers();
  }

  dispose(): void {
    this.pool.clear();
    this.dispatcher.dispose();
    this.gpuDevice.destroy();
  }

  /** The Dawn instance / GPU object this backend's device came from. */
  get gpu(): GPU {
    return this.acquired.gpu;
  }

  private own(storage: Storage, op: string): GpuStorage {
    if (!(storage instanceof GpuStorage)) throw new Error(`webgpu: ${op} of a storage that is not a webgpu storage`);
    return storage;
  }
}
