/**
 * The opt-in GC placement diagnostic (NABLA_BENCH_GC=1) tells collections inside a column's timed
 * samples from those between them (charged to the sample before) and those elsewhere in its blocks
 * (charged to nobody): here a contender whose timed call forces a full collection, one whose step
 * leaves one scheduled on the event loop (it runs after the sample), and one whose `prepare`
 * (untimed) forces one. Asserts where collections fell, never how long
 * they took.
 */
import { describe, expect, it } from 'vitest';
import { GcPlacement } from '../src/gc-placement.js';
import { localContender } from '../src/interleave.js';
import { collectGarbage, sampleWindows } from '../src/timing.js';

describe('GC placement', () => {
  it('counts a collection inside a timed call as in the samples, one after it as charged, one in prepare as outside', async () => {
    const gc = new GcPlacement();
    const budget = { warmup: 0, runs: 3, minMs: 0, maxRuns: 3, maxMs: Infinity };
    const timedGc = gc.wrap(localContender('timed', () => collectGarbage()));
    const afterGc = gc.wrap(localContender('after', () => void setImmediate(() => collectGarbage())));
    const untimedGc = gc.wrap(localContender('untimed', () => 0, () => collectGarbage()));
    await timedGc.block(budget);
    await afterGc.block(budget);
    await untimedGc.block(budget);
    const s = await gc.summary();
    expect(s.map((r) => [r.impl, r.samples])).toEqual([['timed', 3], ['after', 3], ['untimed', 3]]);
    const [timed, after, untimed] = s;
    expect(timed!.gcInSamples).toBeGreaterThan(0);
    expect(after!.gcCharged).toBeGreaterThan(0);
    // A forced full collection is a major one.
    expect(after!.chargedByKind.major).toBeGreaterThan(0);
    expect(untimed!.gcInSamples).toBe(0);
    expect(untimed!.gcOutside).toBeGreaterThan(0);
    // The hook is let go after each block.
    expect(sampleWindows.onSample).toBeNull();
    const lines = await gc.lines('row');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^ {2}gc row · timed: 3 samples, \d+ ms wall, of which GC \d+ ms \(\d+%\); GC between samples, charged to them \d+ ms( \([a-z ]+ \d+(, [a-z ]+ \d+)*\))?; GC elsewhere in its blocks \(uncharged\) \d+ ms$/);
  });
});
