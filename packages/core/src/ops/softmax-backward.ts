/**
 * softmax's and logSoftmax's backward as PyTorch's `_softmax_backward_data` and
 * `_log_softmax_backward_data` compute them for 16-bit tensors, composed from differentiable ops
 * (so double backward flows through, casts included):
 * - float16 (PyTorch's kernels are CUDA's; its CPU has none in 1.13): the 16-bit output and
 *   gradient are read as float32, everything runs in float32, and the result is rounded once;
 * - bfloat16 (PyTorch 1.13's CPU kernel): the same, except that the row sum is rounded to
 *   bfloat16 before it is used, as that kernel stores it. Both match PyTorch to the bit on the
 *   fixtures, where composing in the 16-bit type (every op rounding) was up to 100 ulps off.
 * Other dtypes run the formula as is.
 */
import { isHalfDType } from '../dtype/half.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * `rest(y, g, sum(summand(y, g), dim))` with PyTorch's 16-bit roundings. `y` is the saved
 * output, `g` the incoming gradient.
 */
export function rowBackward(
  y: Tensor,
  g: Tensor,
  dim: number,
  summand: (y: Tensor, g: Tensor) => Tensor,
  rest: (y: Tensor, g: Tensor, s: Tensor) => Tensor,
): Tensor {
  const dtype = y.dtype;
  if (!isHalfDType(dtype)) return rest(y, g, summand(y, g).sum(dim, true));
  const y32 = y.float();
  const g32 = isHalfDType(g.dtype) ? g.float() : g;
  let s = summand(y32, g32).sum(dim, true);
  if (dtype === 'bfloat16') s = s.to('bfloat16').float();
  return rest(y32, g32, s).to(dtype);
}
