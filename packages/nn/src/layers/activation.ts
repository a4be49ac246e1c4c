/**
 * Activation modules, named as in PyTorch, with PyTorch's arguments and defaults. `ReLU`, `Tanh`,
 * `Sigmoid`, `Softmax` and `LogSoftmax` use core ops; the others call `@nabla/activations`, whose
 * plugin must be installed in the input's runtime (`await rt.use(activations())`).
 *
 * @example
 * const mlp = new Sequential(new Linear(2, 64), new GELU(), new Linear(64, 1));
 */
import { NablaError, type Tensor } from '@nabla/core';
import * as act from '@nabla/activations';
import { Module } from '../module.js';

/**
 * max(0, x).
 *
 * @example
 * new ReLU().call(rt.tensor([-1, 2])); // [0, 2]
 */
export class ReLU extends Module {
  override forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/**
 * tanh(x).
 *
 * @example
 * new Tanh().call(x);
 */
export class Tanh extends Module {
  override forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

/**
 * 1 / (1 + e^{-x}).
 *
 * @example
 * new Sigmoid().call(logits);
 */
export class Sigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

function checkDim(dim: unknown, op: string): number {
  if (!Number.isInteger(dim)) throw new NablaError(`dim must be an integer (PyTorch's implicit dim choice is deprecated), got ${String(dim)}`, { op });
  return dim as number;
}

/**
 * softmax along `dim` (required, as PyTorch's non-deprecated form).
 *
 * @example
 * new Softmax(1).call(logits); // rows sum to 1
 */
export class Softmax extends Module {
  readonly dim: number;
  constructor(dim: number) {
    super();
    this.dim = checkDim(dim, 'Softmax');
  }
  override forward(x: Tensor): Tensor {
    return x.softmax(this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/**
 * log-softmax along `dim`, computed stably.
 *
 * @example
 * new LogSoftmax(1).call(logits);
 */
export class LogSoftmax extends Module {
  readonly dim: number;
  constructor(dim: number) {
    super();
    this.dim = checkDim(dim, 'LogSoftmax');
  }
  override forward(x: Tensor): Tensor {
    return x.logSoftmax(this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/**
 * x·σ(x) (Swish).
 *
 * @example
 * new SiLU().call(x);
 */
export class SiLU extends Module {
  override forward(x: Tensor): Tensor {
    return act.silu(x);
  }
}

/**
 * x·tanh(softplus(x)).
 *
 * @example
 * new Mish().call(x);
 */
export class Mish extends Module {
  override forward(x: Tensor): Tensor {
    return act.mish(x);
  }
}

/**
 * x·Φ(x), or its tanh approximation with `'tanh'`.
 *
 * @example
 * new GELU({ approximate: 'tanh' }).call(x);
 */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';
  constructor(opts: act.GeluOptions | 'none' | 'tanh' = {}) {
    super();
    const mode = typeof opts === 'string' ? opts : (opts?.approximate ?? 'none');
    if (mode !== 'none' && mode !== 'tanh') throw this.error(`approximate must be 'none' or 'tanh', got ${String(mode)}`);
    this.approximate = mode;
  }
  override forward(x: Tensor): Tensor {
    return act.gelu(x, { approximate: this.approximate });
  }
  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/**
 * x for x > 0, α(eˣ − 1) otherwise (α = 1).
 *
 * @example
 * new ELU(0.5).call(x);
 */
export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return act.elu(x, this.alpha);
  }
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/**
 * scale·ELU(x, α) with PyTorch's self-normalizing constants.
 *
 * @example
 * new SELU().call(x);
 */
export class SELU extends Module {
  override forward(x: Tensor): Tensor {
    return act.selu(x);
  }
}

/**
 * max(0, x) + min(0, α(e^{x/α} − 1)) (α = 1).
 *
 * @example
 * new CELU(2).call(x);
 */
export class CELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return act.celu(x, this.alpha);
  }
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/**
 * log(1 + e^{βx})/β, linear above `threshold` (β = 1, threshold = 20).
 *
 * @example
 * new Softplus(2, 10).call(x);
 */
export class Softplus extends Module {
  constructor(
    readonly beta = 1,
    readonly threshold = 20,
  ) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return act.softplus(x, this.beta, this.threshold);
  }
  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}

/**
 * x for x > 0, negativeSlope·x otherwise (0.01).
 *
 * @example
 * new LeakyReLU(0.2).call(x);
 */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return act.leakyRelu(x, this.negativeSlope);
  }
  override extraRepr(): string {
    return `negative_slope=${this.negativeSlope}`;
  }
}

/**
 * min(max(0, x), 6).
 *
 * @example
 * new ReLU6().call(x);
 */
export class ReLU6 extends Module {
  override forward(x: Tensor): Tensor {
    return act.relu6(x);
  }
}

/**
 * clamp(x, minVal, maxVal) (−1, 1).
 *
 * @example
 * new Hardtanh(-2, 2).call(x);
 */
export class Hardtanh extends Module {
  constructor(
    readonly minVal = -1,
    readonly maxVal = 1,
  ) {
    super();
    if (maxVal < minVal) throw this.error(`max_val (${maxVal}) cannot be less than min_val (${minVal})`);
  }
  override forward(x: Tensor): Tensor {
    return act.hardtanh(x, this.minVal, this.maxVal);
  }
  override extraRepr(): string {
    return `min_val=${this.minVal}, max_val=${this.maxVal}`;
  }
}

/**
 * x·relu6(x + 3)/6.
 *
 * @example
 * new Hardswish().call(x);
 */
export class Hardswish extends Module {
  override forward(x: Tensor): Tensor {
    return act.hardswish(x);
  }
}

/**
 * relu6(x + 3)/6.
 *
 * @example
 * new Hardsigmoid().call(x);
 */
export class Hardsigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return act.hardsigmoid(x);
  }
}

/**
 * x / (1 + |x|).
 *
 * @example
 * new Softsign().call(x);
 */
export class Softsign extends Module {
  override forward(x: Tensor): Tensor {
    return act.softsign(x);
  }
}

/**
 * log σ(x), computed stably.
 *
 * @example
 * new LogSigmoid().call(x);
 */
export class LogSigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return act.logsigmoid(x);
  }
}

/**
 * x − tanh(x).
 *
 * @example
 * new Tanhshrink().call(x);
 */
export class Tanhshrink extends Module {
  override forward(x: Tensor): Tensor {
    return act.tanhshrink(x);
  }
}
