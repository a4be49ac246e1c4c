/** Tensor factories. Values are made on the host and uploaded, so a seed means the same numbers on every device. */
import { allocTypedArray, dtypeNames, isDType, isFloating, type DType, type TypedArray } from '../dtype.js';
import { NablaError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { numelOf } from '../shape.js';
import { finish, fromTypedArray, tensorFrom, type NestedData, type TensorDataOptions, type TensorOptions } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { emptyOn } from '../ops/dispatch.js';
import { checkNumel, checkScalar, checkShape, checkSize, checkTensor, fmtValue } from '../validate/index.js';
import { setZerosFactory } from '../autograd/engine.js';

export type ShapeLike = number | readonly number[];

function shapeOf(s: ShapeLike, op: string): number[] {
  return checkShape(op, s);
}

/** The dtype asked for, and — before anything is allocated — whether it may require grad. */
function dtypeOf(opts: TensorOptions | undefined, fallback: DType, op: string): DType {
  if (opts !== undefined && opts !== null && typeof opts !== 'object') {
    throw new NablaError(`options must be an object like { dtype, device, requiresGrad }, got ${fmtValue(opts)}`, { op });
  }
  const d = opts?.dtype ?? fallback;
  if (!isDType(d)) throw new NablaError(`unknown dtype ${fmtValue(d)} (valid dtypes: ${dtypeNames()})`, { op });
  if (opts?.requiresGrad === true && !isFloating(d)) {
    throw new NablaError(`only Tensors of floating point dtype can require gradients (got ${d})`, { op });
  }
  return d;
}

function filled(rt: Runtime, shape: readonly number[], value: number, opts: TensorOptions | undefined, dtype: DType, op: string): Tensor {
  const device = opts?.device ?? rt.defaultDevice;
  const backend = rt.checkDType(device, dtype, op);
  const t = emptyOn(rt, backend, dtype, shape);
  if (t.numel() > 0) t.fill_(value);
  return finish(t, opts, op);
}

function hostFilled(rt: Runtime, shape: readonly number[], data: TypedArray, opts: TensorOptions | undefined, dtype: DType, op: string): Tensor {
  const device = opts?.device ?? rt.defaultDevice;
  return finish(fromTypedArray(rt, device, dtype, shape, data, op), opts, op);
}

export function tensor(rt: Runtime, data: NestedData | TypedArray, opts?: TensorDataOptions): Tensor {
  return tensorFrom(rt, data, opts);
}

export function zeros(rt: Runtime, shape: ShapeLike, opts?: TensorOptions): Tensor {
  return filled(rt, shapeOf(shape, 'zeros'), 0, opts, dtypeOf(opts, 'float32', 'zeros'), 'zeros');
}

export function ones(rt: Runtime, shape: ShapeLike, opts?: TensorOptions): Tensor {
  return filled(rt, shapeOf(shape, 'ones'), 1, opts, dtypeOf(opts, 'float32', 'ones'), 'ones');
}

export function full(rt: Runtime, shape: ShapeLike, value: number | boolean, opts?: TensorOptions): Tensor {
  const fallback: DType = typeof value === 'boolean' ? 'bool' : 'float32';
  const v = checkScalar('full', 'fill_value', value);
  return filled(rt, shapeOf(shape, 'full'), v, opts, dtypeOf(opts, fallback, 'full'), 'full');
}

function likeOpts(t: Tensor, opts?: TensorOptions): TensorOptions {
  return { dtype: opts?.dtype ?? t.dtype, device: opts?.device ?? t.device, requiresGrad: opts?.requiresGrad ?? false };
}

export function zerosLike(rt: Runtime, t: Tensor, opts?: TensorOptions): Tensor {
  checkTensor('zerosLike', 'input', t);
  return zeros(rt, t.shape, likeOpts(t, opts));
}

export function onesLike(rt: Runtime, t: Tensor, opts?: TensorOptions): Tensor {
  checkTensor('onesLike', 'input', t);
  return ones(rt, t.shape, likeOpts(t, opts));
}

export function fullLike(rt: Runtime, t: Tensor, value: number, opts?: TensorOptions): Tensor {
  checkTensor('fullLike', 'input', t);
  return full(rt, t.shape, value, likeOpts(t, opts));
}

/** Splits `(a, b?, c?, opts?)` where the options object may come early (`arange(5, { dtype })`). */
function numbersThenOpts(args: readonly unknown[], op: string): { nums: number[]; opts: TensorOptions | undefined } {
  const nums: number[] = [];
  let opts: TensorOptions | undefined;
  for (const a of args) {
    if (typeof a === 'number') nums.push(a);
    else if (a !== null && typeof a === 'object' && !Array.isArray(a)) opts = a as TensorOptions;
    else if (a !== undefined && a !== null) throw new NablaError(`expected numbers (start, end, step) and options, got ${fmtValue(a)}`, { op });
  }
  if (nums.length > 3) throw new NablaError(`takes at most 3 numbers (start, end, step), got ${nums.length}`, { op });
  return { nums, opts };
}

export function arange(rt: Runtime, ...args: (number | TensorOptions | null | undefined)[]): Tensor {
  const op = 'arange';
  const { nums, opts } = numbersThenOpts(args, op);
  let [start, end, step] = [0, 0, 1];
  if (nums.length === 1) end = nums[0]!;
  else if (nums.length >= 2) [start, end, step] = [nums[0]!, nums[1]!, nums[2] ?? 1];
  else throw new NablaError('arange needs at least an end', { op });
  for (const [what, v] of [['start', start], ['end', end], ['step', step]] as const) {
    if (!Number.isFinite(v)) throw new NablaError(`${what} must be a finite number, got ${fmtValue(v)}`, { op });
  }
  if (step === 0) throw new NablaError('step must be nonzero', { op });
  if ((end - start) / step < 0) {
    throw new NablaError(`upper bound and larger bound inconsistent with step sign (start ${start}, end ${end}, step ${step})`, { op });
  }
  const n = checkSize(op, `the number of elements (start ${start}, end ${end}, step ${step})`, Math.ceil((end - start) / step));
  const dtype = dtypeOf(opts, nums.every(Number.isInteger) ? 'int32' : 'float32', op);
  const data = allocTypedArray(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return hostFilled(rt, [n], data, opts, dtype, op);
}

export function linspace(rt: Runtime, start: number, end: number, steps: number, opts?: TensorOptions): Tensor {
  const op = 'linspace';
  checkScalar(op, 'start', start);
  checkScalar(op, 'end', end);
  checkSize(op, 'number of steps', steps);
  const dtype = dtypeOf(opts, 'float32', op);
  const data = allocTypedArray(dtype, steps);
  if (steps === 1) data[0] = start;
  else if (steps > 1) {
    // PyTorch fills the two halves from each end, so the last value is exactly `end`.
    const step = (end - start) / (steps - 1);
    const half = Math.floor(steps / 2);
    for (let i = 0; i < steps; i++) data[i] = i < half ? start + step * i : end - step * (steps - 1 - i);
  }
  return hostFilled(rt, [steps], data, opts, dtype, op);
}

export function eye(rt: Runtime, n: number, m?: number | TensorOptions | null, opts?: TensorOptions): Tensor {
  const op = 'eye';
  let cols = n;
  let o = opts;
  if (typeof m === 'number') cols = m;
  else if (m !== null && typeof m === 'object') o = m;
  else if (m !== undefined && m !== null) throw new NablaError(`m must be a number of columns or options, got ${fmtValue(m)}`, { op });
  checkSize(op, 'n', n);
  checkSize(op, 'm', cols);
  checkNumel(op, [n, cols]);
  const dtype = dtypeOf(o, 'float32', op);
  const data = allocTypedArray(dtype, n * cols);
  for (let i = 0; i < Math.min(n, cols); i++) data[i * cols + i] = 1;
  return hostFilled(rt, [n, cols], data, o, dtype, op);
}

export function rand(rt: Runtime, shape: ShapeLike, opts?: TensorOptions): Tensor {
  const s = shapeOf(shape, 'rand');
  const dtype = dtypeOf(opts, 'float32', 'rand');
  const data = allocTypedArray(dtype, numelOf(s));
  for (let i = 0; i < data.length; i++) data[i] = rt.rng.uniform();
  return hostFilled(rt, s, data, opts, dtype, 'rand');
}

export function randn(rt: Runtime, shape: ShapeLike, opts?: TensorOptions): Tensor {
  const s = shapeOf(shape, 'randn');
  const dtype = dtypeOf(opts, 'float32', 'randn');
  const data = allocTypedArray(dtype, numelOf(s));
  for (let i = 0; i < data.length; i++) data[i] = rt.rng.normal();
  return hostFilled(rt, s, data, opts, dtype, 'randn');
}

setZerosFactory((rt, meta) => {
  const backend = rt.checkDType(meta.device, meta.dtype, 'zeros');
  return emptyOn(rt, backend, meta.dtype, meta.shape).zero_();
});
