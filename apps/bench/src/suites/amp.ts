/**
 * Mixed precision: an MLP of 8 × (Linear(256, 256) + ReLU) at batch 4096 (NABLA_BENCH_AMP_BATCH
 * to change it), one training step in float32 and under `nabla.autocast` (bfloat16 on the CPU,
 * float16 on GPU devices), per device. Reported: the bytes the forward keeps for backward (what is
 * live after the forward minus before it, the loss's graph holding its saved activations), the
 * step's peak above its start (`memory().peakBytes`), their ratios to float32, and the step time
 * and its ratio. A device whose backend lacks the 16-bit dtype is reported as such.
 */
import * as nabla from '@nabla/core';
import type { Runtime, Tensor } from '@nabla/core';
import * as nn from '@nabla/nn';
import { settle } from '../devices.js';
import { bench } from '../report/recorder.js';
import { fmt, printTable, time } from '../timing.js';

const BLOCKS = 8;

function model(rt: Runtime, device: string): nn.Sequential[] {
  rt.manualSeed(7);
  return Array.from({ length: BLOCKS }, () => {
    const b = new nn.Sequential(new nn.Linear(256, 256, { runtime: rt }), new nn.ReLU());
    if (device !== 'cpu') b.to(device);
    return b;
  });
}

/**
 * Block by block, each in its own tidy and its input disposed once used, so that what stays after
 * the forward is what the graph saved (as a training step that frees its temporaries).
 */
function forward(rt: Runtime, blocks: nn.Sequential[], x: Tensor): Tensor {
  let h = x;
  for (const b of blocks) {
    const prev = h;
    h = rt.tidy(() => b.call(prev));
    if (prev !== x) prev.dispose();
  }
  const last = h;
  const loss = rt.tidy(() => last.float().mean());
  last.dispose();
  return loss;
}

export async function ampSuite(rt: Runtime, devices: string[]): Promise<Record<string, number>> {
  const batch = Number(process.env.NABLA_BENCH_AMP_BATCH ?? (bench.quick ? 256 : 4096));
  const rows: string[][] = [];
  const ratios: Record<string, number> = {};
  for (const device of devices) {
    const low = nabla.getAutocastDType(device);
    const backend = rt.backends.all().find((b) => b.device === device);
    if (!backend || !(backend.dtypes as readonly string[]).includes(low)) {
      rows.push([device, low, 'no 16-bit dtype on this backend', '', '', '', '', '']);
      continue;
    }
    const m = model(rt, device);
    const x = rt.randn([batch, 256], { device });
    const params = m.flatMap((b) => [...b.parameters()]);
    for (const p of params) p.grad = rt.zerosLike(p);
    const bytes = (): number => rt.memory().byDevice[device]?.numBytes ?? 0;
    const measure = async (enabled: boolean): Promise<{ saved: number; peak: number }> => {
      const before = bytes();
      rt.resetPeakMemory();
      let saved = 0;
      rt.tidy(() => {
        const loss = nabla.autocast(device, () => forward(rt, m, x), { enabled });
        saved = bytes() - before;
        loss.backward();
      });
      await settle(rt, device);
      return { saved, peak: rt.memory().byDevice[device]!.peakBytes - before };
    };
    const step = async (enabled: boolean): Promise<void> => {
      rt.tidy(() => nabla.autocast(device, () => forward(rt, m, x), { enabled }).backward());
      await settle(rt, device);
    };
    await measure(false); // warm-up (kernels compiled, pools filled)
    const f32 = await measure(false);
    await measure(true);
    const half = await measure(true);
    const tf = await time(() => step(false), { warmup: 1, runs: 5, minMs: 0 });
    const th = await time(() => step(true), { warmup: 1, runs: 5, minMs: 0 });
    for (const [name, r, t] of [['float32', f32, tf.ms], [`autocast ${low}`, half, th.ms]] as const) {
      rows.push([device, name, fmt(r.saved / 2 ** 20), `${fmt((100 * r.saved) / f32.saved, 0)}%`, fmt(r.peak / 2 ** 20), `${fmt((100 * r.peak) / f32.peak, 0)}%`, fmt(t), `${fmt(t / tf.ms)}×`]);
    }
    ratios[`${device} saved`] = half.saved / f32.saved;
    ratios[`${device} peak`] = half.peak / f32.peak;
    ratios[`${device} time`] = th.ms / tf.ms;
    for (const p of params) p.grad = null;
    x.dispose();
  }
  printTable(
    `Mixed precision: ${BLOCKS} × (Linear(256,256)+ReLU), batch ${batch}, one forward+backward (saved: bytes the forward keeps for backward; peak above the step's start)`,
    ['device', 'mode', 'saved MiB', 'of float32', 'peak MiB', 'of float32', 'step ms', 'vs float32'],
    rows,
  );
  return ratios;
}

