/** `LayerNorm` (PyTorch's `nn.LayerNorm`). */
import type { Tensor } from '@nabla/core';
import * as F from '../functional.js';
import * as init from '../init.js';
import { Module } from '../module.js';
import type { FactoryOptions } from '../options.js';
import type { Parameter } from '../parameter.js';
import { emptyParameter } from './linear.js';

export interface LayerNormOptions extends FactoryOptions {
  eps?: number;
  /** Learn a per-element scale and shift (default true). */
  elementwiseAffine?: boolean;
  /** With elementwiseAffine, learn the shift too (default true). */
  bias?: boolean;
}

/**
 * Normalizes over the trailing `normalizedShape` dims (mean 0, biased variance 1), then applies
 * the learned scale (ones) and shift (zeros).
 *
 * @example
 * const ln = new LayerNorm(64, { eps: 1e-6 });
 * ln.call(x); // x: [N, T, 64]
 */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? init.ones_(emptyParameter(this.normalizedShape, opts)) as Parameter : null;
    this.bias = affine && opts.bias !== false ? init.zeros_(emptyParameter(this.normalizedShape, opts)) as Parameter : null;
  }

  override forward(x: Tensor): Tensor {
    const k = this.normalizedShape.length;
    if (x.ndim < k || x.shape.slice(x.ndim - k).some((d, i) => d !== this.normalizedShape[i])) {
      throw this.error(
        `Given normalized_shape=[${this.normalizedShape.join(', ')}], expected input with shape [*, ${this.normalizedShape.join(', ')}], but got input of size [${x.shape.join(', ')}]`,
      );
    }
    return F.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `[${this.normalizedShape.join(', ')}], eps=${this.eps}, elementwise_affine=${this.weight !== null}`;
  }
}
