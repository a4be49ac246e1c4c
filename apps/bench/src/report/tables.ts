/** A table's rows with their ratio columns, computed once for the terminal and the HTML report. */
import { ratio } from '../stats.js';
import { judgeRow, type GoalResult } from './goals.js';
import type { CaseRecord, TableRecord } from './model.js';

export interface Row {
  case: CaseRecord;
  /** One per `table.against`: how many times better this row is than that implementation (NaN: none to compare). */
  ratios: number[];
}

export interface WorkloadGroup {
  workload: string;
  rows: Row[];
}

/** The table's cases grouped by workload (in recording order), each row with its ratios. */
export function tableGroups(table: TableRecord, suite: string, cases: readonly CaseRecord[]): WorkloadGroup[] {
  const mine = cases.filter((c) => c.suite === suite && c.table === table.id);
  const groups = new Map<string, CaseRecord[]>();
  for (const c of mine) {
    const g = groups.get(c.workload) ?? [];
    g.push(c);
    groups.set(c.workload, g);
  }
  return [...groups].map(([workload, cs]) => ({
    workload,
    rows: cs.map((c) => ({
      case: c,
      ratios: table.against.map((other) => {
        const o = cs.find((x) => x.impl === other && x.unit === c.unit);
        return o === undefined || o === c ? NaN : ratio(c.summary.median, o.summary.median, c.better);
      }),
    })),
  }));
}

/** "lower is better" / "higher is better", for headers. */
export function betterWord(c: Pick<CaseRecord, 'better'>): string {
  return c.better === 'lower' ? 'lower is better' : 'higher is better';
}

export interface WideTable {
  impls: string[];
  header: string[];
  /** Per workload: its unit, the cases by impl (undefined where none), the ratio columns and its goals judged. */
  rows: { workload: string; unit: string; cells: (CaseRecord | undefined)[]; ratios: number[]; goals: GoalResult[] }[];
  /** Whether the table declares goals (then the last column, 'goal', holds them). */
  hasGoals: boolean;
}

/** The wide form of a table: a row per workload, a column per implementation, then `wide.ratios`. */
export function wideTable(table: TableRecord, groups: readonly WorkloadGroup[]): WideTable {
  const impls = [...new Set(groups.flatMap((g) => g.rows.map((r) => r.case.impl)))];
  const has = (impl: string): boolean => groups.some((g) => g.rows.some((r) => r.case.impl === impl));
  // A ratio column whose implementations did not run (a mode left out of --quick) is dropped.
  const pairs = (table.wide?.ratios ?? []).filter(([a, b]) => has(a) && has(b));
  const hasGoals = (table.goals ?? []).length > 0;
  return {
    impls,
    hasGoals,
    header: ['workload', 'unit', ...impls, ...pairs.map(([a, b]) => `${a} vs ${b}`), ...(hasGoals ? ['goal'] : [])],
    rows: groups.map((g) => {
      const by = (impl: string): CaseRecord | undefined => g.rows.find((r) => r.case.impl === impl)?.case;
      const first = g.rows[0]!.case;
      return {
        workload: g.workload,
        unit: first.unit,
        cells: impls.map(by),
        ratios: pairs.map(([a, b]) => {
          const x = by(a);
          const y = by(b);
          return x && y ? ratio(x.summary.median, y.summary.median, x.better) : NaN;
        }),
        goals: judgeRow(table.goals, g.workload, g.rows.map((r) => r.case)),
      };
    }),
  };
}
