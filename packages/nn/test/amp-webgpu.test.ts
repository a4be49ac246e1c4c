/**
 * GradScaler on WebGPU: the float32 AMP loop of amp.json (PyTorch 1.13's scales, skipped step and
 * growth counts, losses and final parameters) with `stepAsync`, exactly one device read per step
 * (the fused inf/NaN check), and `step` refusing with a pointer to `stepAsync`. Then autocast on a
 * GPU device: float16 by default and PyTorch's CUDA op lists (matmuls in float16; softmax, sums,
 * exp, norms and losses in float32), values within float16 tolerance of float32 on the CPU, and
 * float32 gradients. Skips, saying why, without an adapter.
 */
import { amp, autocast, type Runtime, type Tensor } from '@nabla/core';
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { fixture, gpuRuntime, hashedValues } from './helpers.js';
import { ampSetup } from './amp-loop.js';

interface Training {
  dtype: string;
  steps: { loss: number; skipped: boolean; scale: number; growthTracker: number }[];
  params: number[][];
}
const fx = fixture<{ initScale: number; growthInterval: number; overflowStep: number; training: Training[] }>('amp.json');

let rt: Runtime | null = null;
afterAll(async () => {
  await rt?.dispose();
});

const read = async (t: Tensor): Promise<number[]> => Array.from(await t.data(), Number);

describe('GradScaler on WebGPU', () => {
  it("float32 loop: PyTorch's scales, the one skipped step, losses and parameters; one read per step", async ({ skip }) => {
    const r = await gpuRuntime();
    if (typeof r === 'string') return skip(r);
    rt = r;
    const rec = fx.training.find((t) => t.dtype === 'float32')!;
    const { model, fc1, params, x, y, opt, scaler } = ampSetup(r, fx, 'webgpu');
    const backend = fc1.weight._ref.backend;
    const realRead = backend.read.bind(backend);
    let reads = 0;
    for (let step = 0; step < rec.steps.length; step++) {
      const want = rec.steps[step]!;
      opt.zeroGrad();
      const loss = nn.amp.autocast('webgpu', () => nn.crossEntropy(model.forward(x), y), { enabled: false });
      scaler.scale(loss).backward();
      if (step === fx.overflowStep) r.noGrad(() => fc1.weight.grad!.indexPut_([0, 0], Infinity));
      const before = await Promise.all(params.map(read));
      scaler.unscale_(opt);
      nn.utils.clipGradNorm_(model.parameters(), 1.0);
      if (step === 0) expect(() => scaler.step(opt)).toThrow(/reads back asynchronously: use 'await scaler.stepAsync\(optimizer\)'/);
      backend.read = (v) => (reads++, realRead(v));
      try {
        await scaler.stepAsync(opt);
        scaler.update();
      } finally {
        backend.read = realRead;
      }
      expect(reads, `reads by step ${step}`).toBe(step + 1);
      const after = await Promise.all(params.map(read));
      const skipped = after.every((v, i) => v.every((e, j) => e === before[i]![j]));
      expect(skipped, `step ${step} skipped`).toBe(want.skipped);
      expect(scaler.getScale()).toBe(want.scale);
      expect((scaler.stateDict() as amp.GradScalerState).growthTracker).toBe(want.growthTracker);
      expect(await loss.itemAsync()).toBeCloseTo(want.loss, 4);
    }
    const final = await Promise.all(params.map(read));
    final.forEach((v, j) => rec.params[j]!.forEach((w, k) => expect(Math.abs(v[k]! - w)).toBeLessThan(1e-4)));
  }, 600_000);

  it("autocast('webgpu'): float16, PyTorch's CUDA lists, values within float16 tolerance, float32 gradients", async ({ skip }) => {
    const r = rt ?? (await gpuRuntime());
    if (typeof r === 'string') return skip(r);
    rt = r;
    const backend = r.backends.all().find((b) => b.device === 'webgpu')!;
    if (!(backend.dtypes as readonly string[]).includes('float16')) return skip('the WebGPU backend has no float16 dtype');
    const host = (shape: number[], seed: number, scale = 1): Tensor =>
      r.tensor(Float32Array.from(hashedValues(shape.reduce((a, b) => a * b, 1), seed, scale)), { shape });
    const a = host([4, 8], 1);
    const w = host([6, 8], 2).requiresGrad_(true);
    const b = host([6], 3);
    const labels = r.tensor([1, 0, 3, 2], { dtype: 'int32' });
    const wg = w.detach().to('webgpu').requiresGrad_(true);
    const [ag, bg, lg] = [a.to('webgpu'), b.to('webgpu'), labels.to('webgpu')];
    const dtypes: Record<string, string> = {};
    const gpuLoss = autocast('webgpu', () => {
      const y = nn.functional.linear(ag, wg, bg);
      dtypes.linear = y.dtype;
      dtypes.mm = ag.mm(wg.t()).dtype;
      dtypes.softmax = y.softmax(1).dtype;
      dtypes.logSoftmax = y.logSoftmax(1).dtype;
      dtypes.sum = y.sum().dtype;
      dtypes.exp = y.exp().dtype;
      dtypes.relu = y.relu().dtype;
      dtypes.layerNorm = nn.functional.layerNorm(y, [6]).dtype;
      dtypes.addMixed = y.add(ag.narrow(1, 0, 6)).dtype;
      const loss = nn.crossEntropy(y, lg);
      dtypes.crossEntropy = loss.dtype;
      return loss;
    });
    expect(dtypes).toEqual({
      linear: 'float16', mm: 'float16', softmax: 'float32', logSoftmax: 'float32', sum: 'float32', exp: 'float32',
      relu: 'float16', layerNorm: 'float32', addMixed: 'float32', crossEntropy: 'float32',
    });
    gpuLoss.backward();
    expect(wg.grad!.dtype).toBe('float32');
    const cpuLoss = nn.crossEntropy(nn.functional.linear(a, w, b), labels);
    cpuLoss.backward();
    expect(Math.abs((await gpuLoss.itemAsync()) - cpuLoss.item())).toBeLessThan(1e-2);
    const got = await read(wg.grad!);
    const want = Array.from(w.grad!.dataSync(), Number);
    got.forEach((v, k) => expect(Math.abs(v - want[k]!)).toBeLessThan(1e-2));
  }, 600_000);
});
