/**
 * One activation = a forward expression f(x), its derivative expression f'(x), and f''(x)
 * written with differentiable tensor ops. From that we declare two elementwise ops:
 *
 *   name(x)                 forward, one fused kernel;    gradient: nameBackward(x, g)
 *   nameBackward(x, g)      g · f'(x), one fused kernel;  gradient: [gg · g · f''(x), gg · f'(x)]
 *
 * so backward is a single kernel, and derivatives of every order stay correct: the second
 * derivative goes through f'' (tensor ops, differentiable again), never through a detached copy.
 */
import { defineElementwise, expr as E, runElementwise, type ElementwiseOpDef, type Expr, type Tensor } from '@nabla/core';

export interface ActivationSpec {
  /** Function and op name (`silu`). */
  readonly name: string;
  /** PyTorch's node name (`SiluBackward0`). */
  readonly gradName: string;
  /** Scalar parameters (alpha, beta, ...), in call order. */
  readonly params?: readonly string[];
  /** f(x) over `x = input(0)` and `param(i)`. */
  readonly f: (x: Expr, p: readonly Expr[]) => Expr;
  /** f'(x), same inputs. */
  readonly df: (x: Expr, p: readonly Expr[]) => Expr;
  /** f''(x) with tensor ops (only used for second and higher derivatives). */
  readonly d2f: (x: Tensor, p: readonly number[]) => Tensor;
}

export interface Activation {
  readonly spec: ActivationSpec;
  readonly forward: ElementwiseOpDef;
  /** g · f'(x), fused. */
  readonly backward: ElementwiseOpDef;
  /** f'(x) alone (the gradient of `backward` w.r.t. g). */
  readonly derivative: ElementwiseOpDef;
}

export function defineActivation(spec: ActivationSpec): Activation {
  const x = E.input(0);
  const g = E.input(1);
  const p = (spec.params ?? []).map((_, i) => E.param(i));
  const numParams = p.length;

  const derivative: ElementwiseOpDef = defineElementwise({
    name: `${spec.name}Derivative`,
    arity: 1,
    numParams,
    dtype: 'float',
    expr: spec.df(x, p),
    grad: {
      name: `${spec.gradName}Derivative`,
      save: 'inputs',
      backward: (gg, n) => [gg.mul(spec.d2f(n.tensor(0), n.attrs.params))],
    },
  });

  const backward: ElementwiseOpDef = defineElementwise({
    name: `${spec.name}Backward`,
    arity: 2,
    numParams,
    dtype: 'float',
    expr: E.mul(g, spec.df(x, p)),
    grad: {
      // PyTorch's name for the node of a gradient's gradient: HardtanhBackward0 → HardtanhBackwardBackward0.
      name: spec.gradName.replace(/Backward0$/, 'BackwardBackward0'),
      save: 'inputs',
      backward: (gg, n) => {
        const xs = n.tensor(0);
        const params = n.attrs.params;
        return [
          n.needs(0) ? gg.mul(n.tensor(1)).mul(spec.d2f(xs, params)) : null,
          n.needs(1) ? gg.mul(runElementwise(derivative, [xs], params)) : null,
        ];
      },
    },
  });

  const forward: ElementwiseOpDef = defineElementwise({
    name: spec.name,
    arity: 1,
    numParams,
    dtype: 'float',
    expr: spec.f(x, p),
    grad: {
      name: spec.gradName,
      save: 'inputs',
      backward: (gOut, n) => [runElementwise(backward, [n.tensor(0), gOut], n.attrs.params)],
    },
  });

  return { spec, forward, backward, derivative };
}
