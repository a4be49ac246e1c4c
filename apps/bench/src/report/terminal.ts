/** Prints a finished suite's tables: median [interquartile range] per cell and the ratio columns. */
import { fmtRatio, fmtSummary, median } from '../stats.js';
import { cpuShare, STARVED_SHARE, starved } from './cpu-share.js';
import { fmtGoal, goalTally, SPREAD_LEGEND } from './goals.js';
import type { CaseRecord, LegacyTable, SuiteRecord } from './model.js';
import { tableGroups, wideTable } from './tables.js';

export function textTable(title: string, header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  // Text columns (the first two, and a last 'note' or 'goal') are left-aligned, numbers right-aligned.
  const left = (i: number): boolean => i < 2 || (i === header.length - 1 && (header[i] === 'note' || header[i] === 'goal'));
  const line = (cells: string[]): string => cells.map((c, i) => (left(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [`\n## ${title}\n`, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

export function printSuite(s: SuiteRecord, cases: readonly CaseRecord[], log: (line: string) => void): void {
  for (const t of s.tables) {
    const groups = tableGroups(t, s.name, cases);
    if (groups.length === 0) continue;
    if (t.wide) {
      const w = wideTable(t, groups);
      const cell = (c: CaseRecord | undefined): string => (c ? `${fmtSummary(c.summary)}${c.note ? ' (!)' : ''}` : '—');
      const goalCell = (r: (typeof w.rows)[number]): string[] => (w.hasGoals ? [r.goals.length ? r.goals.map(fmtGoal).join('; ') : '—'] : []);
      for (const l of textTable(`${s.name}: ${t.title}`, w.header, w.rows.map((r) => [r.workload, r.unit, ...r.cells.map(cell), ...r.ratios.map(fmtRatio), ...goalCell(r)]))) log(l);
      const noted = w.rows.flatMap((r) => r.cells.filter((c): c is CaseRecord => c?.note !== undefined).map((c) => `(!) ${r.workload} · ${c.impl}: ${c.note}`));
      for (const n of noted) log(n);
      log('(cells: median [IQR]; "a vs b": how many times better a is than b, from medians — above 1× a wins)');
      for (const l of shareLines(w.impls, w.rows.flatMap((r) => r.cells.filter((c): c is CaseRecord => c !== undefined)))) log(l);
      if (w.hasGoals) {
        log(`(${SPREAD_LEGEND})`);
        log(`goals: ${goalTally(w.rows.flatMap((r) => r.goals))}`);
      }
      continue;
    }
    const hasNotes = groups.some((g) => g.rows.some((r) => r.case.note));
    const header = ['workload', 'impl', 'median [IQR]', 'unit', 'n', ...t.against.map((a) => `vs ${a}`), ...(hasNotes ? ['note'] : [])];
    const rows: string[][] = [];
    for (const g of groups) {
      for (const [i, r] of g.rows.entries()) {
        rows.push([i === 0 ? g.workload : '', r.case.impl, fmtSummary(r.case.summary), r.case.unit, String(r.case.summary.n), ...r.ratios.map(fmtRatio), ...(hasNotes ? [r.case.note ?? ''] : [])]);
      }
    }
    const lines = textTable(`${s.name}: ${t.title}`, header, rows);
    for (const l of lines) log(l);
    if (t.against.length > 0) log(`(ratio columns: how many times better the row is than that column's implementation, from medians — above 1× the row wins, whether the unit is a time or a throughput)`);
  }
  for (const l of s.legacy) for (const line of textTable(`${s.name}: ${l.title}`, l.header, l.rows)) log(line);
  for (const n of s.notes) log(`- ${n}`);
}

/**
 * The cpu/wall lines under a table whose cases measured it: each column's median over its rows,
 * and the cells that waited for a core.
 */
export function shareLines(impls: readonly string[], cases: readonly CaseRecord[]): string[] {
  const measured = cases.filter((c) => !Number.isNaN(cpuShare(c)));
  if (measured.length === 0) return [];
  const cols = impls
    .map((impl) => [impl, median(measured.filter((c) => c.impl === impl).map(cpuShare))] as const)
    .filter(([, v]) => !Number.isNaN(v))
    .map(([impl, v]) => `${impl} ${v.toFixed(2)}`);
  const lines = [`cpu/wall (process CPU time per wall time, median of each column's rows; 1 = one thread always on a core): ${cols.join(' · ')}`];
  const low = starved(measured);
  // When most cells waited, the list says nothing the count does not.
  if (low.length > measured.length / 2) lines.push(`${low.length} of ${measured.length} cells waited for a core (cpu/wall < ${STARVED_SHARE}): the whole table is an indication only`);
  else if (low.length) lines.push(`waited for a core (cpu/wall < ${STARVED_SHARE}: indications only): ${low.join('; ')}`);
  return lines;
}

export function printLegacy(l: LegacyTable, log: (line: string) => void): void {
  for (const line of textTable(l.title, l.header, l.rows)) log(line);
}
