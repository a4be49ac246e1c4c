/**
 * The classic custom-activation tutorial table: a fused built-in op vs the reference custom
 * Function (hand-written backward) vs the same formula composed from core ops, forward and
 * forward+backward on a 1000×1000 tensor, per backend, in ms and GB/s.
 */
import * as act from '@nabla/activations';
import type { Runtime, Tensor } from '@nabla/core';
import { bytesMoved, settle } from '../devices.js';
import { fmt, printTable, time } from '../timing.js';

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
  const rows: string[][] = [];
  const speedups: Record<string, number> = {};
  for (const device of devices) {
    rt.manualSeed(1);
    const x = rt.randn([1000, 1000], { device, requiresGrad: true });
    for (const c of CASES) {
      const results: Record<string, { f: number; fb: number; bf: number; bfb: number }> = {};
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
        results[impl] = { f: (await time(fwd)).ms, fb: (await time(fwdBwd)).ms, bf, bfb };
      }
      for (const [impl, r] of Object.entries(results)) {
        rows.push([c.name, device, impl, fmt(r.f), fmt(r.bf / r.f / 1e6), fmt(r.fb), fmt(r.bfb / r.fb / 1e6)]);
      }
      const fused = results.fused!;
      const composed = results.composed!;
      speedups[`${c.name} ${device} forward`] = composed.f / fused.f;
      speedups[`${c.name} ${device} forward+backward`] = composed.fb / fused.fb;
    }
    x.dispose();
  }
  printTable(
    'Activations on 1000×1000 float32: fused op vs reference custom Function vs composed core ops (GB/s from bytes the kernels move)',
    ['activation', 'device', 'impl', 'fwd ms', 'fwd GB/s', 'fwd+bwd ms', 'fwd+bwd GB/s'],
    rows,
  );
  printTable(
    'Fused vs composed (composed time / fused time)',
    ['case', 'speedup'],
    Object.entries(speedups).map(([k, v]) => [k, `${fmt(v)}×`]),
  );
  return speedups;
}
