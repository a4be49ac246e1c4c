/**
 * The 16-bit float casts, installed on Tensor beside `methods-everyday.ts`'s `float()`/`double()`.
 */
import { Tensor } from '../tensor/tensor.js';
import { to } from './convert.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    /**
     * `to('float16')`: a copy rounded to IEEE half precision (nearest even); keeps the graph.
     * @example nabla.tensor([1.0001, 70000]).half().tolist(); // [1, Infinity]
     */
    half(): Tensor;
    /**
     * `to('bfloat16')`: a copy rounded to bfloat16 (float32's range, 8 significant bits); keeps the graph.
     * @example nabla.tensor([1.001]).bfloat16().tolist(); // [1]
     */
    bfloat16(): Tensor;
  }
}

Object.assign(Tensor.prototype as unknown as Record<string, unknown>, {
  half(this: Tensor) {
    return to(this, 'float16');
  },
  bfloat16(this: Tensor) {
    return to(this, 'bfloat16');
  },
});
