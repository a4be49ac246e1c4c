/**
 * Activations lab: every activation of `@nabla/activations` sampled with autograd (f and f′), the
 * custom-Function versions (hand-written backward) against the fused ops, gradcheck in float64,
 * and forward+backward timings on each device.
 */
import * as nabla from '@nabla/core';
import type { Tensor } from '@nabla/core';
import * as act from '@nabla/activations';

/** Each fused activation as a one-argument function, with PyTorch's default parameters. */
export const FUSED: Record<string, (x: Tensor) => Tensor> = {
  silu: act.silu,
  mish: act.mish,
  hardswish: act.hardswish,
  hardsigmoid: act.hardsigmoid,
  gelu: (x) => act.gelu(x),
  geluTanh: (x) => act.gelu(x, { approximate: 'tanh' }),
  elu: (x) => act.elu(x),
  selu: act.selu,
  celu: (x) => act.celu(x),
  softplus: (x) => act.softplus(x),
  leakyRelu: (x) => act.leakyRelu(x),
  hardtanh: (x) => act.hardtanh(x),
  relu6: act.relu6,
  softsign: act.softsign,
  logsigmoid: act.logsigmoid,
  tanhshrink: act.tanhshrink,
};

/** The tutorial's custom Functions, beside the fused op each one reimplements. */
export const CUSTOM: { name: string; custom: (x: Tensor) => Tensor; fused: (x: Tensor) => Tensor }[] = [
  { name: 'Swish (silu)', custom: act.SwishFunction.apply, fused: act.silu },
  { name: 'Mish', custom: act.MishFunction.apply, fused: act.mish },
  { name: 'HardSwish', custom: act.HardSwishFunction.apply, fused: act.hardswish },
];

/** x, f(x) and f′(x) on [-4, 4], computed by autograd in float64 on the CPU. */
export function curves(fn: (x: Tensor) => Tensor): act.Samples {
  return act.sample(nabla.defaultRuntime(), fn, { from: -4, to: 4, n: 161 });
}

/** gradcheck in float64: autograd's gradient against finite differences at random points. */
export function check(fn: (x: Tensor) => Tensor, seed: number): boolean {
  nabla.manualSeed(seed);
  const x = nabla.randn([8], { dtype: 'float64', requiresGrad: true }).mul(2).detach().requiresGrad_();
  return nabla.gradcheck(fn, [x], { raiseException: false });
}

/** Median milliseconds of forward + backward over `n` elements on `device`, waiting for the device. */
export async function time(fn: (x: Tensor) => Tensor, device: string, n = 1 << 16, runs = 5): Promise<number> {
  const x = nabla.randn([n], { device, requiresGrad: true });
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    nabla.tidy(() => fn(x).sum().backward());
    await nabla.synchronize(device);
    return performance.now() - t0;
  };
  await once(); // warm-up: compiles the device's kernels
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) ms.push(await once());
  x.grad = null;
  x.dispose();
  return ms.sort((a, b) => a - b)[runs >> 1]!;
}
