/**
 * Recorder exports: CSV rows, and one self-contained offline HTML page (inline SVG and CSS, no
 * script, no network): per tensor a histogram-over-steps heatmap, a norm sparkline and red markers
 * on steps that saw NaN or Inf values.
 */
import type { StepRecord } from './recorder.js';
import type { Stats } from './stats.js';

export interface ReportOptions {
  /** The page's title. */
  title?: string;
}

const KINDS = ['grads', 'params', 'acts'] as const;
const KIND_TITLE: Record<(typeof KINDS)[number], string> = { grads: 'Gradients', params: 'Parameters', acts: 'Activations (module outputs)' };

const num = (v: number): string => (Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity');

export function toCSV(history: readonly StepRecord[]): string {
  const rows = ['step,kind,name,numel,mean,std,norm,min,max,nanCount,infCount'];
  const q = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  for (const r of history) {
    for (const kind of KINDS) {
      for (const [name, s] of Object.entries(r[kind] ?? {})) {
        rows.push([r.step, kind, q(name), s.numel, num(s.mean), num(s.std), num(s.norm), num(s.min), num(s.max), s.nanCount, s.infCount].join(','));
      }
    }
    for (const [name, v] of Object.entries(r.scalars ?? {})) rows.push([r.step, 'scalar', q(name), 1, num(v), '', '', '', '', '', ''].join(','));
  }
  return rows.join('\n') + '\n';
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Viridis, sampled: dark blue (few) → yellow (many). */
const VIRIDIS = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [109, 205, 89],
  [180, 222, 44],
  [253, 231, 37],
] as const;

function color(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  return `rgb(${a.map((v, k) => Math.round(v + (b[k]! - v) * f)).join(',')})`;
}

const fmt = (v: number): string => (Number.isFinite(v) ? (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(4)) : num(v));

interface Series {
  steps: number[];
  stats: Stats[];
}

const W = 360;
const H = 120;
const SPARK_H = 36;

/** The heatmap: one column per recorded step, rows over the series' overall finite range. */
function heatmap(name: string, s: Series): string {
  const n = s.steps.length;
  const rows = Math.max(1, ...s.stats.map((x) => x.histogram.counts.length));
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of s.stats) {
    if (x.histogram.counts.some((c) => c > 0)) {
      lo = Math.min(lo, x.histogram.min);
      hi = Math.max(hi, x.histogram.max);
    }
  }
  const colW = W / Math.max(1, n);
  const rowH = H / rows;
  const cells: string[] = [];
  const marks: string[] = [];
  s.stats.forEach((x, j) => {
    const col = new Array<number>(rows).fill(0);
    const h = x.histogram;
    const k = h.counts.length;
    if (Number.isFinite(lo) && hi > lo) {
      h.counts.forEach((c, b) => {
        if (c <= 0) return;
        const center = h.min + ((b + 0.5) * (h.max - h.min)) / k;
        const r = Math.min(rows - 1, Math.max(0, Math.floor(((center - lo) / (hi - lo)) * rows)));
        col[r] = col[r]! + c;
      });
    }
    const peak = Math.max(...col);
    col.forEach((c, r) => {
      if (c <= 0) return;
      const y = H - (r + 1) * rowH;
      cells.push(
        `<rect class="cell" x="${(j * colW).toFixed(2)}" y="${y.toFixed(2)}" width="${(colW + 0.3).toFixed(2)}" height="${(rowH + 0.3).toFixed(2)}" fill="${color(Math.log1p(c) / Math.log1p(peak))}"><title>step ${s.steps[j]}: ${c} values near ${fmt(lo + ((r + 0.5) * (hi - lo)) / rows)}</title></rect>`,
      );
    });
    if (x.nanCount > 0 || x.infCount > 0) {
      marks.push(
        `<rect class="nan-column" x="${(j * colW).toFixed(2)}" y="0" width="${Math.max(2, colW).toFixed(2)}" height="${H}" fill="none" stroke="#e3262f" stroke-width="2"><title>step ${s.steps[j]}: ${x.nanCount} NaN, ${x.infCount} Inf</title></rect>`,
      );
    }
  });
  const axis = Number.isFinite(lo) ? `<text x="${W + 4}" y="10">${fmt(hi)}</text><text x="${W + 4}" y="${H}">${fmt(lo)}</text>` : '';
  return `<svg class="heatmap" data-name="${esc(name)}" width="${W + 70}" height="${H}" viewBox="0 0 ${W + 70} ${H}"><rect x="0" y="0" width="${W}" height="${H}" fill="#1b0c2a"/>${cells.join('')}${marks.join('')}${axis}</svg>`;
}

/** The norm over steps, with a red triangle on steps that saw NaN or Inf. */
function sparkline(s: Series): string {
  const n = s.steps.length;
  const norms = s.stats.map((x) => x.norm);
  const finite = norms.filter((v) => Number.isFinite(v));
  const lo = finite.length ? Math.min(...finite) : 0;
  const hi = finite.length ? Math.max(...finite) : 1;
  const x = (j: number): number => (n <= 1 ? W / 2 : (j / (n - 1)) * (W - 4) + 2);
  const y = (v: number): number => (hi > lo ? SPARK_H - 3 - ((v - lo) / (hi - lo)) * (SPARK_H - 6) : SPARK_H / 2);
  const pts = norms.map((v, j) => (Number.isFinite(v) ? `${x(j).toFixed(1)},${y(v).toFixed(1)}` : null)).filter((p) => p !== null);
  const marks = s.stats
    .map((st, j) => (st.nanCount > 0 || st.infCount > 0 ? `<path class="nan-marker" d="M${x(j).toFixed(1)},2 l5,9 h-10 z" fill="#e3262f"><title>step ${s.steps[j]}: ${st.nanCount} NaN, ${st.infCount} Inf</title></path>` : ''))
    .join('');
  const line = pts.length > 1 ? `<polyline class="spark" points="${pts.join(' ')}" fill="none" stroke="#2a7ab9" stroke-width="1.5"/>` : pts.length === 1 ? `<circle class="spark" cx="${pts[0]!.split(',')[0]}" cy="${pts[0]!.split(',')[1]}" r="2" fill="#2a7ab9"/>` : '';
  return `<svg class="sparkline" width="${W + 70}" height="${SPARK_H}" viewBox="0 0 ${W + 70} ${SPARK_H}">${line}${marks}<text x="${W + 4}" y="${SPARK_H / 2 + 4}">‖·‖ ${fmt(norms[n - 1] ?? NaN)}</text></svg>`;
}

function card(name: string, s: Series): string {
  const last = s.stats[s.stats.length - 1]!;
  const bad = s.stats.some((x) => x.nanCount > 0 || x.infCount > 0);
  return (
    `<section class="card${bad ? ' bad' : ''}"><h3>${esc(name)}${bad ? ' <span class="flag">NaN/Inf</span>' : ''}</h3>` +
    heatmap(name, s) +
    sparkline(s) +
    `<p class="last">step ${s.steps[s.steps.length - 1]}: mean ${fmt(last.mean)} · std ${fmt(last.std)} · min ${fmt(last.min)} · max ${fmt(last.max)} · NaN ${last.nanCount} · Inf ${last.infCount} · ${last.numel} values</p></section>`
  );
}

export function toHTML(history: readonly StepRecord[], opts: ReportOptions = {}): string {
  const title = opts.title ?? 'Nabla training report';
  const sections: string[] = [];
  for (const kind of KINDS) {
    const series = new Map<string, Series>();
    for (const r of history) {
      for (const [name, st] of Object.entries(r[kind] ?? {})) {
        let s = series.get(name);
        if (!s) series.set(name, (s = { steps: [], stats: [] }));
        s.steps.push(r.step);
        s.stats.push(st);
      }
    }
    if (series.size === 0) continue;
    sections.push(`<h2>${KIND_TITLE[kind]}</h2><div class="grid">${[...series].map(([n, s]) => card(n, s)).join('')}</div>`);
  }
  const scalars = new Map<string, [number, number][]>();
  for (const r of history) for (const [n, v] of Object.entries(r.scalars ?? {})) (scalars.get(n) ?? scalars.set(n, []).get(n)!).push([r.step, v]);
  if (scalars.size) {
    sections.push(
      `<h2>Scalars</h2><table><tr><th>name</th><th>steps</th><th>last</th></tr>${[...scalars]
        .map(([n, vs]) => `<tr><td>${esc(n)}</td><td>${vs.length}</td><td>${fmt(vs[vs.length - 1]![1])}</td></tr>`)
        .join('')}</table>`,
    );
  }
  const steps = history.map((r) => r.step);
  const summary = history.length ? `${history.length} recorded steps (${steps[0]} … ${steps[steps.length - 1]})` : 'no recorded steps';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222;background:#fafafa}
h1{font-size:18px;margin:0 0 4px}h2{font-size:15px;margin:18px 0 6px}h3{font-size:13px;margin:0 0 4px;font-family:monospace}
.grid{display:flex;flex-wrap:wrap;gap:10px}.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px}
.card.bad{border-color:#e3262f}.flag{color:#fff;background:#e3262f;border-radius:3px;padding:0 4px;font-size:11px}
svg{display:block}svg text{font:10px monospace;fill:#555}.last{margin:4px 0 0;font-size:11px;color:#555}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 8px;text-align:left}
</style></head><body>
<h1>${esc(title)}</h1><p>${summary}. Heatmaps: the histogram of each recorded step (one column per step, rows over the overall range, brighter = more values, log scale per column). Lines: the norm over steps. Red: steps with NaN or Inf values.</p>
${sections.join('\n')}
</body></html>
`;
}
