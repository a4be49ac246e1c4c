/**
 * Element types and PyTorch's type-promotion rules.
 *
 * Nabla has six dtypes. `int32` stands in for PyTorch's int64 (indices, argmax) and `bool` holds
 * 0/1 in a Uint8Array. `float16` and `bfloat16` are stored as their 16 raw bits on every device
 * (a backend's `write`/`read` move Uint16Array bit patterns); on the host, in `data()`, `tolist()`
 * and the factories, their values travel as a Float32Array (exact: every 16-bit value is a float32).
 * See `dtype/half.ts` for the conversions and `dtype/finfo.ts` for their limits.
 */
export type DType = 'float32' | 'float64' | 'int32' | 'bool' | 'float16' | 'bfloat16';

/** Every dtype; the order is the kernel registry's slot order (new ones go at the end). */
export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool', 'float16', 'bfloat16'];

/**
 * A typed array holding a dtype's elements: Uint16Array only at the backend boundary, as the bit
 * patterns of a 16-bit float.
 */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array | Uint16Array;

/** The host (value) array of each dtype. */
export interface TypedArrayFor {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  bool: Uint8Array;
  float16: Float32Array;
  bfloat16: Float32Array;
}

type TypedArrayCtor = { new (n: number): TypedArray; new (a: ArrayLike<number>): TypedArray; BYTES_PER_ELEMENT: number };

const CTORS: Record<DType, TypedArrayCtor> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  bool: Uint8Array,
  float16: Float32Array,
  bfloat16: Float32Array,
};

/** The host array type for a dtype's values (Float32Array for the 16-bit floats). */
export function typedArrayCtor(dtype: DType): TypedArrayCtor {
  return CTORS[dtype];
}

export function allocTypedArray<D extends DType>(dtype: D, n: number): TypedArrayFor[D] {
  return new CTORS[dtype](n) as TypedArrayFor[D];
}

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1, float16: 2, bfloat16: 2 };

/** Bytes one element takes on a device (2 for the 16-bit floats). */
export function bytesPerElement(dtype: DType): number {
  return BYTES[dtype];
}

export function isFloating(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'float64' || x === 'int32' || x === 'bool' || x === 'float16' || x === 'bfloat16';
}

/** PyTorch's spellings of Nabla's dtypes, so `to('half')` and `{ dtype: 'float' }` read as in PyTorch. */
const ALIASES: Readonly<Record<string, DType>> = {
  float: 'float32',
  double: 'float64',
  half: 'float16',
  int: 'int32',
};

/** The dtype a name means (a dtype or one of PyTorch's aliases `float double half int`), or null. */
export function parseDType(x: unknown): DType | null {
  if (isDType(x)) return x;
  if (typeof x === 'string' && Object.prototype.hasOwnProperty.call(ALIASES, x)) return ALIASES[x]!;
  return null;
}

/** The valid dtype names, for error messages. */
export function dtypeNames(): string {
  return DTYPES.join(', ');
}

export function dtypeOfTypedArray(a: ArrayBufferView): DType | null {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'bool';
  return null;
}

/** Kind order used by promotion: bool < int < float. */
const KIND: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 2, float16: 2, bfloat16: 2 };
const RANK: Record<DType, number> = { bool: 0, int32: 1, float16: 2, bfloat16: 2, float32: 3, float64: 4 };

/**
 * The smallest dtype that holds both (PyTorch's `promote_types`). float16 and bfloat16 hold
 * neither each other's range nor precision, so together they give float32.
 */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  if (RANK[a] === RANK[b]) return 'float32'; // float16 with bfloat16
  return RANK[a] > RANK[b] ? a : b;
}

export function dtypeKind(d: DType): number {
  return KIND[d];
}

/**
 * An operand as seen by type promotion: a tensor with dims, a 0-d tensor, or a JS number
 * ("wrapped number"). PyTorch lets a lower category raise the result only to a higher *kind*
 * (bool < int < float), never to a wider type of the same kind: float32[3] * float64 0-d stays
 * float32, float16[3] * 2.5 stays float16, int32[3] * 2.5 becomes float32 (a JS float is the
 * default float dtype), int32[3] + a float64 0-d tensor becomes float64 (the 0-d tensor's type).
 */
export interface PromotionOperand {
  readonly dtype: DType;
  readonly category: 0 | 1 | 2; // 0: has dims, 1: 0-d tensor, 2: JS number
}

export const DEFAULT_FLOAT: DType = 'float32';

export function resultType(operands: readonly PromotionOperand[]): DType {
  const best: [DType | null, DType | null, DType | null] = [null, null, null];
  for (const o of operands) {
    const cur = best[o.category];
    // A JS float is the default float dtype (PyTorch wraps Python floats as the default dtype).
    const d = o.category === 2 && KIND[o.dtype] === 2 ? DEFAULT_FLOAT : o.dtype;
    best[o.category] = cur === null ? d : promoteTypes(cur, d);
  }
  // PyTorch's combine_categories(dim, combine_categories(zero-d, wrapped)).
  return combineCategories(best[0], combineCategories(best[1], best[2])) ?? DEFAULT_FLOAT;
}

function combineCategories(higher: DType | null, lower: DType | null): DType | null {
  if (higher === null) return lower;
  if (lower === null || KIND[higher] === 2) return higher;
  // A lower category raises the result only when it is of a higher kind (or over bool).
  if (higher === 'bool' || KIND[lower] === 2) return promoteTypes(higher, lower);
  return higher;
}

/** dtype of a JS number operand: integers are int, others float (as Python scalars). */
export function numberDType(v: number | boolean): DType {
  if (typeof v === 'boolean') return 'bool';
  return Number.isInteger(v) ? 'int32' : 'float32';
}

/** The float dtype an op like `exp` computes in: floats stay, ints and bools become float32. */
export function toFloating(d: DType): DType {
  return isFloating(d) ? d : DEFAULT_FLOAT;
}
