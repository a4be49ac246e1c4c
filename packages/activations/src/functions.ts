/**
 * The activation functions. Each runs its fused op on the tensor's device; the op must have been
 * declared in the tensor's runtime by installing `activations()`.
 *
 * @example
 * import * as nabla from '@nabla/core';
 * import * as act from '@nabla/activations';
 * await nabla.use(act.activations());
 * const y = act.gelu(nabla.tensor([-1, 0, 1]), { approximate: 'tanh' });
 */
import { NablaError, runElementwise, runWithDerivative, Tensor } from '@nabla/core';
import type { Activation } from './define.js';
import { keepsDerivative } from './plugin.js';
import * as A from './table.js';

function run(a: Activation, x: Tensor, params: readonly number[] = []): Tensor {
  const op = a.spec.name;
  if (!(x instanceof Tensor)) throw new NablaError(`expected a Tensor, got ${typeof x}`, { op });
  if (x.rt.ops.get(op) !== a.forward) {
    throw new NablaError(`the activations plugin is not installed in this tensor's runtime: await nabla.use(activations()) first`, { op });
  }
  for (const p of params) {
    if (typeof p !== 'number' || Number.isNaN(p)) throw new NablaError(`parameters must be numbers, got ${String(p)}`, { op });
  }
  return a.cachedDf !== undefined && keepsDerivative(x.rt) ? runWithDerivative(a.forward, a.cachedDf, x, params) : runElementwise(a.forward, [x], params);
}

/** x · σ(x) (Swish). */
export const silu = (x: Tensor): Tensor => run(A.silu, x);
/** x · tanh(softplus(x)). */
export const mish = (x: Tensor): Tensor => run(A.mish, x);
export const hardswish = (x: Tensor): Tensor => run(A.hardswish, x);
export const hardsigmoid = (x: Tensor): Tensor => run(A.hardsigmoid, x);

export interface GeluOptions {
  /** `'none'` (exact, with erf; the default) or `'tanh'` (the tanh approximation). */
  approximate?: 'none' | 'tanh';
}

export function gelu(x: Tensor, opts: GeluOptions = {}): Tensor {
  const mode = opts?.approximate ?? 'none';
  if (mode !== 'none' && mode !== 'tanh') throw new NablaError(`approximate must be 'none' or 'tanh', got ${String(mode)}`, { op: 'gelu' });
  return run(mode === 'tanh' ? A.geluTanh : A.gelu, x);
}

export const elu = (x: Tensor, alpha = 1): Tensor => run(A.elu, x, [alpha ?? 1]);
export const selu = (x: Tensor): Tensor => run(A.selu, x);

export function celu(x: Tensor, alpha = 1): Tensor {
  const a = alpha ?? 1;
  if (a === 0) throw new NablaError('ZeroDivisionError: alpha cannot be 0 for CELU', { op: 'celu' });
  return run(A.celu, x, [a]);
}

/** log(1 + exp(βx)) / β, linear above `threshold` (PyTorch's defaults β = 1, threshold = 20). */
export const softplus = (x: Tensor, beta = 1, threshold = 20): Tensor => run(A.softplus, x, [beta ?? 1, threshold ?? 20]);
export const leakyRelu = (x: Tensor, negativeSlope = 0.01): Tensor => run(A.leakyRelu, x, [negativeSlope ?? 0.01]);
export const relu6 = (x: Tensor): Tensor => run(A.relu6, x);

export function hardtanh(x: Tensor, minVal = -1, maxVal = 1): Tensor {
  const lo = minVal ?? -1;
  const hi = maxVal ?? 1;
  if (hi < lo) throw new NablaError(`max_val (${hi}) cannot be less than min_val (${lo})`, { op: 'hardtanh' });
  return run(A.hardtanh, x, [lo, hi]);
}

export const softsign = (x: Tensor): Tensor => run(A.softsign, x);
export const logsigmoid = (x: Tensor): Tensor => run(A.logsigmoid, x);
export const tanhshrink = (x: Tensor): Tensor => run(A.tanhshrink, x);
