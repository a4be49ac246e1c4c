/**
 * Charging garbage collection to the samples that caused it. V8 runs part of its collection
 * work as tasks on the event loop (scavenges it schedules before new space is full, incremental
 * marking steps, finalisation), and `time()` returns to the event loop between samples, so for a
 * workload that leaves much garbage behind (the scalar graph: a 10,000-node graph per forward)
 * most of its collection time can land between the samples. A median of the samples alone would
 * leave that time out, while PyTorch frees its graph by refcounting inside its timed call. So
 * every in-process sample is charged the collection pauses that start in the return to the event
 * loop right after it (before the next sample's untimed `prepare`), and the sample's time is its
 * wall time plus that charge: GC that runs between samples is charged to the sample before it.
 *
 * The pauses are the `gc` entries of `perf_hooks` (main-thread pauses; V8's concurrent marking on
 * helper threads is not a pause). What runs before a block's first sample (warm-up, the previous
 * block, `settleHeap`'s forced collections) is charged to nobody.
 */
import { PerformanceObserver } from 'node:perf_hooks';

/** A collection pause: when it started and how long it took (ms, `performance.now()` clock). */
export interface GcPause {
  start: number;
  duration: number;
}

/** A sample's span, and the end of the return to the event loop after it (its charge window is [end, chargeUntil)). */
export interface SampleWindow {
  start: number;
  end: number;
  chargeUntil: number;
}

/**
 * The collection ms charged to each sample: the pauses that start after the sample ended and
 * before its window closes. A pause that starts inside a sample is already in its wall time, and
 * one outside every window (warm-up, `prepare`) is charged to nobody.
 */
export function gcCharges(windows: readonly SampleWindow[], pauses: readonly GcPause[]): number[] {
  return windows.map((w) => pauses.reduce((sum, p) => sum + (p.start >= w.end && p.start < w.chargeUntil ? p.duration : 0), 0));
}

/** Collects the process's `gc` entries from now until `stop()`. */
export class GcPauses {
  private readonly pauses: GcPause[] = [];
  private readonly observer = new PerformanceObserver((list) => this.add(list.getEntries()));

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  private add(entries: readonly { startTime: number; duration: number }[]): void {
    for (const e of entries) this.pauses.push({ start: e.startTime, duration: e.duration });
  }

  /**
   * Every pause seen so far, after `settle` (returns to the event loop: Node hands a collection's
   * entry to JavaScript from the loop, one turn after it), and stops watching.
   */
  async stop(settle: () => Promise<void>): Promise<GcPause[]> {
    await settle();
    this.add(this.observer.takeRecords());
    this.dispose();
    return this.pauses;
  }

  /** Stops watching (again: harmless). */
  dispose(): void {
    this.observer.disconnect();
  }
}
