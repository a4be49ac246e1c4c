import { describe, expect, it } from 'vitest';
import { NablaError } from '@nabla/core';
import { autoPlan, COST_NOISE, estimatePlan, evenSegments, minimumPeakPlan, planSegments, type ModuleProfile, type Segment } from '../src/segments.js';

/** Every way to cut n modules into runs, each run checkpointed or not. */
function allPlans(n: number): Segment[][] {
  const out: Segment[][] = [];
  const rec = (start: number, acc: Segment[]): void => {
    if (start === n) {
      out.push(acc.map((s) => ({ ...s })));
      return;
    }
    for (let end = start + 1; end <= n; end++) {
      for (const checkpointed of [false, true]) rec(end, [...acc, { start, end, checkpointed }]);
    }
  };
  rec(0, []);
  return out;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const block: ModuleProfile = { savedBytes: 18, inputBytes: 2, transientBytes: 16, cost: 1 };

describe('evenSegments (PyTorch checkpoint_sequential)', () => {
  it('cuts ⌊n/k⌋ modules per run, all checkpointed but the last, which takes the rest', () => {
    expect(evenSegments(16, 4)).toEqual([
      { start: 0, end: 4, checkpointed: true },
      { start: 4, end: 8, checkpointed: true },
      { start: 8, end: 12, checkpointed: true },
      { start: 12, end: 16, checkpointed: false },
    ]);
    expect(evenSegments(10, 3).map((s) => [s.start, s.end])).toEqual([[0, 3], [3, 6], [6, 10]]);
    expect(evenSegments(5, 1)).toEqual([{ start: 0, end: 5, checkpointed: false }]);
  });

  it('refuses more segments than modules, saying what to pass', () => {
    expect(() => evenSegments(3, 4)).toThrow(NablaError);
    expect(() => evenSegments(3, 4)).toThrow(/segments \(4\) is larger than the number of modules \(3\); pass at most 3, or 'auto'/);
    expect(() => evenSegments(3, 0)).toThrow(/positive integer/);
    expect(() => evenSegments(3, 1.5)).toThrow(/positive integer/);
  });
});

describe('estimatePlan', () => {
  it('is the sum of everything saved when nothing is checkpointed', () => {
    const p = estimatePlan(Array(4).fill(block), [{ start: 0, end: 4, checkpointed: false }]);
    expect(p.peakBytes).toBe(4 * 18 + 16); // the last module's work on top of everything saved
    expect(p.recomputeCost).toBe(0);
  });

  it('keeps only segment inputs, plus one segment recomputed, under a √n split', () => {
    const p = estimatePlan(Array(16).fill(block), evenSegments(16, 4));
    // three kept inputs, then the plain last segment (4 blocks) in memory at the start of backward
    expect(p.peakBytes).toBe(3 * 2 + 4 * 18 + 16);
    expect(p.recomputeCost).toBe(12);
  });
});

describe('planSegments (the dynamic programme)', () => {
  it('matches an exhaustive search on random profiles and budgets', () => {
    const rnd = lcg(7);
    for (let trial = 0; trial < 60; trial++) {
      const n = 1 + Math.floor(rnd() * 6);
      const profiles: ModuleProfile[] = Array.from({ length: n }, () => ({
        savedBytes: Math.floor(rnd() * 20),
        inputBytes: Math.floor(rnd() * 6),
        transientBytes: Math.floor(rnd() * 8),
        cost: 1 + Math.floor(rnd() * 5),
      }));
      const plans = allPlans(n).map((s) => estimatePlan(profiles, s));
      const minPeak = Math.min(...plans.map((p) => p.peakBytes));
      const maxPeak = Math.max(...plans.map((p) => p.peakBytes));
      for (const budget of [minPeak, Math.floor((minPeak + maxPeak) / 2), maxPeak]) {
        const feasible = plans.filter((p) => p.peakBytes <= budget);
        const bestCost = Math.min(...feasible.map((p) => p.recomputeCost));
        const got = planSegments(profiles, budget);
        expect(got.recomputeCost).toBe(bestCost);
        expect(got.peakBytes).toBeLessThanOrEqual(budget);
        // The plan it returns really has the peak and cost it reports.
        const again = estimatePlan(profiles, got.segments);
        expect(again.peakBytes).toBe(got.peakBytes);
        expect(again.recomputeCost).toBe(got.recomputeCost);
      }
      expect(minimumPeakPlan(profiles).peakBytes).toBe(minPeak);
    }
  });

  it('with a cost tolerance, takes the lowest peak among plans within it of the least cost (exhaustive search)', () => {
    const rnd = lcg(11);
    let moved = 0;
    for (let trial = 0; trial < 60; trial++) {
      const n = 2 + Math.floor(rnd() * 5);
      const profiles: ModuleProfile[] = Array.from({ length: n }, () => ({
        savedBytes: Math.floor(rnd() * 20),
        inputBytes: Math.floor(rnd() * 6),
        transientBytes: Math.floor(rnd() * 8),
        cost: 10 + Math.floor(rnd() * 5),
      }));
      const plans = allPlans(n).map((s) => estimatePlan(profiles, s));
      const minPeak = Math.min(...plans.map((p) => p.peakBytes));
      const maxPeak = Math.max(...plans.map((p) => p.peakBytes));
      for (const budget of [Math.floor((minPeak + maxPeak) / 2), maxPeak]) {
        const feasible = plans.filter((p) => p.peakBytes <= budget);
        const least = Math.min(...feasible.map((p) => p.recomputeCost));
        const near = feasible.filter((p) => p.recomputeCost <= least * (1 + COST_NOISE));
        const got = planSegments(profiles, budget, COST_NOISE);
        expect(got.peakBytes).toBe(Math.min(...near.map((p) => p.peakBytes)));
        expect(got.recomputeCost).toBeLessThanOrEqual(least * (1 + COST_NOISE));
        if (got.recomputeCost > least) moved++;
      }
    }
    // Not vacuous: in some trials a dearer plan within the tolerance had the lower peak.
    expect(moved).toBeGreaterThan(3);
    expect(() => planSegments([block], 100, -1)).toThrow(NablaError);
    expect(() => planSegments([block], 100, Number.NaN)).toThrow(/costTolerance must be a finite fraction/);
  });

  it('recomputes nothing when the budget allows everything to be saved', () => {
    const p = planSegments(Array(16).fill(block), 1e9);
    expect(p.recomputeCost).toBe(0);
    expect(p.segments).toEqual([{ start: 0, end: 16, checkpointed: false }]);
  });

  it('prefers checkpointing cheap modules when the budget forces some recompute', () => {
    const cheap: ModuleProfile = { savedBytes: 10, inputBytes: 1, transientBytes: 0, cost: 1 };
    const dear: ModuleProfile = { savedBytes: 10, inputBytes: 1, transientBytes: 0, cost: 100 };
    // 40 bytes saved in all; 31 fit once the cheap module 1 keeps only its 1-byte input.
    const plan = planSegments([dear, cheap, dear, cheap], 31);
    expect(plan.recomputeCost).toBe(1);
    expect(plan.segments.filter((s) => s.checkpointed)).toEqual([{ start: 1, end: 2, checkpointed: true }]);
  });

  it("'auto' is no worse than the √n split in memory, and no dearer in recompute", () => {
    const profiles = Array(16).fill(block) as ModuleProfile[];
    const even = estimatePlan(profiles, evenSegments(16, 4));
    const auto = autoPlan(profiles);
    expect(auto.peakBytes).toBeLessThanOrEqual(even.peakBytes);
    expect(auto.recomputeCost).toBeLessThanOrEqual(even.recomputeCost);
    const all = estimatePlan(profiles, [{ start: 0, end: 16, checkpointed: false }]);
    expect(auto.peakBytes).toBeLessThan(all.peakBytes / 2);
  });

  it('names the smallest reachable peak when no segmentation fits the budget', () => {
    const profiles = Array(4).fill(block) as ModuleProfile[];
    const min = minimumPeakPlan(profiles).peakBytes;
    expect(() => planSegments(profiles, min - 1)).toThrow(NablaError);
    expect(() => planSegments(profiles, min - 1)).toThrow(new RegExp(`smallest estimated peak is .*Raise the budget to at least ${min} bytes`));
    expect(() => planSegments(profiles, -5)).toThrow(/memoryBudget must be a positive number of bytes/);
    expect(() => planSegments([], 10)).toThrow(/no modules/);
  });
});
