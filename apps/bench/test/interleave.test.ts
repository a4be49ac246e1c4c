/**
 * How the bench takes its samples: interleaved rounds whose order rotates, warm-up in the first
 * round only, --runs N giving exactly N samples per contender however the rounds split them, a
 * contender that throws dropped with its error; and `time()` itself: an untimed `prepare` per
 * call, the CPU time beside each sample, and a return to the event loop before every sample (so
 * that pending tasks, FinalizationRegistry cleanups among them, run between samples, untimed).
 * Nothing here asserts a duration.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { interleave, localContender, plan, type BlockBudget, type Contender } from '../src/interleave.js';
import { bench } from '../src/report/recorder.js';
import { collectGarbage, settleHeap, time, timingOverrides } from '../src/timing.js';

/** A contender that logs its blocks and gives one fake sample per run asked for. */
function fake(name: string, log: string[], budgets: BlockBudget[] = []): Contender {
  return {
    name,
    block: async (b) => {
      log.push(name);
      budgets.push(b);
      return { samples: Array.from({ length: b.runs }, () => 1), cpuMs: Array.from({ length: b.runs }, () => 1) };
    },
  };
}

afterEach(() => {
  timingOverrides.runs = null;
  bench.quick = false;
});

describe('interleave', () => {
  it('takes rounds across the contenders, rotating the order each round', async () => {
    const log: string[] = [];
    await interleave([fake('A', log), fake('B', log), fake('C', log)], { rounds: 3, warmup: 2, runs: 6, minMs: 0 });
    expect(log.join('')).toBe('ABCBCACAB');
  });

  it('warms up in the first round only, and splits runs and time over the rounds', async () => {
    const budgets: BlockBudget[] = [];
    await interleave([fake('A', [], budgets)], { rounds: 4, warmup: 3, runs: 10, minMs: 400 });
    expect(budgets.map((b) => b.warmup)).toEqual([3, 0, 0, 0]);
    expect(budgets.every((b) => b.runs === 3 && b.minMs === 100 && b.maxMs === 200)).toBe(true);
  });

  it('gives exactly N samples per contender with --runs N, with no more rounds than N', async () => {
    timingOverrides.runs = 7;
    const log: string[] = [];
    const out = await interleave([fake('A', log), fake('B', log)], { rounds: 5 });
    expect(out.get('A')!.samples).toHaveLength(7);
    expect(out.get('B')!.samples).toHaveLength(7);
    // What each round gave is kept, so that a goal's interval can resample whole rounds.
    expect(out.get('A')!.rounds).toEqual([2, 2, 2, 1]);
    expect(out.get('B')!.rounds!.reduce((a, b) => a + b, 0)).toBe(7);
    timingOverrides.runs = 2;
    expect(plan({ rounds: 5 }).rounds).toBe(2);
  });

  it('runs one round in --quick', () => {
    bench.quick = true;
    expect(plan({ rounds: 5 }).rounds).toBe(1);
  });

  it('drops a contender whose block throws, keeping its error, and goes on with the others', async () => {
    const log: string[] = [];
    let calls = 0;
    const broken: Contender = {
      name: 'X',
      block: async () => {
        calls++;
        throw new Error('no kernel');
      },
    };
    const out = await interleave([fake('A', log), broken], { rounds: 3, runs: 3, minMs: 0 });
    expect(calls).toBe(1);
    expect((out.get('X')!.error as Error).message).toBe('no kernel');
    expect(out.get('A')!.samples).toHaveLength(3);
  });

  it('times a local step on what its untimed prepare made, a CPU time per sample', async () => {
    const seen: number[] = [];
    let made = 0;
    const c = localContender('local', (p: number) => seen.push(p), () => ++made);
    const s = await c.block({ warmup: 1, runs: 3, minMs: 0, maxRuns: 3, maxMs: Infinity });
    expect(s.samples).toHaveLength(3);
    expect(s.cpuMs).toHaveLength(3);
    expect(s.cpuMs.every((v) => v >= 0)).toBe(true);
    expect(seen).toEqual([1, 2, 3, 4]); // one prepare per call, warm-up included
  });
});

describe('time', () => {
  it('returns to the event loop before every sample: a task queued in one sample has run before the next', async () => {
    let pending = false;
    const ranBefore: boolean[] = [];
    await time(
      () => {
        ranBefore.push(!pending);
        pending = true;
        setImmediate(() => {
          pending = false;
        });
      },
      { warmup: 0, runs: 4, minMs: 0 },
    );
    expect(ranBefore).toEqual([true, true, true, true]);
  });

  it('stops a block at maxMs after one sample at least', async () => {
    const t = await time(() => {}, { warmup: 0, runs: 50, minMs: 0, maxMs: 0, exact: true });
    expect(t.samples).toHaveLength(1);
  });

  it('can force a full collection (for between workloads)', () => {
    expect(collectGarbage()).toBe(true);
  });

  it('settles the heap before a row: finalizers run, and what they held is freed too', async () => {
    const cleaned: string[] = [];
    const registry = new FinalizationRegistry<{ name: string }>((h) => cleaned.push(h.name));
    let held: WeakRef<{ name: string }> | undefined;
    (() => {
      const h = { name: 'record' };
      registry.register({}, h);
      held = new WeakRef(h);
    })();
    // A new job: the WeakRef no longer keeps its target alive for the job that made it.
    await new Promise((resolve) => setImmediate(resolve));
    await settleHeap();
    expect(cleaned).toEqual(['record']);
    // One collection finds the target dead and the cleanup runs; only the second frees the held record.
    expect(held!.deref()).toBeUndefined();
  });
});
