/**
 * Readable indexing: `t.index([':', '1:3', null, 0, '...', idx])` and `t.indexPut_([...], value)`,
 * with PyTorch's `__getitem__`/`__setitem__` semantics.
 *
 * Integers, slices (`'a:b:c'` strings or `{ start, stop, step }`), `'...'` and `null` (new axis)
 * are applied first as views — `select`, a strided `slice`, `unsqueeze` — so the result aliases the
 * input and shares its version counter, exactly where PyTorch returns a view. Integer tensors (or
 * nested arrays of numbers) and bool masks then index the remaining dims as PyTorch's advanced
 * indexing does (advanced-index.ts), which copies. A bool mask's `true` entries decide the result's
 * shape, so its values are read on the host: synchronously on devices that allow it, else through
 * the `...Async` variants.
 */
import { NablaError, fmtShape } from '../errors.js';
import { broadcastShapes, normalizeDim, shapesEqual } from '../shape.js';
import { fromTypedArray } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';
import { describe, grad, type Operand } from './dispatch.js';
import { applyIndex, indexPut, planIndex, trueOffsets } from './advanced-index.js';
import { inplaceCompute } from './inplace.js';
import { aliasView, makeView, sliceGrad, type SliceAttr, type ViewFn } from './view.js';

/** A Python slice: omitted parts take their defaults, negative values count from the end. */
export interface Slice {
  start?: number | null;
  stop?: number | null;
  step?: number | null;
}

/** Nested arrays of numbers (an integer index) or of booleans (a mask). */
export type IndexArray = readonly (number | boolean | IndexArray)[];

/**
 * One entry of an index: an integer, a slice (`':'`, `'1:3'`, `'::-1'` is refused as in PyTorch,
 * `'::2'`, or a {@link Slice}), `'...'`, `null` for a new axis, an int32 or bool tensor, or an
 * array of numbers/booleans standing for one.
 */
export type IndexItem = number | boolean | string | null | Slice | Tensor | IndexArray;

type Parsed =
  | { kind: 'int'; i: number; pos: number }
  | { kind: 'slice'; start: number | null; stop: number | null; step: number }
  | { kind: 'ellipsis' }
  | { kind: 'new' }
  | { kind: 'tensor'; t: Tensor }
  | { kind: 'mask'; t: Tensor }
  /** A 0-d mask: a new axis of size 1 that the mask (reshaped to [1]) keeps or empties. */
  | { kind: 'newmask'; t: Tensor };

const SLICE_RE = /^\s*([+-]?\d+)?\s*:\s*([+-]?\d+)?\s*(?::\s*([+-]?\d+)?\s*)?$/;
const INT_RE = /^\s*[+-]?\d+\s*$/;

function sliceStep(op: string, step: number | null | undefined): number {
  if (step === null || step === undefined) return 1;
  if (!Number.isInteger(step)) throw new NablaError(`slice step must be an integer, got ${step}`, { op });
  if (step === 0) throw new NablaError('slice step cannot be zero', { op });
  if (step < 0) throw new NablaError(`step must be greater than zero (got ${step}; use flip() to reverse)`, { op });
  return step;
}

function bound(op: string, v: number | null | undefined, what: string): number | null {
  if (v === null || v === undefined) return null;
  if (!Number.isInteger(v)) throw new NablaError(`slice ${what} must be an integer or null, got ${v}`, { op });
  return v;
}

/** Turns the user's entries into parsed ones; arrays become tensors on x's device (in `owned`). */
function parse(op: string, x: Tensor, spec: IndexItem | readonly IndexItem[], owned: Tensor[]): Parsed[] {
  const items: readonly IndexItem[] = Array.isArray(spec) ? (spec as readonly IndexItem[]) : [spec as IndexItem];
  let ellipses = 0;
  return items.map((it, pos): Parsed => {
    const one = parseOne(it, pos);
    if (one.kind === 'ellipsis' && ++ellipses > 1) throw new NablaError("an index can only have a single ellipsis ('...')", { op });
    // A 0-d mask (or a JS boolean) adds an axis of size 1 that it keeps or empties, as in PyTorch.
    if (one.kind === 'mask' && one.t.ndim === 0) {
      const m = one.t.reshape([1]);
      owned.push(m);
      return { kind: 'newmask', t: m };
    }
    return one;
  });

  function parseOne(it: IndexItem | undefined, pos: number): Parsed {
    if (it === null || it === undefined) return { kind: 'new' };
    if (typeof it === 'boolean') {
      const t = fromTypedArray(x.rt, x.device, 'bool', [], Uint8Array.of(it ? 1 : 0), op);
      owned.push(t);
      return { kind: 'mask', t };
    }
    if (typeof it === 'number') {
      if (!Number.isInteger(it)) throw new NablaError(`index ${pos} must be an integer, got ${it}`, { op });
      return { kind: 'int', i: it, pos };
    }
    if (typeof it === 'string') {
      if (it.trim() === '...') return { kind: 'ellipsis' };
      if (INT_RE.test(it)) return { kind: 'int', i: Number(it), pos };
      const m = SLICE_RE.exec(it);
      if (m === null) {
        throw new NablaError(
          `invalid index '${it}' at position ${pos}: expected an integer, ':', 'start:stop' or 'start:stop:step' (each part an optional integer), or '...'`,
          { op },
        );
      }
      const num = (s: string | undefined): number | null => (s === undefined ? null : Number(s));
      return { kind: 'slice', start: num(m[1]), stop: num(m[2]), step: sliceStep(op, num(m[3])) };
    }
    if (it instanceof Tensor) {
      it._alive(op);
      if (it.device !== x.device) {
        throw new NablaError(`indices should be either on ${x.device} or on the same device as the indexed tensor (got ${it.device})`, { op });
      }
      if (it.dtype === 'bool') return { kind: 'mask', t: it };
      if (it.dtype !== 'int32') throw new NablaError(`tensors used as indices must be int32 or bool tensors (got ${it.dtype} at position ${pos})`, { op });
      // PyTorch reads a 0-d integer tensor as an integer (a view); where reads must wait, it indexes.
      if (it.ndim === 0 && it._ref.backend.readsSync && it._ref.pending === null) return { kind: 'int', i: it.item(), pos };
      return { kind: 'tensor', t: it };
    }
    if (Array.isArray(it)) {
      const t = arrayIndex(op, x, it as IndexArray, pos);
      owned.push(t);
      return t.dtype === 'bool' ? { kind: 'mask', t } : { kind: 'tensor', t };
    }
    if (typeof it === 'object') {
      const s = it as Slice;
      return { kind: 'slice', start: bound(op, s.start, 'start'), stop: bound(op, s.stop, 'stop'), step: sliceStep(op, s.step) };
    }
    throw new NablaError(`index ${pos} has unsupported type ${describe(it)} (expected an integer, a slice string, '...', null, an array or a Tensor)`, { op });
  }
}

/** A nested array of numbers (int32) or booleans (bool) as a tensor on x's device. */
function arrayIndex(op: string, x: Tensor, arr: IndexArray, pos: number): Tensor {
  const shape: number[] = [];
  for (let a: unknown = arr; Array.isArray(a); a = a[0]) shape.push(a.length);
  const flat: (number | boolean)[] = [];
  const walk = (a: unknown, d: number): void => {
    if (d === shape.length) {
      flat.push(a as number | boolean);
      return;
    }
    if (!Array.isArray(a) || a.length !== shape[d]) throw new NablaError(`index ${pos} is a ragged nested array (expected shape ${fmtShape(shape)})`, { op });
    for (const v of a) walk(v, d + 1);
  };
  walk(arr, 0);
  const bool = flat.length > 0 && flat.every((v) => typeof v === 'boolean');
  if (!bool && !flat.every((v) => typeof v === 'number' && Number.isInteger(v))) {
    throw new NablaError(`index ${pos} must be an array of integers or of booleans`, { op });
  }
  const data = bool ? Uint8Array.from(flat, (v) => (v ? 1 : 0)) : Int32Array.from(flat as number[]);
  return fromTypedArray(x.rt, x.device, bool ? 'bool' : 'int32', shape, data, op);
}

/** The bool masks among the entries (their values are needed before indexing). */
function masksOf(items: readonly Parsed[]): Tensor[] {
  return items.flatMap((p) => (p.kind === 'mask' || p.kind === 'newmask' ? [p.t] : []));
}

type MaskValues = Map<Tensor, ArrayLike<number>>;

/** Mask values read synchronously, or an error naming the async method. */
export function readMaskSync(op: string, asyncName: string, m: Tensor): ArrayLike<number> {
  if (!m._ref.backend.readsSync) {
    throw new NablaError(
      `a bool mask's values decide the result's shape, and device '${m.device}' cannot be read synchronously; use await ${asyncName} instead`,
      { op },
    );
  }
  return m.dataSync();
}

function readMasksSync(op: string, asyncName: string, items: readonly Parsed[]): MaskValues {
  return new Map(masksOf(items).map((m) => [m, readMaskSync(op, asyncName, m)]));
}

async function readMasksAsync(items: readonly Parsed[]): Promise<MaskValues> {
  const masks = masksOf(items);
  const values = await Promise.all(masks.map((m) => m.data()));
  return new Map(masks.map((m, i) => [m, values[i]!]));
}

// ---- the strided slice view

/** Python's slice bounds for a dim of `size` (clamped; an empty slice when stop <= start). */
function sliceBounds(size: number, start: number | null, stop: number | null, step: number): [number, number] {
  const norm = (v: number | null, dflt: number): number => {
    if (v === null) return dflt;
    const w = v < 0 ? v + size : v;
    return Math.min(Math.max(w, 0), size);
  };
  const s = norm(start, 0);
  const e = Math.max(norm(stop, size), s);
  return [s, Math.ceil((e - s) / step)];
}

/** `x[..., start:stop:step, ...]` along `dim`: a view (SliceBackward0). */
export function slice(x: Tensor, dim: number, start: number | null, stop: number | null, step = 1): Tensor {
  x._alive('slice');
  if (x.ndim === 0) throw new NablaError('slice() cannot be applied to a 0-dim tensor.', { op: 'slice' });
  const d = normalizeDim(dim, x.ndim, 'slice');
  const st = sliceStep('slice', step);
  const [s, len] = sliceBounds(x.shape[d]!, start, stop, st);
  return sliceView(x, d, s, len, st);
}

/** A full slice (`':'`) is still a SliceBackward0 node, as in PyTorch, but its gradient is the incoming one. */
const fullSliceGrad = grad<SliceAttr>('SliceBackward0', (g) => [g[0]!]);

function sliceView(x: Tensor, d: number, s: number, len: number, step: number): Tensor {
  const shape = x.shape.slice();
  const strides = x._strides.slice();
  shape[d] = len;
  strides[d] = x._strides[d]! * step;
  const fn: ViewFn = (u) => sliceView(u, d, s, len, step);
  const full = s === 0 && len === x.shape[d] && (step === 1 || len <= 1);
  return makeView(x, shape, strides, x._offset + s * x._strides[d]!, full ? fullSliceGrad : sliceGrad, { inShape: x.shape, fn }, fn);
}

// ---- applying an index

interface Applied {
  /** The view after the basic entries. */
  view: Tensor;
  /** One entry per dim of `view`: its integer index tensor, or null. */
  entries: (Tensor | null)[] | null;
  /** Tensors made here that the caller disposes. */
  temps: Tensor[];
}

/** The basic entries as views of x; masks expanded into one integer tensor per dim they cover. */
function applyBasic(op: string, x: Tensor, items: readonly Parsed[], masks: MaskValues): Applied {
  let consumed = 0;
  for (const p of items) {
    if (p.kind === 'int' || p.kind === 'slice' || p.kind === 'tensor') consumed++;
    else if (p.kind === 'mask') consumed += p.t.ndim;
  }
  if (consumed > x.ndim) throw new NablaError(`too many indices for tensor of dimension ${x.ndim} (got ${consumed})`, { op });
  const temps: Tensor[] = [];
  let v = x;
  const step = (next: Tensor): void => {
    if (v !== x) v.dispose();
    v = next;
  };
  let dim = 0;
  const adv = new Map<number, Tensor>();
  try {
    for (const p of items) {
      switch (p.kind) {
        case 'int': {
          const size = v.shape[dim]!;
          // PyTorch names the entry's position in the index as the dimension.
          if (p.i < -size || p.i >= size) throw new NablaError(`index ${p.i} is out of bounds for dimension ${p.pos} with size ${size}`, { op });
          step(v.select(dim, p.i));
          break;
        }
        case 'slice': {
          const [s, len] = sliceBounds(v.shape[dim]!, p.start, p.stop, p.step);
          step(sliceView(v, dim, s, len, p.step));
          dim++;
          break;
        }
        case 'ellipsis':
          dim += x.ndim - consumed;
          break;
        case 'new':
          step(v.unsqueeze(dim));
          dim++;
          break;
        case 'tensor':
          adv.set(dim++, p.t);
          break;
        case 'newmask': {
          step(v.unsqueeze(dim));
          const [c] = maskCoords(p.t, masks.get(p.t)!);
          temps.push(c!);
          adv.set(dim++, c!);
          break;
        }
        case 'mask': {
          const k = p.t.ndim;
          const want = v.shape.slice(dim, dim + k);
          for (let i = 0; i < k; i++) {
            if (p.t.shape[i] !== want[i]) {
              throw new NablaError(
                `The shape of the mask ${fmtShape(p.t.shape)} at index ${i} does not match the shape of the indexed tensor ${fmtShape(v.shape)} at index ${dim + i}`,
                { op },
              );
            }
          }
          const coords = maskCoords(p.t, masks.get(p.t)!);
          coords.forEach((c, i) => {
            temps.push(c);
            adv.set(dim + i, c);
          });
          dim += k;
          break;
        }
      }
    }
  } catch (e) {
    if (v !== x) v.dispose();
    for (const t of temps) t.dispose();
    throw e;
  }
  const entries = adv.size === 0 ? null : v.shape.map((_, d) => adv.get(d) ?? null);
  return { view: v, entries, temps };
}

/** The coordinates of a mask's `true` entries, one int32 tensor [count] per mask dim (nonzero). */
function maskCoords(mask: Tensor, values: ArrayLike<number>): Tensor[] {
  const host = trueOffsets(values);
  const count = host.length;
  const out: Tensor[] = [];
  let stride = 1;
  const strides = mask.shape.map(() => 0);
  for (let d = mask.ndim - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= mask.shape[d]!;
  }
  for (let d = 0; d < mask.ndim; d++) {
    const c = new Int32Array(count);
    for (let i = 0; i < count; i++) c[i] = Math.floor(host[i]! / strides[d]!) % mask.shape[d]!;
    out.push(fromTypedArray(mask.rt, mask.device, 'int32', [count], c, 'index'));
  }
  return out;
}

function runIndex(op: string, x: Tensor, items: readonly Parsed[], masks: MaskValues, owned: Tensor[]): Tensor {
  const { view, entries, temps } = applyBasic(op, x, items, masks);
  try {
    if (entries === null) return view === x ? aliasView(x) : view;
    const { plan, rows } = planIndex(op, view, entries);
    const out = applyIndex(view, plan, rows);
    rows.dispose();
    if (view !== x) view.dispose();
    return out;
  } catch (e) {
    if (view !== x) view.dispose();
    throw e;
  } finally {
    for (const t of temps) t.dispose();
    for (const t of owned) t.dispose();
  }
}

/**
 * `x[...]` in PyTorch: `x.index([0, ':', '1:5:2', null, '...'])` is `x[0, :, 1:5:2, None, ...]`.
 * Integers, slices, `'...'` and `null` give a view of `x`; integer tensors (or arrays) and bool
 * masks index as PyTorch's advanced indexing and give a copy.
 *
 * @example
 * const x = nabla.arange(12).reshape(3, 4);
 * x.index([':', '1:3']).tolist();          // [[1, 2], [5, 6], [9, 10]] (a view of x)
 * x.index(['...', -1]).tolist();           // [3, 7, 11]
 * x.index([[0, 2], '::3']).tolist();       // [[0, 3], [8, 11]]
 * x.index([x.gt(8)]).tolist();             // [9, 10, 11]
 */
export function index(x: Tensor, spec: IndexItem | readonly IndexItem[]): Tensor {
  const op = 'index';
  x._alive(op);
  const owned: Tensor[] = [];
  try {
    const items = parse(op, x, spec, owned);
    return runIndex(op, x, items, readMasksSync(op, 'x.indexAsync(...)', items), owned);
  } catch (e) {
    for (const t of owned) t.dispose();
    throw e;
  }
}

/** {@link index} for devices that cannot be read synchronously (bool masks are read with `await`). */
export async function indexAsync(x: Tensor, spec: IndexItem | readonly IndexItem[]): Promise<Tensor> {
  const op = 'index';
  x._alive(op);
  const owned: Tensor[] = [];
  try {
    const items = parse(op, x, spec, owned);
    return runIndex(op, x, items, await readMasksAsync(items), owned);
  } catch (e) {
    for (const t of owned) t.dispose();
    throw e;
  }
}

export interface IndexPutOptions {
  /** Add `value` into the indexed positions instead of overwriting them (duplicates add up). */
  accumulate?: boolean;
}

function runIndexPut(op: string, x: Tensor, items: readonly Parsed[], masks: MaskValues, value: Operand, accumulate: boolean, owned: Tensor[]): Tensor {
  if (value instanceof Tensor) value._alive(op);
  else if (typeof value !== 'number' && typeof value !== 'boolean') {
    throw new NablaError(`value must be a Tensor or a number, got ${describe(value)}`, { op });
  }
  const { view, entries, temps } = applyBasic(op, x, items, masks);
  try {
    if (entries === null) {
      const vShape = value instanceof Tensor ? value.shape : [];
      let fits = false;
      try {
        fits = shapesEqual(broadcastShapes(vShape, view.shape), view.shape);
      } catch {
        fits = false;
      }
      if (!fits) {
        throw new NablaError(`shape mismatch: value tensor of shape ${fmtShape(vShape)} cannot be broadcast to indexing result of shape ${fmtShape(view.shape)}`, { op });
      }
      if (accumulate) view.add_(value);
      else view.copy_(typeof value === 'boolean' ? Number(value) : value);
      return x;
    }
    const { plan, rows } = planIndex(op, view, entries);
    try {
      inplaceCompute(op, view, [value], (old) => indexPut(old, plan, rows, value, accumulate, op));
    } finally {
      rows.dispose();
    }
    return x;
  } finally {
    if (view !== x) view.dispose();
    for (const t of temps) t.dispose();
    for (const t of owned) t.dispose();
  }
}

/**
 * `x[...] = value` in PyTorch (and `index_put_` with `accumulate`): writes `value` (broadcast to
 * the indexed shape) into `x` in place and returns `x`. Basic entries write through a view of `x`;
 * with index tensors or masks the write is PyTorch's `index_put_` (node IndexPutBackward0).
 *
 * @example
 * const x = nabla.zeros([3, 4]);
 * x.indexPut_([':', '1:3'], 1);                         // x[:, 1:3] = 1
 * x.indexPut_([[0, 0]], nabla.ones([4]), { accumulate: true }); // row 0 gets 2 added
 */
export function indexPut_(x: Tensor, spec: IndexItem | readonly IndexItem[], value: Operand, opts: IndexPutOptions = {}): Tensor {
  const op = 'indexPut_';
  x._alive(op);
  const owned: Tensor[] = [];
  try {
    const items = parse(op, x, spec, owned);
    return runIndexPut(op, x, items, readMasksSync(op, 'x.indexPutAsync_(...)', items), value, opts.accumulate ?? false, owned);
  } catch (e) {
    for (const t of owned) t.dispose();
    throw e;
  }
}

/** {@link indexPut_} for devices that cannot be read synchronously. */
export async function indexPutAsync_(x: Tensor, spec: IndexItem | readonly IndexItem[], value: Operand, opts: IndexPutOptions = {}): Promise<Tensor> {
  const op = 'indexPut_';
  x._alive(op);
  const owned: Tensor[] = [];
  try {
    const items = parse(op, x, spec, owned);
    return runIndexPut(op, x, items, await readMasksAsync(items), value, opts.accumulate ?? false, owned);
  } catch (e) {
    for (const t of owned) t.dispose();
    throw e;
  }
}
