/**
 * The backward formulas of tanh and sigmoid as ops of their own, PyTorch's `tanh_backward(g, y)`
 * and `sigmoid_backward(g, y)`: one expression, so every backend runs it as one kernel that rounds
 * once. Composed from tensor ops (`g.mul(y.square().neg().add(1))`), a float16/bfloat16 gradient
 * would round after each of four ops; PyTorch's fused kernels round once, and so do these.
 *
 * Being ops with gradients, they record a node when `y` carries a graph (createGraph), so tanh's
 * and sigmoid's gradients stay differentiable (double backward), as PyTorch's
 * TanhBackwardBackward0 and SigmoidBackwardBackward0:
 * - tanh_backward(g, y) = g·(1 − y²): w.r.t. g, tanh_backward(gg, y); w.r.t. y, −2·gg·g·y;
 * - sigmoid_backward(g, y) = g·(1 − y)·y: w.r.t. g, sigmoid_backward(gg, y); w.r.t. y, gg·g·(1 − 2y).
 */
import * as E from '../../expr/build.js';
import { defineElementwise, runElementwise, type ElementwiseOpDef } from './define.js';

const g = E.input(0);
const y = E.input(1);

export const tanhBackward: ElementwiseOpDef = defineElementwise({
  name: 'tanhBackward',
  arity: 2,
  dtype: 'float',
  expr: E.mul(g, E.sub(E.c(1), E.mul(y, y))),
  grad: {
    name: 'TanhBackwardBackward0',
    save: 'inputs',
    uses: [[1], [0, 1]],
    backward: (gg, n) => {
      const out = n.tensor(1);
      return [
        n.needs(0) ? runElementwise(tanhBackward, [gg, out]) : null,
        n.needs(1) ? gg.mul(n.tensor(0)).mul(out).mul(-2) : null,
      ];
    },
  },
});

export const sigmoidBackward: ElementwiseOpDef = defineElementwise({
  name: 'sigmoidBackward',
  arity: 2,
  dtype: 'float',
  expr: E.mul(E.mul(g, E.sub(E.c(1), y)), y),
  grad: {
    name: 'SigmoidBackwardBackward0',
    save: 'inputs',
    uses: [[1], [0, 1]],
    backward: (gg, n) => {
      const out = n.tensor(1);
      return [
        n.needs(0) ? runElementwise(sigmoidBackward, [gg, out]) : null,
        n.needs(1) ? gg.mul(n.tensor(0)).mul(out.mul(-2).add(1)) : null,
      ];
    },
  },
});
