/**
 * Where to cut a sequence of modules into checkpointed segments: PyTorch's even split, and a
 * dynamic programme that picks the cheapest recompute whose estimated peak fits a memory budget.
 * Pure functions over per-module profiles (what `checkpointSequential` measures in one profiling
 * forward), so they are tested without running a model.
 *
 * The memory model. Backward visits segments last to first. While it is inside segment k, memory
 * holds what the segments before k keep since the forward (a checkpointed segment keeps its input,
 * a plain one everything it saved), plus segment k's own saved tensors (recomputed if it is
 * checkpointed, its input included, and then everything the rerun of its modules leaves alive),
 * plus the working memory of one module (its largest tensors and their gradients):
 *
 *   peak = max_k ( Σ_{j<k} kept_j + [ckpt_k]·in_k + S_k + T_k ),   kept_j = ckpt_j ? in_j : S_j
 *
 * where a plain run counts module by module (backward frees each one's saved tensors as it passes)
 * and the cost is the forward cost of every checkpointed module (each is recomputed once). A plain
 * segment is as good as plain single modules, so the programme cuts plain runs into single modules.
 */
import { NablaError } from '@nabla/core';

/** What one module costs and keeps when it runs with autograd recording. */
export interface ModuleProfile {
  /** Bytes of the tensors it saves for backward (each tensor counted once, by its first saver). */
  savedBytes: number;
  /** Bytes of its input: what a checkpoint that starts at this module keeps. */
  inputBytes: number;
  /** Working memory while it runs forward or backward (largest tensors and their gradients). */
  transientBytes: number;
  /** Its forward cost (any unit: the recompute of a plan is a sum of these). */
  cost: number;
  /**
   * Bytes its forward leaves alive (its output and what it did not free): what a rerun holds until
   * the rerun ends, at least `savedBytes` (the default).
   */
  heldBytes?: number;
}

/** What a checkpointed module holds while its segment is rerun. */
function rerunBytes(p: ModuleProfile): number {
  return Math.max(p.savedBytes, p.heldBytes ?? 0);
}

/** Modules `start` (inclusive) to `end` (exclusive); checkpointed or run as usual. */
export interface Segment {
  start: number;
  end: number;
  checkpointed: boolean;
}

export interface SegmentPlan {
  segments: Segment[];
  /** The model's estimate of the peak bytes over the forward and backward. */
  peakBytes: number;
  /** Forward cost recomputed in backward (sum of `cost` over checkpointed modules). */
  recomputeCost: number;
}

function checkProfiles(profiles: readonly ModuleProfile[], op: string): void {
  if (profiles.length === 0) throw new NablaError('there are no modules to segment (got an empty list)', { op });
  profiles.forEach((p, i) => {
    for (const k of ['savedBytes', 'inputBytes', 'transientBytes', 'cost'] as const) {
      const v = p[k];
      if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) {
        throw new NablaError(`profile ${i} has ${k} = ${String(v)}; expected a finite number ≥ 0`, { op });
      }
    }
  });
}

/**
 * PyTorch's `checkpoint_sequential` split: `segments` runs of ⌊n/segments⌋ modules, all but the
 * last checkpointed (the last absorbs the remainder and runs as usual: backward needs it first).
 *
 * @example
 * evenSegments(16, 4); // [0,4) [4,8) [8,12) checkpointed, [12,16) plain
 */
export function evenSegments(n: number, segments: number): Segment[] {
  const op = 'checkpointSequential';
  if (!Number.isInteger(n) || n < 1) throw new NablaError(`there must be at least one module to run (got ${n})`, { op });
  if (!Number.isInteger(segments) || segments < 1) {
    throw new NablaError(`segments must be a positive integer, 'auto' or { memoryBudget: bytes } (got ${String(segments)})`, { op });
  }
  if (segments > n) {
    throw new NablaError(
      `segments (${segments}) is larger than the number of modules (${n}); pass at most ${n}, or 'auto' to let the number be chosen`,
      { op },
    );
  }
  const size = Math.floor(n / segments);
  const out: Segment[] = [];
  for (let k = 0; k < segments - 1; k++) out.push({ start: k * size, end: (k + 1) * size, checkpointed: true });
  out.push({ start: (segments - 1) * size, end: n, checkpointed: false });
  return out;
}

/**
 * The model's peak and recompute cost of `segments` (see the file comment).
 *
 * @example
 * const p = { savedBytes: 18, inputBytes: 2, transientBytes: 16, cost: 1 };
 * estimatePlan(Array(16).fill(p), evenSegments(16, 4)); // { peakBytes, recomputeCost: 12, segments }
 */
export function estimatePlan(profiles: readonly ModuleProfile[], segments: readonly Segment[]): SegmentPlan {
  checkProfiles(profiles, 'checkpointSequential');
  let kept = 0;
  let peak = 0;
  let cost = 0;
  for (const s of segments) {
    if (!s.checkpointed) {
      // Backward frees a plain module's saved tensors as it passes it: one module at a time.
      for (let i = s.start; i < s.end; i++) {
        const p = profiles[i]!;
        peak = Math.max(peak, kept + p.savedBytes + p.transientBytes);
        kept += p.savedBytes;
      }
      continue;
    }
    let saved = 0;
    let transient = 0;
    let c = 0;
    for (let i = s.start; i < s.end; i++) {
      saved += rerunBytes(profiles[i]!);
      transient = Math.max(transient, profiles[i]!.transientBytes);
      c += profiles[i]!.cost;
    }
    const input = profiles[s.start]!.inputBytes;
    peak = Math.max(peak, kept + input + saved + transient);
    kept += input;
    cost += c;
  }
  return { segments: segments.map((s) => ({ ...s })), peakBytes: peak, recomputeCost: cost };
}

/** A partial plan for modules [0, i): what it keeps, its peak so far, its cost, and how it got here. */
interface State {
  kept: number;
  peak: number;
  cost: number;
  prev: State | null;
  seg: Segment | null;
}

/** Adds `s` to `front` unless a state there is at least as good on every count; drops those it beats. */
function insert(front: State[], s: State): void {
  for (const o of front) if (o.kept <= s.kept && o.peak <= s.peak && o.cost <= s.cost) return;
  for (let i = front.length - 1; i >= 0; i--) {
    const o = front[i]!;
    if (s.kept <= o.kept && s.peak <= o.peak && s.cost <= o.cost) front.splice(i, 1);
  }
  front.push(s);
}

function segmentsOf(s: State): Segment[] {
  const out: Segment[] = [];
  for (let t: State | null = s; t !== null && t.seg !== null; t = t.prev) out.push(t.seg);
  return out.reverse();
}

/**
 * All plans that no other plan beats on kept bytes, peak and cost at once, for every prefix; the
 * future of a prefix depends only on what it keeps, so this front is exact.
 */
function fronts(profiles: readonly ModuleProfile[], budget: number): State[] {
  const n = profiles.length;
  const prefixSaved = [0];
  const prefixCost = [0];
  for (const p of profiles) {
    prefixSaved.push(prefixSaved[prefixSaved.length - 1]! + rerunBytes(p));
    prefixCost.push(prefixCost[prefixCost.length - 1]! + p.cost);
  }
  const dp: State[][] = Array.from({ length: n + 1 }, () => []);
  dp[0]!.push({ kept: 0, peak: 0, cost: 0, prev: null, seg: null });
  for (let i = 0; i < n; i++) {
    for (const st of dp[i]!) {
      const p = profiles[i]!;
      // Module i as usual.
      const plainNeed = st.kept + p.savedBytes + p.transientBytes;
      if (plainNeed <= budget) {
        insert(dp[i + 1]!, { kept: st.kept + p.savedBytes, peak: Math.max(st.peak, plainNeed), cost: st.cost, prev: st, seg: { start: i, end: i + 1, checkpointed: false } });
      }
      // A checkpointed segment [i, j).
      let transient = 0;
      for (let j = i + 1; j <= n; j++) {
        transient = Math.max(transient, profiles[j - 1]!.transientBytes);
        const need = st.kept + p.inputBytes + (prefixSaved[j]! - prefixSaved[i]!) + transient;
        if (need > budget) break; // longer segments only need more
        insert(dp[j]!, {
          kept: st.kept + p.inputBytes,
          peak: Math.max(st.peak, need),
          cost: st.cost + prefixCost[j]! - prefixCost[i]!,
          prev: st,
          seg: { start: i, end: j, checkpointed: true },
        });
      }
    }
  }
  return dp[n]!;
}

/** Consecutive plain single-module segments as one (the plan reads as PyTorch's). */
function merge(segments: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segments) {
    const last = out[out.length - 1];
    if (last && !last.checkpointed && !s.checkpointed && last.end === s.start) last.end = s.end;
    else out.push({ ...s });
  }
  return out;
}

/**
 * The plan with the smallest estimated peak (ties: least recompute): the floor a budget can reach.
 *
 * @example
 * const p = { savedBytes: 18, inputBytes: 2, transientBytes: 16, cost: 1 };
 * minimumPeakPlan(Array(16).fill(p)).peakBytes; // the least memory any segmentation needs
 */
export function minimumPeakPlan(profiles: readonly ModuleProfile[]): SegmentPlan {
  checkProfiles(profiles, 'checkpointSequential');
  let best: State | null = null;
  for (const s of fronts(profiles, Infinity)) {
    if (best === null || s.peak < best.peak || (s.peak === best.peak && s.cost < best.cost)) best = s;
  }
  return { segments: merge(segmentsOf(best!)), peakBytes: best!.peak, recomputeCost: best!.cost };
}

/**
 * How far apart two plans' recompute costs must be for one to count as cheaper, as a fraction of
 * the least: a profiling forward times each module once, so costs closer than this are noise, and
 * among plans that tie within it the lower estimated peak wins (then the lower cost). Without it,
 * the plan `'auto'` picked for identical layers changed from run to run with the timings.
 */
export const COST_NOISE = 0.1;

/**
 * The segmentation with the least recompute whose estimated peak is at most `budgetBytes` (ties:
 * the lower peak). With `costTolerance` (a fraction, e.g. `COST_NOISE`), every plan whose cost is
 * within that fraction of the least counts as tied, and the lowest estimated peak among them wins.
 * Throws a `NablaError` that names the smallest reachable peak when none fits.
 *
 * @example
 * const p = { savedBytes: 18, inputBytes: 2, transientBytes: 16, cost: 1 };
 * planSegments(Array(16).fill(p), 120).segments; // a few checkpointed runs, the last one plain
 */
export function planSegments(profiles: readonly ModuleProfile[], budgetBytes: number, costTolerance = 0): SegmentPlan {
  const op = 'checkpointSequential';
  if (typeof costTolerance !== 'number' || !(costTolerance >= 0) || !Number.isFinite(costTolerance)) {
    throw new NablaError(`costTolerance must be a finite fraction ≥ 0 (got ${String(costTolerance)})`, { op });
  }
  return cheapest(profiles, budgetBytes, (least) => least * (1 + costTolerance));
}

/**
 * The lowest estimated peak within `budgetBytes` among plans whose cost is at most
 * `limit(least cost)` (ties: the lower cost). The front holds, for every plan, one at least as
 * good in peak and cost, so the choice made over it is the choice over all plans.
 */
function cheapest(profiles: readonly ModuleProfile[], budgetBytes: number, limit: (least: number) => number): SegmentPlan {
  const op = 'checkpointSequential';
  checkProfiles(profiles, op);
  if (typeof budgetBytes !== 'number' || !(budgetBytes > 0)) {
    throw new NablaError(`memoryBudget must be a positive number of bytes (got ${String(budgetBytes)})`, { op });
  }
  const front = fronts(profiles, budgetBytes);
  if (front.length === 0) {
    const min = minimumPeakPlan(profiles);
    throw new NablaError(
      `no segmentation of the ${profiles.length} modules fits memoryBudget ${fmtBytes(budgetBytes)}: the smallest estimated peak is ` +
        `${fmtBytes(min.peakBytes)} (${describePlan(min.segments)}). Raise the budget to at least ${min.peakBytes} bytes, use a smaller batch, ` +
        `or split the largest module so that it can be checkpointed apart`,
      { op },
    );
  }
  const least = Math.min(...front.map((s) => s.cost));
  // Costs are sums of floats in different orders: equal ones may differ in the last bits.
  const most = Math.max(least, limit(least)) * (1 + 1e-9);
  let best: State | null = null;
  for (const s of front) {
    if (s.cost > most) continue;
    if (best === null || s.peak < best.peak || (s.peak === best.peak && s.cost < best.cost)) best = s;
  }
  return { segments: merge(segmentsOf(best!)), peakBytes: best!.peak, recomputeCost: best!.cost };
}

/**
 * `'auto'`: the least recompute among plans whose estimated peak is no more than that of PyTorch's
 * √n even split (so memory grows as √n, and the recompute is often below a full extra forward);
 * plans within `COST_NOISE` of the least recompute (and no dearer than the √n split) tie, and the
 * lowest estimated peak among them wins.
 *
 * @example
 * const p = { savedBytes: 18, inputBytes: 2, transientBytes: 16, cost: 1 };
 * describePlan(autoPlan(Array(16).fill(p)).segments); // e.g. '[0,4)* [4,8)* [8,12)* [12,16)'
 */
export function autoPlan(profiles: readonly ModuleProfile[]): SegmentPlan {
  const n = profiles.length;
  const k = Math.max(1, Math.min(n, Math.round(Math.sqrt(n))));
  const even = estimatePlan(profiles, evenSegments(n, k));
  // Never dearer than the √n split it is measured against (that one fits the budget too).
  return cheapest(profiles, even.peakBytes, (least) => Math.min(least * (1 + COST_NOISE), even.recomputeCost));
}

export function fmtBytes(b: number): string {
  if (b >= 1 << 30) return `${(b / (1 << 30)).toFixed(2)} GiB`;
  if (b >= 1 << 20) return `${(b / (1 << 20)).toFixed(2)} MiB`;
  if (b >= 1 << 10) return `${(b / (1 << 10)).toFixed(1)} KiB`;
  return `${b} B`;
}

/**
 * A plan in one line; starred runs are checkpointed.
 *
 * @example
 * describePlan(evenSegments(16, 4)); // '[0,4)* [4,8)* [8,12)* [12,16)'
 */
export function describePlan(segments: readonly Segment[]): string {
  return segments.map((s) => `[${s.start},${s.end})${s.checkpointed ? '*' : ''}`).join(' ');
}
