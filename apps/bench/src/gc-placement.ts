/**
 * Where V8's garbage collections fell during a row, per column: inside the timed samples, in the
 * returns to the event loop right after them (where V8 runs its task-scheduled scavenges and
 * marking steps; `time()` charges these to the sample before, `gc-charge.ts`), or elsewhere in the
 * column's blocks (warm-up, `prepare`, before a block's first sample: charged to nobody). Opt-in
 * (`NABLA_BENCH_GC=1`), printed on the terminal beside the cases. A workload that allocates (the
 * scalar graph: ~10 MB per forward) may see most of its collections land between samples, and
 * how much depends on the collector's state, which is why each cpu group runs in a fresh process.
 *
 * Timings only; nothing here asserts anything.
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';
import type { Contender } from './interleave.js';
import type { SampleWindow } from './gc-charge.js';
import { sampleWindows } from './timing.js';

export const gcPlacementWanted = (): boolean => process.env.NABLA_BENCH_GC === '1';

interface Span {
  start: number;
  end: number;
}

/** V8's kinds of `gc` entry, as the lines name them. */
const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};

/** Watches one row: wrap its contenders, measure, then `lines()`. */
export class GcPlacement {
  private readonly gcs: (Span & { kind: string })[] = [];
  private readonly blocks = new Map<string, { block: Span; samples: SampleWindow[] }[]>();
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = ((e as { detail?: { kind?: number } }).detail)?.kind ?? 0;
      this.gcs.push({ start: e.startTime, end: e.startTime + e.duration, kind: KINDS[kind] ?? `kind ${kind}` });
    }
  });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** `c`, with the spans of its blocks and of the samples taken in them kept. */
  wrap(c: Contender): Contender {
    return {
      name: c.name,
      block: async (b) => {
        const samples: SampleWindow[] = [];
        const start = performance.now();
        sampleWindows.onSample = (w) => samples.push(w);
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

  /**
   * Per column that took samples here: their count and wall ms, and the collection ms inside them,
   * charged to them (right after each), and in its blocks otherwise (charged to nobody).
   */
  async summary(): Promise<{ impl: string; samples: number; sampleMs: number; gcInSamples: number; gcCharged: number; chargedByKind: Record<string, number>; gcOutside: number }[]> {
    // GC entries reach the observer from the event loop: let the last ones in.
    await new Promise((resolve) => setTimeout(resolve, 20));
    this.observer.disconnect();
    const inside = (s: Span): number => this.gcs.reduce((sum, g) => sum + (g.start >= s.start && g.start < s.end ? g.end - g.start : 0), 0);
    return [...this.blocks]
      .map(([impl, blocks]) => {
        const samples = blocks.flatMap((b) => b.samples);
        const gcInSamples = samples.reduce((s, w) => s + inside(w), 0);
        const gcCharged = samples.reduce((s, w) => s + inside({ start: w.end, end: w.chargeUntil }), 0);
        const chargedByKind: Record<string, number> = {};
        for (const g of this.gcs) {
          if (samples.some((w) => g.start >= w.end && g.start < w.chargeUntil)) chargedByKind[g.kind] = (chargedByKind[g.kind] ?? 0) + g.end - g.start;
        }
        return {
          impl,
          samples: samples.length,
          sampleMs: samples.reduce((s, w) => s + w.end - w.start, 0),
          gcInSamples,
          gcCharged,
          chargedByKind,
          gcOutside: blocks.reduce((s, b) => s + inside(b.block), 0) - gcInSamples - gcCharged,
        };
      })
      .filter((r) => r.samples > 0);
  }

  /**
   * One line per column that took samples here: collection ms inside its samples, charged to them
   * (between samples), and in its blocks otherwise (warm-up, `prepare`, before a block's first
   * sample: charged to nobody).
   */
  async lines(row: string): Promise<string[]> {
    return (await this.summary()).map(
      (r) =>
        `  gc ${row} · ${r.impl}: ${r.samples} samples, ${r.sampleMs.toFixed(0)} ms wall, of which GC ${r.gcInSamples.toFixed(0)} ms (${((100 * r.gcInSamples) / r.sampleMs).toFixed(0)}%); GC between samples, charged to them ${r.gcCharged.toFixed(0)} ms${byKind(r.chargedByKind)}; GC elsewhere in its blocks (uncharged) ${r.gcOutside.toFixed(0)} ms`,
    );
  }
}

/** ` (minor 12, major 30)`: the charged ms per kind of collection, or nothing when none was charged. */
function byKind(ms: Record<string, number>): string {
  const parts = Object.entries(ms).map(([k, v]) => `${k} ${v.toFixed(0)}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}
