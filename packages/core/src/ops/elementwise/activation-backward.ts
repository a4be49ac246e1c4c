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
 * The w.r.t.-y halves are fused ops too (`tanhBackwardY`, `sigmoidBackwardY`).
 */
import * as E from '../../expr/build.js';
import { defineElementwise, runElementwise, type ElementwiseOpDef } from './define.js';

const g = E.input(0);
const y = E.input(1);
const a = E.input(0);
const b = E.input(1);
const c = E.input(2);

/**
 * The second derivatives' other halves, each one kernel where composing them took three or four
 * (and as many tensor-sized temporaries): with gg the incoming gradient, g the first backward's
 * upstream gradient and y the forward's output,
 * - tanhBackwardY(gg, g, y) = gg·(−2·y·g) (PyTorch's formula for tanh_backward w.r.t. y);
 * - sigmoidBackwardY(gg, g, y) = gg·g·(1 − 2y).
 * Their own gradients stay fused (third derivatives): tanhBackwardY is −2 times the product of its
 * operands, so its gradient w.r.t. each is itself with that operand replaced by the incoming
 * gradient; sigmoidBackwardY is linear in gg and in g the same way, and its gradient w.r.t. y is
 * −2·go·gg·g, tanhBackwardY(go, gg, g).
 */
export const tanhBackwardY: ElementwiseOpDef = defineElementwise({
  name: 'tanhBackwardY',
  arity: 3,
  dtype: 'float',
  expr: E.mul(a, E.mul(E.mul(E.c(-2), c), b)),
  grad: {
    name: 'TanhBackwardYBackward0',
    save: 'inputs',
    uses: [[1, 2], [0, 2], [0, 1]],
    backward: (go, n) => [
      n.needs(0) ? runElementwise(tanhBackwardY, [go, n.tensor(1), n.tensor(2)]) : null,
      n.needs(1) ? runElementwise(tanhBackwardY, [go, n.tensor(0), n.tensor(2)]) : null,
      n.needs(2) ? runElementwise(tanhBackwardY, [go, n.tensor(0), n.tensor(1)]) : null,
    ],
  },
});

export const sigmoidBackwardY: ElementwiseOpDef = defineElementwise({
  name: 'sigmoidBackwardY',
  arity: 3,
  dtype: 'float',
  expr: E.mul(E.mul(a, b), E.sub(E.c(1), E.mul(E.c(2), c))),
  grad: {
    name: 'SigmoidBackwardYBackward0',
    save: 'inputs',
    uses: [[1, 2], [0, 2], [0, 1]],
    backward: (go, n) => [
      n.needs(0) ? runElementwise(sigmoidBackwardY, [go, n.tensor(1), n.tensor(2)]) : null,
      n.needs(1) ? runElementwise(sigmoidBackwardY, [go, n.tensor(0), n.tensor(2)]) : null,
      n.needs(2) ? runElementwise(tanhBackwardY, [go, n.tensor(0), n.tensor(1)]) : null,
    ],
  },
});

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
        n.needs(1) ? runElementwise(tanhBackwardY, [gg, n.tensor(0), out]) : null,
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
        n.needs(1) ? runElementwise(sigmoidBackwardY, [gg, n.tensor(0), out]) : null,
      ];
    },
  },
});
