/**
 * Timing: warm up, then time repeated runs and keep every sample (the report shows their median
 * and spread). `--quick` and `--runs N` override what a suite asks for, so one flag sizes the
 * whole run.
 */
import { bench } from './report/recorder.js';
import { printLegacy } from './report/terminal.js';
import { fmt as fmtNumber, summarize } from './stats.js';

export interface Timing {
  /** Median milliseconds per call. */
  ms: number;
  runs: number;
  /** Milliseconds of every timed call, in the order they ran. */
  samples: number[];
}

export interface TimeOptions {
  warmup?: number;
  runs?: number;
  /** Keep sampling (up to 200 samples) until this much time has passed. */
  minMs?: number;
}

/** In quick mode, a case that has spent this long stops at two samples. */
const QUICK_CASE_MS = 1500;

/** What the command line set: exact runs per case (`--runs`), or quick mode's minimum. */
export const timingOverrides: { runs: number | null } = { runs: null };

/** The options a timing actually uses, after `--quick` and `--runs` (exported for the PyTorch peer). */
export function effectiveTiming(opts: TimeOptions = {}): Required<TimeOptions> {
  const runs = timingOverrides.runs;
  if (runs !== null) return { warmup: bench.quick ? 1 : (opts.warmup ?? 3), runs, minMs: 0 };
  if (bench.quick) return { warmup: Math.min(opts.warmup ?? 1, 1), runs: Math.min(opts.runs ?? 3, 3), minMs: 0 };
  return { warmup: opts.warmup ?? 3, runs: opts.runs ?? 5, minMs: opts.minMs ?? 300 };
}

export async function time(fn: () => unknown | Promise<unknown>, opts: TimeOptions = {}): Promise<Timing> {
  const { warmup, runs, minMs } = effectiveTiming(opts);
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < runs || (performance.now() - start < minMs && samples.length < 200)) {
    // Quick mode keeps a slow case (a software GPU adapter on a busy machine) to two samples.
    if (bench.quick && timingOverrides.runs === null && samples.length >= 2 && performance.now() - start > QUICK_CASE_MS) break;
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return { ms: summarize(samples).median, runs: samples.length, samples };
}

/** Maps every sample (e.g. ms to GFLOP/s); the median of a monotone map is the map of the median. */
export function per(t: Timing, f: (ms: number) => number): number[] {
  return t.samples.map(f);
}

export const fmt = fmtNumber;

/**
 * Prints a table of strings, as suites did before the result model; the report keeps it as a
 * text table. New code records cases with `bench.record` instead.
 */
export function printTable(title: string, header: string[], rows: string[][]): void {
  printLegacy({ title, header, rows }, bench.log);
  bench.legacy({ title, header, rows });
}
