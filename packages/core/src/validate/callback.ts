/** Callbacks: what `noGrad(fn)`, `tidy(fn)`, hooks and friends run must be a function. */
import { NablaError } from '../errors.js';
import { fmtValue } from './format.js';

export function checkCallback<F extends (...args: never[]) => unknown>(op: string, fn: unknown, what = 'fn'): F {
  if (typeof fn !== 'function') throw new NablaError(`${what} must be a function, got ${fmtValue(fn)}`, { op });
  return fn as F;
}
