#!/usr/bin/env node
// How much each cell varies between runs of the same code: reads the report.json of each run
// (`label=dir/of/report` arguments), prints every cell's median per run with n and cpu/wall, the
// spread between runs (max/min of the medians), then the same for each wide table's ratio columns
// (what the goals read), and, for cells that recorded cpu/wall, the medians of CPU time per sample
// (a sample × its cpu/wall; GFLOP/s ÷): for a single-threaded column on a loaded machine, that is
// closer to its time on a core of its own than the wall time is (cache sharing still inflates it).
//   node apps/bench/scripts/compare-runs.mjs a=bench-results/run1 b=bench-results/run2
import { readFileSync } from 'node:fs';

const runs = process.argv.slice(2).map((arg) => {
  const [label, dir] = arg.includes('=') ? arg.split('=') : [arg, arg];
  return { label, r: JSON.parse(readFileSync(`${dir}/report.json`, 'utf8')) };
});
if (runs.length === 0) {
  console.log('usage: compare-runs.mjs label=dir [label=dir ...]   (dir: a bench run folder holding report.json)');
  process.exit(1);
}
const median = (v) => {
  const s = v.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const spread = (v) => {
  const f = v.filter(Number.isFinite);
  return f.length > 1 ? (Math.max(...f) / Math.min(...f)).toFixed(2) : '—';
};
const num = (x) => (Number.isFinite(x) ? x.toPrecision(3) : '—');
const cellKey = (c) => `${c.suite} · ${c.workload} · ${c.impl}`;
const cells = new Map();
for (const { label, r } of runs) {
  for (const c of r.cases) {
    if (!cells.has(cellKey(c))) cells.set(cellKey(c), {});
    cells.get(cellKey(c))[label] = c;
  }
}
const width = Math.min(90, Math.max(...[...cells.keys()].map((k) => k.length)));
const head = (title) => console.log(`\n${title.padEnd(width)}  ${runs.map((x) => x.label.padStart(20)).join('')}  max/min`);

head('cell: median (n, cpu/wall)');
for (const [k, by] of cells) {
  const v = runs.map((x) => by[x.label]?.summary.median ?? NaN);
  const cellText = (x, i) => {
    const c = by[x.label];
    if (!c) return '—';
    const share = c.cpuPerWall ? ` ${median(c.cpuPerWall).toFixed(2)}` : '';
    return `${num(v[i])} n${c.summary.n}${share}`;
  };
  console.log(`${k.slice(0, width).padEnd(width)}  ${runs.map((x, i) => cellText(x, i).padStart(20)).join('')}  ${spread(v).padStart(7)}`);
}

head('ratio column (row vs other, from medians)');
for (const s of runs[0].r.suites) {
  for (const t of s.tables) {
    for (const [a, b] of t.wide?.ratios ?? []) {
      for (const w of new Set(runs[0].r.cases.filter((c) => c.suite === s.name && c.table === t.id).map((c) => c.workload))) {
        const v = runs.map(({ r }) => {
          const x = r.cases.find((c) => c.suite === s.name && c.workload === w && c.impl === a);
          const y = r.cases.find((c) => c.suite === s.name && c.workload === w && c.impl === b);
          if (!x || !y) return NaN;
          return x.better === 'lower' ? y.summary.median / x.summary.median : x.summary.median / y.summary.median;
        });
        if (v.every((x) => !Number.isFinite(x))) continue;
        const k = `${w} · ${a} vs ${b}`;
        console.log(`${k.slice(0, width).padEnd(width)}  ${v.map((x) => `${num(x)}×`.padStart(20)).join('')}  ${spread(v).padStart(7)}`);
      }
    }
  }
}

const cpuMedian = (c) => (c?.cpuPerWall ? median(c.samples.map((s, i) => (c.better === 'lower' ? s * c.cpuPerWall[i] : s / c.cpuPerWall[i]))) : NaN);
if ([...cells.values()].some((by) => runs.some((x) => by[x.label]?.cpuPerWall))) {
  head('cell: CPU-time median (sample × cpu/wall)');
  for (const [k, by] of cells) {
    const v = runs.map((x) => cpuMedian(by[x.label]));
    if (v.every((x) => !Number.isFinite(x))) continue;
    console.log(`${k.slice(0, width).padEnd(width)}  ${v.map((x) => num(x).padStart(20)).join('')}  ${spread(v).padStart(7)}`);
  }
}
console.log('');
for (const { label, r } of runs) {
  const c = r.conditions;
  console.log(`${label}: load ${c.loadBefore[0].toFixed(1)} before, ${c.loadAfter[0].toFixed(1)} after, ${c.loadMax.toFixed(1)} at most (${c.cpuCount} cores); ${r.wallSeconds.toFixed(0)} s; commit ${c.gitCommit ?? '?'}`);
}
