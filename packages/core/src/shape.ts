/** Shape arithmetic shared by every op: broadcasting, dims, strides. Pure functions on arrays. */
import { NablaError, fmtShape } from './errors.js';
import { fmtValue } from './validate/format.js';

export type Shape = readonly number[];

export function numelOf(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** NumPy/PyTorch broadcasting of two shapes; the error is PyTorch's. */
export function broadcastShapes(a: Shape, b: Shape, op?: string): number[] {
  if (shapesEqual(a, b)) return a as number[];
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else {
      throw new NablaError(
        `The size of tensor a (${da}) must match the size of tensor b (${db}) at non-singleton dimension ${i} ` +
          `(shapes ${fmtShape(a)} and ${fmtShape(b)})`,
        { op },
      );
    }
  }
  return out;
}

/** Strides that read a tensor of `shape`/`strides` as if expanded to `target` (0 on broadcast dims). */
export function broadcastStrides(shape: Shape, strides: Shape, target: Shape): number[] {
  const n = target.length;
  const off = n - shape.length;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    if (i < off) out[i] = 0;
    else out[i] = shape[i - off] === 1 && target[i] !== 1 ? 0 : strides[i - off]!;
  }
  return out;
}

/** Wraps a possibly negative dim into [0, ndim); PyTorch's error when out of range. */
export function normalizeDim(dim: number, ndim: number, op?: string): number {
  const lo = ndim === 0 ? -1 : -ndim;
  const hi = ndim === 0 ? 0 : ndim - 1;
  if (!Number.isInteger(dim) || dim < lo || dim > hi) {
    if (typeof dim !== 'number' || !Number.isInteger(dim)) throw new NablaError(`dim must be an integer, got ${fmtValue(dim)}`, { op });
    throw new NablaError(`Dimension out of range (expected to be in range of [${lo}, ${hi}], but got ${dim})`, { op });
  }
  return dim < 0 ? dim + Math.max(ndim, 1) : dim;
}

/** Normalizes `dim?: number | number[]` for reductions: sorted unique axes; all axes when omitted. */
export function normalizeAxes(dim: number | readonly number[] | null | undefined, ndim: number, op?: string): number[] {
  if (dim === undefined || dim === null) return Array.from({ length: ndim }, (_, i) => i);
  if (typeof dim !== 'number' && !Array.isArray(dim)) throw new NablaError(`dim must be an integer or a list of integers, got ${fmtValue(dim)}`, { op });
  const list = typeof dim === 'number' ? [dim] : dim;
  if (list.length === 0) return Array.from({ length: ndim }, (_, i) => i);
  if (ndim === 0) {
    // A 0-d tensor accepts dim 0 / -1 and reduces over nothing (PyTorch).
    for (const d of list) normalizeDim(d, 0, op);
    return [];
  }
  const seen = new Set<number>();
  for (const d of list) {
    const a = normalizeDim(d, ndim, op);
    if (seen.has(a)) throw new NablaError(`dim ${a} appears multiple times in the list of dims`, { op });
    seen.add(a);
  }
  return [...seen].sort((x, y) => x - y);
}

export function isContiguous(shape: Shape, strides: Shape): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    if (d !== 1 && strides[i] !== expected) return false;
    expected *= d;
  }
  return true;
}

/**
 * Strides for viewing (`shape`, `strides`) as `newShape` without copying, or null when the
 * memory layout does not allow it (PyTorch's `computeStride`).
 */
export function viewStrides(shape: Shape, strides: Shape, newShape: Shape): number[] | null {
  const numel = numelOf(shape);
  if (numel === 0) return contiguousStrides(newShape);
  if (shape.length === 0) return newShape.map(() => 1);
  const newStrides = new Array<number>(newShape.length);
  let viewD = newShape.length - 1;
  let chunkBaseStride = strides[strides.length - 1]!;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let tensorD = shape.length - 1; tensorD >= 0; tensorD--) {
    tensorNumel *= shape[tensorD]!;
    if (tensorD === 0 || (shape[tensorD - 1] !== 1 && strides[tensorD - 1] !== tensorNumel * chunkBaseStride)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        newStrides[viewD] = viewNumel * chunkBaseStride;
        viewNumel *= newShape[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (tensorD > 0) {
        chunkBaseStride = strides[tensorD - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) return null;
  return newStrides;
}

/** Resolves one `-1` in a requested shape; PyTorch's error when sizes disagree. */
export function inferShape(requested: readonly number[], numel: number, op?: string): number[] {
  let infer = -1;
  let known = 1;
  for (let i = 0; i < requested.length; i++) {
    const d = requested[i]!;
    if (d === -1) {
      if (infer >= 0) throw new NablaError('only one dimension can be inferred', { op });
      infer = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new NablaError(`invalid shape dimension ${fmtValue(d)} in ${fmtValue(requested)}`, { op });
    } else known *= d;
  }
  const out = requested.slice();
  if (infer >= 0) {
    if (known === 0 || numel % known !== 0) {
      throw new NablaError(`shape '${fmtShape(requested)}' is invalid for input of size ${numel}`, { op });
    }
    out[infer] = numel / known;
  } else if (known !== numel) {
    throw new NablaError(`shape '${fmtShape(requested)}' is invalid for input of size ${numel}`, { op });
  }
  return out;
}

/** Accepts `f([2, 3])` and `f(2, 3)` alike (API.md: reshape/view/permute/expand). */
export function shapeArgs(args: readonly (number | readonly number[] | undefined | null)[]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return (args[0] as number[]).slice();
  const out: number[] = [];
  for (const a of args) {
    if (a === undefined || a === null) continue;
    if (Array.isArray(a)) out.push(...(a as number[]));
    else out.push(a as number);
  }
  return out;
}
