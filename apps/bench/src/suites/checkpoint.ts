/**
 * Gradient checkpointing: the issue's model, 16 blocks of Linear(128,512)+ReLU+Linear(512,128)
 * at batch 4096 (NABLA_BENCH_CKPT_BATCH and NABLA_BENCH_CKPT_RUNS to change the batch and the timed
 * rounds; `--quick` runs 4 blocks at batch 32), one training step (forward + backward) unchecked,
 * with `checkpointSequential` at √n = 4 segments, the same with the `saveMatmuls` policy (the
 * recompute answers the matmuls with their kept outputs and runs only the ReLUs), with 'auto', and
 * with a memory budget of 35% of the unchecked peak. Reported per device: the step's time and its
 * ratio to the unchecked step (the recompute's cost), and the peak device memory above the step's
 * start (the parameters' gradients are allocated beforehand, as in every step after the first).
 *
 * The timed rounds interleave the modes (one step of each per round), so a machine whose load
 * drifts during the run (the CI machine is shared) biases no mode.
 */
import { checkpointSequential, describePlan, saveMatmuls, sequentialPlan, type SegmentsSpec } from '@nabla/checkpoint';
import type { Runtime, Tensor } from '@nabla/core';
import * as nn from '@nabla/nn';
import { settle } from '../devices.js';
import { bench } from '../report/recorder.js';
import { median } from '../stats.js';

function model(rt: Runtime, device: string): nn.Sequential {
  rt.manualSeed(42);
  const blocks = Array.from({ length: bench.quick ? 4 : 16 }, () => new nn.Sequential(new nn.Linear(128, 512, { runtime: rt }), new nn.ReLU(), new nn.Linear(512, 128, { runtime: rt })));
  const m = new nn.Sequential(...blocks);
  if (device !== 'cpu') m.to(device);
  return m;
}

const MODE_RATIOS: [string, string][] = [
  ['4 segments (√n)', 'unchecked'],
  ['4 segments, saveMatmuls', 'unchecked'],
  ["'auto'", 'unchecked'],
  ['budget 35%', 'unchecked'],
];

interface Mode {
  name: string;
  spec: SegmentsSpec | null;
  policy?: typeof saveMatmuls;
}

export async function checkpointSuite(rt: Runtime, devices: string[]): Promise<Record<string, number>> {
  const batch = Number(process.env.NABLA_BENCH_CKPT_BATCH ?? (bench.quick ? 32 : 4096));
  const rounds = Number(process.env.NABLA_BENCH_CKPT_RUNS ?? 3);
  const what = `${bench.quick ? 4 : 16} × (Linear(128,512)+ReLU+Linear(512,128)), batch ${batch}, one forward+backward`;
  bench.table('time', { title: `Checkpointing, step time: ${what} (ms)`, description: "The ratio to 'unchecked' is the recompute's cost (below 1×: slower). Modes interleave, one step each per round.", against: ['unchecked'], wide: { ratios: MODE_RATIOS } });
  bench.table('memory', { title: `Checkpointing, peak memory above the step's start: ${what} (MiB)`, description: 'The plan (* = checkpointed segment) is in the notes.', against: ['unchecked'], wide: { ratios: MODE_RATIOS } });
  const ratios: Record<string, number> = {};
  for (const device of devices) {
    const m = model(rt, device);
    const x = rt.randn([batch, 128], { device });
    for (const p of m.parameters()) p.grad = rt.zerosLike(p);
    /** One step: its peak above the start (bytes) and its time (ms, the device settled). */
    const step = async (forward: () => Tensor): Promise<{ peak: number; ms: number }> => {
      await settle(rt, device);
      const before = rt.memory().byDevice[device]?.numBytes ?? 0;
      rt.resetPeakMemory();
      const t0 = performance.now();
      rt.tidy(() => forward().sum().backward());
      await settle(rt, device);
      const ms = performance.now() - t0;
      return { peak: rt.memory().byDevice[device]!.peakBytes - before, ms };
    };
    // A first unchecked step: its peak sets the budget (and it warms the kernels up).
    const plainPeak = (await step(() => m.call(x) as Tensor)).peak;
    const budget = Math.round(plainPeak * 0.35);
    const modes: Mode[] = [
      { name: 'unchecked', spec: null },
      { name: '4 segments (√n)', spec: 4 },
      { name: '4 segments, saveMatmuls', spec: 4, policy: saveMatmuls },
      { name: "'auto'", spec: 'auto' },
      { name: 'budget 35%', spec: { memoryBudget: budget } },
    ];
    const run = (mode: Mode) => (): Tensor =>
      mode.spec === null ? (m.call(x) as Tensor) : checkpointSequential(m, mode.spec, x, mode.policy ? { policy: mode.policy } : {});
    // One warm-up step per mode (it makes the plan); a plan that cannot be made (at quick mode's
    // batch the parameters dominate and no plan fits 35%) is a missing cell, not a failed suite.
    const live: Mode[] = [];
    const peaks = new Map<string, number[]>();
    const times = new Map<string, number[]>();
    for (const mode of modes) {
      try {
        peaks.set(mode.name, [(await step(run(mode))).peak]);
        times.set(mode.name, []);
        live.push(mode);
      } catch (e) {
        for (const [table, unit] of [['time', 'ms'], ['memory', 'MiB']] as const) bench.missing({ table, workload: device, impl: mode.name, device, unit, better: 'lower' }, e);
      }
    }
    for (let r = 0; r < rounds; r++) {
      for (const mode of live) {
        const { ms, peak } = await step(run(mode));
        peaks.get(mode.name)!.push(peak);
        times.get(mode.name)!.push(ms);
      }
    }
    const plainMs = median(times.get('unchecked') ?? [NaN]);
    for (const mode of live) {
      bench.record({ table: 'time', workload: device, impl: mode.name, device, unit: 'ms', better: 'lower', samples: times.get(mode.name)! });
      bench.record({ table: 'memory', workload: device, impl: mode.name, device, unit: 'MiB', better: 'lower', samples: peaks.get(mode.name)!.map((b) => b / 2 ** 20) });
      if (mode.spec !== null) bench.note(`${device}, ${mode.name}: ${describePlan(sequentialPlan(m, mode.spec, x).segments)}`);
      const peak = Math.max(...peaks.get(mode.name)!);
      ratios[`${mode.name} ${device} time`] = median(times.get(mode.name)!) / plainMs;
      ratios[`${mode.name} ${device} peak`] = peak / plainPeak;
      if (mode.name === 'budget 35%') {
        ratios[`budget 35% ${device} met`] = peak <= budget ? 1 : 0;
        const mib = (b: number): string => (b / 2 ** 20).toFixed(1);
        bench.note(`${device}, budget 35% = ${mib(budget)} MiB: highest measured peak ${mib(peak)} MiB, ${peak <= budget ? 'met' : 'NOT met'}`);
      }
    }
    for (const p of m.parameters()) p.grad = null;
    x.dispose();
  }
  return ratios;
}
