/**
 * `randLike`, `randnLike`, `emptyLike`: tensors of another tensor's shape, and by default its
 * dtype and device (PyTorch's `*_like`). `zerosLike`, `onesLike` and `fullLike` live beside the
 * other factories.
 */
import { isFloating } from '../dtype.js';
import { NablaError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { finish, type TensorOptions } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';
import { emptyOn } from '../ops/dispatch.js';
import { rand, randn } from './factories.js';

function likeOpts(t: Tensor, opts: TensorOptions | undefined, op: string): { dtype: NonNullable<TensorOptions['dtype']>; device: string; requiresGrad: boolean } {
  if (!(t instanceof Tensor)) throw new NablaError(`expected a Tensor, got ${t === null ? 'null' : typeof t}`, { op });
  t._alive(op);
  return { dtype: opts?.dtype ?? t.dtype, device: opts?.device ?? t.device, requiresGrad: opts?.requiresGrad ?? false };
}

function floatOnly(o: { dtype: string }, op: string, pytorchKernel: string): void {
  if (!isFloating(o.dtype as 'float32')) {
    throw new NablaError(`expected a floating point dtype, got ${o.dtype} (PyTorch: "${pytorchKernel}" not implemented for this dtype)`, { op });
  }
}

/** Uniform [0, 1) numbers with t's shape (and dtype, device unless given). */
export function randLike(rt: Runtime, t: Tensor, opts?: TensorOptions): Tensor {
  const o = likeOpts(t, opts, 'randLike');
  floatOnly(o, 'randLike', 'check_uniform_bounds');
  return rand(rt, t.shape, o);
}

/** Standard normal numbers with t's shape (and dtype, device unless given). */
export function randnLike(rt: Runtime, t: Tensor, opts?: TensorOptions): Tensor {
  const o = likeOpts(t, opts, 'randnLike');
  floatOnly(o, 'randnLike', 'normal_kernel_cpu');
  return randn(rt, t.shape, o);
}

/** A tensor with t's shape whose contents are unspecified until written (PyTorch's `empty_like`). */
export function emptyLike(rt: Runtime, t: Tensor, opts?: TensorOptions): Tensor {
  const op = 'emptyLike';
  const o = likeOpts(t, opts, op);
  const backend = rt.checkDType(o.device, o.dtype, op);
  return finish(emptyOn(rt, backend, o.dtype, t.shape), o, op);
}
