/**
 * Parameter initialization, as PyTorch's `torch.nn.init`. Each function fills its tensor in place
 * (under noGrad) from the tensor's own runtime RNG and returns it, so `rt.manualSeed(s)` makes a
 * model's initial weights reproducible on every device.
 *
 * @example
 * nn.init.kaimingUniform_(linear.weight, { a: Math.sqrt(5) }); // PyTorch's default Linear init
 */
import { NablaError, type Tensor } from '@nabla/core';

export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

/**
 * The recommended gain for a nonlinearity (PyTorch's `calculate_gain`).
 *
 * @example
 * calculateGain('relu'); // √2
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number | null): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv_transpose1d':
    case 'conv_transpose2d':
    case 'conv_transpose3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      if (typeof slope !== 'number') throw new NablaError(`negative_slope ${String(slope)} not a valid number`, { op: 'calculateGain' });
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new NablaError(`Unsupported nonlinearity ${String(nonlinearity)}`, { op: 'calculateGain' });
  }
}

/**
 * `[fanIn, fanOut]` of a weight `[out, in, *kernel]` (PyTorch's `_calculate_fan_in_and_fan_out`).
 *
 * @example
 * calculateFanInAndFanOut(conv.weight); // [in·kh·kw, out·kh·kw]
 */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  if (t.ndim < 2) {
    throw new NablaError('Fan in and fan out can not be computed for tensor with fewer than 2 dimensions', { op: 'init' });
  }
  let receptive = 1;
  for (let i = 2; i < t.ndim; i++) receptive *= t.shape[i]!;
  return [t.shape[1]! * receptive, t.shape[0]! * receptive];
}

/** Writes `fill(shape)` into `t` without recording the write. */
function fillFrom(t: Tensor, make: () => Tensor): Tensor {
  return t.rt.noGrad(() => {
    const v = make();
    t.copy_(v);
    v.dispose();
    return t;
  });
}

/**
 * Fills `t` with U(a, b).
 *
 * @example
 * uniform_(layer.bias!, -0.1, 0.1);
 */
export function uniform_(t: Tensor, a = 0, b = 1): Tensor {
  return fillFrom(t, () => t.rt.rand(t.shape, { dtype: t.dtype, device: t.device }).mul_(b - a).add_(a));
}

/**
 * Fills `t` with N(mean, std²).
 *
 * @example
 * normal_(embedding.weight, 0, 0.02);
 */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  return fillFrom(t, () => t.rt.randn(t.shape, { dtype: t.dtype, device: t.device }).mul_(std).add_(mean));
}

/**
 * Fills `t` with `value`.
 *
 * @example
 * constant_(layer.bias!, 0.1);
 */
export function constant_(t: Tensor, value: number): Tensor {
  return t.rt.noGrad(() => t.fill_(value));
}

/**
 * Fills `t` with zeros.
 *
 * @example
 * zeros_(layer.bias!);
 */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

/**
 * Fills `t` with ones.
 *
 * @example
 * ones_(norm.weight!);
 */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/**
 * Glorot uniform: U(−b, b), b = gain·√(6 / (fanIn + fanOut)).
 *
 * @example
 * xavierUniform_(layer.weight, calculateGain('tanh'));
 */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -bound, bound);
}

/**
 * Glorot normal: N(0, std²), std = gain·√(2 / (fanIn + fanOut)).
 *
 * @example
 * xavierNormal_(layer.weight);
 */
export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

export interface KaimingOptions {
  /** Negative slope of the following leaky ReLU (default 0). */
  a?: number;
  mode?: 'fan_in' | 'fan_out';
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, opts: KaimingOptions): number {
  const mode = opts.mode ?? 'fan_in';
  if (mode !== 'fan_in' && mode !== 'fan_out') throw new NablaError(`Mode ${String(mode)} not supported, please use one of fan_in, fan_out`, { op: 'init' });
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const gain = calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  return gain / Math.sqrt(mode === 'fan_in' ? fanIn : fanOut);
}

/**
 * He uniform: U(−b, b), b = gain·√(3 / fan). With `{ a: √5 }` this is PyTorch's default `Linear`
 * and `Conv2d` weight init (b = 1/√fanIn).
 *
 * @example
 * kaimingUniform_(layer.weight, { nonlinearity: 'relu' }); // U(±√(6/fanIn))
 */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, opts);
  return uniform_(t, -bound, bound);
}

/**
 * He normal: N(0, std²), std = gain/√fan.
 *
 * @example
 * kaimingNormal_(conv.weight, { mode: 'fan_out', nonlinearity: 'relu' });
 */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, opts));
}
