/** `Flatten`: merges dims `startDim..endDim` (default: all but the batch dim). */
import type { Tensor } from '@nabla/core';
import { Module } from '../module.js';

/**
 * Merges dims `startDim..endDim` into one (default: everything but the batch dim).
 *
 * @example
 * new Flatten().call(images); // [N, C, H, W] → [N, C·H·W]
 */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }

  override forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
