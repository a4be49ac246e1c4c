/**
 * The bench end to end, in this process: `--quick --suite smoke --device cpu` writes report.json
 * and report.html; the JSON holds the cases with their samples, spread and conditions; a baseline
 * in which every run took a nanosecond flags every case as a regression; and the HTML opens in headless Chromium
 * (playwright-core with Debian's chromium) with its charts drawn, no console error and no request
 * leaving the page. The screenshot goes to apps/bench/screenshots/ (git-ignored) for a person.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench } from '../src/main.js';
import type { Report } from '../src/report/model.js';
import { bench } from '../src/report/recorder.js';

const CHROMIUM = process.env.NABLA_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = new URL('../screenshots/', import.meta.url).pathname;

let dir = '';
let report: Report;
const lines: string[] = [];

beforeAll(async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'nabla-bench-'));
  bench.log = (l) => lines.push(l);
  const first = await runBench(['--quick', '--suite', 'smoke', '--device', 'cpu', '--out', path.join(out, 'first')]);
  // A baseline in which every sample took a nanosecond: whatever this machine does (the first run
  // may pay one-time costs the second does not), each case of the second run is far slower with its
  // spread apart, so it must be flagged.
  const ns = 1e-6;
  const fast: Report = {
    ...first.report,
    cases: first.report.cases.map((c) => ({ ...c, samples: c.samples.map(() => ns), summary: { ...c.summary, median: ns, p25: ns, p75: ns, min: ns, max: ns } })),
  };
  writeFileSync(path.join(out, 'fast.json'), JSON.stringify(fast));
  const second = await runBench(['--quick', '--suite', 'smoke', '--device', 'cpu', '--runs', '5', '--out', path.join(out, 'second'), '--baseline', path.join(out, 'fast.json'), '--threshold', '1.2']);
  dir = second.dir;
  report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as Report;
}, 240_000);

afterAll(() => {
  bench.log = (l) => console.log(l);
});

describe('bench report', () => {
  it('prints a progress line per case with the suite count', () => {
    expect(lines.some((l) => /^\s+\[1\/1 smoke #1\] forward\+backward · Nabla cpu: .* ms \(n=\d+/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('report: '))).toBe(true);
  });

  it('writes report.json with every case, its samples, spread and the run conditions', () => {
    expect(report.format).toBe('nabla-bench/1');
    expect(report.options).toMatchObject({ quick: true, runs: 5, suites: ['smoke'], devices: ['cpu'] });
    const cases = report.cases.filter((c) => c.suite === 'smoke');
    expect(cases.map((c) => c.impl)).toEqual(['Nabla cpu', 'plain JS loop']);
    for (const c of cases) {
      expect(c.samples).toHaveLength(5); // --runs 5
      expect(c.summary.n).toBe(5);
      expect(c.summary.min).toBeLessThanOrEqual(c.summary.p25);
      expect(c.summary.p25).toBeLessThanOrEqual(c.summary.median);
      expect(c.summary.median).toBeLessThanOrEqual(c.summary.p75);
      expect(c.summary.p75).toBeLessThanOrEqual(c.summary.max);
      expect(c.summary.min).toBeGreaterThan(0);
    }
    expect(report.suites[0]!.tables[0]!.against).toEqual(['plain JS loop']);
    const k = report.conditions;
    expect(k.loadBefore).toHaveLength(3);
    expect(k.loadAfter).toHaveLength(3);
    expect(k.cpuCount).toBe(os.cpus().length);
    expect(k.node).toBe(process.version);
    expect(k.devices.map((d) => d.device)).toEqual(['cpu']);
    expect(k.devices[0]!.describe).toMatch(/cpu/);
  });

  it('flags the cases that got far slower than the baseline', () => {
    const rows = report.baseline!.rows;
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.comparison.verdict).toBe('regression');
      expect(r.comparison.ratio).toBeLessThan(1 / 1.2);
    }
    expect(lines.some((l) => l.startsWith('REGRESSION ') && l.includes('plain JS loop'))).toBe(true);
  });

  it('refuses unknown suites, devices and flags before running anything', async () => {
    await expect(runBench(['--suite', 'nope'])).rejects.toThrow(/unknown suite nope \(suites: cpu, /);
    await expect(runBench(['--device', 'tpu'])).rejects.toThrow(/unknown device tpu/);
    await expect(runBench(['--runs', '0'])).rejects.toThrow(/--runs takes a positive integer/);
    await expect(runBench(['--fast'])).rejects.toThrow(/unknown flag --fast/);
  });
});

if (!existsSync(CHROMIUM)) console.log(`[bench report] SKIPPED the Chromium check: no Chromium at ${CHROMIUM} (install Debian's 'chromium', or set NABLA_CHROMIUM)`);

describe.skipIf(!existsSync(CHROMIUM))(`report.html in headless Chromium (${CHROMIUM})`, () => {
  it('draws a chart per workload with a bar per case, and loads nothing from outside', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'], timeout: 60_000 });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (r) => {
        if (!r.url().startsWith('file://')) requests.push(r.url());
      });
      await page.goto(`file://${path.join(dir, 'report.html')}`);
      const charts = page.locator('section[data-suite="smoke"] svg.chart');
      expect(await charts.count()).toBe(1);
      const bars = charts.first().locator('rect.bar');
      expect(await bars.count()).toBe(2);
      // Every bar has a width proportional to its median; the longer one is the slower case.
      const widths = await bars.evaluateAll((els) => els.map((e) => (e as SVGRectElement).getBBox().width));
      const medians = report.cases.filter((c) => c.suite === 'smoke').map((c) => c.summary.median);
      expect(widths.every((w) => w > 0)).toBe(true);
      expect(widths[0]! > widths[1]!).toBe(medians[0]! > medians[1]!);
      expect(await charts.first().locator('line.iqr').count()).toBe(2);
      expect(await page.locator('table.conditions').innerText()).toMatch(/load \(1\/5\/15 min\)/);
      expect(await page.locator('#baseline tr.regression').count()).toBe(2);
      expect(await page.locator('td.ratio').count()).toBe(2);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SCREENSHOTS, 'report-smoke.png'), fullPage: true });
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
