/**
 * Making tensors from host data. Everything goes through `fromTypedArray`, which allocates on the
 * device and uploads; factories that need values (`arange`, `eye`, random) compute them on the
 * host, which also makes a seed give the same numbers on every device.
 */
import { allocTypedArray, dtypeOfTypedArray, isDType, typedArrayCtor, type DType, type TypedArray } from '../dtype.js';
import { NablaError, fmtShape } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { contiguousStrides, numelOf } from '../shape.js';
import { Tensor } from './tensor.js';
import { checkShape } from '../validate/shape.js';

export interface TensorOptions {
  dtype?: DType | null;
  device?: string | null;
  requiresGrad?: boolean | null;
}

export interface TensorDataOptions extends TensorOptions {
  /** Shape for TypedArray / flat data (default: 1-D). */
  shape?: readonly number[] | null;
}

/** Nested numbers or booleans, as `tensor()` accepts them. */
export type NestedData = number | boolean | readonly NestedData[];

/** A tensor holding `data` (already of `dtype`'s typed array type) with `shape`. */
export function fromTypedArray(rt: Runtime, device: string, dtype: DType, shape: readonly number[], data: TypedArray, op = 'tensor'): Tensor {
  const backend = rt.checkDType(device, dtype, op);
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

function inferNested(data: NestedData, op: string): { shape: number[]; flat: number[]; bool: boolean } {
  const shape: number[] = [];
  let probe: NestedData = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0] as NestedData;
  }
  const flat: number[] = [];
  let bool = typeof probe === 'boolean';
  const walk = (v: NestedData, d: number): void => {
    if (d === shape.length) {
      if (typeof v === 'number') flat.push(v);
      else if (typeof v === 'boolean') flat.push(v ? 1 : 0);
      else throw new NablaError(`expected a number or boolean at depth ${d}, got ${Array.isArray(v) ? 'an array' : typeof v}`, { op });
      if (typeof v !== 'boolean') bool = false;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[d]) {
      throw new NablaError(`expected sequence of length ${shape[d]} at dim ${d} (got ${Array.isArray(v) ? v.length : typeof v})`, { op });
    }
    for (const e of v) walk(e as NestedData, d + 1);
  };
  walk(data, 0);
  return { shape, flat, bool };
}

/** `nabla.tensor(data, opts)`: nested arrays, a number, or a TypedArray (with `shape`). */
export function tensorFrom(rt: Runtime, data: NestedData | TypedArray, opts?: TensorDataOptions): Tensor {
  const op = 'tensor';
  if (opts?.dtype != null && !isDType(opts.dtype)) throw new NablaError(`unknown dtype ${String(opts.dtype)}`, { op });
  const device = opts?.device ?? rt.defaultDevice;
  let shape: readonly number[];
  let dtype: DType;
  let typed: TypedArray;
  if (ArrayBuffer.isView(data)) {
    const own = dtypeOfTypedArray(data);
    if (own === null) throw new NablaError('unsupported TypedArray type (use Float32Array, Float64Array, Int32Array or Uint8Array)', { op });
    dtype = opts?.dtype ?? own;
    shape = opts?.shape != null ? checkShape(op, opts.shape) : [data.length];
    typed = own === dtype ? (data as TypedArray).slice() : (typedArrayCtor(dtype) as unknown as { from(a: ArrayLike<number>): TypedArray }).from(data as ArrayLike<number>);
  } else {
    const { shape: s, flat, bool } = inferNested(data as NestedData, op);
    dtype = opts?.dtype ?? (bool && flat.length > 0 ? 'bool' : 'float32');
    shape = opts?.shape != null ? checkShape(op, opts.shape) : s;
    typed = allocTypedArray(dtype, flat.length);
    if (dtype === 'bool') for (let i = 0; i < flat.length; i++) typed[i] = flat[i] !== 0 ? 1 : 0;
    else typed.set(flat);
  }
  return finish(fromTypedArray(rt, device, dtype, shape, typed, op), opts, op);
}
