/**
 * A table's goals judged against its cases: for each target (`Goal`, declared with the table), the
 * number it is judged by (a ratio from medians, as the ratio columns compute it, or the median
 * itself), how sure that number is (its bootstrap interval, `../bootstrap.ts`: by rounds where the
 * cells were interleaved) and the verdict: `met` or `NOT met` when the whole interval lies on one
 * side of the line, `at the line` when it straddles it. Derived at report time from the samples,
 * like the ratios; report.json also carries them judged (`goal-report.ts`).
 */
import { bootstrapMedian, bootstrapRatio, DEFAULT_LEVEL, type Interval } from '../bootstrap.js';
import { fmt, fmtRatio, ratio } from '../stats.js';
import type { CaseRecord, Goal, GoalVerdict } from './model.js';

/**
 * How a goal stands: `met` and `NOT met` when the whole interval lies on one side of the line,
 * `at the line` when it straddles it (this run cannot tell; another may say either), `not judged`
 * when a side did not run.
 */
export type { GoalVerdict };

export interface GoalResult {
  goal: Goal;
  /** The ratio (`against` goals) or `impl`'s median (bounds); NaN when a side was not measured. */
  value: number;
  /** The bootstrap interval of `value` (`spread.by`: resampled by rounds or by samples). */
  spread: Interval;
  unit: string;
  /** Whether the median alone meets the goal (what the verdict said before it had a spread); null: not judged. */
  met: boolean | null;
  verdict: GoalVerdict;
  /** Why it is not met beyond the number ("wrong"), or why it was not judged. */
  why?: string;
}

const NO_SPREAD: Interval = { low: NaN, high: NaN, by: 'none' };

/** Where the interval [low, high] lies against the goal's accepted range [lo, hi]. */
export function verdictOf(spread: Pick<Interval, 'low' | 'high'>, lo: number, hi: number): Exclude<GoalVerdict, 'not judged'> {
  if (spread.low >= lo && spread.high <= hi) return 'met';
  if (spread.high < lo || spread.low > hi) return 'NOT met';
  return 'at the line';
}

/** `goal` judged on the cases of its workload. */
export function judgeGoal(goal: Goal, cases: readonly CaseRecord[]): GoalResult {
  const mine = cases.find((c) => c.impl === goal.impl && c.summary.n > 0);
  const unjudged = (unit: string, why: string): GoalResult => ({ goal, value: NaN, spread: NO_SPREAD, unit, met: null, verdict: 'not judged', why });
  if (mine === undefined) return unjudged('', `${goal.impl} not measured`);
  const wrong = goal.right === true && mine.note !== undefined ? 'wrong' : undefined;
  let value: number;
  let spread: Interval;
  let unit: string;
  let lo = -Infinity;
  let hi = Infinity;
  if (goal.against !== undefined) {
    const other = cases.find((c) => c.impl === goal.against && c.unit === mine.unit && c.summary.n > 0);
    if (other === undefined) return unjudged('×', `${goal.against} not measured`);
    value = ratio(mine.summary.median, other.summary.median, mine.better);
    spread = bootstrapRatio(mine, other, mine.better);
    unit = '×';
    lo = goal.atLeast ?? 1;
  } else {
    value = mine.summary.median;
    spread = bootstrapMedian(mine);
    unit = mine.unit;
    if (goal.atMost !== undefined) hi = goal.atMost;
    if (goal.atLeastValue !== undefined) lo = goal.atLeastValue;
  }
  const medianOk = value >= lo && value <= hi;
  // Without a spread (NaN bounds) the median alone decides.
  const where = Number.isNaN(spread.low) ? verdictOf({ low: value, high: value }, lo, hi) : verdictOf(spread, lo, hi);
  return { goal, value, spread, unit, met: medianOk && wrong === undefined, verdict: wrong ? 'NOT met' : where, ...(wrong ? { why: wrong } : {}) };
}

/** The goals declared for `workload`, judged. */
export function judgeRow(goals: readonly Goal[] | undefined, workload: string, cases: readonly CaseRecord[]): GoalResult[] {
  return (goals ?? []).filter((g) => g.workload === workload).map((g) => judgeGoal(g, cases));
}

/** "met", "at the line", "NOT met", "not judged". */
export function verdictWord(r: GoalResult): string {
  return r.verdict;
}

/** The number a goal is judged by: "2.33×", "4.1 ms", "—". */
export function fmtGoalValue(r: GoalResult): string {
  return Number.isNaN(r.value) ? '—' : r.unit === '×' ? fmtRatio(r.value) : `${fmt(r.value)} ${r.unit}`;
}

/** The value's interval: "1.62–2.05" (in the value's unit), or '' when there is none (or the samples did not vary). */
export function fmtSpread(r: GoalResult): string {
  if (Number.isNaN(r.spread.low) || r.spread.by === 'none' || r.spread.low === r.spread.high) return '';
  return `${fmt(r.spread.low)}–${fmt(r.spread.high)}`;
}

/** "wasm 2t ≥ 2× tfjs-wasm: 2.33× (2.10–2.51) met" (plain text, for the terminal and titles); a hint says so. */
export function fmtGoal(r: GoalResult): string {
  const spread = fmtSpread(r);
  return `${r.goal.hint ? 'hint: ' : ''}${r.goal.label}: ${fmtGoalValue(r)}${spread ? ` (${spread})` : ''} ${verdictWord(r)}${r.why ? ` (${r.why})` : ''}`;
}

/** What the parentheses after a goal's number are, for the line under a table. */
export const SPREAD_LEGEND = `goal: the ratio of medians (or the median) and, in parentheses, its ${Math.round(DEFAULT_LEVEL * 100)}% bootstrap interval (resampling whole rounds, the same rounds for both sides, where the cells were interleaved); "met" / "NOT met": the whole interval on one side of the goal, "at the line": it straddles the goal`;

export interface GoalCounts {
  met: number;
  atLine: number;
  notMet: number;
  notJudged: number;
}

/** How many results stand where. */
export function countGoals(results: readonly GoalResult[]): GoalCounts {
  const n = (v: GoalVerdict): number => results.filter((r) => r.verdict === v).length;
  return { met: n('met'), atLine: n('at the line'), notMet: n('NOT met'), notJudged: n('not judged') };
}

/**
 * The verdicts counted, out of those judged: "7 met, 1 at the line, 1 NOT met of 9 goals (1 not
 * judged)"; hints are tallied apart: "…; hints (not counted): 0 met, 0 at the line, 2 NOT met".
 */
export function goalTally(results: readonly GoalResult[]): string {
  const words = (c: GoalCounts): string => `${c.met} met, ${c.atLine} at the line, ${c.notMet} NOT met`;
  const g = countGoals(results.filter((r) => r.goal.hint !== true));
  const hints = results.filter((r) => r.goal.hint === true);
  const judged = g.met + g.atLine + g.notMet;
  return `${words(g)} of ${judged} goals${g.notJudged ? ` (${g.notJudged} not judged)` : ''}${hints.length ? `; hints (not counted): ${words(countGoals(hints))}` : ''}`;
}
