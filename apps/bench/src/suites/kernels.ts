/**
 * Kernel throughput on every available device: matmul 256/512/1024 (GFLOP/s), a 1M-element
 * elementwise chain forward+backward (GB/s), and one SGD step of a 784-256-10 MLP, against
 * PyTorch (one thread) and TensorFlow.js's CPU backend in the same run.
 */
import type { Runtime, Tensor } from '@nabla/core';
import { bytesMoved, settle } from '../devices.js';
import { runTorch, type TorchResults } from '../peers/pytorch.js';
import { tfChain, tfjsReady, tfMatmul } from '../peers/tfjs.js';
import { fmt, printTable, time } from '../timing.js';

const SIZES = [256, 512, 1024];
const CHAIN_N = 1 << 20;
const BATCH = 64;

function torchMs(torch: TorchResults | { missing: string }, key: string): number {
  return 'results' in torch ? (torch.results[key]?.ms ?? NaN) : NaN;
}

export async function kernelSuite(rt: Runtime, devices: string[]): Promise<void> {
  const torch = runTorch([
    ...SIZES.map((n) => ({ kind: 'matmul' as const, arg: n })),
    { kind: 'chain', arg: CHAIN_N },
    { kind: 'mlp', arg: BATCH },
  ]);
  const torchName = 'results' in torch ? `PyTorch ${torch.version} (1 thread)` : `PyTorch: ${torch.missing}`;
  const tfOk = await tfjsReady();

  // matmul
  const rows: string[][] = [];
  for (const n of SIZES) {
    const flops = 2 * n ** 3;
    for (const device of devices) {
      const a = rt.randn([n, n], { device });
      const b = rt.randn([n, n], { device });
      const t = await time(async () => {
        const c = a.matmul(b);
        await settle(rt, device, c);
        c.dispose();
      }, { runs: 3, minMs: 200 });
      rows.push([`${n}×${n}`, `Nabla ${device}`, fmt(t.ms), fmt(flops / t.ms / 1e6)]);
      a.dispose();
      b.dispose();
    }
    const tm = torchMs(torch, `matmul:${n}`);
    if (!Number.isNaN(tm)) rows.push([`${n}×${n}`, torchName, fmt(tm), fmt(flops / tm / 1e6)]);
    if (tfOk) {
      const tt = await tfMatmul(n);
      rows.push([`${n}×${n}`, 'TensorFlow.js cpu', fmt(tt), fmt(flops / tt / 1e6)]);
    }
  }
  printTable('matmul, float32', ['size', 'impl', 'ms', 'GFLOP/s'], rows);

  // elementwise chain: y = tanh(2x + 1) · x, sum, backward
  const chainRows: string[][] = [];
  for (const device of devices) {
    const x = rt.randn([CHAIN_N], { device, requiresGrad: true });
    const step = (): Tensor => {
      const y = x.mul(2).add(1).tanh().mul(x).sum();
      y.backward();
      return x.grad!;
    };
    const bytes = bytesMoved(rt, () => {
      step();
      x.grad = null;
    });
    const t = await time(async () => {
      const g = step();
      await settle(rt, device, g);
      x.grad = null;
    });
    chainRows.push([`Nabla ${device}`, fmt(t.ms), fmt(bytes / t.ms / 1e6)]);
    x.dispose();
  }
  const tc = torchMs(torch, `chain:${CHAIN_N}`);
  if (!Number.isNaN(tc)) chainRows.push([torchName, fmt(tc), '']);
  if (tfOk) chainRows.push(['TensorFlow.js cpu', fmt(await tfChain(CHAIN_N)), '']);
  printTable(`elementwise chain tanh(2x+1)·x, forward+backward, ${CHAIN_N} float32 elements (GB/s from the bytes each kernel moves)`, ['impl', 'ms', 'GB/s'], chainRows);

  // MLP step
  const mlpRows: string[][] = [];
  for (const device of devices) {
    rt.manualSeed(0);
    const w1 = rt.randn([784, 256], { device }).mul(0.05).requiresGrad_();
    const b1 = rt.zeros([256], { device, requiresGrad: true });
    const w2 = rt.randn([256, 10], { device }).mul(0.05).requiresGrad_();
    const b2 = rt.zeros([10], { device, requiresGrad: true });
    const x = rt.randn([BATCH, 784], { device });
    const target = rt.randn([BATCH, 10], { device });
    const params = [w1, b1, w2, b2];
    const t = await time(async () => {
      const h = x.matmul(w1).add(b1).relu();
      const loss = h.matmul(w2).add(b2).sub(target).square().mean();
      loss.backward();
      rt.noGrad(() => {
        for (const p of params) {
          p.sub_(p.grad!.mul(0.01));
          p.grad = null;
        }
      });
      await settle(rt, device, loss);
    });
    mlpRows.push([`Nabla ${device}`, fmt(t.ms)]);
  }
  const tmlp = torchMs(torch, `mlp:${BATCH}`);
  if (!Number.isNaN(tmlp)) mlpRows.push([torchName, fmt(tmlp)]);
  printTable(`MLP 784-256-10 SGD step, batch ${BATCH}, float32`, ['impl', 'ms/step'], mlpRows);
}
