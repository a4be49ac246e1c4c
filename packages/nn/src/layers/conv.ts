/** `Conv2d` and `MaxPool2d`, by im2col on core ops (one indexSelect, one matmul). */
import type { Tensor } from '@nabla/core';
import * as F from '../functional.js';
import * as init from '../init.js';
import { Module } from '../module.js';
import type { FactoryOptions } from '../options.js';
import type { Parameter } from '../parameter.js';
import { emptyParameter } from './linear.js';

export interface Conv2dOptions extends FactoryOptions, F.Conv2dOptions {
  bias?: boolean;
}

/**
 * 2-D convolution over `[N, C, H, W]`, weight `[out, in, kh, kw]`, PyTorch's init
 * (U(−1/√fanIn, 1/√fanIn) for weight and bias).
 *
 * @example
 * const conv = new Conv2d(1, 8, 3, { padding: 1 });
 * conv.call(images); // [N, 1, 28, 28] → [N, 8, 28, 28]
 */
export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  weight: Parameter;
  bias: Parameter | null;

  constructor(inChannels: number, outChannels: number, kernelSize: F.Pair, opts: Conv2dOptions = {}) {
    super();
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = F.pair(kernelSize, 'kernel_size', 'Conv2d');
    this.stride = F.pair(opts.stride ?? 1, 'stride', 'Conv2d');
    this.padding = F.pair(opts.padding ?? 0, 'padding', 'Conv2d');
    this.dilation = F.pair(opts.dilation ?? 1, 'dilation', 'Conv2d');
    this.weight = emptyParameter([outChannels, inChannels, ...this.kernelSize], opts);
    this.bias = opts.bias === false ? null : emptyParameter([outChannels], opts);
    this.resetParameters();
  }

  resetParameters(): void {
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = init.calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      init.uniform_(this.bias, -bound, bound);
    }
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw this.error(`expected input [N, ${this.inChannels}, H, W] (in_channels=${this.inChannels}), but got input of size [${x.shape.join(', ')}]`);
    }
    return F.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation });
  }

  override extraRepr(): string {
    const k = (p: [number, number]): string => `(${p.join(', ')})`;
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${k(this.kernelSize)}, stride=${k(this.stride)}`;
    if (this.padding.some((p) => p !== 0)) s += `, padding=${k(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${k(this.dilation)}`;
    if (!this.bias) s += ', bias=false';
    return s;
  }
}

/**
 * Max over sliding windows of `[N, C, H, W]` (stride defaults to the kernel size).
 *
 * @example
 * new MaxPool2d(2).call(x); // [N, C, 28, 28] → [N, C, 14, 14]
 */
export class MaxPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];

  constructor(kernelSize: F.Pair, opts: F.MaxPool2dOptions = {}) {
    super();
    this.kernelSize = F.pair(kernelSize, 'kernel_size', 'MaxPool2d');
    this.stride = F.pair(opts.stride ?? kernelSize, 'stride', 'MaxPool2d');
    this.padding = F.pair(opts.padding ?? 0, 'padding', 'MaxPool2d');
    this.dilation = F.pair(opts.dilation ?? 1, 'dilation', 'MaxPool2d');
  }

  override forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, dilation: this.dilation });
  }

  override extraRepr(): string {
    return `kernel_size=${this.kernelSize.join('x')}, stride=${this.stride.join('x')}, padding=${this.padding.join('x')}`;
  }
}
