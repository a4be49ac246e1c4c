/**
 * A table's goals judged against its cases: for each target (`Goal`, declared with the table), the
 * number it is judged by (a ratio from medians, as the ratio columns compute it, or the median
 * itself) and whether it is met. Derived at report time, like the ratios, so report.json keeps the
 * goals as declared and the samples they are judged on.
 */
import { fmt, fmtRatio, ratio } from '../stats.js';
import type { CaseRecord, Goal } from './model.js';

export interface GoalResult {
  goal: Goal;
  /** The ratio (`against` goals) or `impl`'s median (bounds); NaN when a side was not measured. */
  value: number;
  unit: string;
  /** null: not judged (an implementation did not run). */
  met: boolean | null;
  /** Why it is not met beyond the number ("wrong"), or why it was not judged. */
  why?: string;
}

/** `goal` judged on the cases of its workload. */
export function judgeGoal(goal: Goal, cases: readonly CaseRecord[]): GoalResult {
  const mine = cases.find((c) => c.impl === goal.impl && c.summary.n > 0);
  if (mine === undefined) return { goal, value: NaN, unit: '', met: null, why: `${goal.impl} not measured` };
  const wrong = goal.right === true && mine.note !== undefined ? 'wrong' : undefined;
  let value: number;
  let ok: boolean;
  if (goal.against !== undefined) {
    const other = cases.find((c) => c.impl === goal.against && c.unit === mine.unit && c.summary.n > 0);
    if (other === undefined) return { goal, value: NaN, unit: '×', met: null, why: `${goal.against} not measured` };
    value = ratio(mine.summary.median, other.summary.median, mine.better);
    ok = value >= (goal.atLeast ?? 1);
    return { goal, value, unit: '×', met: ok && wrong === undefined, ...(wrong ? { why: wrong } : {}) };
  }
  value = mine.summary.median;
  ok = (goal.atMost === undefined || value <= goal.atMost) && (goal.atLeastValue === undefined || value >= goal.atLeastValue);
  return { goal, value, unit: mine.unit, met: ok && wrong === undefined, ...(wrong ? { why: wrong } : {}) };
}

/** The goals declared for `workload`, judged. */
export function judgeRow(goals: readonly Goal[] | undefined, workload: string, cases: readonly CaseRecord[]): GoalResult[] {
  return (goals ?? []).filter((g) => g.workload === workload).map((g) => judgeGoal(g, cases));
}

/** "met", "NOT met", "not judged". */
export function verdictWord(r: GoalResult): string {
  return r.met === null ? 'not judged' : r.met ? 'met' : 'NOT met';
}

/** The number a goal is judged by: "2.33×", "4.1 ms", "—". */
export function fmtGoalValue(r: GoalResult): string {
  return Number.isNaN(r.value) ? '—' : r.unit === '×' ? fmtRatio(r.value) : `${fmt(r.value)} ${r.unit}`;
}

/** "wasm 2t ≥ 2× tfjs-wasm: 2.33× met" (plain text, for the terminal and titles); a hint says so. */
export function fmtGoal(r: GoalResult): string {
  return `${r.goal.hint ? 'hint: ' : ''}${r.goal.label}: ${fmtGoalValue(r)} ${verdictWord(r)}${r.why ? ` (${r.why})` : ''}`;
}

/**
 * How many of the results are met, out of those judged: "7 of 11 goals met (1 not judged)"; hints
 * are tallied apart: "…; hints: 0 of 2 met".
 */
export function goalTally(results: readonly GoalResult[]): string {
  const count = (rs: readonly GoalResult[]): { met: number; judged: number; skipped: number } => {
    const judged = rs.filter((r) => r.met !== null);
    return { met: judged.filter((r) => r.met).length, judged: judged.length, skipped: rs.length - judged.length };
  };
  const g = count(results.filter((r) => r.goal.hint !== true));
  const hints = results.filter((r) => r.goal.hint === true);
  const h = count(hints);
  return `${g.met} of ${g.judged} goals met${g.skipped ? ` (${g.skipped} not judged)` : ''}${hints.length ? `; hints (not counted): ${h.met} of ${h.judged} met` : ''}`;
}
