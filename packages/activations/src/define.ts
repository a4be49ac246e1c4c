/**
 * One activation = a forward expression f(x), its derivative expression f'(x), and f''(x)
 * written with differentiable tensor ops. From that we declare two elementwise ops:
 *
 *   name(x)                 forward, one fused kernel;    gradient: nameBackward(x, g)
 *   nameBackward(x, g)      g · f'(x), one fused kernel;  gradient: [gg · g · f''(x), gg · f'(x)]
 *
 * so backward is a single kernel, and derivatives of every order stay correct: the second
 * derivative goes through f'' (tensor ops, differentiable again), never through a detached copy.
 * Where f'(x) is costly (`cachedDf`), a forward that records a node may compute it with f(x) in one
 * pass and keep it (core's `runWithDerivative`): the first backward is then g · f'(x), a multiply;
 * a backward that records a graph takes that value too, recorded as nameBackward(x, g)'s node.
 */
import { defineElementwise, gradFromCache, recordedGradFromCache, expr as E, NablaError, runElementwise, type ElementwiseOpDef, type Expr, type Tensor } from '@nabla/core';

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
  /**
   * f''(x) as an expression, optional. With it, a second derivative taken without `createGraph`
   * (nothing will differentiate it again) runs as one fused kernel, gg · g · f''(x), instead of
   * the half-dozen tensor ops of `d2f`; with `createGraph` the tensor ops still run, so every
   * higher order stays right.
   */
  readonly d2fExpr?: (x: Expr, p: readonly Expr[]) => Expr;
}

export interface Activation {
  readonly spec: ActivationSpec;
  readonly forward: ElementwiseOpDef;
  /** g · f'(x), fused. */
  readonly backward: ElementwiseOpDef;
  /** f'(x) alone (the gradient of `backward` w.r.t. g). */
  readonly derivative: ElementwiseOpDef;
  /** gg · g · f''(x) fused (inputs x, g, gg), where the spec gives `d2fExpr`; never differentiated. */
  readonly second?: ElementwiseOpDef;
  /**
   * f'(x) over `input(0)` and the params, when it is costly (a transcendental: exp, log, tanh,
   * sigmoid, erf, ...): the forward then computes it with f(x) in one pass where it records a node
   * and the backend can (core's `runWithDerivative`), and the first backward is g · f'(x).
   */
  readonly cachedDf?: Expr;
}

const COSTLY = new Set(['exp', 'expm1', 'log', 'log1p', 'tanh', 'sigmoid', 'erf', 'pow', 'sin', 'cos', 'tan', 'atan', 'asin', 'acos']);

/** Whether `e` evaluates a transcendental function. */
function costly(e: Expr): boolean {
  if (e.op === 'input' || e.op === 'param' || e.op === 'const') return false;
  if (COSTLY.has(e.op)) return true;
  if (e.op === 'where') return costly(e.cond) || costly(e.a) || costly(e.b);
  return costly(e.a) || ('b' in e && costly(e.b));
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

  const second: ElementwiseOpDef | undefined =
    spec.d2fExpr === undefined
      ? undefined
      : defineElementwise({
          name: `${spec.name}BackwardBackward`,
          arity: 3,
          numParams,
          dtype: 'float',
          expr: E.mul(E.mul(E.input(2), g), spec.d2fExpr(x, p)),
          grad: {
            name: spec.gradName.replace(/Backward0$/, 'BackwardBackwardBackward0'),
            save: 'none',
            backward: () => {
              // Only run with grad mode off (see `backward` below), so no node of it is ever recorded.
              throw new NablaError(`${spec.name}: the fused second derivative is not differentiable; take the gradient with createGraph`, { op: `${spec.name}BackwardBackward` });
            },
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
        // Without createGraph the result is never differentiated: one fused kernel will do.
        const fused = second !== undefined && !xs.rt.isGradEnabled();
        return [
          n.needs(0) ? (fused ? runElementwise(second, [xs, n.tensor(1), gg], params) : gg.mul(n.tensor(1)).mul(spec.d2f(xs, params))) : null,
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
      backward: (gOut, n) => {
        // x first: its in-place check holds whether or not the forward's f'(x) is used.
        const xs = n.tensor(0);
        // A backward that records a graph gets backward(x, g)'s node, its value from the cache.
        const cached = xs.rt.isGradEnabled() ? recordedGradFromCache(n, backward, xs, gOut) : gradFromCache(n, gOut);
        return [cached ?? runElementwise(backward, [xs, gOut], n.attrs.params)];
      },
    },
  });

  const dfExpr = spec.df(x, p);
  const cachedDf = costly(dfExpr) ? dfExpr : undefined;
  return { spec, forward, backward, derivative, ...(second !== undefined ? { second } : {}), ...(cachedDf !== undefined ? { cachedDf } : {}) };
}
