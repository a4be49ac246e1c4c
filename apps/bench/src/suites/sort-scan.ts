/**
 * sort, topk, cumsum and cumprod on a 1000×1000 float32 tensor along its rows, per device, against
 * PyTorch (one thread) in the same run: sort and topk forward, cumsum and cumprod forward+backward.
 */
import type { Runtime, Tensor } from '@nabla/core';
import { settle, type Target } from '../devices.js';
import { runTorch } from '../peers/pytorch.js';
import { fmt, printTable, time } from '../timing.js';

const N = 1000;

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

async function measure(rt: Runtime, device: string, w: Workload): Promise<number> {
  rt.manualSeed(1);
  // cumprod of values near 1 stays finite along 1,000 steps.
  const x = rt.rand([N, N], { device }).mul(0.02).add(0.99).requiresGrad_(w.backward);
  const t = await time(
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
  );
  x.dispose();
  return t.ms;
}

export async function sortScanSuite(targets: readonly Target[]): Promise<void> {
  const torch = runTorch(WORKLOADS.map((w) => ({ kind: w.torchKind, arg: N })));
  const torchName = 'results' in torch ? `PyTorch ${torch.version} (1 thread)` : `PyTorch: ${torch.missing}`;
  const rows: string[][] = [];
  for (const w of WORKLOADS) {
    const tm = 'results' in torch ? (torch.results[`${w.torchKind}:${N}`]?.ms ?? NaN) : NaN;
    for (const { rt, device, label } of targets) {
      const ms = await measure(rt, device, w);
      rows.push([w.name, `Nabla ${label}`, fmt(ms), fmt(tm / ms)]);
    }
    rows.push([w.name, torchName, fmt(tm), '1']);
  }
  printTable(`sort / topk / cumsum / cumprod on ${N}×${N} float32 along dim 1 (ratio: PyTorch time / this time)`, ['workload', 'impl', 'ms', 'vs PyTorch'], rows);
}
