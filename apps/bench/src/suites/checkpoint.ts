/**
 * Gradient checkpointing: the issue's model, 16 blocks of Linear(128,512)+ReLU+Linear(512,128)
 * at batch 4096 (NABLA_BENCH_CKPT_BATCH and NABLA_BENCH_CKPT_RUNS to change the batch and the timed
 * rounds), one training step (forward + backward) unchecked, with `checkpointSequential` at √n = 4
 * segments, the same with the `saveMatmuls` policy (the recompute answers the matmuls with their
 * kept outputs and runs only the ReLUs), with 'auto', and with a memory budget of 35% of the
 * unchecked peak. Reported per device: the step's time and its ratio to the unchecked step (the
 * recompute's cost), and the peak device memory above the step's start (the parameters' gradients
 * are allocated beforehand, as in every step after the first).
 *
 * The timed rounds interleave the modes (one step of each per round) and the ratio is the median
 * over rounds of each round's ratio, so a machine whose load drifts during the run (the CI machine
 * is shared) biases no mode.
 */
import { checkpointSequential, describePlan, saveMatmuls, sequentialPlan, type SegmentsSpec } from '@nabla/checkpoint';
import type { Runtime, Tensor } from '@nabla/core';
import * as nn from '@nabla/nn';
import { settle } from '../devices.js';
import { fmt, printTable } from '../timing.js';

function model(rt: Runtime, device: string): nn.Sequential {
  rt.manualSeed(42);
  const blocks = Array.from({ length: 16 }, () => new nn.Sequential(new nn.Linear(128, 512, { runtime: rt }), new nn.ReLU(), new nn.Linear(512, 128, { runtime: rt })));
  const m = new nn.Sequential(...blocks);
  if (device !== 'cpu') m.to(device);
  return m;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

export async function checkpointSuite(rt: Runtime, devices: string[]): Promise<Record<string, number>> {
  const batch = Number(process.env.NABLA_BENCH_CKPT_BATCH ?? 4096);
  const rounds = Number(process.env.NABLA_BENCH_CKPT_RUNS ?? 3);
  const rows: string[][] = [];
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
    const modes: { name: string; spec: SegmentsSpec | null; policy?: typeof saveMatmuls }[] = [
      { name: 'unchecked', spec: null },
      { name: '4 segments (√n)', spec: 4 },
      { name: '4 segments, saveMatmuls', spec: 4, policy: saveMatmuls },
      { name: "'auto'", spec: 'auto' },
      { name: 'budget 35%', spec: { memoryBudget: budget } },
    ];
    const run = (mode: (typeof modes)[number]) => (): Tensor =>
      mode.spec === null ? (m.call(x) as Tensor) : checkpointSequential(m, mode.spec, x, mode.policy ? { policy: mode.policy } : {});
    // One warm-up step per mode (it makes the plan), then interleaved rounds.
    const peaks = new Map<string, number>();
    for (const mode of modes) peaks.set(mode.name, (await step(run(mode))).peak);
    const times = new Map<string, number[]>(modes.map((mo) => [mo.name, []]));
    const roundRatios = new Map<string, number[]>(modes.map((mo) => [mo.name, []]));
    for (let r = 0; r < rounds; r++) {
      let plainMs = NaN;
      for (const mode of modes) {
        const { ms, peak } = await step(run(mode));
        peaks.set(mode.name, Math.max(peaks.get(mode.name)!, peak));
        if (mode.spec === null) plainMs = ms;
        times.get(mode.name)!.push(ms);
        roundRatios.get(mode.name)!.push(ms / plainMs);
      }
    }
    for (const mode of modes) {
      const ms = median(times.get(mode.name)!);
      const ratio = median(roundRatios.get(mode.name)!);
      const peak = peaks.get(mode.name)!;
      const plan = mode.spec === null ? '' : describePlan(sequentialPlan(m, mode.spec, x).segments);
      rows.push([mode.name, device, fmt(ms), `${fmt(ratio)}×`, fmt(peak / 2 ** 20), `${fmt((100 * peak) / plainPeak, 1)}%`, plan]);
      ratios[`${mode.name} ${device} time`] = ratio;
      ratios[`${mode.name} ${device} peak`] = peak / plainPeak;
    }
    ratios[`budget 35% ${device} met`] = peaks.get('budget 35%')! <= budget ? 1 : 0;
    for (const p of m.parameters()) p.grad = null;
    x.dispose();
  }
  printTable(
    `Checkpointing: 16 × (Linear(128,512)+ReLU+Linear(512,128)), batch ${batch}, one forward+backward, ${rounds} interleaved rounds ` +
      `(time ratio: median over rounds of step / unchecked step, the recompute's cost; peak above the step's start)`,
    ['mode', 'device', 'step ms', 'vs unchecked', 'peak MiB', 'of unchecked', 'plan (* = checkpointed)'],
    rows,
  );
  return ratios;
}
