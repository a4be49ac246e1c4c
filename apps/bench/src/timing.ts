/**
 * Timing: warm up, then time repeated runs and keep every sample (the report shows their median
 * and spread). `--quick` and `--runs N` override what a suite asks for, so one flag sizes the
 * whole run.
 *
 * Before each sample the loop returns to the event loop once: V8 runs FinalizationRegistry
 * cleanups only as tasks there, never inside `await` of a synchronous call, so a loop that never
 * yields carries every earlier sample's dead tensors (and their finalizer records) along and each
 * sample pays more for them than the last. Each sample also keeps the process's CPU time beside
 * its wall time: their ratio says whether the sample had its core (about 1 on one thread; well
 * below 1 when other processes took it).
 *
 * Collection pauses that run in that return to the event loop are charged to the sample before
 * it (`gc-charge.ts`): its time is its wall time plus them.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { GcPauses, gcCharges, type SampleWindow } from './gc-charge.js';
import { bench } from './report/recorder.js';
import { printLegacy } from './report/terminal.js';
import { fmt as fmtNumber, summarize } from './stats.js';

export interface Timing {
  /** Median milliseconds per call. */
  ms: number;
  runs: number;
  /** Milliseconds of every timed call, in the order they ran. */
  samples: number[];
  /** The process's CPU milliseconds (every thread) during each timed call, in the same order (GC charge included). */
  cpuMs: number[];
  /** Of each sample, the collection ms charged to it that ran right after it, between samples (`gc-charge.ts`). */
  gcMs: number[];
}

export interface TimeOptions {
  warmup?: number;
  runs?: number;
  /** Keep sampling (up to `maxRuns` samples) until this much time has passed. */
  minMs?: number;
  /** Default 200. */
  maxRuns?: number;
  /** Stop after this many ms even short of `runs` (one sample at least): a slow peer's block in a round. */
  maxMs?: number;
  /** Use `warmup`, `runs` and `minMs` as given: the caller has applied `effectiveTiming` already (an interleaved block). */
  exact?: boolean;
}

/** Warm-up stops after this much time (one call at least): a call that slow is warm after one. */
const WARMUP_MS = 1000;

/** In quick mode, a case that has spent this long stops at two samples. */
const QUICK_CASE_MS = 1500;

/** What the command line set: exact runs per case (`--runs`), or quick mode's minimum. */
export const timingOverrides: { runs: number | null } = { runs: null };

/** The options a timing actually uses, after `--quick` and `--runs` (exported for the PyTorch peer). */
export function effectiveTiming(opts: TimeOptions = {}): { warmup: number; runs: number; minMs: number } {
  const runs = timingOverrides.runs;
  if (runs !== null) return { warmup: bench.quick ? 1 : (opts.warmup ?? 3), runs, minMs: 0 };
  if (bench.quick) return { warmup: Math.min(opts.warmup ?? 1, 1), runs: Math.min(opts.runs ?? 3, 3), minMs: 0 };
  return { warmup: opts.warmup ?? 3, runs: opts.runs ?? 5, minMs: opts.minMs ?? 300 };
}

/** The process's CPU time so far (user + system, every thread), in ms. */
export function cpuNowMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Told the span of every timed call and its charge window at the end of each `time()` (`gc-placement.ts`; null: nobody listens). */
export const sampleWindows: { onSample: ((w: SampleWindow) => void) | null } = { onSample: null };

/** Back to the event loop once, so that pending tasks (FinalizationRegistry cleanups) run now, untimed. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

let gcFn: (() => void) | null | undefined;
/**
 * A full garbage collection, or false where V8 refuses (`--expose-gc` switched on from inside,
 * so the bench's launcher needs no flag). For use between workloads, never between the samples
 * of one: a full collection while no graph is alive lets V8 drop the maps of the engine's
 * objects, which clears their type feedback and deoptimises the engine (seen: the next scalar
 * backward 3–4× slower), so the samples after it would measure V8 re-warming.
 */
export function collectGarbage(): boolean {
  if (gcFn === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gcFn = vm.runInNewContext('gc') as () => void;
    } catch {
      gcFn = null;
    }
  }
  if (gcFn === null) return false;
  gcFn();
  return true;
}

/**
 * A heap with nothing of the previous workload's left, for the start of a row: a full collection,
 * the event loop (where the FinalizationRegistry cleanups of the tensors it found dead run), and a
 * second collection, which frees what those finalizers held. After one collection alone those
 * records are still there (measured: 30 dead scalar chains of 10,000 ops each left 16 MB that
 * only the second collection freed), and the row would start with them in its old space.
 */
export async function settleHeap(): Promise<void> {
  collectGarbage();
  await yieldToEventLoop();
  collectGarbage();
  await yieldToEventLoop();
}

/**
 * Times `fn`: `warmup` untimed calls, then timed calls until `runs` samples and `minMs` spent
 * (at most 200 samples). `prepare`, when given, runs untimed before every call (warm-up too) and
 * its result is `fn`'s argument: what a sample must not include (building the graph whose
 * backward is timed).
 */
export async function time<P = undefined>(fn: (prepared: P) => unknown | Promise<unknown>, opts: TimeOptions & { prepare?: () => P } = {}): Promise<Timing> {
  const { warmup, runs, minMs } = opts.exact ? { warmup: opts.warmup ?? 0, runs: opts.runs ?? 1, minMs: opts.minMs ?? 0 } : effectiveTiming(opts);
  const maxRuns = Math.max(runs, opts.maxRuns ?? 200);
  const prepare = opts.prepare ?? ((): P => undefined as P);
  const warmStart = performance.now();
  for (let i = 0; i < warmup && (i === 0 || performance.now() - warmStart < WARMUP_MS); i++) await fn(prepare());
  const samples: number[] = [];
  const cpuMs: number[] = [];
  const windows: SampleWindow[] = [];
  const pauses = new GcPauses();
  let gcMs: number[];
  try {
    const start = performance.now();
    while (samples.length < runs || (performance.now() - start < minMs && samples.length < maxRuns)) {
      // Quick mode keeps a slow case (a software GPU adapter on a busy machine) to two samples.
      if (bench.quick && timingOverrides.runs === null && samples.length >= 2 && performance.now() - start > QUICK_CASE_MS) break;
      if (opts.maxMs !== undefined && samples.length >= 1 && performance.now() - start >= opts.maxMs) break;
      await yieldToEventLoop();
      if (windows.length > 0) windows[windows.length - 1]!.chargeUntil = performance.now();
      const p = prepare();
      const c0 = cpuNowMs();
      const t0 = performance.now();
      await fn(p);
      const t1 = performance.now();
      samples.push(t1 - t0);
      cpuMs.push(cpuNowMs() - c0);
      windows.push({ start: t0, end: t1, chargeUntil: t1 });
    }
    // The last sample's return to the event loop, as every other sample had before the next one.
    await yieldToEventLoop();
    if (windows.length > 0) windows[windows.length - 1]!.chargeUntil = performance.now();
    gcMs = gcCharges(windows, await pauses.stop(async () => {
      await yieldToEventLoop();
      await yieldToEventLoop();
    }));
    for (let i = 0; i < samples.length; i++) {
      samples[i]! += gcMs[i]!;
      // A pause is the main thread's CPU time too.
      cpuMs[i]! += gcMs[i]!;
      sampleWindows.onSample?.(windows[i]!);
    }
  } finally {
    pauses.dispose();
  }
  return { ms: summarize(samples).median, runs: samples.length, samples, cpuMs, gcMs };
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
