/**
 * The opt-in GC placement diagnostic (NABLA_BENCH_GC=1) tells collections inside a column's timed
 * samples from those in its blocks outside them: here a contender whose timed call forces a full
 * collection, and one whose `prepare` (untimed) does. Asserts where collections fell, never how long
 * they took.
 */
import { describe, expect, it } from 'vitest';
import { GcPlacement } from '../src/gc-placement.js';
import { localContender } from '../src/interleave.js';
import { collectGarbage, sampleWindows } from '../src/timing.js';

describe('GC placement', () => {
  it('counts a collection inside a timed call as in the samples, one in prepare as outside', async () => {
    const gc = new GcPlacement();
    const budget = { warmup: 0, runs: 3, minMs: 0, maxRuns: 3, maxMs: Infinity };
    const timedGc = gc.wrap(localContender('timed', () => collectGarbage()));
    const untimedGc = gc.wrap(localContender('untimed', () => 0, () => collectGarbage()));
    await timedGc.block(budget);
    await untimedGc.block(budget);
    const s = await gc.summary();
    expect(s.map((r) => [r.impl, r.samples])).toEqual([['timed', 3], ['untimed', 3]]);
    const [timed, untimed] = s;
    expect(timed!.gcInSamples).toBeGreaterThan(0);
    expect(untimed!.gcInSamples).toBe(0);
    expect(untimed!.gcOutside).toBeGreaterThan(0);
    // The hook is let go after each block.
    expect(sampleWindows.onSample).toBeNull();
    const lines = await gc.lines('row');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^ {2}gc row · timed: 3 samples, \d+ ms timed, of which GC \d+ ms \(\d+%\); GC in its blocks outside the samples \(untimed\) \d+ ms$/);
  });
});
