/**
 * Windows and padding for gradients of ops that read only the leading part of an operand
 * (scatter and scatterAdd read as much of `src` as the index covers).
 */
import type { Tensor } from '../tensor/tensor.js';
import { zerosOf } from './dispatch.js';
import { scatterInto } from './view.js';

/** The leading window of `t` with `shape` (a view). */
export function leading(t: Tensor, shape: readonly number[]): Tensor {
  let v = t;
  shape.forEach((n, i) => {
    if (n !== v.shape[i]) {
      const w = v.narrow(i, 0, n);
      if (v !== t) v.dispose();
      v = w;
    }
  });
  return v;
}

/**
 * `g` (index-shaped) as the gradient of a source that may be larger than the index: zeros beyond
 * the window the op read (PyTorch 1.13 returns the index-shaped gradient and fails there).
 */
export function padTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((n, i) => n === shape[i])) return g;
  const z = zerosOf(g, shape);
  const out = scatterInto(z, g, (u) => leading(u, g.shape));
  z.dispose();
  return out;
}
