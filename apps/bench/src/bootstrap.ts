/**
 * How sure a median, or a ratio of two medians, is: a percentile bootstrap. The statistic is
 * recomputed on resamples of the measurements (drawn with replacement) and the interval holds the
 * middle `level` of what it gave. Interleaved cells (the cpu suite) are resampled by round: a round
 * is a stretch of time, and what drifts between rounds (another process starting, the clock, the
 * heap) is what moves a median from one run to the next; the two sides of a ratio, measured in the
 * same rounds, are resampled with the same rounds, so drift that lands on both cancels as it does
 * in the ratio itself. Cells without rounds are resampled sample by sample. The random numbers are
 * seeded: the same samples give the same interval, in the terminal, report.json and the HTML.
 *
 * @example
 * const i = bootstrapRatio({ samples: [2.1, 2.0, 2.2, 1.9] }, { samples: [10, 11, 9, 10.5] }, 'lower');
 * // i.low ≤ 4.88 (the ratio of medians) ≤ i.high
 */
import { quantileSorted, ratio, type Better } from './stats.js';

/** One side of a comparison: its samples in the order they ran, and how many fell in each round. */
export interface Measurements {
  samples: readonly number[];
  /** Samples per round, summing to `samples.length`; absent or inconsistent: no rounds. */
  rounds?: readonly number[];
}

export interface Interval {
  low: number;
  high: number;
  /** What was resampled: whole rounds (`rounds`), single samples, or nothing (`none`: too few to resample). */
  by: 'rounds' | 'samples' | 'none';
}

export interface BootstrapOptions {
  /** Resamples drawn (default 2000). */
  resamples?: number;
  /** The share of the resampled statistics the interval holds (default 0.9: 5th to 95th percentile). */
  level?: number;
  seed?: number;
}

/** The interval's default coverage, for the words that describe it ("90% interval"). */
export const DEFAULT_LEVEL = 0.9;

/** A small seeded generator (mulberry32): uniform in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The samples cut into their rounds (finite values only), or null when the round sizes do not fit. */
export function roundsOf(m: Measurements): number[][] | null {
  const sizes = m.rounds;
  if (sizes === undefined || sizes.length < 2 || sizes.reduce((a, b) => a + b, 0) !== m.samples.length) return null;
  const out: number[][] = [];
  let at = 0;
  for (const n of sizes) {
    out.push(m.samples.slice(at, at + n).filter((v) => Number.isFinite(v)));
    at += n;
  }
  return out;
}

function medianOf(values: number[]): number {
  values.sort((a, b) => a - b);
  return quantileSorted(values, 0.5);
}

function interval(stats: number[], level: number, by: Interval['by']): Interval {
  const s = stats.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return { low: NaN, high: NaN, by };
  return { low: quantileSorted(s, (1 - level) / 2), high: quantileSorted(s, (1 + level) / 2), by };
}

/** `n` draws with replacement from `pool`. */
function draw<T>(pool: readonly T[], n: number, rnd: () => number): T[] {
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = pool[Math.floor(rnd() * pool.length)]!;
  return out;
}

/**
 * The bootstrap interval of `ratio(median(mine), median(other), better)` (above 1: `mine` is
 * better). Both sides cut into the same number of rounds: rounds are drawn, the same indices for
 * both; otherwise each side's samples are drawn on their own. NaN bounds when a side has no finite
 * sample; a single sample on each side gives the point itself (`by: 'none'`).
 */
export function bootstrapRatio(mine: Measurements, other: Measurements, better: Better, opts: BootstrapOptions = {}): Interval {
  const B = opts.resamples ?? 2000;
  const level = opts.level ?? DEFAULT_LEVEL;
  const rnd = seeded(opts.seed ?? 1);
  const a = mine.samples.filter((v) => Number.isFinite(v));
  const b = other.samples.filter((v) => Number.isFinite(v));
  if (a.length === 0 || b.length === 0) return { low: NaN, high: NaN, by: 'none' };
  if (a.length === 1 && b.length === 1) {
    const r = ratio(a[0]!, b[0]!, better);
    return { low: r, high: r, by: 'none' };
  }
  const ra = roundsOf(mine);
  const rb = roundsOf(other);
  const stats: number[] = [];
  if (ra && rb && ra.length === rb.length) {
    const idx = ra.map((_, i) => i);
    for (let k = 0; k < B; k++) {
      const pick = draw(idx, idx.length, rnd);
      const x = pick.flatMap((i) => ra[i]!);
      const y = pick.flatMap((i) => rb[i]!);
      if (x.length && y.length) stats.push(ratio(medianOf(x), medianOf(y), better));
    }
    return interval(stats, level, 'rounds');
  }
  for (let k = 0; k < B; k++) stats.push(ratio(medianOf(draw(a, a.length, rnd)), medianOf(draw(b, b.length, rnd)), better));
  return interval(stats, level, 'samples');
}

/** The bootstrap interval of one cell's median (by rounds when it has them, else by samples). */
export function bootstrapMedian(m: Measurements, opts: BootstrapOptions = {}): Interval {
  const B = opts.resamples ?? 2000;
  const level = opts.level ?? DEFAULT_LEVEL;
  const rnd = seeded(opts.seed ?? 1);
  const a = m.samples.filter((v) => Number.isFinite(v));
  if (a.length === 0) return { low: NaN, high: NaN, by: 'none' };
  if (a.length === 1) return { low: a[0]!, high: a[0]!, by: 'none' };
  const rounds = roundsOf(m);
  const stats: number[] = [];
  if (rounds) {
    for (let k = 0; k < B; k++) {
      const x = draw(rounds, rounds.length, rnd).flat();
      if (x.length) stats.push(medianOf(x));
    }
    return interval(stats, level, 'rounds');
  }
  for (let k = 0; k < B; k++) stats.push(medianOf(draw(a, a.length, rnd)));
  return interval(stats, level, 'samples');
}
