/**
 * The threaded GEMM's slices (`gemm-split.ts`): they cover the split dimension once, in order;
 * products under GUIDED_MIN_MACS keep the equal cut they had; larger ones end in short slices,
 * never below the floor of rows that keeps a slice's B traffic small, and never more slices than
 * the control block holds.
 */
import { describe, expect, it } from 'vitest';
import { GUIDED_MIN_MACS, SLICE_MIN_LANES, SLICE_MIN_MACS, sliceBounds } from './gemm-split.js';

const sizes = (b: number[]): number[] => b.slice(1).map((x, i) => x - b[i]!);

function checkCover(b: number[], units: number, maxSlices: number): void {
  expect(b[0]).toBe(0);
  expect(b[b.length - 1]).toBe(units);
  expect(b.length - 1).toBeLessThanOrEqual(maxSlices);
  for (const s of sizes(b)) expect(s).toBeGreaterThanOrEqual(1);
}

describe('sliceBounds', () => {
  it('1024² float32 on 2 threads: equal 128-row slices first, then shorter ones down to 16 rows', () => {
    const b = sliceBounds(256, 4, 4 * 1024 * 1024, 2, 4, 250);
    checkCover(b, 256, 250);
    const s = sizes(b);
    expect(s.slice(0, 4)).toEqual([32, 32, 32, 32]);
    // non-increasing, and the last ones are the floor: 16 rows (4 panels of 4)
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeLessThanOrEqual(s[i - 1]!);
    expect(s[s.length - 1]! * 4).toBe(SLICE_MIN_LANES);
    expect(s.length).toBeGreaterThan(8);
  });

  it('products under GUIDED_MIN_MACS keep the equal cut they had (every layer of the MLP step on 2 threads)', () => {
    // The cut before the tail shrank: min(units, threads · 4) slices at floor(units · u / slices).
    const old = (units: number): number[] => {
      const n = Math.min(units, 8);
      return Array.from({ length: n + 1 }, (_, u) => Math.floor((units * u) / n));
    };
    for (const [units, lanes, macs] of [
      [32, 8, 8 * 64 * 784], // x·W1ᵀ, 64×784 @ 784×256: columns split
      [32, 8, 8 * 64 * 256], // h·W2ᵀ and g·W2, 64×256 @ 256×256
      [64, 4, 4 * 256 * 64], // gᵀ·h, 256×64 @ 64×256: rows split
      [98, 8, 8 * 256 * 64], // gᵀ·x, 256×64 @ 64×784: columns split
      [5, 4, 4 * 10 * 64],
    ] as const) {
      expect(units * macs).toBeLessThan(GUIDED_MIN_MACS);
      expect(sliceBounds(units, lanes, macs, 2, 4, 250)).toEqual(old(units));
    }
  });

  it('a tail slice holds at least SLICE_MIN_MACS multiply-adds when panels are small', () => {
    // 2000 panels of 4 rows × 64 × 64: 16384 multiply-adds each, so the floor is 64 panels.
    const b = sliceBounds(2000, 4, 4 * 64 * 64, 2, 4, 250);
    checkCover(b, 2000, 250);
    const floor = SLICE_MIN_MACS / (4 * 64 * 64);
    const s = sizes(b);
    for (const x of s.slice(0, -1)) expect(x).toBeGreaterThanOrEqual(floor);
    expect(s).toContain(floor);
  });

  it('respects the slice cap (the last slice takes the rest) and odd inputs', () => {
    const b = sliceBounds(10_000, 4, 4 * 10_000, 16, 4, 20);
    checkCover(b, 10_000, 20);
    expect(b.length - 1).toBe(20);
    expect(sliceBounds(0, 4, 1, 2, 4, 250)).toEqual([0]);
    expect(sizes(sliceBounds(1, 4, 1, 2, 4, 250))).toEqual([1]);
    checkCover(sliceBounds(3, 4, 1 << 30, 1, 4, 250), 3, 250);
  });
});
