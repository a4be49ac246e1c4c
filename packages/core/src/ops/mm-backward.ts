/**
 * The gradients of a matrix product's operands, shared by mm and addmm: PyTorch's
 * `mm_mat1_backward` and `mm_mat2_backward`, layout rule included.
 *
 * The gradient of a column-major operand (an `x.t()`: what nn's Linear passes as `w.t()`, and the
 * `Wᵀ`, `hᵀ` the first-order backward hands the products it records for double backward) is
 * computed as the transpose of a row-major product, so it reaches the transpose's source
 * contiguous. The other way it would arrive transposed, and every add or accumulation after it
 * would be a strided elementwise pass (~10× a dense one on the HVP's 64×256 gradients). The
 * multiply-adds are the same either way.
 */
import type { Tensor } from '../tensor/tensor.js';

/** Stored column-major (a transpose of a row-major matrix): PyTorch's test, strides [1, rows]. Taken at the forward, as PyTorch records mat1's and mat2's strides. */
export function columnMajor(t: Tensor): boolean {
  return t._strides[0] === 1 && t._strides[1] === t.shape[0];
}

/** Which operands of a product were column-major when it ran (a node's attrs). */
export interface MmLayout {
  readonly cm1: boolean;
  readonly cm2: boolean;
}

export function mmLayout(mat1: Tensor, mat2: Tensor): MmLayout {
  return { cm1: columnMajor(mat1), cm2: columnMajor(mat2) };
}

/** d(mat1 @ mat2)/d mat1 applied to `g`: g · mat2ᵀ, as (mat2 · gᵀ)ᵀ when mat1 was column-major. */
export function mmGradMat1(g: Tensor, mat2: Tensor, mat1ColumnMajor: boolean): Tensor {
  return mat1ColumnMajor ? mat2.mm(g.t()).t() : g.mm(mat2.t());
}

/** d(mat1 @ mat2)/d mat2 applied to `g`: mat1ᵀ · g, as (gᵀ · mat1)ᵀ when mat2 was column-major. */
export function mmGradMat2(g: Tensor, mat1: Tensor, mat2ColumnMajor: boolean): Tensor {
  return mat2ColumnMajor ? g.t().mm(mat1).t() : mat1.t().mm(g);
}
