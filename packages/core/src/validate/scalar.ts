/** Scalars as users pass them: numbers (and booleans, as PyTorch's Python bools), nothing else. */
import { NablaError } from '../errors.js';
import { fmtValue } from './format.js';

/** A number, or `true`/`false` as 1/0; a NablaError naming `what` for anything else. */
export function checkScalar(op: string, what: string, v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new NablaError(`${what} must be a number, got ${fmtValue(v)}`, { op });
}

/** An optional scalar: `undefined`/`null` mean omitted. */
export function checkOptionalScalar(op: string, what: string, v: unknown): number | null {
  return v === undefined || v === null ? null : checkScalar(op, what, v);
}

/** An optional flag: `undefined`/`null` mean `fallback`. */
export function checkFlag(op: string, what: string, v: unknown, fallback = false): boolean {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new NablaError(`${what} must be a boolean, got ${fmtValue(v)}`, { op });
  return v;
}
