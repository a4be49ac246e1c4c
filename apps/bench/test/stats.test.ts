import { describe, expect, it } from 'vitest';
import { compare, fmtSummary, quantileSorted, ratio, summarize } from '../src/stats.js';

describe('summarize', () => {
  it('gives the median, quartiles (linear interpolation, as numpy) and range, whatever the order', () => {
    const s = summarize([9, 1, 5, 3, 7]);
    expect(s).toEqual({ n: 5, median: 5, p25: 3, p75: 7, min: 1, max: 9 });
    const even = summarize([4, 1, 3, 2]);
    expect(even.median).toBe(2.5);
    expect(even.p25).toBeCloseTo(1.75, 12);
    expect(even.p75).toBeCloseTo(3.25, 12);
    expect(quantileSorted([10, 20], 0.25)).toBe(12.5);
  });

  it('drops non-finite samples and says n = 0 when nothing is left', () => {
    expect(summarize([NaN, 2, Infinity]).median).toBe(2);
    const empty = summarize([]);
    expect(empty.n).toBe(0);
    expect(Number.isNaN(empty.median)).toBe(true);
    expect(fmtSummary(empty)).toBe('—');
  });

  it('prints the median with the interquartile range', () => {
    expect(fmtSummary(summarize([1, 2, 3, 4, 5]))).toBe('3.00 [2.00–4.00]');
    expect(fmtSummary(summarize([42]))).toBe('42.0');
  });
});

describe('ratio', () => {
  it('is above 1 when the first is better, for times and for throughput', () => {
    expect(ratio(2, 6, 'lower')).toBe(3); // 2 ms against 6 ms: three times faster
    expect(ratio(6, 2, 'lower')).toBeCloseTo(1 / 3, 12);
    expect(ratio(30, 10, 'higher')).toBe(3); // 30 GFLOP/s against 10
    expect(ratio(10, 30, 'higher')).toBeCloseTo(1 / 3, 12);
  });

  it('is NaN when a side is missing or zero', () => {
    expect(ratio(NaN, 1, 'lower')).toBeNaN();
    expect(ratio(1, 0, 'lower')).toBeNaN();
  });
});

describe('compare (regression flag)', () => {
  const s = (v: number[]): ReturnType<typeof summarize> => summarize(v);

  it('flags a time 1.5× slower whose spread does not overlap the baseline', () => {
    const c = compare(s([15, 15.2, 15.4]), s([10, 10.1, 10.2]), 'lower');
    expect(c.verdict).toBe('regression');
    expect(c.ratio).toBeCloseTo(10.1 / 15.2, 12);
  });

  it('does not flag a slower median whose spread overlaps (noise on a busy machine)', () => {
    expect(compare(s([9, 15, 30]), s([8, 10, 20]), 'lower').verdict).toBe('same');
  });

  it('does not flag a small slow-down under the threshold even with tight spreads', () => {
    expect(compare(s([11, 11.1, 11.2]), s([10, 10.1, 10.2]), 'lower').verdict).toBe('same');
    expect(compare(s([11, 11.1, 11.2]), s([10, 10.1, 10.2]), 'lower', 1.05).verdict).toBe('regression');
  });

  it('reads throughput the other way round and reports improvements', () => {
    expect(compare(s([10, 10.5, 11]), s([20, 21, 22]), 'higher').verdict).toBe('regression');
    expect(compare(s([20, 21, 22]), s([10, 10.5, 11]), 'higher').verdict).toBe('improvement');
    expect(compare(s([5, 5.1, 5.2]), s([10, 10.1, 10.2]), 'lower').verdict).toBe('improvement');
  });
});
