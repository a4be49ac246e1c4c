/** Plain SVG charts: line plots, bars, histogram strips and a coloured grid, drawn by hand. */

const NS = 'http://www.w3.org/2000/svg';

export interface Series {
  readonly name: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
  readonly color: string;
  readonly dashed?: boolean;
}

export interface PlotOptions {
  readonly width?: number;
  readonly height?: number;
  readonly title?: string;
  readonly logY?: boolean;
  readonly yLabel?: string;
}

function svg(width: number, height: number, cls: string): SVGSVGElement {
  const s = document.createElementNS(NS, 'svg');
  s.setAttribute('width', String(width));
  s.setAttribute('height', String(height));
  s.setAttribute('viewBox', `0 0 ${width} ${height}`);
  s.setAttribute('class', `chart ${cls}`);
  return s;
}

function el(name: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const tick = (v: number): string => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(0) : String(Number(v.toPrecision(3))));

/** Lines over a shared x axis, with axes, a zero line and a legend. */
export function linePlot(series: readonly Series[], opts: PlotOptions = {}): SVGSVGElement {
  const W = opts.width ?? 320;
  const H = opts.height ?? 200;
  const m = { l: 44, r: 8, t: opts.title ? 18 : 8, b: 20 };
  const s = svg(W, H, 'line-plot');
  const tf = (v: number): number => (opts.logY ? Math.log10(Math.max(v, 1e-12)) : v);
  const xs = series.flatMap((q) => q.x);
  const ys = series.flatMap((q) => q.y.filter(Number.isFinite).map(tf));
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (!(x1 > x0)) x1 = x0 + 1;
  if (!(y1 > y0)) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const X = (v: number): number => m.l + ((v - x0) / (x1 - x0)) * (W - m.l - m.r);
  const Y = (v: number): number => H - m.b - ((tf(v) - y0) / (y1 - y0)) * (H - m.t - m.b);
  s.append(el('rect', { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b, fill: '#fafafa', stroke: '#ccc' }));
  if (opts.title) s.append(el('text', { x: m.l, y: 12, 'font-size': 11, 'font-weight': 'bold' }, opts.title));
  if (!opts.logY && y0 < 0 && y1 > 0) s.append(el('line', { x1: m.l, x2: W - m.r, y1: Y(0), y2: Y(0), stroke: '#bbb' }));
  for (const v of [y0 + pad, (y0 + y1) / 2, y1 - pad]) {
    const label = opts.logY ? tick(10 ** v) : tick(v);
    const yy = H - m.b - ((v - y0) / (y1 - y0)) * (H - m.t - m.b);
    s.append(el('text', { x: m.l - 3, y: yy + 3, 'font-size': 9, 'text-anchor': 'end' }, label));
  }
  for (const v of [x0, (x0 + x1) / 2, x1]) s.append(el('text', { x: X(v), y: H - 6, 'font-size': 9, 'text-anchor': 'middle' }, tick(v)));
  series.forEach((q, i) => {
    let d = '';
    let pen = false;
    q.x.forEach((xv, j) => {
      const yv = q.y[j]!;
      if (!Number.isFinite(yv)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${X(xv).toFixed(1)},${Y(yv).toFixed(1)}`;
      pen = true;
    });
    s.append(el('path', { d, fill: 'none', stroke: q.color, 'stroke-width': 1.6, ...(q.dashed ? { 'stroke-dasharray': '4 3' } : {}), class: 'series', 'data-name': q.name }));
    s.append(el('text', { x: W - m.r - 4, y: m.t + 12 + i * 11, 'font-size': 9, 'text-anchor': 'end', fill: q.color }, q.name));
  });
  return s;
}

/** Horizontal bars with their values. */
export function barChart(bars: readonly { label: string; value: number; color?: string; note?: string }[], opts: PlotOptions & { unit?: string } = {}): SVGSVGElement {
  const W = opts.width ?? 520;
  const row = 22;
  const top = opts.title ? 20 : 4;
  const H = top + bars.length * row + 4;
  const s = svg(W, H, 'bar-chart');
  if (opts.title) s.append(el('text', { x: 4, y: 13, 'font-size': 11, 'font-weight': 'bold' }, opts.title));
  const max = Math.max(...bars.map((b) => b.value), 1e-12);
  const left = 150;
  bars.forEach((b, i) => {
    const y = top + i * row;
    const w = ((W - left - 120) * b.value) / max;
    s.append(el('text', { x: left - 6, y: y + 14, 'font-size': 10, 'text-anchor': 'end' }, b.label));
    s.append(el('rect', { x: left, y: y + 3, width: Math.max(1, w), height: row - 6, fill: b.color ?? '#4a7bd0', class: 'bar' }));
    s.append(el('text', { x: left + w + 4, y: y + 14, 'font-size': 10 }, `${Math.round(b.value).toLocaleString('en')}${opts.unit ?? ''}${b.note ? `  ${b.note}` : ''}`));
  });
  return s;
}

/**
 * Histograms over steps, one column per step (TensorBoard's "distributions" seen from above): each
 * column spans that step's [min, max], shaded by how many values fell in each bin.
 */
export function histogramStrip(steps: readonly { step: number; min: number; max: number; counts: readonly number[] }[], opts: PlotOptions = {}): SVGSVGElement {
  const W = opts.width ?? 260;
  const H = opts.height ?? 110;
  const m = { l: 40, r: 4, t: opts.title ? 16 : 4, b: 14 };
  const s = svg(W, H, 'hist-strip');
  if (opts.title) s.append(el('text', { x: 2, y: 11, 'font-size': 10, 'font-weight': 'bold' }, opts.title));
  if (steps.length === 0) return s;
  const lo = Math.min(...steps.map((q) => q.min));
  let hi = Math.max(...steps.map((q) => q.max));
  if (!(hi > lo)) hi = lo + 1e-9;
  const Y = (v: number): number => H - m.b - ((v - lo) / (hi - lo)) * (H - m.t - m.b);
  const cw = (W - m.l - m.r) / steps.length;
  steps.forEach((q, i) => {
    const peak = Math.max(...q.counts, 1);
    const bw = (q.max - q.min) / q.counts.length;
    q.counts.forEach((c, j) => {
      if (c === 0) return;
      const ya = Y(q.min + (j + 1) * bw);
      const yb = Y(q.min + j * bw);
      s.append(el('rect', { x: m.l + i * cw, y: ya, width: cw + 0.3, height: Math.max(0.8, yb - ya), fill: '#d0502a', 'fill-opacity': (0.15 + 0.85 * (c / peak)).toFixed(2), class: 'bin' }));
    });
  });
  s.append(el('text', { x: m.l - 3, y: Y(hi) + 8, 'font-size': 9, 'text-anchor': 'end' }, tick(hi)));
  s.append(el('text', { x: m.l - 3, y: Y(lo), 'font-size': 9, 'text-anchor': 'end' }, tick(lo)));
  s.append(el('text', { x: m.l, y: H - 3, 'font-size': 9 }, `step ${steps[0]!.step}`));
  s.append(el('text', { x: W - m.r, y: H - 3, 'font-size': 9, 'text-anchor': 'end' }, `step ${steps[steps.length - 1]!.step}`));
  return s;
}

/** A classifier's decision regions on an n×n grid, with the data points on top. */
export function decisionPlot(grid: { n: number; extent: number; classes: ArrayLike<number> }, points: { x: ArrayLike<number>; label: ArrayLike<number> }, colors: readonly string[], size = 260): SVGSVGElement {
  const s = svg(size, size, 'decision');
  const cell = size / grid.n;
  const P = (v: number): number => ((v + grid.extent) / (2 * grid.extent)) * size;
  for (let i = 0; i < grid.n; i++) {
    for (let j = 0; j < grid.n; j++) {
      // Row i is y from +extent (top) down; column j is x from -extent.
      s.append(el('rect', { x: j * cell, y: i * cell, width: cell + 0.3, height: cell + 0.3, fill: colors[grid.classes[i * grid.n + j]!]!, 'fill-opacity': 0.3 }));
    }
  }
  for (let k = 0; k < points.label.length; k++) {
    s.append(el('circle', { cx: P(points.x[2 * k]!), cy: size - P(points.x[2 * k + 1]!), r: 2.2, fill: colors[points.label[k]!]!, stroke: '#222', 'stroke-width': 0.4, class: 'point' }));
  }
  return s;
}
