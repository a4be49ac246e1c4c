/**
 * The tutorial's AMP loop in float16 on WebGPU: autocast('webgpu') (float16 linears, float32 cross
 * entropy) with GradScaler and `stepAsync`, against amp.json's float16 run (PyTorch 1.13 computing
 * as CUDA autocast does: float16 operands, float32 accumulation, one rounding per op). The sequence
 * of scales, skipped steps and growth counts must match exactly, and the losses and parameters
 * within float16 precision. On an adapter with shader-f16 the float16 kernels run in native WGSL
 * f16 (asserted under NABLA_REQUIRE_F16=1, CI's lavapipe run); elsewhere on the packed path.
 * Skips, saying why, without an adapter.
 */
import { amp, type Runtime, type Tensor } from '@nabla/core';
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { fixture, gpuRuntime } from './helpers.js';
import { ampSetup } from './amp-loop.js';

interface Training {
  dtype: string;
  steps: { loss: number; skipped: boolean; scale: number; growthTracker: number; outDtype: string; gradDtypes: string[] }[];
  params: number[][];
}
const fx = fixture<{ initScale: number; growthInterval: number; overflowStep: number; training: Training[] }>('amp.json');
interface HalfInfo {
  adapter: string;
  half: { nativeF16: boolean; float16: { storage: string; arithmetic: string } };
}

let rt: Runtime | null = null;
afterAll(async () => {
  await rt?.dispose();
});

/**
 * Nabla rounds where the fixture rounds, so the losses and parameters agree to float32 rounding
 * (about 1e-7 on lavapipe); the float32 run differs from the float16 one by 3.5e-5 (losses) and
 * 7.9e-5 (parameters), so this bound tells the two apart while leaving room for another
 * adapter's summation order.
 */
const TOL = 1e-5;

const read = async (t: Tensor): Promise<number[]> => Array.from(await t.data(), Number);

describe('GradScaler + autocast in float16 on WebGPU', () => {
  it("float16 loop: PyTorch's scales and skipped step exactly, losses and parameters within float16 precision", async ({ skip }) => {
    const r = await gpuRuntime();
    if (typeof r === 'string') return skip(r);
    rt = r;
    const webgpu = (await import('@nabla/backend-webgpu' as string)) as { backendInfo(rt: Runtime): HalfInfo };
    const info = webgpu.backendInfo(r);
    console.log(`[amp float16] ${info.adapter}: float16 ${info.half.float16.storage} storage, ${info.half.float16.arithmetic} arithmetic`);
    if (process.env.NABLA_REQUIRE_F16 === '1') expect(info.half.nativeF16, 'NABLA_REQUIRE_F16=1: float16 must run in native f16').toBe(true);
    const backend = r.backends.all().find((b) => b.device === 'webgpu')! as unknown as { nativeF16Kernels: number };
    const nativeBefore = backend.nativeF16Kernels;

    const rec = fx.training.find((t) => t.dtype === 'float16')!;
    const { model, fc1, params, x, y, opt, scaler } = ampSetup(r, fx, 'webgpu');
    for (let step = 0; step < rec.steps.length; step++) {
      const want = rec.steps[step]!;
      opt.zeroGrad();
      let outDtype = '';
      const loss = nn.amp.autocast('webgpu', () => {
        const out = model.forward(x);
        outDtype = out.dtype;
        return nn.crossEntropy(out, y);
      });
      expect(outDtype).toBe(want.outDtype);
      expect(loss.dtype).toBe('float32');
      scaler.scale(loss).backward();
      expect([...new Set(params.map((p) => p.grad!.dtype))]).toEqual(want.gradDtypes);
      if (step === fx.overflowStep) r.noGrad(() => fc1.weight.grad!.indexPut_([0, 0], Infinity));
      const before = await Promise.all(params.map(read));
      scaler.unscale_(opt);
      nn.utils.clipGradNorm_(model.parameters(), 1.0);
      await scaler.stepAsync(opt);
      scaler.update();
      const after = await Promise.all(params.map(read));
      const skipped = after.every((v, i) => v.every((e, j) => e === before[i]![j]));
      expect(skipped, `step ${step} skipped`).toBe(want.skipped);
      expect(scaler.getScale(), `scale after step ${step}`).toBe(want.scale);
      expect((scaler.stateDict() as amp.GradScalerState).growthTracker).toBe(want.growthTracker);
      expect(Math.abs((await loss.itemAsync()) - want.loss), `loss at step ${step}`).toBeLessThan(TOL);
    }
    const final = await Promise.all(params.map(read));
    final.forEach((v, j) => rec.params[j]!.forEach((w, k) => expect(Math.abs(v[k]! - w), `param ${j}[${k}]`).toBeLessThan(TOL)));
    if (info.half.nativeF16) expect(backend.nativeF16Kernels, 'native f16 kernels compiled by the loop').toBeGreaterThan(nativeBefore);
  }, 600_000);
});
