/**
 * Issue 14's memory claim, on the CPU: an MLP's forward under `autocast` keeps about half the bytes
 * of float32 for backward (its saved activations are bfloat16), seen through `memory()`; the
 * step's peak (`peakBytes`) drops too, and the gradients stay float32 and close to float32's.
 * apps/bench's `amp` suite reports the same numbers per device.
 */
import * as nabla from '@nabla/core';
import type { Runtime, Tensor } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime, values } from './helpers.js';

let rt: Runtime;
let hasBf16 = false;
beforeAll(async () => {
  rt = await cpuRuntime();
  hasBf16 = rt.backends.all().some((b) => b.device === 'cpu' && (b.dtypes as readonly string[]).includes('bfloat16'));
});

function mlp(r: Runtime): nn.Sequential {
  r.manualSeed(3);
  const layers: nn.Module[] = [];
  for (let i = 0; i < 3; i++) layers.push(new nn.Linear(64, 64, { runtime: r }), new nn.ReLU());
  return new nn.Sequential(...layers);
}

/** Bytes live after the forward (graph alive) minus before, the step's peak, and the gradients. */
function step(r: Runtime, m: nn.Sequential, x: Tensor, enabled: boolean): { kept: number; peak: number; grads: number[][] } {
  for (const p of m.parameters()) p.grad = r.zerosLike(p);
  const bytes = (): number => r.memory().byDevice.cpu?.numBytes ?? 0;
  const before = bytes();
  r.resetPeakMemory();
  let kept = 0;
  r.tidy(() => {
    const loss = nabla.autocast('cpu', () => m.call(x).float().square().mean(), { enabled });
    kept = bytes() - before;
    loss.backward();
  });
  const peak = r.memory().byDevice.cpu!.peakBytes - before;
  const grads = [...m.parameters()].map((p) => values(p.grad!));
  expect([...m.parameters()].every((p) => p.grad!.dtype === 'float32')).toBe(true);
  for (const p of m.parameters()) p.grad = null;
  return { kept, peak, grads };
}

describe('autocast memory', () => {
  it('an MLP forward under autocast keeps about half the bytes of float32', ({ skip }) => {
    if (!hasBf16) return skip('no bfloat16 dtype on the CPU backend');
    const m = mlp(rt);
    const x = rt.randn([512, 64]);
    step(rt, m, x, false); // warm-up
    const f32 = step(rt, m, x, false);
    const half = step(rt, m, x, true);
    const ratio = half.kept / f32.kept;
    console.log(`amp memory: float32 keeps ${f32.kept} B, autocast ${half.kept} B (${(100 * ratio).toFixed(1)}%); peak ${f32.peak} → ${half.peak} B`);
    expect(f32.kept).toBeGreaterThan(512 * 64 * 4 * 3); // at least one float32 activation per layer
    expect(ratio).toBeGreaterThan(0.4);
    expect(ratio).toBeLessThan(0.6);
    expect(half.peak).toBeLessThan(f32.peak);
    // Same gradients within bfloat16 accuracy.
    half.grads.forEach((g, i) => {
      const ref = f32.grads[i]!;
      const scale = Math.max(...ref.map(Math.abs));
      g.forEach((v, k) => expect(Math.abs(v - ref[k]!)).toBeLessThan(0.05 * scale + 1e-6));
    });
    x.dispose();
  });
});
