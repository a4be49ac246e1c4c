/**
 * The CPU backend: typed arrays in a size-class pool, elementwise kernels compiled to JavaScript,
 * and hand-written structured kernels. Everything runs synchronously on the calling thread.
 */
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
import { ElementwiseCompiler } from './compile-elementwise.js';
import { CPU_DTYPES, isCpuDType, matchesDType, newTypedArray } from './dtypes.js';
import { gather, scatterAdd } from './kernels/gather.js';
import { addmm, bmm } from './kernels/matmul.js';
import { argReduce, reduce } from './kernels/reduce.js';
import { softmaxAlong } from './kernels/softmax.js';
import { BufferPool, CpuStorage, dataOf, Scratch, type PoolOptions } from './storage.js';
import { checkBounds, collapse, forEachRow, isContiguous, numelOf } from './strided.js';

export interface CpuBackendOptions extends PoolOptions {}

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
  softmax: ['float32', 'float64'],
  logSoftmax: ['float32', 'float64'],
};

export class CpuBackend implements Backend {
  readonly device = 'cpu';
  readonly dtypes: readonly DType[] = CPU_DTYPES;
  readonly readsSync = true;
  /** Typed arrays are JS memory: core may leave small ones to the garbage collector. */
  readonly gcManaged = true;
  readonly kernels: KernelSignatures;
  private readonly pool: BufferPool;
  private readonly scratch = new Scratch();
  private readonly compiler = new ElementwiseCompiler();

  constructor(options: CpuBackendOptions = {}) {
    this.pool = new BufferPool(options);
    const s = this.scratch;
    this.kernels = {
      sum: (out, x, axes) => reduce('sum', out, x, axes, s),
      prod: (out, x, axes) => reduce('prod', out, x, axes, s),
      max: (out, x, axes) => reduce('max', out, x, axes, s),
      min: (out, x, axes) => reduce('min', out, x, axes, s),
      argmax: (out, x, axes) => argReduce('argmax', out, x, axes),
      argmin: (out, x, axes) => argReduce('argmin', out, x, axes),
      bmm: (out, a, b) => bmm(out, a, b, s),
      addmm: (out, bias, a, b, beta, alpha) => addmm(out, bias, a, b, beta, alpha, s),
      gather: (out, x, dim, index) => gather(out, x, dim, index),
      scatterAdd: (out, dim, index, src) => scatterAdd(out, dim, index, src),
      softmax: (out, x, dim) => softmaxAlong('softmax', out, x, dim, s),
      logSoftmax: (out, x, dim) => softmaxAlong('logSoftmax', out, x, dim, s),
    };
  }

  describe(): string {
    return `cpu (JavaScript, Node ${typeof process !== 'undefined' ? process.version : 'unknown'})`;
  }

  allocate(dtype: DType, numel: number): CpuStorage {
    if (!isCpuDType(dtype)) throw new Error(`cpu: unsupported dtype '${String(dtype)}' (the cpu device holds ${CPU_DTYPES.join(', ')})`);
    if (!Number.isSafeInteger(numel) || numel < 0) throw new Error(`cpu: cannot allocate ${numel} elements`);
    return this.pool.allocate(dtype, numel);
  }

  release(storage: Storage): void {
    const s = this.own(storage, 'release');
    if (s.released) throw new Error('cpu: storage released twice');
    s.released = true;
    this.pool.release(s);
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
    return this.compiler.compile(spec);
  }

  synchronize(): Promise<void> {
    return Promise.resolve();
  }

  /** Bytes parked in the storage pool plus kernel scratch buffers. */
  pooledBytes(): number {
    return this.pool.pooledBytes() + this.scratch.bytes();
  }

  dispose(): void {
    this.pool.clear();
    this.scratch.clear();
  }

  private own(storage: Storage, op: string): CpuStorage {
    if (!(storage instanceof CpuStorage)) throw new Error(`cpu: ${op} of a storage that is not a cpu storage`);
    return storage;
  }
}
