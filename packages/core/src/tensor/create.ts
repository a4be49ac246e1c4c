/**
 * Making tensors from host data. Everything goes through `fromTypedArray`, which allocates on the
 * device and uploads; factories that need values (`arange`, `eye`, random) compute them on the
 * host, which also makes a seed give the same numbers on every device.
 */
import { allocTypedArray, dtypeNames, dtypeOfTypedArray, isDType, promoteTypes, typedArrayCtor, type DType, type TypedArray } from '../dtype.js';
import { NablaError, fmtShape } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { contiguousStrides, numelOf } from '../shape.js';
import { Tensor } from './tensor.js';
import { checkShape } from '../validate/shape.js';
import { encodeHalf, isHalfDType } from '../dtype/half.js';

export interface TensorOptions {
  dtype?: DType | null;
  device?: string | null;
  requiresGrad?: boolean | null;
}

export interface TensorDataOptions extends TensorOptions {
  /** Shape for TypedArray / flat data (default: 1-D). */
  shape?: readonly number[] | null;
}

/**
 * Nested numbers or booleans, as `tensor()` accepts them. One-element tensors may stand for
 * numbers (`nabla.tensor([a, b])` with 0-d `a`, `b`, as PyTorch builds it): their values are
 * copied, with no graph.
 */
export type NestedData = number | boolean | Tensor | readonly NestedData[];

/**
 * A tensor holding `data` (already of `dtype`'s typed array type) with `shape`. For float16 and
 * bfloat16 `data` is either their values (rounded here, to nearest even) or, as a Uint16Array
 * (what a backend's read gives), their bit patterns.
 */
export function fromTypedArray(rt: Runtime, device: string, dtype: DType, shape: readonly number[], data: TypedArray, op = 'tensor'): Tensor {
  const backend = rt.checkDType(device, dtype, op);
  if (isHalfDType(dtype) && !(data instanceof Uint16Array)) data = encodeHalf(dtype, data);
  const n = numelOf(shape);
  if (data.length !== n) {
    throw new NablaError(`data has ${data.length} elements but shape ${fmtShape(shape)} needs ${n}`, { op });
  }
  const storage = backend.allocate(dtype, n);
  try {
    if (n > 0) backend.write(storage, data, 0);
  } catch (e) {
    backend.release(storage);
    throw e;
  }
  const ref = rt.memoryTracker.allocate(backend, storage);
  return new Tensor(rt, ref, shape.slice(), contiguousStrides(shape), 0, dtype);
}

export function finish(t: Tensor, opts: TensorOptions | undefined, op: string): Tensor {
  if (opts?.requiresGrad) {
    try {
      t._setRequiresGrad(true, op);
    } catch (e) {
      t.dispose();
      throw e;
    }
  }
  if (t.rt.gradMode.inference) t._inference = true;
  return t;
}

function inferNested(data: NestedData, op: string): { shape: number[]; flat: number[]; bool: boolean; dtype: DType | null } {
  const shape: number[] = [];
  let probe: NestedData = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0] as NestedData;
  }
  const flat: number[] = [];
  let bool = typeof probe === 'boolean' || (probe instanceof Tensor && probe.dtype === 'bool');
  // With tensors among the leaves, the dtype is PyTorch's: the promotion of every leaf's type
  // (a tensor's dtype, float32 for a number, bool for a boolean).
  let leafTypes: DType | null = null;
  let sawTensor = false;
  const walk = (v: NestedData, d: number): void => {
    if (d === shape.length) {
      let leaf: DType;
      if (typeof v === 'number') (flat.push(v), (leaf = 'float32'));
      else if (typeof v === 'boolean') (flat.push(v ? 1 : 0), (leaf = 'bool'));
      else if (v instanceof Tensor) {
        if (v.numel() !== 1) {
          throw new NablaError(`only one element tensors can be converted to numbers (got a tensor of shape ${fmtShape(v.shape)} at depth ${d})`, { op });
        }
        flat.push(Number(v.item()));
        leaf = v.dtype;
        sawTensor = true;
      } else throw new NablaError(`expected a number or boolean at depth ${d}, got ${Array.isArray(v) ? 'an array' : typeof v}`, { op });
      if (leaf !== 'bool') bool = false;
      leafTypes = leafTypes === null ? leaf : promoteTypes(leafTypes, leaf);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[d]) {
      throw new NablaError(`expected sequence of length ${shape[d]} at dim ${d} (got ${Array.isArray(v) ? v.length : typeof v})`, { op });
    }
    for (const e of v) walk(e as NestedData, d + 1);
  };
  walk(data, 0);
  return { shape, flat, bool, dtype: sawTensor ? leafTypes : null };
}

/**
 * `nabla.tensor(data, opts)`: nested arrays, a number, or a TypedArray (with `shape`); a
 * Uint16Array with dtype `float16`/`bfloat16` is taken as the values' bit patterns.
 */
export function tensorFrom(rt: Runtime, data: NestedData | TypedArray, opts?: TensorDataOptions): Tensor {
  const op = 'tensor';
  if (opts?.dtype != null && !isDType(opts.dtype)) throw new NablaError(`unknown dtype ${String(opts.dtype)} (valid dtypes: ${dtypeNames()})`, { op });
  const device = opts?.device ?? rt.defaultDevice;
  let shape: readonly number[];
  let dtype: DType;
  let typed: TypedArray;
  if (data instanceof Uint16Array && isHalfDType(opts?.dtype)) {
    // A Uint16Array with dtype float16/bfloat16 holds the bit patterns (as safetensors stores them).
    dtype = opts!.dtype!;
    shape = opts?.shape != null ? checkShape(op, opts.shape) : [data.length];
    typed = data.slice();
  } else if (ArrayBuffer.isView(data)) {
    const own = dtypeOfTypedArray(data);
    if (own === null) throw new NablaError('unsupported TypedArray type (use Float32Array, Float64Array, Int32Array or Uint8Array)', { op });
    dtype = opts?.dtype ?? own;
    shape = opts?.shape != null ? checkShape(op, opts.shape) : [data.length];
    typed = own === dtype ? (data as TypedArray) : (typedArrayCtor(dtype) as unknown as { from(a: ArrayLike<number>): TypedArray }).from(data as ArrayLike<number>);
  } else {
    // A tensor as the whole data is copied (PyTorch's torch.tensor(t), without its graph).
    const nested = data instanceof Tensor && data.ndim > 0 ? (data.tolist() as NestedData) : (data as NestedData);
    const { shape: s, flat, bool, dtype: inferred } = inferNested(nested, op);
    dtype = opts?.dtype ?? inferred ?? (bool && flat.length > 0 ? 'bool' : 'float32');
    shape = opts?.shape != null ? checkShape(op, opts.shape) : s;
    typed = allocTypedArray(dtype, flat.length);
    if (dtype === 'bool') for (let i = 0; i < flat.length; i++) typed[i] = flat[i] !== 0 ? 1 : 0;
    else typed.set(flat);
  }
  return finish(fromTypedArray(rt, device, dtype, shape, typed, op), opts, op);
}
