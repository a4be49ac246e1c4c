/** Dimension arguments: integers (range is checked by shape.ts's normalizeDim with the tensor's rank). */
import { NablaError } from '../errors.js';
import { fmtValue } from './format.js';

/** One dim: an integer. */
export function checkDimArg(op: string, v: unknown, what = 'dim'): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new NablaError(`${what} must be an integer, got ${fmtValue(v)}`, { op });
  return v;
}

/** `dim?: number | number[]` of the reductions: `undefined`/`null` (all dims), an integer, or a flat list of integers. */
export function checkDimsArg(op: string, v: unknown): number | number[] | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return checkDimArg(op, v);
  if (Array.isArray(v)) return v.map((d, i) => checkDimArg(op, d, `dim[${i}]`));
  throw new NablaError(`dim must be an integer or a list of integers, got ${fmtValue(v)}`, { op });
}

/** A single dim where PyTorch takes exactly one (`max(dim)`, `argmax(dim)`, `softmax(dim)`). */
export function checkSingleDim(op: string, v: unknown): number {
  if (Array.isArray(v)) {
    throw new NablaError(`takes a single dim (an integer), got the list ${fmtValue(v)}; use amax/amin for several dims`, { op });
  }
  return checkDimArg(op, v);
}
