/** RMSprop (centered, momentum, weight decay), PyTorch's update rule. */
import { NablaError, type Tensor } from '@nabla/core';
import { Optimizer, Temps, type ParamGroup, type ParamState, type Params } from './optimizer.js';

export interface RMSpropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
  maximize?: boolean;
}

export type RMSpropHyper = Required<RMSpropOptions> & { lr: number };

/**
 * `v ← αv + (1−α)g²; d = √(v − ḡ²) (centered) or √v, plus ε; b ← μb + g/d, θ ← θ − lr·b`
 * (or `θ ← θ − lr·g/d` without momentum). Defaults as PyTorch: lr 1e-2, alpha 0.99, eps 1e-8.
 *
 * @example
 * const opt = new optim.RMSprop(model.parameters(), { lr: 1e-3, momentum: 0.9, centered: true });
 */
export class RMSprop extends Optimizer<RMSpropHyper> {
  constructor(params: Params<RMSpropHyper>, opts: RMSpropOptions = {}) {
    super(params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false, ...opts });
  }

  protected override validate(g: ParamGroup<RMSpropHyper>): void {
    super.validate(g);
    if (!(g.eps >= 0)) throw new NablaError(`Invalid epsilon value: ${g.eps}`, { op: 'RMSprop' });
    if (!(g.momentum >= 0)) throw new NablaError(`Invalid momentum value: ${g.momentum}`, { op: 'RMSprop' });
    if (!(g.weightDecay >= 0)) throw new NablaError(`Invalid weight_decay value: ${g.weightDecay}`, { op: 'RMSprop' });
    if (!(g.alpha >= 0)) throw new NablaError(`Invalid alpha value: ${g.alpha}`, { op: 'RMSprop' });
  }

  protected override update(p: Tensor, grad: Tensor, state: ParamState, g: ParamGroup<RMSpropHyper>): void {
    const tmp = new Temps();
    if (state.step === undefined) {
      state.step = 0;
      state.squareAvg = p.rt.zerosLike(p);
      if (g.momentum > 0) state.momentumBuffer = p.rt.zerosLike(p);
      if (g.centered) state.gradAvg = p.rt.zerosLike(p);
    }
    state.step = (state.step as number) + 1;
    let d = g.maximize ? tmp.t(grad.neg()) : grad;
    if (g.weightDecay !== 0) d = tmp.t(d.add(tmp.t(p.mul(g.weightDecay))));
    const squareAvg = state.squareAvg as Tensor;
    squareAvg.mul_(g.alpha).add_(tmp.t(d.mul(d)).mul_(1 - g.alpha));
    let avg: Tensor;
    if (g.centered) {
      let gradAvg = state.gradAvg as Tensor | undefined;
      if (gradAvg === undefined) state.gradAvg = gradAvg = p.rt.zerosLike(p);
      gradAvg.mul_(g.alpha).add_(tmp.t(d.mul(1 - g.alpha)));
      avg = tmp.t(squareAvg.sub(tmp.t(gradAvg.mul(gradAvg)))).sqrt();
    } else avg = squareAvg.sqrt();
    tmp.t(avg).add_(g.eps);
    if (g.momentum > 0) {
      let buf = state.momentumBuffer as Tensor | undefined;
      if (buf === undefined) state.momentumBuffer = buf = p.rt.zerosLike(p);
      buf.mul_(g.momentum).add_(tmp.t(d.div(avg)));
      p.add_(tmp.t(buf.mul(-g.lr)));
    } else {
      p.add_(tmp.t(d.div(avg)).mul_(-g.lr));
    }
    tmp.dispose();
  }
}
