/** Samples an activation and its derivative on a grid, for plots (the demo draws them). */
import { NablaError, type Runtime, type Tensor } from '@nabla/core';

export interface SampleOptions {
  from?: number;
  to?: number;
  n?: number;
  /** Where to compute (default: the default runtime passed in). */
  device?: string;
}

export interface Samples {
  x: number[];
  y: number[];
  dy: number[];
}

/**
 * `x`, `f(x)` and `f'(x)` at `n` evenly spaced points, computed with autograd on the CPU.
 *
 * @example
 * const { x, y, dy } = sample(rt, act.silu, { from: -4, to: 4, n: 81 });
 */
export function sample(rt: Runtime, fn: (x: Tensor) => Tensor, opts: SampleOptions = {}): Samples {
  const from = opts.from ?? -5;
  const to = opts.to ?? 5;
  const n = opts.n ?? 101;
  if (!(n >= 2) || !(to > from)) throw new NablaError(`need n >= 2 and to > from (got n=${n}, from=${from}, to=${to})`, { op: 'sample' });
  const x = rt.linspace(from, to, n, { dtype: 'float64', device: opts.device ?? 'cpu', requiresGrad: true });
  const y = fn(x);
  y.sum().backward();
  const out = { x: toNumbers(x), y: toNumbers(y), dy: toNumbers(x.grad!) };
  x.dispose();
  y.dispose();
  return out;
}

function toNumbers(t: Tensor): number[] {
  return Array.from(t.dataSync(), Number);
}
