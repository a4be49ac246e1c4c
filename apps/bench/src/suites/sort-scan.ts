/**
 * sort, topk, cumsum and cumprod on a 1000×1000 float32 tensor along its rows, per device, against
 * PyTorch (one thread) in the same run: sort and topk forward, cumsum and cumprod forward+backward.
 */
import type { Runtime, Tensor } from '@nabla/core';
import { settle, type Target } from '../devices.js';
import { runTorch, torchSamples } from '../peers/pytorch.js';
import { bench } from '../report/recorder.js';
import { time } from '../timing.js';

interface Workload {
  name: string;
  torchKind: 'sort' | 'topk' | 'cumsum' | 'cumprod';
  backward: boolean;
  run: (x: Tensor) => Tensor;
}

const WORKLOADS: Workload[] = [
  { name: 'sort(dim=1)', torchKind: 'sort', backward: false, run: (x) => x.sort(1).values },
  { name: 'topk(10, dim=1)', torchKind: 'topk', backward: false, run: (x) => x.topk(10, 1).values },
  { name: 'cumsum(1) fwd+bwd', torchKind: 'cumsum', backward: true, run: (x) => x.cumsum(1) },
  { name: 'cumprod(1) fwd+bwd', torchKind: 'cumprod', backward: true, run: (x) => x.cumprod(1) },
];

async function measure(rt: Runtime, device: string, w: Workload, N: number): Promise<number[]> {
  rt.manualSeed(1);
  // cumprod of values near 1 stays finite along 1,000 steps.
  const x = rt.tidy(() => rt.rand([N, N], { device }).mul(0.02).add(0.99)).requiresGrad_(w.backward);
  try {
    return (await time(
    async () => {
      if (!w.backward) {
        const y = rt.noGrad(() => w.run(x));
        await settle(rt, device, y);
        y.dispose();
        return;
      }
      const y = w.run(x);
      const g = rt.onesLike(y);
      y.backward(g);
      await settle(rt, device, x.grad!);
      for (const t2 of [y, g, x.grad!]) t2.dispose();
      x.grad = null;
    },
    { runs: 3, minMs: 200 },
  )).samples;
  } finally {
    x.dispose();
  }
}

export async function sortScanSuite(targets: readonly Target[]): Promise<void> {
  const N = bench.quick ? 64 : 1000;
  bench.table('sort-scan', { title: `sort / topk / cumsum / cumprod on ${N}×${N} float32 along dim 1 (ms)` });
  const torch = runTorch(WORKLOADS.map((w) => ({ kind: w.torchKind, arg: N })), { runs: 3, minMs: 200 });
  const torchName = 'results' in torch ? `PyTorch ${torch.version} (1 thread)` : 'PyTorch';
  if ('missing' in torch) bench.note(torch.missing);
  for (const w of WORKLOADS) {
    for (const { rt, device, label } of targets) {
      await bench.attempt({ workload: w.name, impl: `Nabla ${label}`, device, unit: 'ms', better: 'lower' }, () => measure(rt, device, w, N));
    }
    const tm = torchSamples(torch, `${w.torchKind}:${N}`);
    if (tm) bench.record({ workload: w.name, impl: torchName, peer: true, unit: 'ms', better: 'lower', samples: tm });
  }
}
