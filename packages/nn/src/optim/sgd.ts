/** Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (PyTorch's rule). */
import { NablaError, type Tensor } from '@nabla/core';
import { Optimizer, Temps, type ParamGroup, type ParamState, type Params } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize?: boolean;
}

export type SGDHyper = Required<SGDOptions>;

/**
 * `g ← ∇ + λθ; b ← μb + (1 − τ)g (b = g at the first step); g ← g + μb (Nesterov) or b; θ ← θ − lr·g`.
 *
 * @example
 * const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
 */
export class SGD extends Optimizer<SGDHyper> {
  constructor(params: Params<SGDHyper>, opts: SGDOptions) {
    if (!opts || typeof opts.lr !== 'number') throw new NablaError('SGD needs a learning rate: new SGD(params, { lr })', { op: 'SGD' });
    super(params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...opts });
  }

  protected override validate(g: ParamGroup<SGDHyper>): void {
    super.validate(g);
    if (!(g.momentum >= 0)) throw new NablaError(`Invalid momentum value: ${g.momentum}`, { op: 'SGD' });
    if (!(g.weightDecay >= 0)) throw new NablaError(`Invalid weight_decay value: ${g.weightDecay}`, { op: 'SGD' });
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) throw new NablaError('Nesterov momentum requires a momentum and zero dampening', { op: 'SGD' });
  }

  protected override update(p: Tensor, grad: Tensor, state: ParamState, g: ParamGroup<SGDHyper>): void {
    const tmp = new Temps();
    let d = g.maximize ? tmp.t(grad.neg()) : grad;
    if (g.weightDecay !== 0) d = tmp.t(d.add(tmp.t(p.mul(g.weightDecay))));
    if (g.momentum !== 0) {
      let buf = state.momentumBuffer as Tensor | undefined;
      if (buf === undefined) {
        buf = d.clone();
        state.momentumBuffer = buf;
      } else {
        buf.mul_(g.momentum).add_(g.dampening === 0 ? d : tmp.t(d.mul(1 - g.dampening)));
      }
      d = g.nesterov ? tmp.t(d.add(tmp.t(buf.mul(g.momentum)))) : buf;
    }
    p.add_(tmp.t(d.mul(-g.lr)));
    tmp.dispose();
  }
}
