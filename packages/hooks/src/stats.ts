/**
 * Summary statistics of a tensor computed on its device: the numbers `watch` records. A tensor's
 * statistics are one small vector (`statsVector`), so a logged step reads all of them back with
 * one batched read per device and dtype (recorder.ts), never one read per tensor.
 */
import { cat, stack, type Tensor } from '@nabla/core';

/** `torch.histc(t, bins, min, max)` over the tensor's own finite range. */
export interface Histogram {
  /** Lower edge of the first bin (the finite minimum; minus 1 when all values are equal, as histc). */
  min: number;
  /** Upper edge of the last bin. */
  max: number;
  /** How many finite values fall in each of the equal-width bins (the maximum in the last one). */
  counts: number[];
}

export interface Stats {
  numel: number;
  /** Over all values (NaN if any is NaN), as `t.mean()`. */
  mean: number;
  /** Unbiased, over all values, as `t.std()`. */
  std: number;
  /** The 2-norm, as `t.norm()`. */
  norm: number;
  /** The smallest finite value (Infinity when there is none). */
  min: number;
  /** The largest finite value (-Infinity when there is none). */
  max: number;
  nanCount: number;
  infCount: number;
  histogram: Histogram;
}

const SCALARS = 9; // mean std norm min max nan inf histMin histMax

/**
 * The statistics of `t` as one 1-D tensor on its device: `[mean, std, norm, min, max, nanCount,
 * infCount, histMin, histMax, ...counts]`. Runs without recording a graph; reads nothing; frees its
 * temporaries (the vector itself belongs to an enclosing `tidy`, if any).
 *
 * @example
 * const v = statsVector(w.grad!, 30);                 // queued on w's device
 * const s = parseStats(await v.data(), w.grad!.numel()); // s.norm, s.histogram.counts, ...
 */
export function statsVector(t: Tensor, bins: number): Tensor {
  // A tidy frees the temporaries; the vector goes to an enclosing tidy, if any.
  return t.rt.tidy(() => t.rt.noGrad(() => {
    const x = t.detach().reshape([-1]);
    const nan = x.isnan();
    const inf = x.abs().eq(Infinity);
    const finite = nan.logicalOr(inf).logicalNot();
    const lo = x.where(finite, Infinity).amin();
    const hi = x.where(finite, -Infinity).amax();
    // histc widens an empty range by one on each side.
    const same = hi.eq(lo);
    const lo2 = lo.sub(1).where(same, lo);
    const hi2 = hi.add(1).where(same, hi);
    const bin = x.sub(lo2).div(hi2.sub(lo2)).mul(bins).floor().clamp(0, bins - 1).where(finite, 0);
    const counts = t.rt
      .zeros([bins], { dtype: x.dtype, device: x.device })
      .scatterAdd(0, bin.to('int32'), finite.to(x.dtype));
    const scalars = stack([x.mean(), x.std(), x.norm(), lo, hi, nan.to(x.dtype).sum(), inf.to(x.dtype).sum(), lo2, hi2]);
    return cat([scalars, counts]);
  }));
}

/** Turns the values of a `statsVector` back into `Stats`. */
export function parseStats(v: ArrayLike<number>, numel: number): Stats {
  const counts: number[] = [];
  for (let i = SCALARS; i < v.length; i++) counts.push(v[i]!);
  return {
    numel,
    mean: v[0]!,
    std: v[1]!,
    norm: v[2]!,
    min: v[3]!,
    max: v[4]!,
    nanCount: v[5]!,
    infCount: v[6]!,
    histogram: { min: v[7]!, max: v[8]!, counts },
  };
}

