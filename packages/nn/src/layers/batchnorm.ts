/**
 * `BatchNorm1d` and `BatchNorm2d` (PyTorch's): `functional.batchNorm` with running statistics
 * blended by `momentum` (or, with `momentum: null`, a cumulative average over
 * `numBatchesTracked` batches), used in eval mode.
 */
import type { Tensor } from '@nabla/core';
import { batchNorm } from '../functional-batchnorm.js';
import * as init from '../init.js';
import { pin, untracked } from '../lifetime.js';
import { Module } from '../module.js';
import { placement, type FactoryOptions } from '../options.js';
import type { Parameter } from '../parameter.js';
import { emptyParameter } from './linear.js';

export interface BatchNormOptions extends FactoryOptions {
  eps?: number;
  /** Weight of each new batch in the running statistics (default 0.1); null: cumulative average. */
  momentum?: number | null;
  /** Learn a per-channel scale and shift (default true). */
  affine?: boolean;
  /** Keep running statistics for eval mode (default true). */
  trackRunningStats?: boolean;
}

abstract class BatchNormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  declare runningMean: Tensor | null;
  declare runningVar: Tensor | null;
  declare numBatchesTracked: Tensor | null;

  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures <= 0) throw this.error(`numFeatures must be a positive integer, got ${String(numFeatures)}`);
    this.numFeatures = numFeatures;
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    this.weight = this.affine ? (init.ones_(emptyParameter([numFeatures], opts)) as Parameter) : null;
    this.bias = this.affine ? (init.zeros_(emptyParameter([numFeatures], opts)) as Parameter) : null;
    if (this.trackRunningStats) {
      const { rt, device, dtype } = placement(opts);
      untracked(rt, () => {
        this.registerBuffer('runningMean', pin(rt.zeros([numFeatures], { device, dtype })));
        this.registerBuffer('runningVar', pin(rt.ones([numFeatures], { device, dtype })));
        this.registerBuffer('numBatchesTracked', pin(rt.zeros([], { device, dtype: 'int32' })));
      });
    } else {
      this.registerBuffer('runningMean', null);
      this.registerBuffer('runningVar', null);
      this.registerBuffer('numBatchesTracked', null);
    }
  }

  /** The input ranks this layer takes and how to say so (PyTorch's messages). */
  protected abstract checkInput(x: Tensor): void;

  /** Running statistics back to mean 0, variance 1, no batches. */
  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    this.runningMean!.rt.noGrad(() => {
      this.runningMean!.zero_();
      this.runningVar!.fill_(1);
      this.numBatchesTracked!.zero_();
    });
  }

  override forward(x: Tensor): Tensor {
    this.checkInput(x);
    if (x.shape[1] !== this.numFeatures) {
      throw this.error(`running_mean should contain ${x.shape[1]} elements not ${this.numFeatures} (input shape [${x.shape.join(', ')}])`);
    }
    let factor: number | Tensor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats) {
      const n = this.numBatchesTracked!;
      n.rt.noGrad(() => n.add_(1));
      // momentum null: a cumulative moving average, factor 1 / batches seen, on the device.
      if (this.momentum === null) factor = n.rt.noGrad(() => n.to(x.dtype).reciprocal());
    }
    const useBatch = this.training || !this.trackRunningStats;
    const track = this.training && this.trackRunningStats;
    const y = batchNorm(x, track || !useBatch ? this.runningMean : null, track || !useBatch ? this.runningVar : null, this.weight, this.bias, {
      training: useBatch,
      momentum: factor,
      eps: this.eps,
    });
    if (typeof factor !== 'number') factor.dispose();
    return y;
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, track_running_stats=${this.trackRunningStats}`;
  }
}

/**
 * Batch normalization over `[N, C]` or `[N, C, L]` inputs.
 *
 * @example
 * const bn = new nn.BatchNorm1d(16);
 * bn.call(x);            // training: batch statistics, running ones updated
 * bn.eval(); bn.call(x); // eval: running statistics
 */
export class BatchNorm1d extends BatchNormBase {
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) throw this.error(`expected 2D or 3D input (got ${x.ndim}D input)`);
  }
}

/**
 * Batch normalization over `[N, C, H, W]` inputs.
 *
 * @example
 * const bn = new nn.BatchNorm2d(8);
 * bn.call(images); // [N, 8, H, W]
 */
export class BatchNorm2d extends BatchNormBase {
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 4) throw this.error(`expected 4D input (got ${x.ndim}D input)`);
  }
}
