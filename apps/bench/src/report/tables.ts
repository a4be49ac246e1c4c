/** A table's rows with their ratio columns, computed once for the terminal and the HTML report. */
import { ratio } from '../stats.js';
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
