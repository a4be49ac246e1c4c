/**
 * The bootstrap behind each goal's interval: seeded (the same samples, the same interval), around
 * the ratio of medians, by rounds when both sides have the same rounds (drift common to both
 * cancels) and by samples otherwise; hand-made samples only.
 */
import { describe, expect, it } from 'vitest';
import { bootstrapMedian, bootstrapRatio, roundsOf, seeded } from '../src/bootstrap.js';
import { ratio } from '../src/stats.js';

/** n values spread evenly over [centre·(1−w), centre·(1+w)], shuffled by a fixed rule. */
function spreadAround(centre: number, w: number, n: number): number[] {
  const v = Array.from({ length: n }, (_, i) => centre * (1 - w + (2 * w * i) / (n - 1)));
  return v.map((_, i) => v[(i * 7) % n]!);
}

describe('seeded', () => {
  it('gives the same uniform stream for the same seed, another for another', () => {
    const a = seeded(3);
    const b = seeded(3);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / 1000 - 0.5)).toBeLessThan(0.05);
    expect(seeded(4)()).not.toBe(seeded(3)());
  });
});

describe('bootstrapRatio', () => {
  const mine = spreadAround(20, 0.1, 30); // GFLOP/s
  const other = spreadAround(10, 0.1, 30);

  it('brackets the ratio of medians, in the unit\'s direction, and is the same on every call', () => {
    const hi = bootstrapRatio({ samples: mine }, { samples: other }, 'higher');
    const r = ratio(20, 10, 'higher');
    expect(hi.by).toBe('samples');
    expect(hi.low).toBeLessThan(r);
    expect(hi.high).toBeGreaterThan(r);
    // ±10% samples, 30 each: the median of each moves a few percent, the ratio not by 10%.
    expect(hi.low).toBeGreaterThan(1.8);
    expect(hi.high).toBeLessThan(2.2);
    expect(bootstrapRatio({ samples: mine }, { samples: other }, 'higher')).toEqual(hi);
    // Times: other/mine, so the same samples read as 0.5×.
    const lo = bootstrapRatio({ samples: mine }, { samples: other }, 'lower');
    expect(lo.low).toBeLessThan(0.5);
    expect(lo.high).toBeGreaterThan(0.5);
  });

  it('is wider for noisier samples, a point for samples that do not vary, NaN for a side with none', () => {
    const tight = bootstrapRatio({ samples: mine }, { samples: other }, 'higher');
    const wide = bootstrapRatio({ samples: spreadAround(20, 0.4, 30) }, { samples: spreadAround(10, 0.4, 30) }, 'higher');
    expect(wide.high - wide.low).toBeGreaterThan(2 * (tight.high - tight.low));
    expect(bootstrapRatio({ samples: [4, 4, 4] }, { samples: [2, 2] }, 'lower')).toMatchObject({ low: 0.5, high: 0.5 });
    expect(bootstrapRatio({ samples: [4] }, { samples: [2] }, 'higher')).toEqual({ low: 2, high: 2, by: 'none' });
    const none = bootstrapRatio({ samples: [NaN] }, { samples: [2] }, 'higher');
    expect(Number.isNaN(none.low)).toBe(true);
  });

  it('resamples whole rounds, the same for both sides, so drift that hits both cancels', () => {
    // Five rounds; the machine slows by round (1×, 1.5×, 2×, 1.2×, 3×) and both sides feel it
    // alike: each round's ratio is exactly 2. Sample by sample, the drift reads as noise.
    const drift = [1, 1.5, 2, 1.2, 3];
    const a = drift.flatMap((d) => [1, 1.02, 0.98, 1.01].map((x) => x * d));
    const b = drift.flatMap((d) => [2, 2.04, 1.96, 2.02].map((x) => x * d));
    const rounds = [4, 4, 4, 4, 4];
    const paired = bootstrapRatio({ samples: a, rounds }, { samples: b, rounds }, 'lower');
    const loose = bootstrapRatio({ samples: a }, { samples: b }, 'lower');
    expect(paired.by).toBe('rounds');
    expect(loose.by).toBe('samples');
    expect(paired.low).toBeGreaterThan(1.9);
    expect(paired.high).toBeLessThan(2.1);
    expect(loose.high - loose.low).toBeGreaterThan(5 * (paired.high - paired.low));
    // Drift on one side only (another process took the 2-thread column's core in round 5) is
    // not hidden: the rounds carry it into the interval.
    const hurt = a.map((x, i) => (i >= 16 ? x * 3 : x));
    const oneSided = bootstrapRatio({ samples: hurt, rounds }, { samples: b, rounds }, 'lower');
    expect(oneSided.high - oneSided.low).toBeGreaterThan(0.3);
  });

  it('falls back to samples when the rounds do not fit the samples or differ between the sides', () => {
    expect(roundsOf({ samples: [1, 2, 3], rounds: [1, 1] })).toBeNull();
    expect(roundsOf({ samples: [1, 2, 3], rounds: [3] })).toBeNull(); // one round: nothing to resample
    expect(roundsOf({ samples: [1, 2, NaN, 4], rounds: [2, 2] })).toEqual([[1, 2], [4]]);
    const x = { samples: [1, 2, 3, 4], rounds: [2, 2] };
    const y = { samples: [1, 2, 3, 4, 5, 6], rounds: [2, 2, 2] };
    expect(bootstrapRatio(x, y, 'lower').by).toBe('samples');
  });
});

describe('bootstrapMedian', () => {
  it('brackets the median, by rounds when the cell has them', () => {
    const s = spreadAround(4, 0.2, 25);
    const i = bootstrapMedian({ samples: s });
    expect(i.by).toBe('samples');
    expect(i.low).toBeLessThan(4);
    expect(i.high).toBeGreaterThan(4);
    expect(i.high).toBeLessThan(4.4);
    expect(bootstrapMedian({ samples: s, rounds: [5, 5, 5, 5, 5] }).by).toBe('rounds');
    expect(bootstrapMedian({ samples: [3] })).toEqual({ low: 3, high: 3, by: 'none' });
  });
});
