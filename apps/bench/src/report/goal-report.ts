/**
 * report.json's judged goals: every goal the suites declare, judged on the run's cases as the
 * terminal and the HTML judge them (the same samples, the same seeded bootstrap), so that a reader
 * of the JSON gets each verdict and its interval without recomputing them.
 */
import { fmt } from '../stats.js';
import { DEFAULT_LEVEL } from '../bootstrap.js';
import { goalTally, judgeRow } from './goals.js';
import type { CaseRecord, Goal, JudgedGoal, SuiteRecord } from './model.js';
import { tableGroups } from './tables.js';

/** The goal's line in words: "≥ 2×", "≤ 6 ms", "≥ 10 GFLOP/s". */
function lineWords(g: Goal, unit: string): string {
  if (g.against !== undefined) return `≥ ${fmt(g.atLeast ?? 1)}×`;
  const parts = [...(g.atLeastValue !== undefined ? [`≥ ${fmt(g.atLeastValue)} ${unit}`] : []), ...(g.atMost !== undefined ? [`≤ ${fmt(g.atMost)} ${unit}`] : [])];
  return parts.join(', ');
}

const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Every goal the suites declare, judged on the run's cases: report.json's `goals` and `goalTallies`. */
export function judgeReport(suites: readonly SuiteRecord[], cases: readonly CaseRecord[]): { goals: JudgedGoal[]; tallies: { suite: string; table: string; tally: string }[] } {
  const goals: JudgedGoal[] = [];
  const tallies: { suite: string; table: string; tally: string }[] = [];
  for (const s of suites) {
    for (const t of s.tables) {
      if (!t.goals?.length) continue;
      const groups = tableGroups(t, s.name, cases);
      const results = groups.flatMap((g) => judgeRow(t.goals, g.workload, g.rows.map((r) => r.case)));
      for (const r of results) {
        const unit = r.unit || (cases.find((c) => c.suite === s.name && c.workload === r.goal.workload)?.unit ?? '');
        goals.push({
          suite: s.name,
          table: t.id,
          workload: r.goal.workload,
          impl: r.goal.impl,
          ...(r.goal.against !== undefined ? { against: r.goal.against } : {}),
          label: r.goal.label,
          ...(r.goal.hint ? { hint: true } : {}),
          line: lineWords(r.goal, unit),
          value: orNull(r.value),
          low: orNull(r.spread.low),
          high: orNull(r.spread.high),
          level: DEFAULT_LEVEL,
          spreadBy: r.spread.by,
          unit,
          verdict: r.verdict,
          ...(r.why ? { why: r.why } : {}),
        });
      }
      if (results.length) tallies.push({ suite: s.name, table: t.id, tally: goalTally(results) });
    }
  }
  return { goals, tallies };
}
