/**
 * Nabla's benchmarks: `npm run bench -- [--quick] [--suite a,b] [--device cpu,webgl] [--runs N]
 * [--baseline report.json]` runs the suites on every device that starts here, beside PyTorch and
 * TensorFlow.js in the same run, prints a line per case and a table per suite, and writes
 * bench-results/<date-time>/report.json and report.html. Nothing here asserts a time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HELP, parseArgs, type BenchOptions } from './cli.js';
import { conditions, describeDevices } from './conditions.js';
import { DEVICE_NAMES, setup, type Devices } from './devices.js';
import { compareWithBaseline, printBaseline, readReport } from './report/baseline.js';
import { judgeReport } from './report/goal-report.js';
import { reportHTML } from './report/html.js';
import type { Report } from './report/model.js';
import { bench } from './report/recorder.js';
import { timingOverrides } from './timing.js';
import { activationSuite } from './suites/activations.js';
import { addmmSuite } from './suites/addmm.js';
import { cpuSuite } from './suites/cpu.js';
import { checkpointSuite } from './suites/checkpoint.js';
import { kernelSuite } from './suites/kernels.js';
import { overheadSuite } from './suites/overhead.js';
import { hooksSuite } from './suites/hooks.js';
import { indexingSuite } from './suites/indexing.js';
import { smokeSuite } from './suites/smoke.js';
import { ampSuite } from './suites/amp.js';
import { halfSuite } from './suites/half.js';
import { sortScanSuite } from './suites/sort-scan.js';

export interface SuiteDef {
  name: string;
  run: (d: Devices) => Promise<unknown>;
  /** Left out of a run without `--suite` naming it (the test's tiny suite). */
  onlyWhenNamed?: boolean;
}

/** Every suite, in the order a full run takes them: one line each. */
export const SUITES: SuiteDef[] = [
  { name: 'cpu', run: () => cpuSuite() },
  { name: 'overhead', run: (d) => overheadSuite(d.targets) },
  { name: 'kernels', run: (d) => kernelSuite(d.targets) },
  { name: 'addmm', run: (d) => addmmSuite(d.targets) },
  { name: 'activations', run: (d) => activationSuite(d.rt, d.devices) },
  { name: 'indexing', run: (d) => indexingSuite(d.rt, d.devices) },
  { name: 'sort-scan', run: (d) => sortScanSuite(d.targets) },
  { name: 'hooks', run: (d) => hooksSuite(d.rt, d.devices) },
  { name: 'checkpoint', run: (d) => checkpointSuite(d.rt, d.devices) },
  { name: 'amp', run: (d) => ampSuite(d.rt, d.devices) },
  { name: 'half', run: (d) => halfSuite(d.rt, d.devices) },
  { name: 'smoke', run: (d) => smokeSuite(d.targets), onlyWhenNamed: true },
];

/** The run's folder: `--out`, else bench-results/<date-time>/ under the folder npm was started in. */
function outDir(o: BenchOptions, started: Date): string {
  if (o.out) return path.resolve(o.out);
  const stamp = started.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), 'bench-results', stamp);
}

export interface BenchResult {
  report: Report;
  dir: string;
}

/** Runs the bench in this process and writes its report; returns the report and where it went. */
export async function runBench(argv: readonly string[]): Promise<BenchResult> {
  const o = parseArgs(argv);
  const unknown = o.suites.filter((s) => !SUITES.some((d) => d.name === s));
  if (unknown.length) throw new Error(`bench: unknown suite ${unknown.join(', ')} (suites: ${SUITES.map((s) => s.name).join(', ')})`);
  const badDevice = (o.devices ?? []).filter((d) => !(DEVICE_NAMES as readonly string[]).includes(d));
  if (badDevice.length) throw new Error(`bench: unknown device ${badDevice.join(', ')} (devices: ${DEVICE_NAMES.join(', ')})`);
  const baseline = o.baseline ? readReport(o.baseline) : null;

  bench.reset();
  bench.quick = o.quick;
  timingOverrides.runs = o.runs;
  const started = new Date();
  const t0 = performance.now();
  const loadBefore = os.loadavg();
  const chosen = SUITES.filter((s) => (o.suites.length ? o.suites.includes(s.name) : !s.onlyWhenNamed));

  const log = bench.log;
  log(`# Nabla benchmarks${o.quick ? ' (quick)' : ''}: ${chosen.map((s) => s.name).join(', ')}`);
  log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.cpus().length}, Node ${process.version}, load ${loadBefore.map((l) => l.toFixed(2)).join(' / ')}`);
  // --quick without --device measures the cpu only: on a machine whose GPU devices are software
  // adapters (SwiftShader, llvmpipe) they take minutes per suite; --device brings them back.
  const quickCpuOnly = o.quick && o.devices === null && !process.env.NABLA_BENCH_DEVICES;
  const d = await setup(o.devices ?? (process.env.NABLA_BENCH_DEVICES ? process.env.NABLA_BENCH_DEVICES.split(',') : quickCpuOnly ? ['cpu'] : null));
  for (const n of [...d.notes, ...d.missing]) log(`- ${n}`);
  const ran = describeDevices(d);
  const notes: string[] = [];
  if (process.env.NABLA_BENCH_DEVICES && !o.devices) notes.push(`NABLA_BENCH_DEVICES=${process.env.NABLA_BENCH_DEVICES}`);
  if (quickCpuOnly) {
    const why = '--quick measures the cpu device only; add --device cpu,webgl,webgpu for the GPU columns';
    notes.push(why);
    log(`- ${why}`);
  }

  const dir = outDir(o, started);
  log(`report: ${path.join(dir, 'report.html')} (rewritten after each suite)`);
  const build = (finished: boolean): Report => {
    const r: Report = {
      format: 'nabla-bench/1',
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      wallSeconds: (performance.now() - t0) / 1000,
      argv: [...argv],
      options: { quick: o.quick, runs: o.runs, suites: chosen.map((s) => s.name), devices: o.devices },
      conditions: conditions(d, ran, loadBefore, bench.cases, bench.peers, finished ? notes : [...notes, `partial report: written after ${bench.suites.length} of ${chosen.length} suites`]),
      suites: bench.suites,
      cases: bench.cases,
    };
    const judged = judgeReport(r.suites, r.cases);
    if (judged.goals.length) {
      r.goals = judged.goals;
      r.goalTallies = judged.tallies;
    }
    if (baseline && o.baseline) r.baseline = { path: o.baseline, startedAt: baseline.startedAt, threshold: o.threshold, rows: compareWithBaseline(bench.cases, baseline, o.threshold) };
    return r;
  };
  const write = (r: Report): void => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'report.json'), `${JSON.stringify(r, null, 1)}\n`);
    writeFileSync(path.join(dir, 'report.html'), reportHTML(r));
  };

  try {
    for (const [i, s] of chosen.entries()) {
      bench.beginSuite(s.name, i + 1, chosen.length);
      try {
        if (s.name === 'cpu' && !d.devices.includes('cpu')) bench.note('skipped: the cpu device is not among --device');
        else await s.run(d);
        bench.endSuite();
      } catch (e) {
        // One suite failing (a device lost, a peer crashing) leaves the others' results standing.
        bench.endSuite(e);
        log(String((e as Error).stack ?? e));
      }
      // Written after every suite, so a run stopped midway still leaves a report.
      if (i < chosen.length - 1) write(build(false));
    }
  } finally {
    for (const t of d.targets) if (t.rt !== d.rt) await t.rt.dispose();
    await d.rt.dispose();
  }

  const report = build(true);
  if (report.baseline) printBaseline(report.baseline.rows, report.baseline.path, log);
  write(report);
  const c = report.conditions;
  log(`\n${bench.cases.length} cases in ${report.wallSeconds.toFixed(1)} s; load ${c.loadBefore[0]!.toFixed(2)} before, ${c.loadAfter[0]!.toFixed(2)} after, ${c.loadMax.toFixed(2)} at most (${c.cpuCount} cores)`);
  log(`report: ${path.join(dir, 'report.html')}\n        ${path.join(dir, 'report.json')}`);
  return { report, dir };
}

/**
 * WebGL needs an X display: without one, and with xvfb-run installed, the CLI runs itself again
 * under `xvfb-run -a`, with the same V8 flags (NABLA_BENCH_NO_XVFB=1 turns this off; the report then
 * says why webgl is missing).
 */
function rerunUnderXvfb(argv: readonly string[]): number | null {
  const o = parseArgs(argv);
  const wantsWebgl = o.devices === null ? !o.quick : o.devices.includes('webgl');
  if (process.env.DISPLAY || process.env.NABLA_BENCH_NO_XVFB || !wantsWebgl || o.help || !existsSync('/usr/bin/xvfb-run')) return null;
  // execArgv too: the V8 flags the bench was started with (--trace-gc, --experimental-wasm-relaxed-simd) reach the suites.
  const args = ['-a', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...argv];
  const r = spawnSync('/usr/bin/xvfb-run', args, { stdio: 'inherit', env: { ...process.env, NABLA_BENCH_NO_XVFB: '1' } });
  return r.status ?? 1;
}

async function cli(): Promise<void> {
  const argv = process.argv.slice(2);
  if (parseArgs(argv).help) {
    console.log(HELP);
    return;
  }
  const code = rerunUnderXvfb(argv);
  if (code !== null) process.exit(code);
  await runBench(argv);
  // tfjs and Dawn keep handles open; the report is written, so leave.
  process.exit(0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
