/**
 * `functional.batchNorm`, composed from core ops so its gradient (through the batch mean and
 * variance while training) is exact on every backend. Running statistics follow PyTorch: the mean
 * and the *unbiased* variance, blended in place with `momentum`.
 */
import { amp, NablaError, type Tensor } from '@nabla/core';
import { scoped } from './lifetime.js';

export interface BatchNormFunctionalOptions {
  /** Use (and update) batch statistics (true) or the running ones (false). */
  training?: boolean;
  /**
   * Weight of the new batch in the running statistics (default 0.1); a 0-d tensor works too (the
   * cumulative average's 1 / batches, computed on the device without a read back).
   */
  momentum?: number | Tensor;
  eps?: number;
}

/**
 * Normalizes each channel (dim 1) over the batch and spatial dims. With `training`, uses the
 * batch's statistics and, when given, updates `runningMean`/`runningVar` in place (unbiased
 * variance, as PyTorch); otherwise uses the running ones.
 *
 * @example
 * nn.functional.batchNorm(x, runningMean, runningVar, gamma, beta, { training: true, momentum: 0.1 });
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  opts: BatchNormFunctionalOptions = {},
): Tensor {
  const op = 'batchNorm';
  const training = opts.training ?? false;
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  if (x.ndim < 2) throw new NablaError(`expected an input of at least 2 dims [N, C, *], got shape [${x.shape.join(', ')}]`, { op });
  const C = x.shape[1]!;
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const count = x.numel() / Math.max(C, 1);
  if (training && count <= 1) {
    throw new NablaError(`Expected more than 1 value per channel when training, got input size [${x.shape.join(', ')}]`, { op });
  }
  if (!training && (runningMean === null || runningVar === null)) {
    throw new NablaError('running_mean and running_var must be defined in evaluation mode', { op });
  }
  // The running statistics are updated in place: never cast (they stay the buffers themselves).
  [x, weight, bias] = amp.castInputs(op, [x, weight, bias] as const);
  const bshape = x.shape.map((d, i) => (i === 1 ? d : 1));
  return scoped(x.rt, () => {
    let mean: Tensor;
    let variance: Tensor;
    if (training) {
      mean = x.mean(axes);
      variance = x.var(axes, { correction: 0 });
      if (runningMean !== null && runningVar !== null) {
        x.rt.noGrad(() => {
          const keep = typeof momentum === 'number' ? 1 - momentum : momentum.neg().add(1);
          runningMean.mul_(keep).add_(mean.detach().mul(momentum));
          runningVar.mul_(keep).add_(variance.detach().mul(momentum).mul(count / (count - 1)));
        });
      }
    } else {
      mean = runningMean!;
      variance = runningVar!;
    }
    let y = x.sub(mean.reshape(bshape)).mul(variance.reshape(bshape).add(eps).rsqrt());
    if (weight) y = y.mul(weight.reshape(bshape));
    if (bias) y = y.add(bias.reshape(bshape));
    return y;
  });
}
