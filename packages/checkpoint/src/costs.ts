/**
 * Profiled costs made steady. `checkpointSequential` times each module once in its profiling
 * forward, and one timing of a sub-millisecond module is mostly noise on a busy machine (a
 * collection, another process taking the core: the same Linear(256,256) measured 0.5 ms and 11 ms
 * in one forward). The plan is a knapsack over those costs, so the noise picked a different plan
 * on every run. Modules that are the same (the same kind, saving, holding and taking the same
 * bytes) cost the same: each such group gets its median, which one slow timing cannot move.
 *
 * The medians are then rounded to a power-of-two step (1/128 of the cheapest, or finer), so that
 * every sum of them is exact: plans that recompute the same modules in another order cost exactly
 * the same, and the planner's ties (broken by the estimated peak, then by the order it found them)
 * do not hang on the last bits of a float.
 */
import type { ModuleProfile } from './segments.js';

/**
 * `profiles` with every group of identical modules (`kinds[i]` and the byte counts equal) given
 * the median of its costs (a module alone in its group keeps its own), on a power-of-two grid.
 *
 * @example
 * const lin = { savedBytes: 8, inputBytes: 2, transientBytes: 4, cost: 1 };
 * steadyCosts([lin, { ...lin, cost: 9 }, { ...lin, cost: 1.5 }], ['Linear', 'Linear', 'Linear']).map((p) => p.cost); // [1.5, 1.5, 1.5]
 */
export function steadyCosts(profiles: readonly ModuleProfile[], kinds: readonly string[]): ModuleProfile[] {
  const key = (p: ModuleProfile, i: number): string => `${kinds[i] ?? i}|${p.savedBytes}|${p.inputBytes}|${p.transientBytes}|${p.heldBytes ?? ''}`;
  const groups = new Map<string, number[]>();
  profiles.forEach((p, i) => {
    const g = groups.get(key(p, i));
    if (g) g.push(p.cost);
    else groups.set(key(p, i), [p.cost]);
  });
  const medians = new Map([...groups].map(([k, costs]) => [k, median(costs)]));
  const cheapest = Math.min(...[...medians.values()].filter((c) => c > 0));
  const step = Number.isFinite(cheapest) ? 2 ** Math.floor(Math.log2(cheapest / 128)) : 1;
  return profiles.map((p, i) => ({ ...p, cost: Math.round(medians.get(key(p, i))! / step) * step }));
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
