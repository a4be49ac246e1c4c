/**
 * The plugin on a real second backend: every activation's fused forward and backward on WebGPU
 * (Dawn on whatever adapter this machine has, software ones included) agree with the CPU backend
 * at random points, at the kinks and far out in the tails. The plugin imports no backend: the
 * kernels come from WebGPU's own compiler of core's elementwise expressions.
 */
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { probeNodeAdapter, webgpuBackend } from '@nabla/backend-webgpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as act from '../src/index.js';

const adapter = await probeNodeAdapter();
console.log(adapter.ok ? `[activations on webgpu] adapter: ${adapter.description}` : `[activations on webgpu] SKIPPED: no WebGPU adapter (${adapter.reason})`);

const CASES: { name: string; fn: (x: Tensor) => Tensor }[] = [
  { name: 'silu', fn: act.silu },
  { name: 'mish', fn: act.mish },
  { name: 'hardswish', fn: act.hardswish },
  { name: 'hardsigmoid', fn: act.hardsigmoid },
  { name: 'gelu', fn: (x) => act.gelu(x) },
  { name: 'gelu(tanh)', fn: (x) => act.gelu(x, { approximate: 'tanh' }) },
  { name: 'elu(0.5)', fn: (x) => act.elu(x, 0.5) },
  { name: 'selu', fn: act.selu },
  { name: 'celu(2)', fn: (x) => act.celu(x, 2) },
  { name: 'softplus', fn: (x) => act.softplus(x) },
  { name: 'softplus(2, 5)', fn: (x) => act.softplus(x, 2, 5) },
  { name: 'leakyRelu(0.2)', fn: (x) => act.leakyRelu(x, 0.2) },
  { name: 'relu6', fn: act.relu6 },
  { name: 'hardtanh(-2, 2)', fn: (x) => act.hardtanh(x, -2, 2) },
  { name: 'softsign', fn: act.softsign },
  { name: 'logsigmoid', fn: act.logsigmoid },
  { name: 'tanhshrink', fn: act.tanhshrink },
];

/** Kinks of every activation, a grid, and the tails where naive formulas overflow. */
const POINTS = [
  ...Array.from({ length: 41 }, (_, i) => -10 + i * 0.5),
  -3, 3, 0, 6, -2, 2, 2.5, 20, -0.001, 0.001,
  -100, -50, -30, 30, 50, 100,
];

function close(got: number[], want: number[], what: string): void {
  got.forEach((g, i) => {
    const w = want[i]!;
    if (Number.isNaN(w)) expect(g, `${what} at x=${POINTS[i]}`).toBeNaN();
    else expect(Math.abs(g - w), `${what} at x=${POINTS[i]}: ${g} vs ${w}`).toBeLessThanOrEqual(2e-5 * Math.max(1, Math.abs(w)));
  });
}

describe.skipIf(!adapter.ok)('every activation on webgpu matches the cpu backend', () => {
  let rt: Runtime;
  beforeAll(async () => {
    // The plugin first, the backends after it: kernels reach backends installed later too.
    rt = await createRuntime({ plugins: [act.activations(), cpuBackend(), webgpuBackend(adapter.ok ? adapter.options : {})] });
  });
  afterAll(async () => {
    await rt.dispose();
  });

  for (const c of CASES) {
    it(`${c.name}: forward and gradient`, async () => {
      const results: Record<string, { y: number[]; g: number[] }> = {};
      for (const device of ['cpu', 'webgpu']) {
        const x = rt.tensor(POINTS, { device, requiresGrad: true });
        const y = c.fn(x);
        y.backward(rt.onesLike(y));
        results[device] = { y: Array.from(await y.data()), g: Array.from(await x.grad!.data()) };
        for (const t of [x, y]) t.dispose();
      }
      for (const v of [...results.webgpu!.y, ...results.webgpu!.g]) expect(Number.isFinite(v)).toBe(true);
      close(results.webgpu!.y, results.cpu!.y, `${c.name}`);
      close(results.webgpu!.g, results.cpu!.g, `${c.name}'`);
    });
  }
});
