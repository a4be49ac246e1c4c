/**
 * Mixed precision: an MLP of 8 × (Linear(256, 256) + ReLU) at batch 4096 (NABLA_BENCH_AMP_BATCH
 * to change it), one training step in float32 and under `nabla.autocast` (bfloat16 on the CPU,
 * float16 on GPU devices), per device. Reported: the bytes the forward keeps for backward (what is
 * live after the forward minus before it, the loss's graph holding its saved activations), the
 * step's peak above its start (`memory().peakBytes`), their ratios to float32, and the step time
 * and its ratio. A device whose backend lacks the 16-bit dtype is reported as such.
 *
 * A second table counts what the graph saves as PyTorch's `saved_tensors_hooks` sees it (every
 * saved tensor, each storage once, activations apart from weight copies; `amp-saved.ts`), with
 * PyTorch's own count for the same model beside it: there the 16-bit activations are half of
 * float32's. The live-bytes column above is higher than half because in float32 the input and the
 * weights a Linear saves already existed, while their 16-bit copies are made by the forward.
 */
import * as nabla from '@nabla/core';
import type { Runtime, Tensor } from '@nabla/core';
import * as nn from '@nabla/nn';
import { settle } from '../devices.js';
import { bench } from '../report/recorder.js';
import { fmt, printTable, time } from '../timing.js';
import { savedCounter, torchSavedCounts, type SavedCount } from './amp-saved.js';

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
  const batch = Number(process.env.NABLA_BENCH_AMP_BATCH ?? (bench.quick ? 512 : 4096));
  const rows: string[][] = [];
  const savedRows: string[][] = [];
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
    // The same forward under a counting pack hook: every saved tensor, as PyTorch's hooks see them.
    const counted = (enabled: boolean): SavedCount => {
      const c = savedCounter(batch);
      rt.tidy(() => rt.savedTensorsHooks(c.pack, (t) => t, () => nabla.autocast(device, () => forward(rt, m, x), { enabled })).backward());
      return c.count();
    };
    const c32 = counted(false);
    const c16 = counted(true);
    savedRows.push(...savedTableRows(`Nabla ${device}`, low, c32, c16));
    ratios[`${device} saved activations (all saved tensors)`] = c16.activationBytes / c32.activationBytes;
    ratios[`${device} saved weight copies`] = c16.weightBytes / c32.weightBytes;
    ratios[`${device} saved`] = half.saved / f32.saved;
    ratios[`${device} peak`] = half.peak / f32.peak;
    ratios[`${device} time`] = th.ms / tf.ms;
    for (const p of params) p.grad = null;
    x.dispose();
  }
  const torch = torchSavedCounts(batch);
  if ('missing' in torch) savedRows.push(['PyTorch cpu', 'bfloat16', `not run: ${torch.missing}`, '', '', '', '']);
  else savedRows.push(...savedTableRows(`PyTorch ${torch.torch} cpu`, 'bfloat16', torch.float32, torch.autocast));
  printTable(
    `Saved for backward, every tensor the pack hook of savedTensorsHooks receives (each storage once; activations: tensors with the batch dim; weights: parameters and their autocast copies), batch ${batch}`,
    ['run', 'mode', 'activations MiB', 'of float32', 'weights MiB', 'of float32', 'tensors'],
    savedRows,
  );
  printTable(
    `Mixed precision: ${BLOCKS} × (Linear(256,256)+ReLU), batch ${batch}, one forward+backward (saved: bytes the forward keeps for backward; peak above the step's start)`,
    ['device', 'mode', 'saved MiB', 'of float32', 'peak MiB', 'of float32', 'step ms', 'vs float32'],
    rows,
  );
  return ratios;
}


function savedTableRows(run: string, low: string, f32: SavedCount, half: SavedCount): string[][] {
  const mib = (b: number): string => fmt(b / 2 ** 20);
  const pct = (a: number, b: number): string => `${fmt((100 * a) / b, 0)}%`;
  const summary = (c: SavedCount): string => {
    const n = new Map<string, number>();
    for (const t of c.tensors) n.set(t, (n.get(t) ?? 0) + 1);
    return [...n].map(([t, k]) => `${k}× ${t}`).join(', ');
  };
  return [
    [run, 'float32', mib(f32.activationBytes), '100%', mib(f32.weightBytes), '100%', summary(f32)],
    [run, `autocast ${low}`, mib(half.activationBytes), pct(half.activationBytes, f32.activationBytes), mib(half.weightBytes), pct(half.weightBytes, f32.weightBytes), summary(half)],
  ];
}
