/**
 * Interleaved measurement of several implementations of one workload: instead of all of A's
 * samples, then all of B's, the samples are taken in rounds (ABC, BCA, CAB, ...), each round a
 * short block per implementation. Whatever drifts during the workload (another process starting
 * on a shared machine, the CPU's clock, the heap growing) then lands on every implementation
 * alike, and the ratios between them stay honest even when the absolute numbers move. The order
 * rotates so that no implementation always runs right after the same other one.
 *
 * A contender runs its own blocks: in this process (`localContender`, with `time()`), or in a
 * peer's process (the PyTorch server), which is why a block, not a sample, is the unit here.
 */
import { bench } from './report/recorder.js';
import { effectiveTiming, time, timingOverrides, type TimeOptions } from './timing.js';

/** What one block of one contender is asked for. */
export interface BlockBudget {
  /** Untimed calls first (the first round warms up; later rounds start measuring at once). */
  warmup: number;
  /** At least this many timed calls... */
  runs: number;
  /** ...and keep going until this many ms have been spent timing (at most `maxRuns` calls). */
  minMs: number;
  maxRuns: number;
  /** A block stops after this long, one sample at least, even short of `runs` (Infinity with --runs). */
  maxMs: number;
}

/** One block's samples: wall ms per call, and the process's CPU ms during each. */
export interface BlockSamples {
  samples: number[];
  cpuMs: number[];
}

export interface Contender {
  readonly name: string;
  block(budget: BlockBudget): Promise<BlockSamples>;
}

/** The samples of one contender over every round, in the order they ran; `error` when a block threw. */
export interface Measured {
  samples: number[];
  cpuMs: number[];
  /** How many samples each round gave (one entry per round the contender ran in). */
  rounds?: number[];
  error?: unknown;
}

/** A contender timed in this process: `step` per sample, after an untimed `prepare` when given. */
export function localContender<P = undefined>(name: string, step: (prepared: P) => unknown, prepare?: () => P): Contender {
  return {
    name,
    block: async (b) => {
      const t = await time<P>(step, { warmup: b.warmup, runs: b.runs, minMs: b.minMs, maxRuns: b.maxRuns, maxMs: b.maxMs, exact: true, ...(prepare ? { prepare } : {}) });
      return { samples: t.samples, cpuMs: t.cpuMs };
    },
  };
}

export interface InterleaveOptions extends TimeOptions {
  /** Rounds over the contenders (default 5; 1 in --quick). */
  rounds?: number;
}

/**
 * The rounds a workload gets and each block's budget: the suite's (or the command line's) runs
 * and time split evenly over the rounds, so that an interleaved cell costs what a plain `time()`
 * of it would. A block may run to twice its share of the time to reach its runs; past that a
 * slow contender gives one sample per round (so at least `rounds` in all).
 */
export function plan(opts: InterleaveOptions = {}): { rounds: number; warmup: number; block: Omit<BlockBudget, 'warmup'> } {
  const t = effectiveTiming(opts);
  const wanted = bench.quick ? 1 : (opts.rounds ?? 5);
  const exact = timingOverrides.runs !== null;
  // --runs N: exactly N samples per cell, so no more rounds than samples and N spread over them.
  const rounds = Math.max(1, exact ? Math.min(wanted, t.runs) : wanted);
  const runs = Math.ceil(t.runs / rounds);
  const minMs = t.minMs / rounds;
  if (exact) return { rounds, warmup: t.warmup, block: { runs, minMs: 0, maxRuns: runs, maxMs: Infinity } };
  return { rounds, warmup: t.warmup, block: { runs, minMs, maxRuns: Math.max(runs, Math.ceil(200 / rounds)), maxMs: bench.quick ? Infinity : Math.max(2 * minMs, 1) } };
}

/**
 * Measures every contender of one workload in rotating rounds; returns each one's samples (in
 * contender order). A contender whose block throws is dropped from later rounds, with the error.
 * With --runs N every contender ends with exactly N samples.
 */
export async function interleave(contenders: readonly Contender[], opts: InterleaveOptions = {}): Promise<Map<string, Measured>> {
  const { rounds, warmup, block } = plan(opts);
  const exactTotal = timingOverrides.runs;
  const out = new Map<string, Measured>(contenders.map((c) => [c.name, { samples: [], cpuMs: [], rounds: [] }]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < contenders.length; i++) {
      const c = contenders[(i + r) % contenders.length]!;
      const m = out.get(c.name)!;
      if (m.error !== undefined) continue;
      let runs = block.runs;
      if (exactTotal !== null) runs = Math.min(runs, exactTotal - m.samples.length);
      if (runs <= 0) continue;
      try {
        const s = await c.block({ ...block, warmup: r === 0 ? warmup : 0, runs, maxRuns: exactTotal !== null ? runs : block.maxRuns });
        m.samples.push(...s.samples);
        m.cpuMs.push(...s.cpuMs);
        m.rounds!.push(s.samples.length);
      } catch (e) {
        m.error = e;
      }
    }
  }
  return out;
}
