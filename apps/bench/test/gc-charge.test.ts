/**
 * Collections that run between samples are charged to the sample before them (`gc-charge.ts`):
 * the attribution on synthetic pauses, then `time()` on a contender whose step leaves a full
 * collection scheduled on the event loop, so that it runs after the sample, in the return to the
 * event loop. Asserts where pauses were charged, never how long they took.
 */
import { describe, expect, it } from 'vitest';
import { gcCharges } from '../src/gc-charge.js';
import { collectGarbage, time } from '../src/timing.js';

describe('gcCharges', () => {
  it('charges a pause in the window after a sample to that sample, and none inside a sample or outside every window', () => {
    const windows = [
      { start: 0, end: 10, chargeUntil: 12 },
      { start: 15, end: 25, chargeUntil: 27 },
      { start: 30, end: 40, chargeUntil: 41 },
    ];
    const pauses = [
      { start: -5, duration: 100 }, // before the first sample (warm-up, the previous block): nobody's
      { start: 5, duration: 1 }, // inside sample 0: already in its wall time
      { start: 10, duration: 3 }, // right at sample 0's end: sample 0's
      { start: 11.5, duration: 0.5 }, // still in its window
      { start: 13, duration: 7 }, // after the window (prepare of sample 1): nobody's
      { start: 26.9, duration: 2 }, // sample 1's window
      { start: 41, duration: 9 }, // at the close of the last window: nobody's
    ];
    expect(gcCharges(windows, pauses)).toEqual([3.5, 2, 0]);
  });

  it('charges nothing without pauses or samples', () => {
    expect(gcCharges([{ start: 0, end: 1, chargeUntil: 2 }], [])).toEqual([0]);
    expect(gcCharges([], [{ start: 0, duration: 1 }])).toEqual([]);
  });
});

describe('time() charges collections between samples', () => {
  it('adds a collection that runs after each sample to that sample', async () => {
    // Without --expose-gc the bench turns it on itself; where V8 refuses there is no way to force one.
    expect(collectGarbage()).toBe(true);
    // The step's own work is nothing; the full collection it schedules runs after the sample ended.
    const t = await time(() => void setImmediate(() => collectGarbage()), { warmup: 1, runs: 4, minMs: 0, maxRuns: 4, exact: true });
    expect(t.runs).toBe(4);
    expect(t.gcMs).toHaveLength(4);
    for (let i = 0; i < 4; i++) {
      expect(t.gcMs[i]).toBeGreaterThan(0);
      // The sample's time is its wall time plus its charge, so at least the charge.
      expect(t.samples[i]).toBeGreaterThanOrEqual(t.gcMs[i]!);
      expect(t.cpuMs[i]).toBeGreaterThanOrEqual(t.gcMs[i]!);
    }
  });

});
