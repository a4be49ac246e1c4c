/**
 * Kernel throughput on every available device: matmul 256/512/1024 (GFLOP/s), a 1M-element
 * elementwise chain forward+backward (GB/s), and one SGD step of a 784-256-10 MLP, against
 * PyTorch (one thread) and TensorFlow.js's CPU backend in the same run.
 */
import type { Tensor } from '@nabla/core';
import { bytesMoved, settle, type Target } from '../devices.js';
import { runTorch, torchSamples } from '../peers/pytorch.js';
import { tfChain, tfjsReady, tfMatmul } from '../peers/tfjs.js';
import { bench } from '../report/recorder.js';
import { time } from '../timing.js';

const BATCH = 64;

export async function kernelSuite(targets: readonly Target[]): Promise<void> {
  const SIZES = bench.quick ? [256] : [256, 512, 1024];
  const CHAIN_N = bench.quick ? 1 << 16 : 1 << 20;
  const torch = runTorch([
    ...SIZES.map((n) => ({ kind: 'matmul' as const, arg: n })),
    { kind: 'chain', arg: CHAIN_N },
    { kind: 'mlp', arg: BATCH },
  ]);
  const torchName = 'results' in torch ? `PyTorch ${torch.version} (1 thread)` : 'PyTorch';
  if ('missing' in torch) bench.note(torch.missing);
  const tfOk = await tfjsReady();

  // matmul
  bench.table('matmul', { title: 'matmul, float32 (GFLOP/s)' });
  for (const n of SIZES) {
    const flops = 2 * n ** 3;
    for (const { rt, device, label } of targets) {
      const a = rt.randn([n, n], { device });
      const b = rt.randn([n, n], { device });
      const t = await time(async () => {
        const c = a.matmul(b);
        await settle(rt, device, c);
        c.dispose();
      }, { runs: 3, minMs: 200 });
      bench.record({ table: 'matmul', workload: `${n}×${n}`, impl: `Nabla ${label}`, device, unit: 'GFLOP/s', better: 'higher', samples: t.samples.map((ms) => flops / ms / 1e6) });
      a.dispose();
      b.dispose();
    }
    const tm = torchSamples(torch, `matmul:${n}`);
    if (tm) bench.record({ table: 'matmul', workload: `${n}×${n}`, impl: torchName, peer: true, unit: 'GFLOP/s', better: 'higher', samples: tm.map((ms) => flops / ms / 1e6) });
    if (tfOk) {
      const tt = await tfMatmul(n);
      bench.record({ table: 'matmul', workload: `${n}×${n}`, impl: 'TensorFlow.js cpu', peer: true, unit: 'GFLOP/s', better: 'higher', samples: tt.samples.map((ms) => flops / ms / 1e6) });
    }
  }

  // elementwise chain: y = tanh(2x + 1) · x, sum, backward
  bench.table('chain', {
    title: `elementwise chain tanh(2x+1)·x, forward+backward, ${CHAIN_N} float32 elements`,
    description: "ms per step; Nabla's GB/s (from the bytes each kernel moves) are in the suite's notes.",
  });
  for (const { rt, device, label } of targets) {
    const x = rt.randn([CHAIN_N], { device, requiresGrad: true });
    const step = (): Tensor => {
      const parts = [x.mul(2)];
      parts.push(parts[0]!.add(1));
      parts.push(parts[1]!.tanh());
      parts.push(parts[2]!.mul(x));
      const y = parts[3]!.sum();
      y.backward();
      for (const p of [...parts, y]) p.dispose();
      return x.grad!;
    };
    const clearGrad = (): void => {
      x.grad!.dispose();
      x.grad = null;
    };
    const bytes = bytesMoved(rt, () => {
      step();
      clearGrad();
    });
    const t = await time(async () => {
      const g = step();
      await settle(rt, device, g);
      clearGrad();
    });
    bench.record({ table: 'chain', workload: 'forward+backward', impl: `Nabla ${label}`, device, unit: 'ms', better: 'lower', samples: t.samples });
    bench.note(`elementwise chain on ${label}: ${(bytes / t.ms / 1e6).toFixed(2)} GB/s (median)`);
    x.dispose();
  }
  const tc = torchSamples(torch, `chain:${CHAIN_N}`);
  if (tc) bench.record({ table: 'chain', workload: 'forward+backward', impl: torchName, peer: true, unit: 'ms', better: 'lower', samples: tc });
  if (tfOk) bench.record({ table: 'chain', workload: 'forward+backward', impl: 'TensorFlow.js cpu', peer: true, unit: 'ms', better: 'lower', samples: (await tfChain(CHAIN_N)).samples });

  // MLP step
  bench.table('mlp', { title: `MLP 784-256-10 SGD step, batch ${BATCH}, float32 (ms per step)` });
  // Forward and the two backward matmuls per layer: 3 × 2·B·(784·256 + 256·10) flops.
  const mlpFlops = 3 * 2 * BATCH * (784 * 256 + 256 * 10);
  for (const { rt, device, label } of targets) {
    rt.manualSeed(0);
    const w1 = rt.randn([784, 256], { device }).mul(0.05).requiresGrad_();
    const b1 = rt.zeros([256], { device, requiresGrad: true });
    const w2 = rt.randn([256, 10], { device }).mul(0.05).requiresGrad_();
    const b2 = rt.zeros([10], { device, requiresGrad: true });
    const x = rt.randn([BATCH, 784], { device });
    const target = rt.randn([BATCH, 10], { device });
    const params = [w1, b1, w2, b2];
    const t = await time(async () => {
      // Every intermediate is disposed, as a GPU training loop should: the step allocates nothing
      // that outlives it, so the buffer pool serves every step.
      const mm1 = x.matmul(w1);
      const pre = mm1.add(b1);
      const h = pre.relu();
      const mm2 = h.matmul(w2);
      const out = mm2.add(b2);
      const diff = out.sub(target);
      const sq = diff.square();
      const loss = sq.mean();
      loss.backward();
      rt.noGrad(() => {
        for (const p of params) {
          const upd = p.grad!.mul(0.01);
          p.sub_(upd);
          upd.dispose();
          p.grad!.dispose();
          p.grad = null;
        }
      });
      await settle(rt, device, loss);
      for (const v of [mm1, pre, h, mm2, out, diff, sq, loss]) v.dispose();
    });
    bench.record({ table: 'mlp', workload: 'SGD step', impl: `Nabla ${label}`, device, unit: 'ms', better: 'lower', samples: t.samples });
    bench.note(`MLP step on ${label}: ${(mlpFlops / t.ms / 1e6).toFixed(2)} GFLOP/s (median)`);
    for (const v of [...params, x, target]) v.dispose();
  }
  const tmlp = torchSamples(torch, `mlp:${BATCH}`);
  if (tmlp) bench.record({ table: 'mlp', workload: 'SGD step', impl: torchName, peer: true, unit: 'ms', better: 'lower', samples: tmlp });
}
