/**
 * report.html: one self-contained page (inline CSS and SVG, no script, no external fetch) with the
 * run's conditions, the baseline comparison, and per suite its tables, each workload drawn as a
 * bar chart of its devices and peers side by side (bar: median; thick line: interquartile range;
 * thin line: min–max).
 */
import { fmt, fmtRatio, fmtSummary } from '../stats.js';
import { cpuShare, STARVED_SHARE } from './cpu-share.js';
import { fmtGoal, fmtGoalValue, fmtSpread, goalTally, SPREAD_LEGEND, verdictWord, type GoalResult } from './goals.js';
import type { CaseRecord, Report, TableRecord } from './model.js';
import { betterWord, tableGroups, wideTable, type WorkloadGroup } from './tables.js';
import { shareLines } from './terminal.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const DEVICE_COLOURS: Record<string, string> = { cpu: '#3465a4', webgl: '#f57900', webgpu: '#4e9a06' };
/** Peers by family, in colours no device uses: PyTorch purple, TensorFlow.js ochre, others grey. */
const PEER_FAMILIES: [RegExp, string, string][] = [
  [/pytorch|torch/i, '#75507b', 'PyTorch'],
  [/tensorflow|tfjs/i, '#c17d11', 'TensorFlow.js'],
  [/./, '#888a85', 'other peers'],
];

/** A bar's colour: by Nabla device, by family for peers, slate for the rest. */
function colour(c: CaseRecord): string {
  if (c.role === 'peer') return PEER_FAMILIES.find(([re]) => re.test(c.impl))![1];
  return (c.device && DEVICE_COLOURS[c.device]) || '#5c7080';
}

/** One workload's horizontal bar chart. */
export function chartSVG(g: WorkloadGroup): string {
  const cases = g.rows.map((r) => r.case).filter((c) => c.summary.n > 0);
  if (cases.length === 0) return '';
  const rowH = 22;
  const labelW = 210;
  const plotW = 260;
  const valueW = 90;
  const top = 22;
  const width = labelW + plotW + valueW;
  const height = top + rowH * cases.length + 18;
  const max = Math.max(...cases.map((c) => c.summary.max), 0) || 1;
  const x = (v: number): number => labelW + (Math.max(0, v) / max) * plotW;
  const unit = cases[0]!.unit;
  const parts: string[] = [
    `<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(g.workload)}">`,
    `<text class="ctitle" x="0" y="14">${esc(g.workload)}</text>`,
    `<text class="cunit" x="${width}" y="14" text-anchor="end">${esc(unit)}, ${betterWord(cases[0]!)}</text>`,
    `<line class="axis" x1="${labelW}" y1="${top - 4}" x2="${labelW}" y2="${height - 16}"/>`,
  ];
  cases.forEach((c, i) => {
    const y = top + i * rowH;
    const s = c.summary;
    const cy = y + rowH / 2 - 1;
    const tip = `${c.impl}: median ${fmt(s.median)} ${c.unit}, IQR ${fmt(s.p25)}–${fmt(s.p75)}, min–max ${fmt(s.min)}–${fmt(s.max)}, n=${s.n}`;
    parts.push(
      `<g class="bar-row"><title>${esc(tip)}</title>`,
      `<text class="label" x="${labelW - 6}" y="${cy + 4}" text-anchor="end">${esc(c.impl.length > 30 ? `${c.impl.slice(0, 29)}…` : c.impl)}</text>`,
      `<rect class="bar" x="${labelW}" y="${y + 3}" width="${Math.max(1, x(s.median) - labelW).toFixed(1)}" height="${rowH - 8}" fill="${colour(c)}"/>`,
    );
    if (s.n > 1) {
      parts.push(
        `<line class="range" x1="${x(s.min).toFixed(1)}" y1="${cy}" x2="${x(s.max).toFixed(1)}" y2="${cy}"/>`,
        `<line class="iqr" x1="${x(s.p25).toFixed(1)}" y1="${cy}" x2="${x(s.p75).toFixed(1)}" y2="${cy}"/>`,
      );
    }
    parts.push(`<text class="value" x="${labelW + plotW + 6}" y="${cy + 4}">${esc(fmt(s.median))}${c.note ? ' ⚠' : ''}</text></g>`);
  });
  parts.push(`<text class="tick" x="${labelW}" y="${height - 4}">0</text><text class="tick" x="${labelW + plotW}" y="${height - 4}" text-anchor="end">${esc(fmt(max))}</text>`, '</svg>');
  return parts.join('');
}

function tableHTML(t: TableRecord, groups: WorkloadGroup[]): string {
  const shares = groups.some((g) => g.rows.some((r) => !Number.isNaN(cpuShare(r.case))));
  const head = ['workload', 'impl', 'median [IQR]', 'min–max', 'unit', 'n', ...(shares ? ['cpu/wall'] : []), ...t.against.map((a) => `vs ${a}`)];
  const body = groups.flatMap((g) =>
    g.rows.map((r, i) => {
      const c = r.case;
      const cells = [
        i === 0 ? `<th rowspan="${g.rows.length}">${esc(g.workload)}</th>` : '',
        `<td>${esc(c.impl)}</td>`,
        `<td class="num">${esc(fmtSummary(c.summary))}${c.note ? ` <span class="note">${esc(c.note)}</span>` : ''}</td>`,
        `<td class="num">${c.summary.n > 0 ? `${esc(fmt(c.summary.min))}–${esc(fmt(c.summary.max))}` : '—'}</td>`,
        `<td>${esc(c.unit)}</td>`,
        `<td class="num">${c.summary.n}</td>`,
        ...(shares ? [`<td class="num${cpuShare(c) < STARVED_SHARE ? ' starved' : ''}">${Number.isNaN(cpuShare(c)) ? '—' : cpuShare(c).toFixed(2)}</td>`] : []),
        ...r.ratios.map((x) => `<td class="num ratio ${Number.isFinite(x) ? (x >= 1 ? 'win' : 'loss') : ''}">${esc(fmtRatio(x))}</td>`),
      ];
      return `<tr>${cells.join('')}</tr>`;
    }),
  );
  return `<table class="results"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${body.join('')}</tbody></table>`;
}

/** The wide form: a row per workload, a column per implementation, then the table's chosen ratios. */
function wideHTML(t: TableRecord, groups: WorkloadGroup[]): string {
  const w = wideTable(t, groups);
  // A note marks its cell with ⚠ and is spelled out under the table, so columns stay narrow.
  const cell = (c: CaseRecord | undefined): string => (c ? `${esc(fmtSummary(c.summary))}${c.note ? ` <span class="note" title="${esc(c.note)}">⚠</span>` : ''}` : '—');
  const goalCell = (gs: GoalResult[]): string => (w.hasGoals ? `<td class="goals">${gs.length ? gs.map(goalHTML).join('') : '—'}</td>` : '');
  const body = w.rows.map((r) => `<tr><th>${esc(r.workload)}</th><td>${esc(r.unit)}</td>${r.cells.map((c) => `<td class="num">${cell(c)}</td>`).join('')}${r.ratios.map((x) => `<td class="num ratio ${Number.isFinite(x) ? (x >= 1 ? 'win' : 'loss') : ''}">${esc(fmtRatio(x))}</td>`).join('')}${goalCell(r.goals)}</tr>`);
  const notes = w.rows.flatMap((r) => r.cells.filter((c): c is CaseRecord => c?.note !== undefined).map((c) => `<li><span class="note">⚠</span> ${esc(r.workload)} · ${esc(c.impl)}: ${esc(c.note!)}</li>`));
  const tally = w.hasGoals ? `<p class="tally">Goals: ${esc(goalTally(w.rows.flatMap((r) => r.goals)))}.</p><p class="legend-goals">${esc(SPREAD_LEGEND.replace(/^goal/, 'Goal'))}.</p>` : '';
  const shares = shareLines(w.impls, w.rows.flatMap((r) => r.cells.filter((c): c is CaseRecord => c !== undefined))).map((l) => `<li>${esc(l)}</li>`);
  const all = [...notes, ...shares];
  return `${tally}<div class="scroll"><table class="results wide"><thead><tr>${w.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${body.join('')}</tbody></table></div>${all.length ? `<ul class="cellnotes">${all.join('')}</ul>` : ''}`;
}

const GOAL_MARKS: Record<GoalResult['verdict'], [string, string]> = {
  met: ['met', '✓'],
  'at the line': ['atline', '≈'],
  'NOT met': ['unmet', '✗'],
  'not judged': ['unjudged', '–'],
};

/**
 * One goal in its cell: the target, the number it is judged by with its interval, and a mark (✓
 * met, ≈ at the line, ✗ not met, – not judged).
 */
function goalHTML(r: GoalResult): string {
  const [cls, mark] = GOAL_MARKS[r.verdict];
  const spread = fmtSpread(r);
  return `<div class="goal ${cls}" title="${esc(fmtGoal(r))}"><b>${mark}</b> ${r.goal.hint ? 'hint: ' : ''}${esc(r.goal.label)}: <span class="num">${esc(fmtGoalValue(r))}</span>${spread ? ` <span class="spread">(${esc(spread)})</span>` : ''} <i>${esc(verdictWord(r))}${r.why ? ` (${esc(r.why)})` : ''}</i></div>`;
}

function conditionsHTML(r: Report): string {
  const c = r.conditions;
  const load = (l: number[]): string => l.map((v) => v.toFixed(2)).join(' / ');
  const rows: [string, string][] = [
    ['started', `${r.startedAt} (${r.wallSeconds.toFixed(0)} s wall${r.options.quick ? ', --quick' : ''}${r.options.runs ? `, --runs ${r.options.runs}` : ''})`],
    ['command', `npm run bench -- ${r.argv.join(' ')}`],
    ['machine', `${c.cpuModel} × ${c.cpuCount}, ${c.totalMemGiB} GiB, ${c.platform}`],
    ['Node', c.node],
    ['load (1/5/15 min)', `before ${load(c.loadBefore)}; after ${load(c.loadAfter)}; highest 1-min seen ${c.loadMax.toFixed(2)} (above ${c.cpuCount}: other processes shared the cores)`],
    ...(c.gitCommit ? [['commit', c.gitCommit] as [string, string]] : []),
    ...c.devices.map((d) => [`device ${d.label}`, d.describe] as [string, string]),
    ...c.missing.map((m) => ['missing', m] as [string, string]),
    ...Object.entries(c.peers).map(([k, v]) => [`peer ${k}`, v] as [string, string]),
    ...c.notes.map((n) => ['note', n] as [string, string]),
  ];
  return `<table class="conditions">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

function baselineHTML(r: Report): string {
  const b = r.baseline;
  if (!b) return '';
  const reg = b.rows.filter((x) => x.comparison.verdict === 'regression');
  const imp = b.rows.filter((x) => x.comparison.verdict === 'improvement');
  const rows = [...reg, ...imp]
    .map((x) => `<tr class="${x.comparison.verdict}"><td>${x.comparison.verdict}</td><td>${esc(x.suite)}</td><td>${esc(x.workload)}</td><td>${esc(x.impl)}</td><td class="num">${esc(fmtSummary(x.current))}</td><td class="num">${esc(fmtSummary(x.baseline))}</td><td>${esc(x.unit)}</td><td class="num">${esc(fmtRatio(x.comparison.ratio))}</td></tr>`)
    .join('');
  return `<section id="baseline"><h2>Against the baseline</h2><p>${esc(b.path)} (${esc(b.startedAt)}): ${b.rows.length} cases compared; <b>${reg.length} regressions</b>, ${imp.length} improvements (median worse or better by more than ${b.threshold}× with interquartile ranges apart).</p>${
    rows ? `<table class="results"><thead><tr><th>verdict</th><th>suite</th><th>workload</th><th>impl</th><th>now</th><th>baseline</th><th>unit</th><th>now vs baseline</th></tr></thead><tbody>${rows}</tbody></table>` : ''
  }</section>`;
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px}h2{margin-top:36px;border-bottom:1px solid #ccc}h3{margin-bottom:4px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}.ratio.win{color:#1a7f37}.ratio.loss{color:#b42318}
.conditions th{background:#f6f6f6;white-space:nowrap}.scroll{overflow-x:auto}table.wide th{font-size:13px}.note{color:#b42318;font-size:12px}.starved{color:#b42318}
.charts{display:flex;flex-wrap:wrap;gap:12px 28px;margin:10px 0}
svg.chart text{font:12px system-ui,sans-serif;fill:#222}svg.chart .ctitle{font-weight:600}svg.chart .cunit,svg.chart .tick{fill:#666;font-size:11px}
svg.chart .axis{stroke:#999}svg.chart .range{stroke:#222;stroke-width:1}svg.chart .iqr{stroke:#000;stroke-width:3.5}
tr.regression td{background:#fde8e8}tr.improvement td{background:#e6f4ea}.error{color:#b42318;font-weight:600}
td.goals{white-space:nowrap;font-size:13px}.goal.met{color:#1a7f37}.goal.unmet{color:#b42318}.goal.atline{color:#9a6700}.goal.unjudged{color:#666}.goal .spread{color:#555;font-size:11px;font-variant-numeric:tabular-nums}.legend-goals{font-size:12px;color:#555;margin-top:0}.goal i{font-style:normal;font-size:11px;opacity:.8}.tally{font-weight:600}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}`;

export function reportHTML(r: Report): string {
  const legend = `<p class="legend">${Object.entries(DEVICE_COLOURS)
    .map(([d, col]) => `<span><i style="background:${col}"></i>Nabla ${d}</span>`)
    .join('')}${PEER_FAMILIES.map(([, col, name]) => `<span><i style="background:${col}"></i>${name}</span>`).join('')} · bar: median; thick line: interquartile range; thin line: min–max; ⚠: see the table's note</p>`;
  const suites = r.suites.map((s) => {
    const tables = s.tables.map((t) => {
      const groups = tableGroups(t, s.name, r.cases);
      if (groups.length === 0) return '';
      const charts = groups.map((g) => chartSVG(g)).join('');
      const ratioNote = t.against.length || t.wide ? `<p>Ratio columns: ${t.wide ? '<i>a vs b</i>: how many times better <i>a</i> is than <i>b</i>' : `how many times better the row is than <i>${t.against.map(esc).join('</i>, <i>')}</i>`}, from medians; above 1× the first wins (for times: the other's time / its time; for throughput: its rate / the other's).</p>` : '';
      return `<section class="table" data-suite="${esc(s.name)}" data-table="${esc(t.id)}"><h3>${esc(t.title)}</h3>${t.description ? `<p>${esc(t.description)}</p>` : ''}${t.wide ? wideHTML(t, groups) : ''}<div class="charts">${charts}</div>${t.wide ? `<details><summary>every case (long form)</summary>${tableHTML(t, groups)}</details>` : tableHTML(t, groups)}${ratioNote}</section>`;
    });
    const legacy = s.legacy.map((l) => `<h3>${esc(l.title)}</h3><table class="legacy"><thead><tr>${l.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${l.rows.map((row) => `<tr>${row.map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`).join('')}</tbody></table>`);
    const notes = s.notes.length ? `<ul>${s.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
    const err = s.error ? `<p class="error">The suite failed after ${s.seconds.toFixed(1)} s: ${esc(s.error)}</p>` : '';
    return `<section class="suite" id="suite-${esc(s.name)}"><h2>${esc(s.name)} <small>(${s.seconds.toFixed(1)} s${s.load1 && Number.isFinite(s.load1.after) ? `, load ${s.load1.before.toFixed(2)} → ${s.load1.after.toFixed(2)}` : ''})</small></h2>${err}${tables.join('')}${legacy.join('')}${notes}</section>`;
  });
  const toc = r.suites.map((s) => `<a href="#suite-${esc(s.name)}">${esc(s.name)}</a>`).join(' · ');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Nabla bench ${esc(r.startedAt)}</title><style>${CSS}</style></head><body>
<h1>Nabla benchmarks — ${esc(r.startedAt)}${r.options.quick ? ' (quick)' : ''}</h1>
<p>Every workload on each Nabla device that started, beside PyTorch and TensorFlow.js measured in the same run. Cells: median [interquartile range] of the timed runs. Suites: ${toc}</p>
${conditionsHTML(r)}${baselineHTML(r)}${legend}${suites.join('\n')}
</body></html>
`;
}
