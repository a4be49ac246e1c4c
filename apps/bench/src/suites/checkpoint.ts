/**
 * Gradient checkpointing: the issue's model, 16 blocks of Linear(128,512)+ReLU+Linear(512,128)
 * at batch 4096 (NABLA_BENCH_CKPT_BATCH and NABLA_BENCH_CKPT_RUNS to change the batch and the timed runs), one training step (forward + backward)
 * unchecked, with `checkpointSequential` at √n = 4 segments, with 'auto', and with a memory budget
 * of 35% of the unchecked peak. Reported per device: the step's time and its ratio to the
 * unchecked step (the recompute's cost), and the peak device memory above the step's start (the
 * parameters' gradients are allocated beforehand, as in every step after the first).
 */
import { checkpointSequential, describePlan, sequentialPlan } from '@nabla/checkpoint';
import type { Runtime, Tensor } from '@nabla/core';
import * as nn from '@nabla/nn';
import { settle } from '../devices.js';
import { bench } from '../report/recorder.js';
import { time } from '../timing.js';

function model(rt: Runtime, device: string): nn.Sequential {
  rt.manualSeed(42);
  const blocks = Array.from({ length: bench.quick ? 4 : 16 }, () => new nn.Sequential(new nn.Linear(128, 512, { runtime: rt }), new nn.ReLU(), new nn.Linear(512, 128, { runtime: rt })));
  const m = new nn.Sequential(...blocks);
  if (device !== 'cpu') m.to(device);
  return m;
}

const MODE_RATIOS: [string, string][] = [
  ['4 segments (√n)', 'unchecked'],
  ["'auto'", 'unchecked'],
  ['budget 35%', 'unchecked'],
];

export async function checkpointSuite(rt: Runtime, devices: string[]): Promise<Record<string, number>> {
  const batch = Number(process.env.NABLA_BENCH_CKPT_BATCH ?? (bench.quick ? 32 : 4096));
  const what = `${bench.quick ? 4 : 16} × (Linear(128,512)+ReLU+Linear(512,128)), batch ${batch}, one forward+backward`;
  bench.table('time', { title: `Checkpointing, step time: ${what} (ms)`, description: "The ratio to 'unchecked' is the recompute's cost (below 1×: slower).", against: ['unchecked'], wide: { ratios: MODE_RATIOS } });
  bench.table('memory', { title: `Checkpointing, peak memory above the step's start: ${what} (MiB)`, description: 'The plan (* = checkpointed segment) is in the notes.', against: ['unchecked'], wide: { ratios: MODE_RATIOS } });
  const ratios: Record<string, number> = {};
  for (const device of devices) {
    const m = model(rt, device);
    const x = rt.randn([batch, 128], { device });
    for (const p of m.parameters()) p.grad = rt.zerosLike(p);
    const step = async (forward: () => Tensor): Promise<number> => {
      const before = rt.memory().byDevice[device]?.numBytes ?? 0;
      rt.resetPeakMemory();
      rt.tidy(() => forward().sum().backward());
      await settle(rt, device);
      return rt.memory().byDevice[device]!.peakBytes - before;
    };
    const plainPeak = await step(() => m.call(x));
    const budget = Math.round(plainPeak * 0.35);
    const modes: [string, () => Tensor][] = [
      ['unchecked', () => m.call(x)],
      ['4 segments (√n)', () => checkpointSequential(m, 4, x)],
      ["'auto'", () => checkpointSequential(m, 'auto', x)],
      [`budget 35%`, () => checkpointSequential(m, { memoryBudget: budget }, x)],
    ];
    // At quick mode's batch the parameters dominate the peak and no plan fits 35%: left out.
    if (bench.quick) modes.pop();
    let plainMs = NaN;
    for (const [name, fwd] of modes) {
      // A step at batch 4096 takes seconds: one warm-up (it makes the plan), then the median of 3.
      let peaks: number[];
      try {
        peaks = [await step(fwd)];
      } catch (e) {
        // A plan that cannot be made (a budget below what any segmentation reaches) is a missing cell, not a failed suite.
        for (const [table, unit] of [['time', 'ms'], ['memory', 'MiB']] as const) bench.missing({ table, workload: device, impl: name, device, unit, better: 'lower' }, e);
        continue;
      }
      const peak = peaks[0]!;
      const t = await time(async () => peaks.push(await step(fwd)), { warmup: 0, runs: Number(process.env.NABLA_BENCH_CKPT_RUNS ?? 3), minMs: 0 });
      if (name === 'unchecked') plainMs = t.ms;
      const plan = name === 'unchecked' ? '' : name.startsWith('4') ? describePlan(sequentialPlan(m, 4, x).segments) : describePlan(sequentialPlan(m, name === "'auto'" ? 'auto' : { memoryBudget: budget }, x).segments);
      bench.record({ table: 'time', workload: device, impl: name, device, unit: 'ms', better: 'lower', samples: t.samples });
      bench.record({ table: 'memory', workload: device, impl: name, device, unit: 'MiB', better: 'lower', samples: peaks.map((b) => b / 2 ** 20) });
      if (plan) bench.note(`${device}, ${name}: ${plan}`);
      ratios[`${name} ${device} time`] = t.ms / plainMs;
      ratios[`${name} ${device} peak`] = peak / plainPeak;
    }
    for (const p of m.parameters()) p.grad = null;
    x.dispose();
  }
  return ratios;
}
