/**
 * Shapes and sizes as users pass them: every dimension a non-negative safe integer, and the
 * element count within what a typed array can hold, checked before anything is allocated.
 */
import { NablaError } from '../errors.js';
import { fmtValue } from './format.js';

/** The most elements one tensor may hold (2^31 - 1: int32 indices and WebGPU bindings address it). */
export const MAX_NUMEL = 2 ** 31 - 1;

/** A size (a count of elements: `eye(n)`, `linspace(.., steps)`), or a NablaError naming `what`. */
export function checkSize(op: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new NablaError(`${what} must be a non-negative integer, got ${fmtValue(v)}`, { op });
  }
  if (v > MAX_NUMEL) throw new NablaError(`${what} ${v} is too large (a tensor holds at most ${MAX_NUMEL} elements)`, { op });
  return v;
}

/** The element count of `shape`, refusing more than `MAX_NUMEL`. */
export function checkNumel(op: string, shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  if (n > MAX_NUMEL) {
    throw new NablaError(`shape [${shape.join(', ')}] has ${n} elements, more than a tensor can hold (${MAX_NUMEL})`, { op });
  }
  return n;
}

/**
 * A shape given as one number or an array of numbers (`zeros(3)`, `zeros([2, 3])`). With
 * `allowInfer`, one `-1` is allowed (reshape/view; expand's -1 keeps a size).
 */
export function checkShape(op: string, s: unknown, opts: { allowInfer?: boolean; countInferred?: boolean } = {}): number[] {
  const list = typeof s === 'number' ? [s] : Array.isArray(s) ? (s as unknown[]) : null;
  if (list === null) throw new NablaError(`invalid shape ${fmtValue(s)}: expected a number or an array of numbers`, { op });
  const out = new Array<number>(list.length);
  for (let i = 0; i < list.length; i++) {
    const d = list[i];
    const ok = typeof d === 'number' && Number.isInteger(d) && (d >= 0 || (opts.allowInfer === true && d === -1));
    if (!ok) {
      throw new NablaError(`invalid shape ${fmtValue(list)}: dimension ${i} is ${fmtValue(d)}, expected a non-negative integer`, { op });
    }
    out[i] = d;
  }
  checkNumel(op, out.filter((d) => d >= 0));
  return out;
}

/**
 * The sizes of `reshape(2, 3)` / `reshape([2, 3])` (numbers spread out or one array; API.md), each
 * checked. `undefined`/`null` entries are skipped (omitted optional arguments).
 */
export function checkShapeArgs(op: string, args: readonly unknown[], allowInfer: boolean): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return checkShape(op, args[0], { allowInfer });
  const flat: unknown[] = [];
  for (const a of args) {
    if (a === undefined || a === null) continue;
    if (Array.isArray(a)) flat.push(...(a as unknown[]));
    else flat.push(a);
  }
  return checkShape(op, flat, { allowInfer });
}
