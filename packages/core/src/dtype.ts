/**
 * Element types and PyTorch's type-promotion rules.
 *
 * Nabla has four dtypes. `int32` stands in for PyTorch's int64 (indices, argmax) and `bool` holds
 * 0/1 in a Uint8Array.
 */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

/** The typed array that holds each dtype on the host. */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export interface TypedArrayFor {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  bool: Uint8Array;
}

type TypedArrayCtor = { new (n: number): TypedArray; new (a: ArrayLike<number>): TypedArray; BYTES_PER_ELEMENT: number };

const CTORS: Record<DType, TypedArrayCtor> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  bool: Uint8Array,
};

export function typedArrayCtor(dtype: DType): TypedArrayCtor {
  return CTORS[dtype];
}

export function allocTypedArray<D extends DType>(dtype: D, n: number): TypedArrayFor[D] {
  return new CTORS[dtype](n) as TypedArrayFor[D];
}

export function bytesPerElement(dtype: DType): number {
  return CTORS[dtype].BYTES_PER_ELEMENT;
}

export function isFloating(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'float64' || x === 'int32' || x === 'bool';
}

export function dtypeOfTypedArray(a: ArrayBufferView): DType | null {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'bool';
  return null;
}

/** Kind order used by promotion: bool < int < float. */
const KIND: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 2 };
const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** The smallest dtype that holds both (PyTorch's `promote_types`). */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

export function dtypeKind(d: DType): number {
  return KIND[d];
}

/**
 * An operand as seen by type promotion: a tensor with dims, a 0-d tensor, or a JS number
 * ("wrapped number"). PyTorch lets a lower category raise the result only to a higher *kind*
 * (bool < int < float), never to a wider type of the same kind: float32[3] * float64 0-d stays
 * float32, int32[3] * 2.5 becomes float32 (the default float dtype).
 */
export interface PromotionOperand {
  readonly dtype: DType;
  readonly category: 0 | 1 | 2; // 0: has dims, 1: 0-d tensor, 2: JS number
}

export const DEFAULT_FLOAT: DType = 'float32';

export function resultType(operands: readonly PromotionOperand[]): DType {
  let best: [DType | null, DType | null, DType | null] = [null, null, null];
  for (const o of operands) {
    const cur = best[o.category];
    best[o.category] = cur === null ? o.dtype : promoteTypes(cur, o.dtype);
  }
  let result: DType | null = null;
  for (const d of best) {
    if (d === null) continue;
    if (result === null) {
      result = d;
    } else if (KIND[d] > KIND[result]) {
      // A lower-priority operand of a higher kind lifts the result to that kind's default type.
      result = KIND[d] === 2 ? DEFAULT_FLOAT : d;
    }
  }
  return result ?? DEFAULT_FLOAT;
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
