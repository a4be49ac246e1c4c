/**
 * The classic custom-activation tutorial table: a fused built-in op vs the reference custom
 * Function (hand-written backward) vs the same formula composed from core ops, forward and
 * forward+backward on a 1000×1000 tensor, per backend, in ms and GB/s.
 */
import * as act from '@nabla/activations';
import type { Runtime, Tensor } from '@nabla/core';
import { bytesMoved, settle } from '../devices.js';
import { bench } from '../report/recorder.js';
import { time } from '../timing.js';

type Impl = (x: Tensor) => Tensor;

const softplus = (x: Tensor): Tensor => x.relu().add(x.abs().neg().exp().log1p());

const CASES: { name: string; fused: Impl; reference: Impl; composed: Impl }[] = [
  { name: 'Swish/SiLU', fused: act.silu, reference: (x) => act.SwishFunction.apply(x), composed: (x) => x.mul(x.sigmoid()) },
  { name: 'Mish', fused: act.mish, reference: (x) => act.MishFunction.apply(x), composed: (x) => x.mul(softplus(x).tanh()) },
  {
    name: 'HardSwish',
    fused: act.hardswish,
    reference: (x) => act.HardSwishFunction.apply(x),
    composed: (x) => x.mul(x.add(3).clamp(0, 6)).div(6),
  },
];

export async function activationSuite(rt: Runtime, devices: string[]): Promise<Record<string, number>> {
  const n = bench.quick ? 256 : 1000;
  bench.table('activations', {
    title: `Activations on ${n}×${n} float32: fused op vs reference custom Function vs composed core ops (ms)`,
    description: 'GB/s (from the bytes the kernels move) are in the notes.',
    against: ['composed'],
    wide: { ratios: [['fused', 'composed'], ['reference', 'composed'], ['fused', 'reference']] },
  });
  const speedups: Record<string, number> = {};
  for (const device of devices) {
    rt.manualSeed(1);
    const x = rt.randn([n, n], { device, requiresGrad: true });
    for (const c of CASES) {
      const results: Record<string, { f: number; fb: number; bf: number; bfb: number; fs: number[]; fbs: number[] }> = {};
      for (const [impl, fn] of Object.entries({ fused: c.fused, reference: c.reference, composed: c.composed })) {
        const fwd = async (): Promise<void> => {
          const y = rt.noGrad(() => fn(x));
          await settle(rt, device, y);
          y.dispose();
        };
        const fwdBwd = async (): Promise<void> => {
          const y = fn(x);
          y.backward(rt.onesLike(y));
          await settle(rt, device, x.grad!);
          x.grad!.dispose();
          x.grad = null;
          y.dispose();
        };
        const bf = bytesMoved(rt, () => rt.noGrad(() => fn(x)).dispose());
        const bfb = bytesMoved(rt, () => {
          const y = fn(x);
          y.backward(rt.onesLike(y));
          x.grad = null;
        });
        const f = await time(fwd);
        const fb = await time(fwdBwd);
        results[impl] = { f: f.ms, fb: fb.ms, bf, bfb, fs: f.samples, fbs: fb.samples };
      }
      for (const [impl, r] of Object.entries(results)) {
        bench.record({ workload: `${c.name} forward · ${device}`, impl, device, unit: 'ms', better: 'lower', samples: r.fs });
      }
      for (const [impl, r] of Object.entries(results)) {
        bench.record({ workload: `${c.name} forward+backward · ${device}`, impl, device, unit: 'ms', better: 'lower', samples: r.fbs });
      }
      bench.note(`${c.name} on ${device}, GB/s fwd / fwd+bwd: ${Object.entries(results).map(([impl, r]) => `${impl} ${(r.bf / r.f / 1e6).toFixed(2)} / ${(r.bfb / r.fb / 1e6).toFixed(2)}`).join('; ')}`);
      const fused = results.fused!;
      const composed = results.composed!;
      speedups[`${c.name} ${device} forward`] = composed.f / fused.f;
      speedups[`${c.name} ${device} forward+backward`] = composed.fb / fused.fb;
    }
    x.dispose();
  }
  return speedups;
}
