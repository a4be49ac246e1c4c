/** `Linear` (PyTorch's `nn.Linear`) and `Identity`. */
import type { Tensor } from '@nabla/core';
import * as F from '../functional.js';
import * as init from '../init.js';
import { Module } from '../module.js';
import { placement, type FactoryOptions } from '../options.js';
import { Parameter } from '../parameter.js';

/** Makes an uninitialized parameter of `shape` where `opts` says. */
export function emptyParameter(shape: readonly number[], opts: FactoryOptions | null | undefined): Parameter {
  const { rt, device, dtype } = placement(opts);
  const t = rt.zeros(shape, { device, dtype });
  const p = new Parameter(t);
  t.dispose();
  return p;
}

export interface LinearOptions extends FactoryOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

/**
 * `y = x·Wᵀ + b` over the last dimension. Weight `[out, in]` and bias are initialized as in PyTorch:
 * U(−1/√in, 1/√in), drawn from the runtime's RNG.
 *
 * @example
 * const fc = new Linear(784, 10, { runtime: rt });
 * const logits = fc.call(x); // [N, 784] → [N, 10]
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    for (const [n, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 0) throw this.error(`${n} must be a non-negative integer, got ${String(v)}`);
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = emptyParameter([outFeatures, inFeatures], opts);
    this.bias = opts.bias === false ? null : emptyParameter([outFeatures], opts);
    this.resetParameters();
  }

  resetParameters(): void {
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const bound = this.inFeatures > 0 ? 1 / Math.sqrt(this.inFeatures) : 0;
      init.uniform_(this.bias, -bound, bound);
    }
  }

  override forward(x: Tensor): Tensor {
    const n = x.shape[x.ndim - 1];
    if (x.ndim === 0 || n !== this.inFeatures) {
      throw this.error(
        `expected input with ${this.inFeatures} features in its last dimension (in_features=${this.inFeatures}), ` +
          `but got ${x.ndim === 0 ? 'a 0-d tensor' : `${n} features`} (input shape [${x.shape.join(', ')}])`,
      );
    }
    return F.linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/**
 * Returns its input (a placeholder, e.g. to switch a layer off).
 *
 * @example
 * new Identity().call(x) === x; // true
 */
export class Identity extends Module {
  override forward(x: Tensor): Tensor {
    return x;
  }
}
