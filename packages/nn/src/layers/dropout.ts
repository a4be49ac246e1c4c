/** `Dropout`: zeroes elements with probability p in training mode (from the runtime's RNG). */
import type { Tensor } from '@nabla/core';
import * as F from '../functional.js';
import { Module } from '../module.js';

/**
 * Zeroes each element with probability `p` and scales the others by 1/(1-p) in training mode;
 * the identity after `eval()`. The mask comes from the input's runtime RNG (`rt.manualSeed`).
 *
 * @example
 * const drop = new Dropout(0.1);
 * drop.call(h);        // training: about 10% zeros
 * drop.eval().call(h); // h itself
 */
export class Dropout extends Module {
  readonly p: number;

  constructor(p = 0.5) {
    super();
    if (!(typeof p === 'number' && p >= 0 && p <= 1)) throw this.error(`dropout probability has to be between 0 and 1, but got ${String(p)}`);
    this.p = p;
  }

  override forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
