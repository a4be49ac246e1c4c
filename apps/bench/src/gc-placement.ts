/**
 * Where V8's garbage collections fell during a row, per column: inside the timed samples, or in
 * the column's blocks between them (the returns to the event loop before each sample, where V8
 * runs its task-scheduled scavenges and FinalizationRegistry cleanups, untimed). Opt-in
 * (`NABLA_BENCH_GC=1`), printed on the terminal beside the cases: the report's numbers are the
 * samples alone, and this says how much collection work they left out. A workload that allocates
 * (the scalar graph: ~10 MB per forward) may see most of its collections land between samples,
 * and how much depends on the collector's state, which is why each cpu group runs in a fresh
 * process.
 *
 * Timings only; nothing here asserts anything.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import type { Contender } from './interleave.js';
import { sampleWindows } from './timing.js';

export const gcPlacementWanted = (): boolean => process.env.NABLA_BENCH_GC === '1';

interface Span {
  start: number;
  end: number;
}

/** Watches one row: wrap its contenders, measure, then `lines()`. */
export class GcPlacement {
  private readonly gcs: Span[] = [];
  private readonly blocks = new Map<string, { block: Span; samples: Span[] }[]>();
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) this.gcs.push({ start: e.startTime, end: e.startTime + e.duration });
  });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** `c`, with the spans of its blocks and of the samples taken in them kept. */
  wrap(c: Contender): Contender {
    return {
      name: c.name,
      block: async (b) => {
        const samples: Span[] = [];
        const start = performance.now();
        sampleWindows.onSample = (t0, t1) => samples.push({ start: t0, end: t1 });
        try {
          return await c.block(b);
        } finally {
          sampleWindows.onSample = null;
          const all = this.blocks.get(c.name) ?? [];
          all.push({ block: { start, end: performance.now() }, samples });
          this.blocks.set(c.name, all);
        }
      },
    };
  }

  /** Per column that took samples here: their count and ms, and the collection ms inside them and in its blocks outside them. */
  async summary(): Promise<{ impl: string; samples: number; sampleMs: number; gcInSamples: number; gcOutside: number }[]> {
    // GC entries reach the observer from the event loop: let the last ones in.
    await new Promise((resolve) => setTimeout(resolve, 20));
    this.observer.disconnect();
    const inside = (s: Span): number => this.gcs.reduce((sum, g) => sum + (g.start >= s.start && g.start < s.end ? g.end - g.start : 0), 0);
    return [...this.blocks]
      .map(([impl, blocks]) => {
        const samples = blocks.flatMap((b) => b.samples);
        const gcInSamples = samples.reduce((s, w) => s + inside(w), 0);
        return {
          impl,
          samples: samples.length,
          sampleMs: samples.reduce((s, w) => s + w.end - w.start, 0),
          gcInSamples,
          gcOutside: blocks.reduce((s, b) => s + inside(b.block), 0) - gcInSamples,
        };
      })
      .filter((r) => r.samples > 0);
  }

  /**
   * One line per column that took samples here: collection ms inside its samples, and in its
   * blocks outside them (the returns to the event loop, `prepare` and the first round's warm-up:
   * untimed).
   */
  async lines(row: string): Promise<string[]> {
    return (await this.summary()).map(
      (r) =>
        `  gc ${row} · ${r.impl}: ${r.samples} samples, ${r.sampleMs.toFixed(0)} ms timed, of which GC ${r.gcInSamples.toFixed(0)} ms (${((100 * r.gcInSamples) / r.sampleMs).toFixed(0)}%); GC in its blocks outside the samples (untimed) ${r.gcOutside.toFixed(0)} ms`,
    );
  }
}
