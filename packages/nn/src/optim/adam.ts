/** Adam and AdamW (with AMSGrad), PyTorch's update rules step for step. */
import { NablaError, type Tensor } from '@nabla/core';
import { Optimizer, Temps, type ParamGroup, type ParamState, type Params } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
}

export type AdamHyper = Required<AdamOptions> & { lr: number };

function check(g: ParamGroup<AdamHyper>, op: string): void {
  if (!(g.eps >= 0)) throw new NablaError(`Invalid epsilon value: ${g.eps}`, { op });
  const [b1, b2] = g.betas;
  if (!(b1 >= 0 && b1 < 1)) throw new NablaError(`Invalid beta parameter at index 0: ${b1}`, { op });
  if (!(b2 >= 0 && b2 < 1)) throw new NablaError(`Invalid beta parameter at index 1: ${b2}`, { op });
  if (!(g.weightDecay >= 0)) throw new NablaError(`Invalid weight_decay value: ${g.weightDecay}`, { op });
}

/**
 * The shared moment update; `decoupled` is AdamW's weight decay (θ ← θ(1 − lr·λ)) instead of
 * Adam's L2 term added to the gradient.
 */
function adamUpdate(p: Tensor, grad: Tensor, state: ParamState, g: ParamGroup<AdamHyper>, decoupled: boolean): void {
  const tmp = new Temps();
  const [b1, b2] = g.betas;
  if (state.step === undefined) {
    state.step = 0;
    state.expAvg = p.rt.zerosLike(p);
    state.expAvgSq = p.rt.zerosLike(p);
    if (g.amsgrad) state.maxExpAvgSq = p.rt.zerosLike(p);
  }
  const step = (state.step as number) + 1;
  state.step = step;
  let d = g.maximize ? tmp.t(grad.neg()) : grad;
  if (g.weightDecay !== 0) {
    if (decoupled) p.mul_(1 - g.lr * g.weightDecay);
    else d = tmp.t(d.add(tmp.t(p.mul(g.weightDecay))));
  }
  const expAvg = state.expAvg as Tensor;
  const expAvgSq = state.expAvgSq as Tensor;
  expAvg.mul_(b1).add_(tmp.t(d.mul(1 - b1)));
  expAvgSq.mul_(b2).add_(tmp.t(d.mul(d)).mul_(1 - b2));
  const bc1 = 1 - b1 ** step;
  const bc2 = 1 - b2 ** step;
  const stepSize = g.lr / bc1;
  const bc2Sqrt = Math.sqrt(bc2);
  let second = expAvgSq;
  if (g.amsgrad) {
    let max = state.maxExpAvgSq as Tensor | undefined;
    if (max === undefined) state.maxExpAvgSq = max = p.rt.zerosLike(p);
    max.copy_(tmp.t(max.maximum(expAvgSq)));
    second = max;
  }
  const denom = tmp.t(second.sqrt()).div_(bc2Sqrt).add_(g.eps);
  p.add_(tmp.t(expAvg.div(denom)).mul_(-stepSize));
  tmp.dispose();
}

/**
 * Adam: `m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; θ ← θ − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)`,
 * with `g ← g + λθ` when weightDecay is set; AMSGrad uses the running max of v.
 * Defaults as PyTorch: lr 1e-3, betas [0.9, 0.999], eps 1e-8.
 *
 * @example
 * const opt = new optim.Adam(model.parameters(), { lr: 3e-4, amsgrad: true });
 */
export class Adam extends Optimizer<AdamHyper> {
  constructor(params: Params<AdamHyper>, opts: AdamOptions = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, ...opts });
  }

  protected override validate(g: ParamGroup<AdamHyper>): void {
    super.validate(g);
    check(g, 'Adam');
  }

  protected override update(p: Tensor, grad: Tensor, state: ParamState, g: ParamGroup<AdamHyper>): void {
    adamUpdate(p, grad, state, g, false);
  }
}

/**
 * AdamW: Adam with decoupled weight decay `θ ← θ(1 − lr·λ)` (default λ = 0.01).
 *
 * @example
 * const opt = new optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.1 });
 */
export class AdamW extends Optimizer<AdamHyper> {
  constructor(params: Params<AdamHyper>, opts: AdamOptions = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false, ...opts });
  }

  protected override validate(g: ParamGroup<AdamHyper>): void {
    super.validate(g);
    check(g, 'AdamW');
  }

  protected override update(p: Tensor, grad: Tensor, state: ParamState, g: ParamGroup<AdamHyper>): void {
    adamUpdate(p, grad, state, g, true);
  }
}
