/** Tensor arguments: a live Tensor, and dtype rules PyTorch enforces at the boundary. */
import { NablaError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { fmtValue } from './format.js';

export function checkTensor(op: string, what: string, v: unknown): Tensor {
  if (!(v instanceof Tensor)) throw new NablaError(`${what} must be a Tensor, got ${fmtValue(v)}`, { op });
  return v._alive(op);
}

/** PyTorch refuses arithmetic on bool that would silently mean something else (`-b`, `b - b`). */
export function rejectBool(op: string, t: Tensor, why?: string): void {
  if (t.dtype === 'bool') throw new NablaError(why ?? `"${op}" is not implemented for 'Bool' (a bool tensor of shape [${t.shape.join(', ')}])`, { op });
}
