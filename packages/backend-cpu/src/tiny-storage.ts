/**
 * Typed arrays for tiny storages (at most `TINY_NUMEL` elements: scalars, mostly), carved out of
 * shared slabs.
 *
 * `new Float32Array(1)` makes three heap objects: the typed array, an `ArrayBuffer` (88 bytes) and
 * the 4-byte backing store. A scalar graph makes one storage per op and keeps most of them until
 * backward, so those bytes are copied by every young-generation collection. A typed array over a
 * slice of a shared `ArrayBuffer` is the typed array alone.
 *
 * The cost is that a slab lives as long as any array carved from it: a tensor kept for long keeps
 * `SLAB_BYTES` (not only its own bytes) from the collector. Slabs are small so that this stays a
 * few hundred bytes; the accounting in `memory()` counts each storage's own bytes either way.
 */
import type { DType, TypedArray } from '@nabla/core';
import { bytesPer, typedArrayClass } from './dtypes.js';

/** Bytes per slab: 128 float32 scalars, and at most this much kept alive by one long-lived scalar. */
export const SLAB_BYTES = 512;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/** A zeroed typed array of `numel` elements (numel * element size must not exceed `SLAB_BYTES`). */
export function tinyTypedArray(dtype: DType, numel: number): TypedArray {
  // The float dtypes (every op of a scalar graph makes one) are named outright: a size read from
  // a constructor picked by dtype, and a `new` of it, see six classes and go megamorphic.
  const size = dtype === 'float32' ? 4 : dtype === 'float64' ? 8 : bytesPer(dtype);
  // Offsets are multiples of the element size, as typed arrays require.
  let at = (used + size - 1) & -size;
  if (at + numel * size > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    at = 0;
  }
  used = at + numel * size;
  if (dtype === 'float32') return new Float32Array(slab, at, numel);
  if (dtype === 'float64') return new Float64Array(slab, at, numel);
  return new (typedArrayClass(dtype))(slab, at, numel);
}
