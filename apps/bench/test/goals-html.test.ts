/**
 * The goal column as a person sees it: a report with issue 12's goal table, its cells made from
 * the medians and interquartile ranges of the lead's quiet bench of main (bench-before22: load
 * ~1.1) in five rounds of six samples, rendered to report.html and opened in headless Chromium
 * (playwright-core with Debian's chromium, as report.test.ts does). Each goal shows its interval
 * and one of three marks, coloured apart; the tally counts them; the screenshot goes to
 * apps/bench/screenshots/report-goals.png (git-ignored) for a person.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeReport } from '../src/report/goal-report.js';
import { reportHTML } from '../src/report/html.js';
import type { CaseRecord, Report, TableRecord } from '../src/report/model.js';
import { summarize } from '../src/stats.js';
import { cpuGoals } from '../src/suites/cpu-goals.js';

const CHROMIUM = process.env.NABLA_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = new URL('../screenshots/', import.meta.url).pathname;

const ROWS = [
  { key: 'matmulGflops', name: 'matmul 1024² float32', unit: 'GFLOP/s', higherBetter: true },
  { key: 'siluFwd', name: 'SiLU 1000² fused, forward', unit: 'ms', higherBetter: false },
  { key: 'siluFb', name: 'SiLU 1000² fused, forward+backward', unit: 'ms', higherBetter: false },
  { key: 'mlp', name: 'MLP 784-256-256-10 b64 SGD step', unit: 'ms', higherBetter: false },
  { key: 'scalarFwd', name: 'scalar graph tanh(x·w+b) ×3333, forward', unit: 'µs/op', higherBetter: false },
  { key: 'scalarBwd', name: 'scalar graph tanh(x·w+b) ×3333, backward', unit: 'µs/op', higherBetter: false },
  { key: 'scalarBwdUnshared', name: 'same chain, no shared leaves (x·0.5+0.1), backward', unit: 'µs/op', higherBetter: false },
  { key: 'silu2', name: "SiLU'' on 1048576 (double backward)", unit: 'ms', higherBetter: false },
  { key: 'hvp', name: 'Hessian-vector product, tanh MLP', unit: 'ms', higherBetter: false },
];

/** bench-before22's cells: [median, p25, p75] per column. */
const CELLS: Record<string, Record<string, [number, number, number]>> = {
  matmulGflops: { 'tfjs-wasm': [21.4, 16.8, 22.5], 'Nabla wasm 1t': [29.4, 26.0, 30.1], 'Nabla wasm 2t': [38.6, 33.7, 51.5], 'PyTorch 1t': [2.93, 2.71, 4.17] },
  siluFb: { 'PyTorch 2t': [1.83, 1.66, 2.07], 'tfjs-wasm': [19.7, 16.0, 21.9], 'Nabla wasm 2t': [2.46, 2.18, 2.57] },
  mlp: { 'tfjs-wasm': [58.5, 53.1, 62.0], 'Nabla wasm 2t': [4.44, 3.75, 5.25] },
  scalarFwd: { 'PyTorch 1t': [5.93, 4.55, 7.24], 'Nabla wasm 1t': [0.89, 0.54, 1.05] },
  scalarBwd: { 'PyTorch 1t': [11.3, 9.08, 12.2], 'Nabla wasm 1t': [2.04, 1.57, 2.52] },
  silu2: { 'Nabla wasm 2t': [4.22, 3.81, 4.95] },
  hvp: { 'Nabla wasm 2t': [4.9, 4.4, 5.6] },
};

/** Five rounds of six samples spanning the interquartile range and half of it again on each side. */
function samplesFor([m, p25, p75]: [number, number, number]): number[] {
  const n = 30;
  const iqr = p75 - p25;
  return Array.from({ length: n }, (_, i) => {
    const u = ((i * 7) % n) / (n - 1);
    // Below the median the low half of the range, above it the high half: the median stays m.
    return u < 0.5 ? m - (m - (p25 - iqr / 2)) * (1 - 2 * u) : m + (p75 + iqr / 2 - m) * (2 * u - 1);
  });
}

function buildReport(): Report {
  const goals = cpuGoals(ROWS, 'Nabla wasm 2t', false);
  const table: TableRecord = { id: 'cpu', title: "issue 12's rows", against: [], wide: { ratios: [['Nabla wasm 2t', 'tfjs-wasm']] }, goals };
  const cases: CaseRecord[] = Object.entries(CELLS).flatMap(([key, cols]) => {
    const row = ROWS.find((r) => r.key === key)!;
    return Object.entries(cols).map(([impl, cell]) => {
      const samples = samplesFor(cell);
      return {
        suite: 'cpu', table: 'cpu', workload: row.name, impl, role: impl.startsWith('Nabla') ? 'nabla' : 'peer', unit: row.unit,
        better: row.higherBetter ? 'higher' : 'lower', samples, summary: summarize(samples), load1: 1.1, rounds: [6, 6, 6, 6, 6],
      } satisfies CaseRecord;
    });
  });
  const r: Report = {
    format: 'nabla-bench/1', startedAt: '2026-12-01T00:00:00Z', finishedAt: '2026-12-01T00:02:00Z', wallSeconds: 120, argv: ['--suite', 'cpu'],
    options: { quick: false, runs: null, suites: ['cpu'], devices: ['cpu'] },
    conditions: { cpuModel: 'cpu', cpuCount: 2, totalMemGiB: 24, platform: 'linux', node: process.version, loadBefore: [1.1, 1, 1], loadAfter: [1.2, 1, 1], loadMax: 1.3, devices: [], missing: [], peers: {}, notes: [] },
    suites: [{ name: 'cpu', tables: [table], legacy: [], notes: [], seconds: 120 }],
    cases,
  };
  const judged = judgeReport(r.suites, r.cases);
  return { ...r, goals: judged.goals, goalTallies: judged.tallies };
}

describe("issue 12's goals from a quiet bench of main", () => {
  it('are judged by rounds, and the ones near their line read "at the line"', () => {
    const r = buildReport();
    const by = (label: string, workload: string) => r.goals!.find((g) => g.label === label && g.workload === workload)!;
    expect(r.goals!.every((g) => g.verdict === 'not judged' || g.spreadBy === 'rounds')).toBe(true);
    // matmul 2t: 1.81× by medians; the interval says how far this run's samples let it move.
    const mm = by('wasm 2t ≥ 2× tfjs-wasm', 'matmul 1024² float32');
    expect(mm.low!).toBeLessThan(mm.value!);
    expect(mm.high!).toBeGreaterThan(mm.value!);
    expect(mm.verdict).toBe(mm.high! < 2 ? 'NOT met' : 'at the line');
    // MLP: 13.2× against 10×, with room.
    expect(by('wasm 2t ≥ 10× tfjs-wasm', 'MLP 784-256-256-10 b64 SGD step').verdict).toBe('met');
    // SiLU fwd+bwd: 7.98× against a line of 10×, far below whatever the spread.
    expect(by('wasm 2t ≥ 10× tfjs-wasm', 'SiLU 1000² fused, forward+backward').verdict).toBe('NOT met');
    // HVP 4.9 ms [4.4–5.6] against ≤ 5 ms.
    expect(by('wasm 2t ≤ 5 ms and right', 'Hessian-vector product, tanh MLP').verdict).toBe('at the line');
    expect(r.goalTallies![0]!.tally).toMatch(/^\d+ met, [1-9]\d* at the line, [1-9]\d* NOT met of 9 goals; hints \(not counted\): 0 met, 0 at the line, 2 NOT met$/);
  });
});

if (!existsSync(CHROMIUM)) console.log(`[goals html] SKIPPED the Chromium check: no Chromium at ${CHROMIUM} (install Debian's 'chromium', or set NABLA_CHROMIUM)`);

describe.skipIf(!existsSync(CHROMIUM))(`the goal column in headless Chromium (${CHROMIUM})`, () => {
  it('shows every goal with its interval and a mark coloured by verdict, and the tally above', async () => {
    const r = buildReport();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nabla-goals-'));
    writeFileSync(path.join(dir, 'report.html'), reportHTML(r));
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'], timeout: 60_000 });
    try {
      const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(`file://${path.join(dir, 'report.html')}`);
      const goals = page.locator('td.goals div.goal');
      expect(await goals.count()).toBe(r.goals!.length);
      const seen = await goals.evaluateAll((els) => els.map((e) => ({ cls: e.className, colour: getComputedStyle(e).color, mark: e.querySelector('b')?.textContent, text: (e as HTMLElement).innerText })));
      const colour = (cls: string): string => seen.find((s) => s.cls === `goal ${cls}`)!.colour;
      // Three verdicts, three marks, three colours.
      for (const [cls, mark] of [['met', '✓'], ['atline', '≈'], ['unmet', '✗']] as const) {
        expect(seen.filter((s) => s.cls === `goal ${cls}`).every((s) => s.mark === mark)).toBe(true);
      }
      expect(new Set([colour('met'), colour('atline'), colour('unmet')]).size).toBe(3);
      // Each judged goal shows its interval beside its number.
      expect(seen.filter((s) => !s.cls.includes('unjudged')).every((s) => /\(\d[\d.]*–\d[\d.]*\)/.test(s.text))).toBe(true);
      expect(await page.locator('p.tally').innerText()).toBe(`Goals: ${r.goalTallies![0]!.tally}.`);
      expect(await page.locator('p.legend-goals').innerText()).toMatch(/90% bootstrap interval/);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.locator('section.table').first().screenshot({ path: path.join(SCREENSHOTS, 'report-goals.png') });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
