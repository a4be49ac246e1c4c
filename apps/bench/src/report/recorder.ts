/**
 * The one object suites talk to: `bench.table(...)` declares a table, `bench.record(...)` adds a
 * measured case to it (printing a progress line), `bench.note(...)` adds a remark, and
 * `bench.quick` tells a suite to pick its small sizes. Converting a suite that printed its own
 * table is mechanical: where it pushed a row of strings, it records a case with its samples.
 *
 * @example
 * ```ts
 * bench.table('matmul', { title: 'matmul, float32' });
 * const t = await time(() => a.matmul(b).dispose());
 * bench.record({ table: 'matmul', workload: 'matmul 512²', impl: 'Nabla cpu', device: 'cpu', unit: 'ms', better: 'lower', samples: t.samples });
 * ```
 */
import os from 'node:os';
import { type Better, fmtSummary, summarize } from '../stats.js';
import { cpuShare } from './cpu-share.js';
import type { CaseRecord, Goal, LegacyTable, SuiteRecord } from './model.js';
import { printSuite } from './terminal.js';

export interface CaseInput {
  /** The table id given to `bench.table`; the suite's first table when left out. */
  table?: string;
  workload: string;
  impl: string;
  /** Set for a peer library (PyTorch, TensorFlow.js); Nabla's own cases leave it out. */
  peer?: boolean;
  device?: string;
  unit: string;
  better: Better;
  samples: readonly number[];
  /** Per sample, CPU time / wall time of the measuring process (see `CaseRecord.cpuPerWall`). */
  cpuPerWall?: readonly number[];
  /** Samples per interleaved round (see `CaseRecord.rounds`). */
  rounds?: readonly number[];
  note?: string;
}

export interface TableInput {
  title: string;
  description?: string;
  /** Implementations to compare every row with (one ratio column each); default: the table's peers. */
  against?: string[];
  /** A row per workload and a column per implementation, with these [impl, compared with] ratio columns. */
  wide?: { ratios: [string, string][] };
  /** Targets for some of its workloads: a goal column says, per row, what they are and whether they are met. */
  goals?: Goal[];
}

class Recorder {
  /** Small sizes and few runs: the whole bench in under two minutes. */
  quick = false;
  readonly cases: CaseRecord[] = [];
  readonly suites: SuiteRecord[] = [];
  /** Peer libraries with their versions (or why they are missing), filled in as suites start them. */
  readonly peers: Record<string, string> = {};
  private current: SuiteRecord | null = null;
  private explicitAgainst = new Set<string>();
  private progress = { index: 0, total: 0, started: 0, casesInSuite: 0 };
  /** Where progress lines and tables go (the test silences it). */
  log: (line: string) => void = (line) => console.log(line);

  /** Starts a suite (called by main, not by suites). */
  beginSuite(name: string, index: number, total: number): void {
    this.current = { name, tables: [], legacy: [], notes: [], seconds: 0, load1: { before: os.loadavg()[0]!, after: NaN } };
    this.suites.push(this.current);
    this.explicitAgainst.clear();
    this.progress = { index, total, started: performance.now(), casesInSuite: 0 };
    this.log(`\n[${index}/${total}] suite ${name}${this.quick ? ' (quick)' : ''}`);
  }

  /** Ends the current suite, printing its tables; `error` when it threw. */
  endSuite(error?: unknown): void {
    const s = this.suiteOrThrow();
    s.seconds = (performance.now() - this.progress.started) / 1000;
    if (s.load1) s.load1.after = os.loadavg()[0]!;
    if (error !== undefined) s.error = error instanceof Error ? `${error.message}` : String(error);
    for (const t of s.tables) {
      if (!this.explicitAgainst.has(t.id)) {
        t.against = [...new Set(this.cases.filter((c) => c.suite === s.name && c.table === t.id && c.role === 'peer').map((c) => c.impl))];
      }
    }
    printSuite(s, this.cases, this.log);
    if (s.load1) this.log(`(suite ${s.name}: ${s.seconds.toFixed(1)} s, load ${s.load1.before.toFixed(2)} at its start, ${s.load1.after.toFixed(2)} at its end, on ${os.cpus().length} cores)`);
    if (s.error) this.log(`\n! suite ${s.name} failed after ${s.seconds.toFixed(1)} s: ${s.error}`);
    this.current = null;
  }

  table(id: string, def: TableInput): void {
    const s = this.suiteOrThrow();
    if (s.tables.some((t) => t.id === id)) throw new Error(`bench: table ${id} declared twice in suite ${s.name}`);
    s.tables.push({ id, title: def.title, ...(def.description ? { description: def.description } : {}), against: def.against ?? [], ...(def.wide ? { wide: def.wide } : {}), ...(def.goals ? { goals: def.goals } : {}) });
    if (def.against) this.explicitAgainst.add(id);
  }

  record(input: CaseInput): CaseRecord {
    const s = this.suiteOrThrow();
    const table = input.table ?? s.tables[0]?.id;
    if (table === undefined || !s.tables.some((t) => t.id === table)) throw new Error(`bench: suite ${s.name} records into undeclared table ${table ?? '(none)'}`);
    const c: CaseRecord = {
      suite: s.name,
      table,
      workload: input.workload,
      impl: input.impl,
      role: input.peer ? 'peer' : 'nabla',
      ...(input.device ? { device: input.device } : {}),
      unit: input.unit,
      better: input.better,
      samples: [...input.samples],
      summary: summarize(input.samples),
      ...(input.note ? { note: input.note } : {}),
      load1: os.loadavg()[0]!,
      ...(input.cpuPerWall && input.cpuPerWall.length > 0 ? { cpuPerWall: [...input.cpuPerWall] } : {}),
      ...(input.rounds && input.rounds.length > 1 ? { rounds: [...input.rounds] } : {}),
    };
    this.cases.push(c);
    this.progress.casesInSuite++;
    const secs = ((performance.now() - this.progress.started) / 1000).toFixed(1);
    const share = cpuShare(c);
    this.log(
      `  [${this.progress.index}/${this.progress.total} ${s.name} #${this.progress.casesInSuite}] ${c.workload} · ${c.impl}: ${fmtSummary(c.summary)} ${c.unit} (n=${c.summary.n}, ${secs} s, load ${c.load1.toFixed(1)}${Number.isNaN(share) ? '' : `, cpu/wall ${share.toFixed(2)}`})${c.note ? ` — ${c.note}` : ''}`,
    );
    return c;
  }

  /**
   * A cell that could not be measured (a device without the kernel, a peer that failed): kept in
   * the report with no samples and the reason, so an empty column says why.
   */
  missing(input: Omit<CaseInput, 'samples' | 'note'>, reason: unknown): CaseRecord {
    const why = reason instanceof Error ? reason.message.split('\n')[0]! : String(reason);
    return this.record({ ...input, samples: [], note: `not measured: ${why}` });
  }

  /**
   * Runs `measure` and records its samples, or records the cell as missing with the error it threw
   * (one device lacking a kernel leaves the rest of the suite running).
   */
  async attempt(input: Omit<CaseInput, 'samples'>, measure: () => Promise<readonly number[]>): Promise<CaseRecord> {
    let samples: readonly number[];
    try {
      samples = await measure();
    } catch (e) {
      return this.missing(input, e);
    }
    return this.record({ ...input, samples });
  }

  note(text: string): void {
    this.suiteOrThrow().notes.push(text);
  }

  /** A table of strings from a suite that has not been converted: kept in the report as text. */
  legacy(table: LegacyTable): void {
    if (this.current) this.current.legacy.push(table);
  }

  /** Forgets everything (tests run the bench more than once in a process). */
  reset(): void {
    this.cases.length = 0;
    this.suites.length = 0;
    this.current = null;
    this.quick = false;
    for (const k of Object.keys(this.peers)) delete this.peers[k];
  }

  private suiteOrThrow(): SuiteRecord {
    if (!this.current) throw new Error('bench: no suite is running (record and table are called from inside a suite)');
    return this.current;
  }
}

/** The recorder of this process's bench run. */
export const bench = new Recorder();
