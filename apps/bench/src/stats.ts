/**
 * The statistics every cell of the report uses: median and spread of repeated runs, the ratio of
 * Nabla to a peer (oriented so that above 1 always means Nabla is better), and the regression test
 * against a baseline. Pure functions over plain arrays, unit-tested in test/stats.test.ts.
 */

/** Which way a unit improves: times and bytes go down, throughput goes up. */
export type Better = 'lower' | 'higher';

export interface Summary {
  /** Number of samples. */
  n: number;
  median: number;
  /** First and third quartiles (linear interpolation, as numpy's default). */
  p25: number;
  p75: number;
  min: number;
  max: number;
}

/** The q-quantile (0 ≤ q ≤ 1) of already sorted values, interpolating linearly between ranks. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Median, quartiles and range of `samples`; non-finite samples are dropped (an empty summary has NaNs and n = 0). */
export function summarize(samples: readonly number[]): Summary {
  const s = samples.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return { n: s.length, median: quantileSorted(s, 0.5), p25: quantileSorted(s, 0.25), p75: quantileSorted(s, 0.75), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN };
}

/** The median of `samples` (the middle two averaged when their count is even), as every cell shows it. */
export function median(samples: readonly number[]): number {
  return summarize(samples).median;
}

/**
 * How many times better `mine` is than `other`, from their medians: other/mine for a unit where
 * lower is better (times), mine/other where higher is better (GFLOP/s). Above 1: `mine` is better.
 * NaN when either side is missing or zero.
 */
export function ratio(mine: number, other: number, better: Better): number {
  if (!Number.isFinite(mine) || !Number.isFinite(other) || mine === 0 || other === 0) return NaN;
  return better === 'lower' ? other / mine : mine / other;
}

export type Verdict = 'regression' | 'improvement' | 'same';

export interface Comparison {
  /** ratio(current, baseline): below 1 means the current run is worse. */
  ratio: number;
  verdict: Verdict;
}

/**
 * Compares a case with its baseline. A regression is a median worse by more than `threshold`
 * (1.25: 25% slower) whose interquartile range does not overlap the baseline's, so that noise on
 * a busy machine (wide, overlapping spreads) is not flagged; an improvement is the mirror image.
 */
export function compare(current: Summary, baseline: Summary, better: Better, threshold = 1.25): Comparison {
  const r = ratio(current.median, baseline.median, better);
  if (!Number.isFinite(r)) return { ratio: r, verdict: 'same' };
  // "Worse" in the unit's direction: for times the current range lies wholly above the baseline's.
  const worseApart = better === 'lower' ? current.p25 > baseline.p75 : current.p75 < baseline.p25;
  const betterApart = better === 'lower' ? current.p75 < baseline.p25 : current.p25 > baseline.p75;
  if (r < 1 / threshold && worseApart) return { ratio: r, verdict: 'regression' };
  if (r > threshold && betterApart) return { ratio: r, verdict: 'improvement' };
  return { ratio: r, verdict: 'same' };
}

/** A number with 3 significant digits at most, no exponent for the ranges benchmarks produce. */
export function fmt(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 0.01 || a === 0) return x.toFixed(digits);
  return x.toPrecision(2);
}

/** "12.3 [11.9–13.0]": the median and the interquartile range (a single sample has no range). */
export function fmtSummary(s: Summary): string {
  if (s.n === 0) return '—';
  if (s.n === 1 || s.p25 === s.p75) return fmt(s.median);
  return `${fmt(s.median)} [${fmt(s.p25)}–${fmt(s.p75)}]`;
}

/** "2.41×" */
export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${fmt(r)}×` : '—';
}
