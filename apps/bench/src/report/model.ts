/**
 * The result model of a bench run, as written to report.json: suites declare tables, tables hold
 * cases, a case is one (workload, implementation) cell with its raw samples. Everything the
 * terminal, the HTML report and the baseline comparison show is derived from this.
 */
import type { Better, Comparison, Summary } from '../stats.js';

/** One measured cell: a workload on one Nabla device or one peer, with every sample kept. */
export interface CaseRecord {
  suite: string;
  /** The id of the table (within the suite) it belongs to. */
  table: string;
  /** The row group: what was run ("matmul 1024²", "SiLU forward · cpu"). */
  workload: string;
  /** Who ran it: "Nabla cpu", "Nabla webgl (llvmpipe)", "PyTorch 1.13 (1 thread)", "fused", ... */
  impl: string;
  /** Nabla's own implementation, or a peer library measured in the same run. */
  role: 'nabla' | 'peer';
  /** The Nabla device that ran it (cpu, webgpu, webgl), when there is one. */
  device?: string;
  /** "ms", "GFLOP/s", "µs/op", "MiB", ... */
  unit: string;
  better: Better;
  samples: number[];
  summary: Summary;
  /** Something the numbers alone do not say ("wrong: max rel. error 3e-2"). */
  note?: string;
  /** os.loadavg()[0] when the case finished: how busy the machine was meanwhile. */
  load1: number;
  /**
   * Per sample, the measuring process's CPU time over its wall time (every thread counted): about
   * 1 for one busy thread, up to N for N; well under 1 means other processes had the core (the
   * sample waited). Left out by suites that do not measure it.
   */
  cpuPerWall?: number[];
  /**
   * How many of `samples` each round gave, in order, when the cells were measured in interleaved
   * rounds (the cpu suite): a goal's interval resamples whole rounds. Left out elsewhere.
   */
  rounds?: number[];
}

export interface TableRecord {
  id: string;
  title: string;
  description?: string;
  /**
   * The implementations every row is compared with: one ratio column each (above 1: the row is
   * better). Defaults to every peer of the table.
   */
  against: string[];
  /**
   * Show the table wide: a row per workload, a column per implementation, then these ratio
   * columns ([row impl, compared with]); the long form (a row per case) stays in the HTML below it.
   */
  wide?: { ratios: [string, string][] };
  /** Targets a workload must reach (an issue's goal table): shown as a goal column, met or not. */
  goals?: Goal[];
}

/**
 * One target for one workload, judged on `impl`'s median from the same run: either a ratio
 * against another implementation (`against` with `atLeast`: `impl` at least that many times better
 * than it, as the ratio columns count) or a bound on the median itself (`atMost` / `atLeastValue`,
 * in the row's unit). `right`: the cell must also carry no note (a second-order result marked
 * wrong fails the goal whatever its time).
 */
export interface Goal {
  workload: string;
  impl: string;
  /** Shown in the goal cell: "≥ 2× tfjs-wasm, 2 threads". */
  label: string;
  against?: string;
  atLeast?: number;
  atMost?: number;
  atLeastValue?: number;
  right?: boolean;
  /**
   * Shown and judged, but not counted in the tally: a figure the issue gives beside the goal it
   * counts (the scalar graph's µs/op beside its ratio to PyTorch).
   */
  hint?: boolean;
}

/** Where a goal stands (see `report/goals.ts`). */
export type GoalVerdict = 'met' | 'at the line' | 'NOT met' | 'not judged';

/**
 * A goal as this run judged it, in report.json's `goals`: the number (ratio of medians, or the
 * median), its bootstrap interval and the verdict it gives, so a reader of the JSON need not
 * recompute them (the terminal and the HTML show the same, derived from the same samples).
 */
export interface JudgedGoal {
  suite: string;
  table: string;
  workload: string;
  impl: string;
  against?: string;
  label: string;
  hint?: boolean;
  /** The goal's line in words: "≥ 2×", "≤ 6 ms". */
  line: string;
  value: number | null;
  /** The interval of `value` (null: none), and what it resampled. */
  low: number | null;
  high: number | null;
  level: number;
  spreadBy: 'rounds' | 'samples' | 'none';
  unit: string;
  verdict: GoalVerdict;
  why?: string;
}

/** A table printed by a suite not yet converted to cases (kept as text, no chart). */
export interface LegacyTable {
  title: string;
  header: string[];
  rows: string[][];
}

export interface SuiteRecord {
  name: string;
  tables: TableRecord[];
  legacy: LegacyTable[];
  notes: string[];
  seconds: number;
  /** os.loadavg()[0] when the suite started and when it ended. */
  load1?: { before: number; after: number };
  /** Set when the suite threw: the report keeps what it recorded before. */
  error?: string;
}

export interface Conditions {
  cpuModel: string;
  cpuCount: number;
  totalMemGiB: number;
  platform: string;
  node: string;
  /** os.loadavg() (1, 5, 15 minutes) before the first suite and after the last. */
  loadBefore: number[];
  loadAfter: number[];
  /** Highest 1-minute load seen when a case finished. */
  loadMax: number;
  gitCommit?: string;
  /** Devices and adapters that ran, with the backend's own description. */
  devices: { device: string; label: string; describe: string }[];
  /** Devices that did not start, and why. */
  missing: string[];
  /** Peers with their versions and thread counts (or why they are missing). */
  peers: Record<string, string>;
  /** Free-form lines: thread counts, environment variables that change what runs. */
  notes: string[];
}

export interface BaselineRow {
  suite: string;
  table: string;
  workload: string;
  impl: string;
  unit: string;
  current: Summary;
  baseline: Summary;
  comparison: Comparison;
}

export interface Report {
  format: 'nabla-bench/1';
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  argv: string[];
  options: { quick: boolean; runs: number | null; suites: string[]; devices: string[] | null };
  conditions: Conditions;
  suites: SuiteRecord[];
  cases: CaseRecord[];
  baseline?: { path: string; startedAt: string; threshold: number; rows: BaselineRow[] };
  /** Every declared goal, judged (absent when no table declares goals). */
  goals?: JudgedGoal[];
  /** Per table with goals, its tally: "7 met, 1 at the line, 1 NOT met of 9 goals". */
  goalTallies?: { suite: string; table: string; tally: string }[];
}
