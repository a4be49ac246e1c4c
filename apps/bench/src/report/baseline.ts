/** Compares a run with a previous report.json: every case found in both, flagged by `compare`. */
import { readFileSync } from 'node:fs';
import { compare, fmtRatio, fmtSummary } from '../stats.js';
import type { BaselineRow, CaseRecord, Report } from './model.js';

export function readReport(path: string): Report {
  const r = JSON.parse(readFileSync(path, 'utf8')) as Report;
  if (r.format !== 'nabla-bench/1' || !Array.isArray(r.cases)) throw new Error(`bench: ${path} is not a bench report.json (format ${String(r.format)})`);
  return r;
}

const key = (c: Pick<CaseRecord, 'suite' | 'table' | 'workload' | 'impl' | 'unit'>): string => [c.suite, c.table, c.workload, c.impl, c.unit].join('\u0000');

export function compareWithBaseline(cases: readonly CaseRecord[], base: Report, threshold: number): BaselineRow[] {
  const old = new Map(base.cases.map((c) => [key(c), c]));
  const rows: BaselineRow[] = [];
  for (const c of cases) {
    const b = old.get(key(c));
    if (!b || b.summary.n === 0 || c.summary.n === 0) continue;
    rows.push({ suite: c.suite, table: c.table, workload: c.workload, impl: c.impl, unit: c.unit, current: c.summary, baseline: b.summary, comparison: compare(c.summary, b.summary, c.better, threshold) });
  }
  return rows;
}

export function printBaseline(rows: readonly BaselineRow[], path: string, log: (l: string) => void): void {
  const flagged = rows.filter((r) => r.comparison.verdict !== 'same');
  log(`\n## Against baseline ${path}: ${rows.length} cases compared, ${rows.filter((r) => r.comparison.verdict === 'regression').length} regressions, ${rows.filter((r) => r.comparison.verdict === 'improvement').length} improvements`);
  for (const r of flagged) {
    log(`${r.comparison.verdict === 'regression' ? 'REGRESSION ' : 'improvement'}  ${r.suite} · ${r.workload} · ${r.impl}: ${fmtSummary(r.current)} ${r.unit} vs ${fmtSummary(r.baseline)} (${fmtRatio(r.comparison.ratio)} as good)`);
  }
}
